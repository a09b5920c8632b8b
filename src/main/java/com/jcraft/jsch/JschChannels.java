package com.jcraft.jsch;

import java.io.IOException;

/**
 * What porthole's forwarded-connection pump needs from JSch channels that JSch keeps
 * package-private. Pinned JSch version; covered by the app-server's TCP half-close and payload
 * tests. The access is compiled in, so a different JSch on the class path would fail only when a
 * forwarded connection arrives ({@code NoSuchFieldError}); {@link #selfCheck()} finds that at
 * start-up instead.
 */
public final class JschChannels {
  static final String USED_FOR = "the forwarded-connection data path (JschChannels)";

  private JschChannels() {
  }

  /**
   * Checks that this JSch has every member the methods below use.
   *
   * @throws IllegalStateException naming the missing member and the JSch versions
   */
  public static void selfCheck() {
    Linkage.method(Channel.class, "eof", USED_FOR);
    Linkage.field(Channel.class, "lwsize_max", USED_FOR);
    Linkage.field(Channel.class, "lwsize", USED_FOR);
    Linkage.field(Channel.class, "connected", USED_FOR);
    Linkage.method(ChannelForwardedTCPIP.class, "delPort", USED_FOR, Session.class);
    Linkage.field(Channel.class, "rwsize", USED_FOR);
    Linkage.field(Channel.class, "rmpsize", USED_FOR);
    Linkage.field(Channel.class, "recipient", USED_FOR);
    Linkage.field(Channel.class, "close", USED_FOR);
    Linkage.method(Session.class, "write", USED_FOR, Packet.class, Channel.class, int.class);
    Class<?> io = Linkage.field(Channel.class, "io", USED_FOR).getType();
    Linkage.method(io, "setInputStream", USED_FOR, java.io.InputStream.class, boolean.class);
    Linkage.method(io, "setOutputStream", USED_FOR, java.io.OutputStream.class, boolean.class);
  }

  /**
   * Sends {@code SSH_MSG_CHANNEL_EOF} without closing the channel. Ending the channel's input
   * stream instead makes JSch close the whole channel right after the EOF, which cuts off the
   * other direction of a half-closed TCP connection (portr-protocol §4.4). Idempotent.
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
   * Makes {@code fromLocal} and {@code toLocal} the channel's own streams, before JSch confirms
   * the channel open: the session thread writes the relay's data into {@code toLocal} (and closes
   * it at the relay's EOF and when the channel closes), and the channel's thread sends what it
   * reads from {@code fromLocal} as channel data (JSch closes the channel when that read ends or
   * fails, and closes the stream with it).
   *
   * <p>A channel can be disconnected before the streams are in place (its session went away, or
   * the relay closed it, while the local dial was in progress): JSch then has already closed the
   * streams it had, and would never close these. Installing under the channel's monitor, which
   * {@code Channel.disconnect} takes to clear {@code connected} before it closes the streams,
   * settles the race: either the disconnect comes after and closes these streams, or this sees
   * the channel disconnected.
   *
   * @return false when the channel was already disconnected: the caller still owns both streams
   */
  public static boolean splice(Channel channel, java.io.InputStream fromLocal, java.io.OutputStream toLocal) {
    synchronized (channel) {
      if (!channel.connected) {
        return false;
      }
      channel.io.setInputStream(fromLocal, false);
      channel.io.setOutputStream(toLocal, false);
      return true;
    }
  }

  /** False once the channel is disconnected, whoever did it, or its session has gone. */
  public static boolean isLive(Channel channel) {
    return channel.isConnected() && !channel.isClosed();
  }

  /**
   * Forgets the remote forwards JSch registered for a session, in its static table of every
   * session's forwards. {@code Session.disconnect} does this itself, but a forward request whose
   * reply arrived just as the session was disconnected registers its forward afterwards, and the
   * table would hold that session (and its buffers) for good. Idempotent.
   */
  public static void forgetForwards(Session session) {
    ChannelForwardedTCPIP.delPort(session);
  }

  /**
   * A sender of channel data for a thread that is not the channel's own: it builds the packet as
   * the channel's own loop does ({@code ChannelForwardedTCPIP.run}) and writes it under the
   * channel's monitor, but never waits for the peer's window.
   */
  public static Sender sender(Channel channel) {
    return new Sender(channel);
  }

  /** See {@link #sender}. One per channel; {@link #offer} is not for concurrent callers. */
  public static final class Sender {
    private final Channel channel;
    private final Buffer buf;
    private final Packet packet;

    Sender(Channel channel) {
      this.channel = channel;
      this.buf = new Buffer(channel.rmpsize);
      this.packet = new Packet(buf);
    }

    /**
     * Sends up to {@code len} bytes as {@code SSH_MSG_CHANNEL_DATA}, as much as the peer's window
     * allows now, in packets of at most its packet size. Blocks only for the socket write, and for
     * a key exchange under way (JSch waits it out in {@code Session.write}).
     *
     * @return the bytes sent: fewer than {@code len} (maybe 0) when the window is used up
     * @throws IOException once the channel is closed, or when the session's write fails
     */
    public int offer(byte[] b, int off, int len) throws IOException {
      Session session;
      try {
        session = channel.getSession();
      } catch (JSchException e) {
        throw new IOException("the channel's session is gone", e);
      }
      int max = buf.buffer.length - 14 - session.getBufferMargin();
      int sent = 0;
      synchronized (channel) {
        while (sent < len) {
          if (channel.close || !channel.isConnected()) {
            throw new IOException("channel closed");
          }
          int n = (int) Math.min(Math.min(len - sent, max), channel.rwsize);
          if (n <= 0) {
            break;
          }
          packet.reset();
          buf.putByte((byte) 94); // SSH_MSG_CHANNEL_DATA
          buf.putInt(channel.recipient);
          buf.putInt(n);
          System.arraycopy(b, off + sent, buf.buffer, 14, n);
          buf.skip(n);
          try {
            session.write(packet, channel, n); // n <= the window: no wait for it
          } catch (IOException e) {
            throw e;
          } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
          }
          sent += n;
        }
      }
      return sent;
    }
  }
}
