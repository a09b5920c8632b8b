package dev.porthole.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The local end of one forwarded connection, as {@link Pump} splices it into its SSH channel: a
 * socket to the target, or something in the process that answers the channel itself (an HTTP
 * tunnel's direct edge). JDK types only, so that the packages that implement it need not know JSch.
 *
 * <p>Threads: JSch's session thread writes the relay's bytes into {@link #out} (and calls {@link
 * #shutdownOutput} at the relay's EOF); the channel's JSch thread reads {@link #in} and sends what
 * it reads (end of stream: the channel gets an EOF, the other direction goes on). An end that sends
 * through its {@link ChannelOut} from a thread of its own instead gives nothing from {@link #in}
 * until it is done. {@link #close} may come from any thread, and must end a read or write blocked
 * in either.
 */
public interface LocalEnd {
  InputStream in();

  OutputStream out();

  /** The relay's side has ended: nothing more will be written. */
  void shutdownOutput() throws IOException;

  /** Both directions end; idempotent. */
  void close();

  /**
   * Opens local ends, on the channel's JSch thread before the channel is confirmed open (≤ 5 s);
   * an exception refuses the channel.
   */
  interface Opener {
    /** @param out sends channel data from any one thread, without waiting for the relay's window */
    LocalEnd open(ChannelOut out) throws IOException;
  }

  /** Channel data sent from a thread that is not the channel's own. */
  interface ChannelOut {
    /**
     * Sends as much of the bytes as the relay's window takes now.
     *
     * @return the bytes sent, fewer than {@code len} (maybe 0) when the window is used up
     * @throws IOException once the channel is closed
     */
    int offer(byte[] b, int off, int len) throws IOException;
  }
}
