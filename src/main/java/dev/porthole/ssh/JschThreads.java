package dev.porthole.ssh;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads for JSch's thread-hostile global requests ({@code tcpip-forward}, keepalive): JSch
 * registers the calling thread, sleeps on it and interrupts it when a reply comes, sometimes after
 * the call returned. Running those calls here keeps stray interrupts off Vert.x's threads; every
 * call has a time limit and starts with a cleared interrupt flag.
 */
public final class JschThreads {
  private static final AtomicInteger COUNT = new AtomicInteger();
  /**
   * Idle threads go after {@value #IDLE_SECONDS} s rather than the JDK's cached-pool minute: a
   * thousand tunnels starting or health-checked at once grow this pool, and once they are
   * stopped the process should be back to its baseline thread count promptly (bench P5).
   */
  private static final int IDLE_SECONDS = 2;
  private static final ExecutorService POOL = elastic("porthole-jsch-request-");

  private JschThreads() {
  }

  private static ExecutorService elastic(String prefix) {
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_SECONDS, TimeUnit.SECONDS, new SynchronousQueue<>(),
        daemon(prefix));
  }

  static ThreadFactory daemon(String prefix) {
    return r -> {
      Thread t = new Thread(r, prefix + COUNT.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Like {@link #call(Callable, long, String)}, and a cancellation ends the wait at once with
   * {@link Cancellation#SHUTTING_DOWN}; the call itself is interrupted and left to finish on its
   * own thread.
   */
  static <T> T call(Callable<T> call, long timeoutMs, String timeoutMessage, Cancellation cancel) throws Exception {
    Future<T> f = submit(call);
    Runnable unregister = cancel.onCancel(() -> f.cancel(true));
    try {
      return await(f, timeoutMs, timeoutMessage);
    } catch (CancellationException e) {
      throw new SshFailure(Cancellation.SHUTTING_DOWN);
    } finally {
      unregister.run();
    }
  }

  /** Runs {@code call} on a JSch request thread and waits at most {@code timeoutMs}. */
  static <T> T call(Callable<T> call, long timeoutMs, String timeoutMessage) throws Exception {
    return await(submit(call), timeoutMs, timeoutMessage);
  }

  private static <T> Future<T> submit(Callable<T> call) {
    return POOL.submit(() -> {
      Thread.interrupted();
      try {
        return call.call();
      } finally {
        Thread.interrupted();
      }
    });
  }

  private static <T> T await(Future<T> f, long timeoutMs, String timeoutMessage) throws Exception {
    try {
      return f.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new SshFailure(timeoutMessage);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw new IllegalStateException(cause);
    }
  }
}
