package dev.porthole.ssh;

import com.jcraft.jsch.ChannelForwardedTCPIP;
import com.jcraft.jsch.JschChannels;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splices forwarded connections between their SSH channel and a local TCP target (docs/portr-protocol.md
 * §4.1, §4.4): dial (5 s), copy both directions, pass each end of stream on as a half-close, close
 * both sides when both directions are done or either fails.
 *
 * <p>No copy threads of its own: the local socket becomes the channel's own streams. JSch's session
 * thread writes what the relay sends straight into the socket (its window is only topped up once
 * the bytes are written, so a slow local reader slows the relay down), and the channel's JSch
 * thread reads the socket into channel data. Each direction used to go through a pipe and one more
 * thread, which cost two thread wake-ups per request and response (bench P3).
 */
final class Pump {
  private static final Logger log = LoggerFactory.getLogger(Pump.class);
  static final int DIAL_TIMEOUT_MS = 5_000;
  /** How often a half-closed connection looks whether its channel is still there. */
  static final long LIVENESS_CHECK_MS = 1_000;

  private final String host;
  private final int port;
  /** Opens the local end instead of a socket to host:port, or null. */
  private final LocalEnd.Opener opener;
  private final String label;
  private final Traffic traffic;
  private final Set<Splice> live = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  Pump(String host, int port, LocalEnd.Opener opener, String label, Traffic traffic) {
    this.host = host;
    this.port = port;
    this.opener = opener;
    this.label = label;
    this.traffic = traffic;
  }

  /**
   * Dials the target and installs the splice, on the channel's JSch thread before JSch confirms
   * the channel open. A failed dial throws: JSch then refuses the channel, which the relay sees
   * as a closed connection.
   */
  void attach(ChannelForwardedTCPIP channel) {
    LocalEnd end;
    try {
      if (opener != null) {
        JschChannels.Sender sender = JschChannels.sender(channel);
        end = opener.open((b, off, len) -> {
          int n = sender.offer(b, off, len);
          traffic.sent(n);
          return n;
        });
      } else {
        Socket socket = Sockets.dial(host, port, DIAL_TIMEOUT_MS);
        socket.setKeepAlive(true);
        end = new SocketEnd(socket);
      }
    } catch (IOException e) {
      log.debug("pump({}) dial {}:{} failed: {}", label, host, port, e.getMessage());
      throw new UncheckedIOException(e);
    }
    new Splice(channel, end).install();
  }

  /** A TCP tunnel's (or the loopback edge's) local end: a socket to the target. */
  private static final class SocketEnd implements LocalEnd {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    SocketEnd(Socket socket) throws IOException {
      this.socket = socket;
      try {
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    @Override
    public InputStream in() {
      return in;
    }

    @Override
    public OutputStream out() {
      return out;
    }

    @Override
    public void shutdownOutput() throws IOException {
      socket.shutdownOutput();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Closing.
      }
    }
  }

  /** The session is going away: closes every connection, and any that is still being set up. */
  void close() {
    closed = true;
    for (Splice splice : live) {
      splice.close();
    }
  }

  /** One forwarded connection. */
  private final class Splice {
    private final ChannelForwardedTCPIP channel;
    private final LocalEnd end;
    private final InputStream in;
    private final OutputStream out;
    /** Counted down when the relay's direction has ended (its EOF, or the channel closed). */
    private final CountDownLatch remoteDone = new CountDownLatch(1);

    Splice(ChannelForwardedTCPIP channel, LocalEnd end) {
      this.channel = channel;
      this.end = end;
      this.in = end.in();
      this.out = end.out();
    }

    void install() {
      live.add(this);
      // After the add: a close() that runs from here on sees this splice; one that ran before
      // has set closed, which the check below sees.
      if (closed || !JschChannels.splice(channel, new FromLocal(), new ToLocal())) {
        close();
        throw new UncheckedIOException(new IOException("channel closed before its connection was set up"));
      }
    }

    /** Ends both directions: the socket is closed and a waiting channel thread goes on. */
    void close() {
      closeSocket();
      remoteDone.countDown();
      live.remove(this);
    }

    /**
     * Waits until the relay's direction has ended. Bounded by the connection: the relay's EOF, its
     * close or the session going away count it down; and every second it looks whether the channel
     * is still there, in case something ended it without telling this stream.
     */
    private void awaitRemoteDone() {
      try {
        while (!remoteDone.await(LIVENESS_CHECK_MS, TimeUnit.MILLISECONDS)) {
          if (closed || !JschChannels.isLive(channel)) {
            close();
            return;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * Read by the channel's JSch thread, which sends what it reads as channel data. At the local
     * end of stream it half-closes the channel and keeps the connection until the relay's
     * direction has ended too; then JSch closes the channel, which closes this stream.
     */
    private final class FromLocal extends InputStream {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
          n = in.read(b, off, len);
        } catch (IOException e) {
          if (!channel.isClosed()) {
            log.debug("pump({}) local→tunnel ended: {}", label, e.getMessage());
          }
          throw e; // JSch closes the channel, then this stream
        }
        if (n >= 0) {
          traffic.sent(n);
          return n;
        }
        JschChannels.sendEof(channel);
        awaitRemoteDone();
        return -1;
      }

      /** The channel is going away (JSch's {@code IO.close}). */
      @Override
      public void close() {
        Splice.this.close();
      }
    }

    /** Written by JSch's session thread: the relay's bytes, in order. */
    private final class ToLocal extends OutputStream {
      @Override
      public void write(int b) throws IOException {
        out.write(b);
        traffic.received(1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        // A failure here makes JSch close this channel (not the session).
        out.write(b, off, len);
        traffic.received(len);
      }

      /** The relay's EOF (the socket is half-closed), or the channel closing (it is closed). */
      @Override
      public void close() {
        if (channel.isClosed()) {
          Splice.this.close();
          return;
        }
        try {
          end.shutdownOutput();
        } catch (IOException e) {
          closeSocket();
        }
        remoteDone.countDown();
      }
    }

    private void closeSocket() {
      end.close();
    }
  }
}
