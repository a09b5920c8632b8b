package dev.porthole.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class JschThreadsTest {

  @Test
  @DisplayName("a cancelled tunnel stops waiting for a forward request at once, even one that ignores interrupts as JSch's reply loop does")
  void cancellationEndsTheWait() throws Exception {
    Cancellation cancel = new Cancellation();
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread canceller = new Thread(() -> {
      try {
        if (running.await(10, TimeUnit.SECONDS)) {
          cancel.cancel();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    canceller.start();
    long t0 = System.nanoTime();
    try {
      assertThatThrownBy(() -> JschThreads.call(() -> {
        running.countDown();
        // Like JSch's ten 1 s sleeps: an interrupt does not end it.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end && release.getCount() > 0) {
          try {
            release.await(100, TimeUnit.MILLISECONDS);
          } catch (InterruptedException ignored) {
            // JSch swallows it too.
          }
        }
        return null;
      }, 11_000, "deadline", cancel)).isInstanceOf(SshFailure.class).hasMessage(Cancellation.SHUTTING_DOWN);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5_000);
    } finally {
      release.countDown();
      canceller.join(10_000);
    }
  }

  @Test
  @DisplayName("what a cancellation runs is registered until its handle is run; a registration after the cancel runs at once")
  void registrations() {
    Cancellation cancel = new Cancellation();
    int[] ran = new int[3];
    Runnable first = cancel.onCancel(() -> ran[0]++);
    cancel.onCancel(() -> ran[1]++);
    first.run();
    cancel.cancel();
    cancel.cancel();
    cancel.onCancel(() -> ran[2]++);
    assertThat(ran).containsExactly(0, 1, 1);
  }
}
