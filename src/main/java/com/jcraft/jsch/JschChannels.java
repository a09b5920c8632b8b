package com.jcraft.jsch;

/**
 * What porthole's forwarded-connection pump needs from JSch channels that JSch keeps
 * package-private. Pinned JSch version; covered by the app-server's TCP half-close and payload
 * tests.
 */
public final class JschChannels {
  private JschChannels() {
  }

  /**
   * Sends {@code SSH_MSG_CHANNEL_EOF} without closing the channel. Closing the daemon's output
   * stream instead makes JSch close the whole channel right after the EOF, which cuts off the
   * other direction of a half-closed TCP connection (portr-compat §4.4). Idempotent.
   */
  public static void sendEof(Channel channel) {
    channel.eof();
  }

  /**
   * Raises the channel's receive window before JSch confirms the channel open (the window is
   * advertised then). JSch's fixed 128 KiB caps uploads at about window / RTT.
   */
  public static void raiseWindow(Channel channel, int bytes) {
    channel.lwsize_max = bytes;
    channel.lwsize = bytes;
  }

  /**
   * Writes channel data from the caller's thread, packet by packet, exactly as JSch's own channel
   * thread does (same packet layout, same lock, same window accounting in {@code Session.write}).
   * Data and a later {@link #sendEof} then leave in order; going through the daemon's pipe instead
   * lets the EOF overtake bytes still waiting in the pipe.
   */
  public static final class Writer {
    private static final int HEADER = 14;
    private final Channel channel;
    private final Session session;
    private final Buffer buf;
    private final Packet packet;
    private final int max;

    public Writer(Channel channel) throws JSchException {
      this.channel = channel;
      this.session = channel.getSession();
      this.buf = new Buffer(channel.rmpsize);
      this.packet = new Packet(buf);
      this.max = buf.buffer.length - HEADER - session.getBufferMargin();
    }

    public void write(byte[] src, int off, int len) throws java.io.IOException {
      while (len > 0) {
        int n = Math.min(len, max);
        packet.reset();
        buf.putByte((byte) Session.SSH_MSG_CHANNEL_DATA);
        buf.putInt(channel.recipient);
        buf.putInt(n);
        System.arraycopy(src, off, buf.buffer, HEADER, n);
        buf.skip(n);
        synchronized (channel) {
          if (channel.close) {
            throw new java.io.IOException("channel closed");
          }
          try {
            session.write(packet, channel, n);
          } catch (java.io.IOException e) {
            throw e;
          } catch (Exception e) {
            throw new java.io.IOException(e.getMessage(), e);
          }
        }
        off += n;
        len -= n;
      }
    }
  }
}
