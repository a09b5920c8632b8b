package dev.porthole.edge;

import dev.porthole.bus.Capture;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import java.util.Arrays;

/**
 * The first bytes of a body (or a WebSocket frame's payload) as it streams past, at most {@code
 * cap} ≤ {@link Capture#MAX_BODY}, and its full length. Grows with the bytes that actually arrive
 * (never a 1 MiB array for a 10-byte body, nor for a frame that only claims 1 MiB), each growth
 * reserved from the {@link CopyBudget} first; refused, it copies nothing more. {@link #release}
 * gives the reservation back, once, and ends the copying. One event loop, no locks.
 */
final class BodyCopy implements Handler<Buffer> {
  private static final byte[] EMPTY = new byte[0];
  private final CopyBudget budget;
  private final int cap;
  private byte[] data = EMPTY;
  private int size;
  private long total;
  /** Out of budget or released: bytes are counted, not copied. */
  private boolean stopped;

  BodyCopy(CopyBudget budget) {
    this(budget, Capture.MAX_BODY);
  }

  /** @param cap the most bytes to keep (a frame's declared length, when below {@link Capture#MAX_BODY}) */
  BodyCopy(CopyBudget budget, int cap) {
    this.budget = budget;
    this.cap = Math.min(cap, Capture.MAX_BODY);
  }

  @Override
  public void handle(Buffer chunk) {
    append(chunk, 0, chunk.length(), null);
  }

  /**
   * Counts {@code n} bytes of {@code chunk} from {@code from} and keeps what fits; with a {@code
   * mask}, the kept bytes are unmasked (RFC 6455 §5.3, the mask index being the payload offset).
   */
  void append(Buffer chunk, int from, int n, byte[] mask) {
    total += n;
    int take = stopped ? 0 : Math.min(n, cap - size);
    if (take <= 0) {
      return;
    }
    if (size + take > data.length && !grow(size + take)) {
      stopped = true;
      return;
    }
    chunk.getBytes(from, from + take, data, size);
    if (mask != null) {
      for (int k = size; k < size + take; k++) {
        data[k] ^= mask[k & 3];
      }
    }
    size += take;
  }

  /** Doubles (at least 1 KiB, at most {@code cap}), or else grows to just {@code need}, if the budget allows. */
  private boolean grow(int need) {
    int roomy = Math.min(cap, Math.max(need, Math.max(1024, data.length * 2)));
    int to = budget.reserve(roomy - data.length) ? roomy
        : budget.reserve(need - data.length) ? need : -1;
    if (to < 0) {
      return false;
    }
    data = Arrays.copyOf(data, to);
    return true;
  }

  long total() {
    return total;
  }

  /** The copied bytes: {@code min(total, cap)} of them unless the budget ran out (or after {@link #release}). */
  byte[] bytes() {
    return size == data.length ? data : Arrays.copyOf(data, size);
  }

  /** Gives the reserved bytes back and stops copying; later calls do nothing. */
  void release() {
    stopped = true;
    budget.release(data.length);
    data = EMPTY;
    size = 0;
  }
}
