package dev.porthole.ssh;

import com.jcraft.jsch.ChannelForwardedTCPIP;
import com.jcraft.jsch.ForwardedTCPIPDaemon;
import com.jcraft.jsch.JschChannels;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * JSch's hook for a remote-forwarded connection: JSch makes one per connection (public no-arg
 * constructor, by class name), hands it the channel's streams, and runs it on a new thread.
 */
public final class ForwardDaemon implements ForwardedTCPIPDaemon {
  /** Receive window per forwarded channel: 2 MiB instead of JSch's 128 KiB (tech-notes App. B). */
  static final int WINDOW = 2 * 1024 * 1024;

  private ChannelForwardedTCPIP channel;
  private InputStream in;
  private OutputStream out;
  private Pump pump;

  public ForwardDaemon() {
  }

  @Override
  public void setChannel(ChannelForwardedTCPIP channel, InputStream in, OutputStream out) {
    this.channel = channel;
    this.in = in;
    this.out = out;
    JschChannels.raiseWindow(channel, WINDOW);
  }

  @Override
  public void setArg(Object[] arg) {
    this.pump = (Pump) arg[0];
  }

  @Override
  public void run() {
    pump.serve(channel, in, out);
  }
}
