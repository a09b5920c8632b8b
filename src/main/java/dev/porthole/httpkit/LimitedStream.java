package dev.porthole.httpkit;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A body stream that stops at {@code limit} bytes: the chunk that crosses it is not delivered, the
 * stream reports {@link TooLarge} to its exception handler, and {@code onExceeded} runs once.
 */
public final class LimitedStream implements ReadStream<Buffer> {
  /** The body passed its limit. */
  public static final class TooLarge extends RuntimeException {
    public TooLarge(long limit) {
      super("body over " + limit + " bytes", null, false, false);
    }
  }

  private final ReadStream<Buffer> delegate;
  private final long limit;
  private final Runnable onExceeded;
  private long seen;
  private boolean exceeded;
  private Handler<Throwable> exceptionHandler;

  public LimitedStream(ReadStream<Buffer> delegate, long limit, Runnable onExceeded) {
    this.delegate = delegate;
    this.limit = limit;
    this.onExceeded = onExceeded;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    delegate.exceptionHandler(handler);
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      delegate.handler(null);
      return this;
    }
    delegate.handler(buf -> {
      if (exceeded) {
        return;
      }
      seen += buf.length();
      if (seen > limit) {
        exceeded = true;
        delegate.pause();
        onExceeded.run();
        if (exceptionHandler != null) {
          exceptionHandler.handle(new TooLarge(limit));
        }
        return;
      }
      handler.handle(buf);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    delegate.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    delegate.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    delegate.fetch(amount);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
    delegate.endHandler(endHandler == null ? null : v -> {
      if (!exceeded) {
        endHandler.handle(v);
      }
    });
    return this;
  }
}
