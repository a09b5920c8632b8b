package dev.porthole.edge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes held by capture copies in flight (request and response bodies, WebSocket frame
 * payloads) that have not been sent to the request log yet. The request log bounds what it has
 * queued; this bounds what the edges hold before that, for every tunnel of the process together.
 * A copy reserves bytes before it grows and releases them all once its capture is sent or
 * abandoned; a copy refused a reservation copies nothing more (its byte count stays exact, so the
 * stored row shows the body cut).
 */
final class CopyBudget {
  /** The process-wide bound: 64 MiB, as much again as the request log's queue may hold. */
  static final long LIMIT = 64L << 20;
  /** The one budget of the process's edges. */
  static final CopyBudget PROCESS = new CopyBudget(LIMIT);

  private final long limit;
  private final AtomicLong held = new AtomicLong();

  CopyBudget(long limit) {
    this.limit = limit;
  }

  /** Reserves {@code n} bytes, all or nothing; false when that would pass the limit. */
  boolean reserve(long n) {
    while (true) {
      long now = held.get();
      if (now + n > limit) {
        return false;
      }
      if (held.compareAndSet(now, now + n)) {
        return true;
      }
    }
  }

  void release(long n) {
    if (n > 0) {
      held.addAndGet(-n);
    }
  }

  /** The bytes reserved now. */
  long held() {
    return held.get();
  }
}
