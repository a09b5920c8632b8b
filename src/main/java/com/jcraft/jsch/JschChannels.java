package com.jcraft.jsch;

/**
 * Two things JSch's forwarded channels need that JSch keeps package-private. Pinned JSch version;
 * covered by the app-server's TCP half-close and throughput tests.
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
}
