package org.apache.sshd.common.channel;

import java.io.IOException;
import org.apache.sshd.common.io.IoWriteFuture;

/**
 * Sends {@code SSH_MSG_CHANNEL_EOF} on a channel. MINA keeps {@code sendEof()} protected; the
 * relay needs it to pass a TCP half-close into a tunnel (see {@code HalfCloseNio2}). It lives in
 * MINA's package for that access alone: pinned MINA version, covered by the relay's half-close test.
 */
public final class ChannelEof {
  private ChannelEof() {
  }

  public static IoWriteFuture send(AbstractChannel channel) throws IOException {
    return channel.sendEof();
  }
}
