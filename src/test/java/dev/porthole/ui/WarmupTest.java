package dev.porthole.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.metrics.Metrics;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The app-server's own first dashboard load: made at start, through the real router and the token's bridge. */
@ExtendWith(VertxExtension.class)
class WarmupTest {
  private static final Duration WAIT = Timeouts.scaled(Duration.ofSeconds(10));
  private static final String TOKEN = "warm-up-test-token";

  @Test
  void theServerLoadsItsDashboardOnceWhenItStartsAndAStrangerTokenStopsAtTheBridge(Vertx vertx) throws Exception {
    HttpVerticle verticle = new HttpVerticle();
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(new JsonObject().put("host", "127.0.0.1")
        .put("port", 0).put("token", TOKEN).put("relay", "embedded")))
        .await(WAIT.toMillis(), TimeUnit.MILLISECONDS);

    // Every step a browser makes, answered as it expects: the five files, the bridge's info, its socket.
    // On a machine busy with other tests it may wait the whole time allowed for a quiet one.
    assertThat(verticle.warmedUp().await(WAIT.toMillis() + Warmup.DELAY_MS + Warmup.MAX_QUIET_WAIT_MS,
        TimeUnit.MILLISECONDS)).isEqualTo(Warmup.FILES.size() + 2);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (Metrics.of(vertx).bridgeClients().get() != 0 && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(10); // polling interval
    }
    assertThat(Metrics.of(vertx).bridgeClients().get()).as("the warm-up's bridge socket is closed").isZero();

    Throwable refused = Warmup.run(vertx, "127.0.0.1", verticle.actualPort(), "not-" + TOKEN)
        .transform(ar -> Future.succeededFuture(ar.cause())).await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(refused).isNotNull();
    assertThat(refused.getMessage()).contains("/eventbus/info").contains("401").doesNotContain(TOKEN);
  }

  @Test
  void itWaitsForAQuietMachineAndNoLongerThanAllowed(Vertx vertx) throws Exception {
    // Busy, busy, then quiet: ready at the third reading after the first (which only starts the interval).
    AtomicInteger readings = new AtomicInteger();
    java.util.Set<String> readers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    DoubleSupplier busyThenQuiet = () -> {
      readers.add(Thread.currentThread().getName());
      return readings.incrementAndGet() <= 3 ? 0.95 : 0.1;
    };
    long t0 = System.nanoTime();
    Warmup.whenQuiet(vertx, busyThenQuiet, 100, 60_000).await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(readings.get()).isEqualTo(4);
    // one thread of its own for all four readings (not one of Vert.x's worker pool each), gone after
    assertThat(readers).hasSize(1).allMatch(name -> name.startsWith(Warmup.SAMPLER));
    dev.porthole.testsupport.Timeouts.pollUntil(Duration.ofSeconds(10), "the readings' thread gone",
        () -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith(Warmup.SAMPLER)));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(2 * Warmup.SAMPLE_MS));

    // Never quiet: it goes ahead once the longest wait is over.
    AtomicInteger busyReadings = new AtomicInteger();
    Warmup.whenQuiet(vertx, () -> {
      busyReadings.incrementAndGet();
      return 1.0;
    }, 100, 1_500).await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(busyReadings.get()).isBetween(2, 4);

    // Unknown (negative) counts as quiet.
    Warmup.whenQuiet(vertx, () -> -1, 100, 60_000).await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
