package dev.porthole.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Runs a long-lived command until SIGINT or SIGTERM, then shuts it down within a bound and lets the
 * command return its exit code (0 for a signal-requested stop, as a service manager expects).
 */
final class Service {
  private static final Logger log = LoggerFactory.getLogger(Service.class);
  static final long SHUTDOWN_LIMIT_SECONDS = 15;

  private Service() {
  }

  /**
   * Blocks until a signal arrives, then runs {@code shutdown} and closes Vert.x.
   *
   * @return 0 when everything stopped within the limit, 1 otherwise
   */
  static int awaitSignalThenStop(Vertx vertx, Supplier<Future<?>> shutdown) throws InterruptedException {
    return awaitSignalThenStop(vertx, null, shutdown);
  }

  /**
   * As {@link #awaitSignalThenStop(Vertx, Supplier)}, and also stops when {@code ended} (if not
   * null) completes first: the command's work ended by itself.
   */
  static int awaitSignalThenStop(Vertx vertx, Future<?> ended, Supplier<Future<?>> shutdown)
      throws InterruptedException {
    CountDownLatch signalled = new CountDownLatch(1);
    String[] which = new String[1];
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), sig -> {
        synchronized (which) {
          if (which[0] == null) {
            which[0] = "SIG" + sig.getName() + " received";
          }
        }
        signalled.countDown();
      });
    }
    if (ended != null) {
      ended.onComplete(ar -> {
        synchronized (which) {
          if (which[0] == null) {
            which[0] = "the work ended by itself";
          }
        }
        signalled.countDown();
      });
    }
    signalled.await();
    synchronized (which) {
      log.info("{}: shutting down", which[0]);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SHUTDOWN_LIMIT_SECONDS);
    boolean clean = true;
    // Two separate waits from this thread: a callback chained after vertx.close() would be due on
    // an event loop that the close itself shuts down, and would never run.
    try {
      shutdown.get().toCompletionStage().toCompletableFuture().get(remaining(deadline), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      clean = false;
      log.warn("shutdown finished with an error: {}", e.getCause().getMessage());
    } catch (TimeoutException e) {
      clean = false;
      log.error("shutdown did not finish within {} s; closing anyway", SHUTDOWN_LIMIT_SECONDS);
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(Math.max(remaining(deadline),
          TimeUnit.SECONDS.toNanos(2)), TimeUnit.NANOSECONDS);
    } catch (ExecutionException | TimeoutException e) {
      clean = false;
      log.error("closing Vert.x failed: {}", e.getMessage());
    }
    log.info("stopped");
    return clean ? 0 : 1;
  }

  private static long remaining(long deadline) {
    return Math.max(0, deadline - System.nanoTime());
  }

  /** Waits for a start-up future from the command's thread, bounded. */
  static <T> T await(Future<T> future, long seconds, String what) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    future.onComplete(ar -> done.countDown());
    if (!done.await(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException(what + " did not finish within " + seconds + " s");
    }
    if (future.failed()) {
      Throwable t = future.cause();
      throw t instanceof Exception e ? e : new RuntimeException(t);
    }
    return future.result();
  }
}
