package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capture through a real tunnel: public request → relay → SSH → the worker's edge → local
 * service; the app-server's bus carries the records (portr-protocol §7).
 */
class CaptureThroughTunnelIT {
  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static LocalBackend backend;
  static final BlockingQueue<Capture> captured = new LinkedBlockingQueue<>();

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay, c -> c.redactHeaders = List.of("X-Secret"));
    app.vertx().eventBus().<Capture>consumer(Addresses.REQUESTS_CAPTURE, m -> Capture.forEach(m.body(), captured::add))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "local");
  }

  @AfterAll
  static void stop() throws Exception {
    app.close();
    relay.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("a request through the tunnel is captured with the public Host, the tunnel's ids and the configured redaction; the gate's 401 too")
  void throughTheTunnel() throws Exception {
    JsonObject status = app.create(new JsonObject().put("name", "cap").put("subdomain", "e2e-cap")
        .put("port", backend.port()).put("basic_auth", "user:pass"));
    String auth = "Basic " + Base64.getEncoder().encodeToString("user:pass".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> r = relay.http().send(relay.edgeRequest("e2e-cap", "/body?n=1")
            .header("Authorization", auth).header("X-Secret", "s1").header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString("payload")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("local got 7 bytes");

    Capture.Exchange e = nextExchange();
    assertThat(e.tunnelId()).isEqualTo(status.getString("id"));
    assertThat(e.subdomain()).isEqualTo("e2e-cap");
    assertThat(e.localport()).isEqualTo(backend.port());
    assertThat(e.host()).isEqualTo(relay.host("e2e-cap"));
    assertThat(e.method()).isEqualTo("POST");
    assertThat(e.url()).isEqualTo("/body?n=1");
    // redact_headers replaces the defaults; basic auth adds Authorization.
    assertThat(e.requestHeaders()).containsEntry("X-Secret", List.of("[redacted]"))
        .containsEntry("Authorization", List.of("[redacted]")).containsEntry("Content-Length", List.of("7"))
        .doesNotContainKey("Host");
    assertThat(new String(e.requestBody(), StandardCharsets.UTF_8)).isEqualTo("payload");
    assertThat(e.status()).isEqualTo(200);
    assertThat(new String(e.responseBody(), StandardCharsets.UTF_8)).isEqualTo("local got 7 bytes");
    assertThat(e.bytesOut()).isEqualTo(17);

    HttpResponse<String> denied = relay.edgeGet("e2e-cap", "/nope");
    assertThat(denied.statusCode()).isEqualTo(401);
    Capture.Exchange d = nextExchange();
    assertThat(d.status()).isEqualTo(401);
    assertThat(d.url()).isEqualTo("/nope");
  }

  /** The next exchange (the relay's and the health check's pings are never among them). */
  private static Capture.Exchange nextExchange() throws InterruptedException {
    Capture c = captured.poll(Timeouts.scaled(Duration.ofSeconds(15)).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(c).isInstanceOf(Capture.Exchange.class);
    return (Capture.Exchange) c;
  }
}
