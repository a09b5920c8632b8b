package dev.porthole.edge;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A read stream that shows every chunk to {@code observer} before passing it on, unchanged and
 * unslowed: flow control (pause, resume, fetch) goes straight to the source.
 */
final class Tap implements ReadStream<Buffer> {
  private final ReadStream<Buffer> source;
  private final Handler<Buffer> observer;

  Tap(ReadStream<Buffer> source, Handler<Buffer> observer) {
    this.source = source;
    this.observer = observer;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      source.handler(null);
    } else {
      source.handler(chunk -> {
        observer.handle(chunk);
        handler.handle(chunk);
      });
    }
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    source.exceptionHandler(handler);
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    source.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    source.fetch(amount);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
    source.endHandler(endHandler);
    return this;
  }
}
