package dev.porthole.tunnel;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Reconnect delays (portr-protocol §5): 1, 2, 4, 8, 16, 16, … s plus 0–499 ms of jitter. */
final class Backoff {
  private Backoff() {
  }

  static Duration delay(int attempt) {
    int k = Math.min(Math.max(attempt, 1), 5);
    return Duration.ofSeconds(1L << (k - 1)).plusMillis(ThreadLocalRandom.current().nextInt(500));
  }
}
