package dev.porthole.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The per-direction throughput cap of the WebSocket tunnel, against stand-in streams. */
class ThrottleTest {
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("bytes written while the other side's queue is full are counted too: after the drain the reader "
      + "stays paused until the share allows it")
  void countsWritesIntoAFullQueue() throws Exception {
    // 1000 B/s: 100 B per 100 ms slice.
    Reader from = new Reader();
    Writer to = new Writer(true);
    Throttle t = onContext(() -> {
      Throttle th = new Throttle(vertx, 1000);
      th.passed(450, from, to);
      return th;
    });
    assertThat(from.paused).isTrue();
    assertThat(onContext(t::exhausted)).as("450 B against a 100 B share").isTrue();
    long drained = System.nanoTime();
    onContext(() -> {
      to.full = false;
      to.drain.handle(null);
      return null;
    });
    assertThat(from.resumed.get(5, TimeUnit.SECONDS) - drained).as("nanos paused after the drain")
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(250));
  }

  @Test
  @DisplayName("a message far over the share is a debt: 1000 B at 1000 B/s keeps the reader paused for ~1 s, not "
      + "one slice")
  void debtCarries() throws Exception {
    Reader from = new Reader();
    Writer to = new Writer(false);
    long t0 = System.nanoTime();
    onContext(() -> {
      new Throttle(vertx, 1000).passed(1000, from, to);
      return null;
    });
    assertThat(from.paused).isTrue();
    long pausedNanos = from.resumed.get(5, TimeUnit.SECONDS) - t0;
    assertThat(pausedNanos / 1e9).as("seconds paused").isBetween(0.85, 2.0);
  }

  @Test
  @DisplayName("under the share nothing pauses; no cap (0) never pauses")
  void underShare() throws Exception {
    Reader from = new Reader();
    Writer to = new Writer(false);
    onContext(() -> {
      Throttle t = new Throttle(vertx, 1000);
      t.passed(50, from, to);
      new Throttle(vertx, 0).passed(1_000_000, from, to);
      return null;
    });
    assertThat(from.paused).isFalse();
  }

  private static <T> T onContext(Supplier<T> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    vertx.runOnContext(v -> {
      try {
        result.complete(action.get());
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    return result.get(5, TimeUnit.SECONDS);
  }

  /** Records pause and the time of the first resume. */
  static final class Reader implements ReadStream<Buffer> {
    volatile boolean paused;
    final CompletableFuture<Long> resumed = new CompletableFuture<>();

    @Override
    public ReadStream<Buffer> pause() {
      paused = true;
      return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
      paused = false;
      resumed.complete(System.nanoTime());
      return this;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
      return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
      return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
      return this;
    }
  }

  /** A write queue that is full or not, as the test says; keeps the drain handler. */
  static final class Writer implements WriteStream<Buffer> {
    volatile boolean full;
    Handler<Void> drain;

    Writer(boolean full) {
      this.full = full;
    }

    @Override
    public boolean writeQueueFull() {
      return full;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
      drain = handler;
      return this;
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }

    @Override
    public Future<Void> write(Buffer data) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      return Future.succeededFuture();
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }
  }
}
