package dev.porthole.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.porthole.testsupport.Exposition;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MetricsTest {

  @Test
  @DisplayName("each Vert.x finds its own registry; one built without metrics finds OFF, whose meters are no-ops")
  void perVertx() throws Exception {
    Metrics a = Metrics.create(true);
    Metrics b = Metrics.create(true);
    Vertx va = a.install(a.configure(Vertx.builder()).build());
    Vertx vb = b.install(b.configure(Vertx.builder()).build());
    Vertx plain = Metrics.OFF.install(Metrics.OFF.configure(Vertx.builder()).build());
    try {
      assertThat(Metrics.of(va)).isSameAs(a);
      assertThat(Metrics.of(vb)).isSameAs(b);
      assertThat(Metrics.of(plain)).isSameAs(Metrics.OFF);
      assertThat(Metrics.OFF.enabled()).isFalse();

      a.tunnelResponse(204);
      a.tunnelResponse(101);
      a.tunnelResponse(503);
      assertThat(a.scrape(Metrics.TEXT_004).toString())
          .contains("porthole_tunnel_requests_total{status_class=\"2xx\"} 1.0")
          .contains("porthole_tunnel_requests_total{status_class=\"1xx\"} 1.0")
          .contains("porthole_tunnel_requests_total{status_class=\"5xx\"} 1.0");
      assertThat(b.scrape(Metrics.TEXT_004).toString()).contains("porthole_tunnel_requests_total{status_class=\"2xx\"} 0.0");

      MeterGroup off = Metrics.OFF.group();
      Counter c = off.counter("porthole.test", "nothing", "k", "v");
      c.increment();
      assertThat(c.count()).isZero();
      off.functionCounter("porthole.test.fn", "nothing", "bytes", new AtomicLong(5), AtomicLong::get);
      off.close();
    } finally {
      for (Vertx v : new Vertx[] {va, vb, plain}) {
        v.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  @DisplayName("a group's meters leave the registry when it closes")
  void groupRemovesItsMeters() {
    Metrics m = Metrics.create(true);
    MeterGroup g = m.group();
    AtomicLong bytes = new AtomicLong(42);
    g.functionCounter("porthole.test.copied", "bytes copied", "bytes", bytes, AtomicLong::get, "owner", "O1");
    assertThat(m.scrape(Metrics.TEXT_004).toString()).contains("porthole_test_copied_bytes_total{owner=\"O1\"} 42.0");
    g.close();
    assertThat(m.scrape(Metrics.TEXT_004).toString()).doesNotContain("O1");
  }

  @Test
  @DisplayName("a tunnel's byte series read its counters at each scrape, in both formats, and go when it stops")
  void tunnelTrafficSeries() {
    Metrics m = Metrics.create(true);
    AtomicLong in = new AtomicLong(42);
    AtomicLong out = new AtomicLong(7);
    Runnable stop = m.tunnelTraffic("T1", in::get, out::get);
    Runnable other = m.tunnelTraffic("T2", () -> 1, () -> 2);
    Exposition text = Exposition.parse(m.scrape(Metrics.TEXT_004).toString(), false);
    assertThat(text.value("porthole_tunnel_received_bytes_total", "tunnel_id", "T1")).isEqualTo(42.0);
    assertThat(text.value("porthole_tunnel_sent_bytes_total", "tunnel_id", "T1")).isEqualTo(7.0);
    assertThat(text.value("porthole_tunnel_sent_bytes_total", "tunnel_id", "T2")).isEqualTo(2.0);
    assertThat(text.type("porthole_tunnel_received_bytes_total")).isEqualTo("counter");
    in.addAndGet(8);
    Exposition om = Exposition.parse(m.scrape(Metrics.OPENMETRICS).toString(), true);
    assertThat(om.value("porthole_tunnel_received_bytes_total", "tunnel_id", "T1")).isEqualTo(50.0);
    assertThat(om.type("porthole_tunnel_received_bytes")).isEqualTo("counter");
    stop.run();
    stop.run();
    assertThat(m.scrape(Metrics.TEXT_004).toString()).doesNotContain("\"T1\"").contains("\"T2\"");
    other.run();
    assertThat(m.scrape(Metrics.TEXT_004).toString()).doesNotContain("tunnel_id=", "porthole_tunnel_sent_bytes");
    assertThat(m.scrape(Metrics.OPENMETRICS).toString()).doesNotContain("porthole_tunnel_sent_bytes").endsWith("# EOF\n");
    assertThat(Metrics.OFF.tunnelTraffic("T3", () -> 1, () -> 1)).isNotNull();
  }

  @Test
  @DisplayName("the tunnels' byte families, line by line, as Prometheus's own writers put them (HELP, TYPE, UNIT; "
      + "escaped ids; integer values), once each, before OpenMetrics' # EOF")
  void tunnelTrafficFormat() {
    Metrics m = Metrics.create(true);
    m.tunnelTraffic("b", () -> 0, () -> Long.MAX_VALUE);
    m.tunnelTraffic("a\"q\\x\ny", () -> 123_456_789_012L, () -> 9);
    String text = m.scrape(Metrics.TEXT_004).toString();
    assertThat(text).contains("""
        # HELP porthole_tunnel_received_bytes_total Bytes from the public side to the tunnel's local service, \
        through the relay (HTTP heads and bodies, TCP payload)
        # TYPE porthole_tunnel_received_bytes_total counter
        porthole_tunnel_received_bytes_total{tunnel_id="a\\"q\\\\x\\ny"} 123456789012
        porthole_tunnel_received_bytes_total{tunnel_id="b"} 0
        # HELP porthole_tunnel_sent_bytes_total Bytes from the tunnel's local service back to the relay
        # TYPE porthole_tunnel_sent_bytes_total counter
        porthole_tunnel_sent_bytes_total{tunnel_id="a\\"q\\\\x\\ny"} 9
        porthole_tunnel_sent_bytes_total{tunnel_id="b"} 9223372036854775807
        """);
    Exposition parsed = Exposition.parse(text, false);
    assertThat(parsed.value("porthole_tunnel_received_bytes_total", "tunnel_id", "a\\\"q\\\\x\\ny"))
        .isEqualTo(123_456_789_012.0);
    assertThat(parsed.seriesContaining("porthole_tunnel_")).filteredOn(k -> k.contains("tunnel_id")).hasSize(4);

    String om = m.scrape(Metrics.OPENMETRICS).toString();
    assertThat(om).contains("""
        # TYPE porthole_tunnel_received_bytes counter
        # UNIT porthole_tunnel_received_bytes bytes
        # HELP porthole_tunnel_received_bytes Bytes from the public side to the tunnel's local service, \
        through the relay (HTTP heads and bodies, TCP payload)
        porthole_tunnel_received_bytes_total{tunnel_id="a\\"q\\\\x\\ny"} 123456789012
        porthole_tunnel_received_bytes_total{tunnel_id="b"} 0
        # TYPE porthole_tunnel_sent_bytes counter
        # UNIT porthole_tunnel_sent_bytes bytes
        # HELP porthole_tunnel_sent_bytes Bytes from the tunnel's local service back to the relay
        porthole_tunnel_sent_bytes_total{tunnel_id="a\\"q\\\\x\\ny"} 9
        porthole_tunnel_sent_bytes_total{tunnel_id="b"} 9223372036854775807
        # EOF
        """).endsWith("porthole_tunnel_sent_bytes_total{tunnel_id=\"b\"} 9223372036854775807\n# EOF\n");
    assertThat(om.indexOf("# EOF")).isEqualTo(om.lastIndexOf("# EOF"));
    assertThat(Exposition.parse(om, true).value("porthole_tunnel_sent_bytes_total", "tunnel_id", "b"))
        .isEqualTo((double) Long.MAX_VALUE);
  }

  @Test
  @DisplayName("a scrape with a thousand tunnels allocates its answer and little else: nothing per series")
  void scrapeAllocatesNothingPerSeries() {
    Metrics m = Metrics.create(true);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long self = Thread.currentThread().getId();
    for (int i = 0; i < 50; i++) {
      m.scrape(Metrics.TEXT_004);
    }
    long a0 = threads.getThreadAllocatedBytes(self);
    int without = m.scrape(Metrics.TEXT_004).length();
    long allocWithout = threads.getThreadAllocatedBytes(self) - a0;
    for (int i = 0; i < 1000; i++) {
      AtomicLong bytes = new AtomicLong(i * 1_000_003L);
      m.tunnelTraffic("0123abcd-" + i, bytes::get, bytes::get);
    }
    for (int i = 0; i < 50; i++) {
      m.scrape(Metrics.TEXT_004);
    }
    long a1 = threads.getThreadAllocatedBytes(self);
    int with = m.scrape(Metrics.TEXT_004).length();
    long allocWith = threads.getThreadAllocatedBytes(self) - a1;
    // The tunnels add their bytes to the answer (sized up front, never regrown) and next to nothing else.
    assertThat(with - without).isGreaterThan(1000 * 2 * 50);
    assertThat(allocWith - allocWithout).isLessThan((with - without) * 3L / 2);
  }

  @Test
  @DisplayName("OpenMetrics only when Accept names it")
  void contentType() {
    assertThat(Metrics.contentType(null)).isEqualTo(Metrics.TEXT_004);
    assertThat(Metrics.contentType("*/*")).isEqualTo(Metrics.TEXT_004);
    assertThat(Metrics.contentType("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"))
        .isEqualTo(Metrics.OPENMETRICS);
    assertThat(Metrics.create(true).scrape(Metrics.OPENMETRICS).toString()).endsWith("# EOF\n");
  }

  @Test
  @DisplayName("a connection accepted before its server's metrics exist (no socket metric) is skipped, not an NPE "
      + "that leaves its request unanswered")
  void bindRaceGuard() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    VertxOptions options = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setRegistryName("bind-race-test"));
    VertxMetrics metrics = new BindRaceGuard(new MicrometerMetricsFactory(registry)).metrics(options);
    @SuppressWarnings("unchecked")
    HttpServerMetrics<Object, Object, Object> server = (HttpServerMetrics<Object, Object, Object>)
        metrics.createHttpServerMetrics(new HttpServerOptions(), SocketAddress.inetSocketAddress(1, "127.0.0.1"));
    assertThatCode(() -> {
      Object request = server.requestBegin(null, null);
      assertThat(request).isNull();
      server.requestEnd(null, null, 10);
      server.responseBegin(null, null);
      server.responseEnd(null, null, 10);
      server.bytesRead(null, null, 10);
      server.disconnected(null, null);
    }).doesNotThrowAnyException();
    metrics.close();
  }

  @Test
  @DisplayName("a server that answers requests sent the moment it listens is measured (guard in place)")
  void serverMeasured() throws Exception {
    Metrics m = Metrics.create(true);
    Vertx vertx = m.install(m.configure(Vertx.builder()).build());
    try {
      HttpServer server = vertx.createHttpServer().requestHandler(r -> r.response().end("ok"))
          .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      // Held: Vert.x 5 closes a client that nothing references once the GC finds it, mid-request too.
      io.vertx.core.http.HttpClient client = vertx.createHttpClient();
      String body = client.request(io.vertx.core.http.HttpMethod.GET, server.actualPort(),
              "127.0.0.1", "/").compose(req -> req.send().compose(res -> res.body()))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
      assertThat(body).isEqualTo("ok");
      assertThat(m.scrape(Metrics.TEXT_004).toString()).contains("vertx_http_server_requests_total{code=\"200\",method=\"GET\"} 1.0");
      client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
