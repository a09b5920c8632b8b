package dev.porthole.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Exposition;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class OsGaugesTest {

  private static Exposition scrape(Metrics m) {
    return Exposition.parse(m.scrape(Metrics.TEXT_004).toString(), false);
  }

  @Test
  @DisplayName("the CPU and open-files gauges show the last sample: a scrape reads no source, a sample moves them")
  void sampledNotScraped() {
    AtomicInteger reads = new AtomicInteger();
    OsGauges os = new OsGauges(() -> reads.incrementAndGet() * 0.01, () -> 0.5 + reads.get() * 0.01,
        () -> 100 + reads.get());
    Metrics m = new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), os);
    assertThat(reads).hasValue(1); // the first sample, when bound

    Exposition first = scrape(m);
    Exposition again = scrape(m);
    assertThat(reads).hasValue(1);
    assertThat(first.value("system_cpu_usage")).isEqualTo(0.01);
    assertThat(again.value("process_cpu_usage")).isEqualTo(0.51);
    assertThat(again.value("process_files_open_files")).isEqualTo(101.0);

    os.sample();
    os.sample();
    Exposition moved = scrape(m);
    assertThat(reads).hasValue(3);
    assertThat(moved.value("system_cpu_usage")).isEqualTo(0.03);
    assertThat(moved.value("process_cpu_usage")).isEqualTo(0.53);
    assertThat(moved.value("process_files_open_files")).isEqualTo(103.0);
  }

  @Test
  @DisplayName("the platform's open-files reading moves with the descriptors the process opens, at the next sample")
  void platformOpenFilesMove() throws Exception {
    OsGauges os = OsGauges.platform();
    Metrics m = new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), os);
    double before = scrape(m).value("process_files_open_files");
    List<ServerSocketChannel> open = new ArrayList<>();
    try {
      for (int i = 0; i < 40; i++) {
        open.add(ServerSocketChannel.open());
      }
      assertThat(scrape(m).value("process_files_open_files")).isEqualTo(before);
      os.sample();
      assertThat(scrape(m).value("process_files_open_files")).isGreaterThanOrEqualTo(before + 40);
      assertThat(scrape(m).value("process_cpu_usage")).isBetween(0.0, 1.0);
      assertThat(scrape(m).value("system_cpu_usage")).isBetween(0.0, 1.0);
    } finally {
      for (ServerSocketChannel c : open) {
        c.close();
      }
    }
  }

  @Test
  @DisplayName("same families, types, units and help as Micrometer's ProcessorMetrics and FileDescriptorMetrics")
  void sameAsMicrometers() {
    PrometheusMeterRegistry theirs = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ProcessorMetrics().bindTo(theirs);
    new FileDescriptorMetrics().bindTo(theirs);
    PrometheusMeterRegistry ours = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OsGauges.platform().bindTo(ours);
    assertThat(metadata(ours.scrape())).isNotEmpty().containsExactlyElementsOf(metadata(theirs.scrape()));
    assertThat(metadata(ours.scrape(Metrics.OPENMETRICS)))
        .containsExactlyElementsOf(metadata(theirs.scrape(Metrics.OPENMETRICS)));
  }

  private static List<String> metadata(String exposition) {
    return exposition.lines().filter(l -> l.startsWith("#")).toList();
  }

  @Test
  @DisplayName("installed, the gauges are sampled about once a second, on porthole-metrics, never on an event loop")
  void sampledByTimer(Vertx vertx, VertxTestContext ctx) {
    ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
    AtomicInteger samples = new AtomicInteger();
    var done = ctx.checkpoint();
    long t0 = System.nanoTime();
    OsGauges os = new OsGauges(() -> 0.25, () -> {
      threads.add(Thread.currentThread().getName() + (Context.isOnEventLoopThread() ? " (event loop)" : ""));
      if (samples.incrementAndGet() == 3) { // the bind's and two ticks'
        ctx.verify(() -> {
          assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(2 * OsGauges.PERIOD_MS));
          assertThat(threads).hasSize(3).element(0).asString().doesNotContain("event loop");
          assertThat(threads).last().asString().startsWith(Metrics.WORKER).doesNotContain("event loop");
        });
        done.flag();
      }
      return 0.5;
    }, () -> 7);
    new Metrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), os).install(vertx);
  }
}
