package dev.porthole.ssh;

import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes a tunnel's forwarded connections carried, counted where they flow ({@link Pump}): by
 * JSch's session thread (from the relay to the local target) and the channels' threads (back).
 * One per tunnel, shared by its sessions and reconnects; striped adders, so counting costs the data
 * path one uncontended add per read or write and the metrics scrape reads the sums.
 */
public final class Traffic {
  private final LongAdder received = new LongAdder();
  private final LongAdder sent = new LongAdder();

  /** From the public side, through the relay, to the local target. */
  public long received() {
    return received.sum();
  }

  /** From the local target back to the relay. */
  public long sent() {
    return sent.sum();
  }

  void received(int n) {
    received.add(n);
  }

  void sent(int n) {
    sent.add(n);
  }
}
