package dev.porthole.relay;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Failed SSH logins per source address in fixed one-minute windows: past the limit, the address
 * is refused until its window ends. Bounded: stale windows are dropped as the table grows.
 */
final class AuthThrottle {
  static final long WINDOW_MS = 60_000;
  private static final int PRUNE_AT = 10_000;

  private record Window(long start, int failures) {
  }

  private final int maxFailures;
  private final LongSupplier clockMs;
  private final Map<String, Window> windows = new ConcurrentHashMap<>();

  AuthThrottle(int maxFailures, LongSupplier clockMs) {
    this.maxFailures = maxFailures;
    this.clockMs = clockMs;
  }

  boolean blocked(String address) {
    Window w = windows.get(address);
    return w != null && clockMs.getAsLong() - w.start < WINDOW_MS && w.failures >= maxFailures;
  }

  /** Records a failure; returns how many this address has in its current window. */
  int failed(String address) {
    long now = clockMs.getAsLong();
    if (windows.size() > PRUNE_AT) {
      for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
        if (now - it.next().start >= WINDOW_MS) {
          it.remove();
        }
      }
    }
    return windows.compute(address, (a, w) -> w == null || now - w.start >= WINDOW_MS
        ? new Window(now, 1) : new Window(w.start, w.failures + 1)).failures;
  }
}
