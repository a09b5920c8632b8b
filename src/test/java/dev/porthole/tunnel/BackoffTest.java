package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BackoffTest {
  private static final int SAMPLES = 200;

  private static long baseMillis(int attempt) {
    int k = Math.min(Math.max(attempt, 1), 5);
    return 1000L << (k - 1);
  }

  @ParameterizedTest(name = "attempt {0}")
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  @DisplayName("§5 backoff(k) = 2^(min(k,5)-1) s + [0, 500) ms")
  void delayPerAttempt(int attempt) {
    long base = baseMillis(attempt);
    for (int i = 0; i < SAMPLES; i++) {
      Duration d = Backoff.delay(attempt);
      assertThat(d.toNanos()).isBetween(base * 1_000_000L, (base + 500) * 1_000_000L - 1);
    }
  }

  @Test
  @DisplayName("§5 exact bases: 1, 2, 4, 8, 16, 16, 16, 16 s")
  void bases() {
    long[] expected = {1000, 2000, 4000, 8000, 16000, 16000, 16000, 16000};
    for (int k = 1; k <= 8; k++) {
      assertThat(baseMillis(k)).isEqualTo(expected[k - 1]);
      assertThat(Backoff.delay(k).toSeconds()).isEqualTo(expected[k - 1] / 1000);
    }
  }

  @ParameterizedTest(name = "attempt {0}")
  @ValueSource(ints = {0, -1, -100, Integer.MIN_VALUE})
  @DisplayName("§5 attempt 0 and negative attempts behave like attempt 1")
  void nonPositiveLikeOne(int attempt) {
    for (int i = 0; i < SAMPLES; i++) {
      assertThat(Backoff.delay(attempt)).isGreaterThanOrEqualTo(Duration.ofSeconds(1)).isLessThan(Duration.ofMillis(1500));
    }
  }

  @Test
  @DisplayName("§10.4 reliability: backoff always within [1 s, 33 s)")
  void alwaysBounded() {
    for (int attempt = -5; attempt <= 100; attempt++) {
      for (int i = 0; i < 20; i++) {
        assertThat(Backoff.delay(attempt)).isGreaterThanOrEqualTo(Duration.ofSeconds(1)).isLessThan(Duration.ofSeconds(33));
      }
    }
    assertThat(Backoff.delay(Integer.MAX_VALUE)).isLessThan(Duration.ofSeconds(33));
  }
}
