package dev.porthole.edge;

import dev.porthole.bus.Capture;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import java.util.Arrays;

/**
 * The first {@link Capture#MAX_BODY} bytes of a body as it streams past, and its full length.
 * Grows with the body (never a 1 MiB array for a 10-byte body); one event loop, no locks.
 */
final class BodyCopy implements Handler<Buffer> {
  private static final byte[] EMPTY = new byte[0];
  private byte[] data = EMPTY;
  private int size;
  private long total;

  @Override
  public void handle(Buffer chunk) {
    int n = chunk.length();
    total += n;
    int take = Math.min(n, Capture.MAX_BODY - size);
    if (take <= 0) {
      return;
    }
    if (size + take > data.length) {
      int want = Math.max(size + take, Math.max(1024, data.length * 2));
      data = Arrays.copyOf(data, Math.min(Capture.MAX_BODY, want));
    }
    chunk.getBytes(0, take, data, size);
    size += take;
  }

  long total() {
    return total;
  }

  /** The copied bytes, exactly {@code min(total, MAX_BODY)} of them. */
  byte[] bytes() {
    return size == data.length ? data : Arrays.copyOf(data, size);
  }
}
