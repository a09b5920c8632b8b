package com.jcraft.jsch;

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
}
