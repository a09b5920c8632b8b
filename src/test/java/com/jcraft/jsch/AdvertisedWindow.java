package com.jcraft.jsch;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A forward target for tests that records what the server advertised when it opened a
 * {@code forwarded-tcpip} channel (its receive window and largest packet: JSch's remote window and
 * packet size, set from {@code SSH_MSG_CHANNEL_OPEN} before the daemon is made), then closes the
 * channel. JSch makes one per connection by class name; {@code setArg} gets the queue to report to.
 */
public final class AdvertisedWindow implements ForwardedTCPIPDaemon {
  /** What one channel advertised. */
  public record Seen(long window, int packetSize) {
  }

  private ChannelForwardedTCPIP channel;
  private Seen seen;

  public AdvertisedWindow() {
  }

  @Override
  public void setChannel(ChannelForwardedTCPIP channel, InputStream in, OutputStream out) {
    this.channel = channel;
    seen = new Seen(channel.rwsize, channel.rmpsize);
  }

  @Override
  @SuppressWarnings("unchecked")
  public void setArg(Object[] arg) {
    ((BlockingQueue<Seen>) arg[0]).add(seen);
  }

  @Override
  public void run() {
    channel.disconnect();
  }

  public static BlockingQueue<Seen> queue() {
    return new LinkedBlockingQueue<>();
  }
}
