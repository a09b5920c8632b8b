package dev.porthole.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Test deadlines, scaled by {@code -Dporthole.test.timeout.factor} for slow machines. */
public final class Timeouts {
  private Timeouts() {
  }

  public static Duration scaled(Duration d) {
    double factor = Double.parseDouble(System.getProperty("porthole.test.timeout.factor", "1"));
    return Duration.ofMillis((long) (d.toMillis() * Math.max(1.0, factor)));
  }

  /** Polls {@code condition} every 20 ms until it holds or the deadline passes. */
  public static void pollUntil(Duration limit, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + scaled(limit).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + scaled(limit) + " waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what);
      }
    }
  }
}
