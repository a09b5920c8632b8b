package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Exposition;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} from the fat jar: an app-server with its embedded relay, a static token and
 * HS256 JWTs, real tunnels to a local HTTP service and a TCP echo. The meters are process-wide, so
 * each test compares with a scrape taken before it acts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsJarIT {
  static final String TOKEN = "metrics-it-static-token";
  static final String SECRET = "metrics-it-hs256-secret-0123456789abcdef";
  static final int BODY = 4096;

  Path home;
  Vertx vertx;
  HttpServer web;
  NetServer echo;
  JarProcess app;
  String api;
  int edgePort;
  JWTAuth signer;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    home = dir;
    vertx = Vertx.vertx();
    byte[] body = new byte[BODY];
    Arrays.fill(body, (byte) 'x');
    web = vertx.createHttpServer()
        .requestHandler(req -> req.response().setStatusCode(req.path().equals("/missing") ? 404 : 200)
            .end(io.vertx.core.buffer.Buffer.buffer(body)))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    echo = vertx.createNetServer().connectHandler(so -> so.pipeTo(so))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    signer = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0",
        "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0",
        "auth:", "  jwt:", "    algorithm: HS256", "    secret: " + SECRET, ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml", "--token", TOKEN);
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    String domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
  }

  @AfterAll
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private String jwt(String scope) {
    return signer.generateToken(new JsonObject().put("scope", scope), new JWTOptions().setExpiresInSeconds(300));
  }

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(45))
        .header("Authorization", "Bearer " + TOKEN);
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> metrics(String authorization, String accept) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + "/metrics")).timeout(Duration.ofSeconds(30));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (accept != null) {
      b.header("Accept", accept);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private Exposition scrape() throws Exception {
    HttpResponse<String> r = metrics("Bearer " + TOKEN, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Exposition.parse(r.body(), false);
  }

  /** Scrapes until {@code check} holds for a scrape (it throws AssertionError while it does not). */
  private Exposition awaitScrape(String what, java.util.function.Consumer<Exposition> check) {
    AtomicReference<Exposition> last = new AtomicReference<>();
    AtomicReference<AssertionError> why = new AtomicReference<>();
    try {
      Timeouts.pollUntil(Duration.ofSeconds(15), what, () -> {
        try {
          last.set(scrape());
          check.accept(last.get());
          return true;
        } catch (AssertionError e) {
          why.set(e);
          return false;
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
    } catch (AssertionError e) {
      throw why.get() != null ? why.get() : e;
    }
    return last.get();
  }

  private JsonObject create(JsonObject body) throws Exception {
    HttpResponse<String> r = call("POST", "/api/v1/tunnels?wait=ready", body.encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new JsonObject(r.body());
  }

  private int through(String subdomain, String path) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort + path))
        .header("Host", subdomain + ".localhost:" + edgePort).timeout(Duration.ofSeconds(20)).GET().build();
    HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.body()).hasSize(BODY);
    return r.statusCode();
  }

  private static double running(Exposition e, String type) {
    return e.valueOrZero("porthole_tunnels", "status", "running", "type", type);
  }

  private static double stopped(Exposition e, String type) {
    return e.valueOrZero("porthole_tunnels", "status", "stopped", "type", type);
  }

  @Test
  @DisplayName("tunnels by status, starts, requests by status class and each tunnel's bytes move with real traffic; "
      + "a stopped tunnel's byte series are gone")
  void valuesFollowTunnels() throws Exception {
    Exposition before = scrape();
    JsonObject web1 = create(new JsonObject().put("port", web.actualPort()).put("host", "127.0.0.1")
        .put("subdomain", "metrics-web").put("pool_size", 1));
    JsonObject tcp = create(new JsonObject().put("type", "tcp").put("port", echo.actualPort()).put("host", "127.0.0.1")
        .put("pool_size", 1));
    String webId = web1.getString("id");
    String tcpId = tcp.getString("id");

    Exposition up = scrape();
    assertThat(running(up, "http")).isEqualTo(running(before, "http") + 1);
    assertThat(running(up, "tcp")).isEqualTo(running(before, "tcp") + 1);
    assertThat(up.valueOrZero("porthole_tunnel_starts_total", "type", "http"))
        .isEqualTo(before.valueOrZero("porthole_tunnel_starts_total", "type", "http") + 1);
    assertThat(up.valueOrZero("porthole_tunnel_starts_total", "type", "tcp"))
        .isEqualTo(before.valueOrZero("porthole_tunnel_starts_total", "type", "tcp") + 1);
    assertThat(up.value("porthole_tunnel_received_bytes_total", "tunnel_id", tcpId)).isZero();
    assertThat(up.type("porthole_tunnel_received_bytes_total")).isEqualTo("counter");
    assertThat(up.type("porthole_tunnels")).isEqualTo("gauge");

    assertThat(through("metrics-web", "/")).isEqualTo(200);
    assertThat(through("metrics-web", "/a")).isEqualTo(200);
    assertThat(through("metrics-web", "/missing")).isEqualTo(404);
    byte[] payload = new byte[10_000];
    Arrays.fill(payload, (byte) 7);
    try (Socket s = new Socket("127.0.0.1", tcp.getInteger("remote_port"))) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(payload);
      out.flush();
      InputStream in = s.getInputStream();
      assertThat(in.readNBytes(payload.length)).isEqualTo(payload);
    }

    awaitScrape("the traffic in the meters", e -> {
      assertThat(e.valueOrZero("porthole_tunnel_requests_total", "status_class", "2xx"))
          .isEqualTo(before.valueOrZero("porthole_tunnel_requests_total", "status_class", "2xx") + 2);
      assertThat(e.valueOrZero("porthole_tunnel_requests_total", "status_class", "4xx"))
          .isEqualTo(before.valueOrZero("porthole_tunnel_requests_total", "status_class", "4xx") + 1);
      // TCP payload exactly, both ways (the echo sends back what it got).
      assertThat(e.value("porthole_tunnel_received_bytes_total", "tunnel_id", tcpId)).isEqualTo(10_000.0);
      assertThat(e.value("porthole_tunnel_sent_bytes_total", "tunnel_id", tcpId)).isEqualTo(10_000.0);
      // HTTP: three request heads in, three responses with their 4 KiB bodies out (health pings may add).
      assertThat(e.value("porthole_tunnel_received_bytes_total", "tunnel_id", webId)).isGreaterThan(3 * 30.0);
      assertThat(e.value("porthole_tunnel_sent_bytes_total", "tunnel_id", webId)).isGreaterThan(3.0 * BODY);
    });

    assertThat(call("DELETE", "/api/v1/tunnels/" + webId, null).statusCode()).isEqualTo(200);
    assertThat(call("DELETE", "/api/v1/tunnels/" + tcpId, null).statusCode()).isEqualTo(200);
    Exposition after = scrape();
    assertThat(after.seriesContaining(webId)).isEmpty();
    assertThat(after.seriesContaining(tcpId)).isEmpty();
    assertThat(running(after, "http")).isEqualTo(running(before, "http"));
    assertThat(running(after, "tcp")).isEqualTo(running(before, "tcp"));
    assertThat(stopped(after, "http")).isEqualTo(stopped(before, "http") + 1);
    assertThat(stopped(after, "tcp")).isEqualTo(stopped(before, "tcp") + 1);
  }

  @Test
  @DisplayName("GET /metrics: 401 without a credential, 403 for a JWT without scope metrics, 200 with it or the token")
  void authEnforced() throws Exception {
    HttpResponse<String> none = metrics(null, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(none.body()).getString("message")).isEqualTo("unauthorized");

    HttpResponse<String> wrongScope = metrics("Bearer " + jwt("tunnels:read tunnels:write access"), null);
    assertThat(wrongScope.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(wrongScope.body()).getString("message")).isEqualTo("forbidden");

    HttpResponse<String> scoped = metrics("Bearer " + jwt("metrics"), null);
    assertThat(scoped.statusCode()).isEqualTo(200);
    assertThat(scoped.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(Exposition.parse(scoped.body(), false).value("porthole_bridge_clients")).isZero();

    HttpResponse<String> bad = metrics("Bearer not-the-token", null);
    assertThat(bad.statusCode()).isEqualTo(401);
    assertThat(bad.body()).doesNotContain("porthole_");
  }

  @Test
  @DisplayName("the exposition parses: 0.0.4 by default, OpenMetrics when Accept asks, with Vert.x's HTTP and "
      + "event-bus meters and no per-path or per-address series")
  void expositionParses() throws Exception {
    call("GET", "/api/v1/tunnels", null);
    Exposition text = scrape();
    assertThat(text.size()).isGreaterThan(50);
    assertThat(text.type("vertx_http_server_requests_total")).isEqualTo("counter");
    assertThat(text.seriesContaining("vertx_http_server_requests_total")).isNotEmpty();
    assertThat(text.seriesContaining("vertx_eventbus_")).isNotEmpty();
    assertThat(text.seriesContaining("path=")).isEmpty();
    assertThat(text.seriesContaining("address=")).isEmpty();
    assertThat(text.type("porthole_webhook_deliveries_total")).isEqualTo("counter");
    assertThat(text.value("porthole_request_log_dropped_total")).isNotNull();

    HttpResponse<String> om = metrics("Bearer " + TOKEN, "application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
    assertThat(om.statusCode()).isEqualTo(200);
    assertThat(om.headers().firstValue("Content-Type"))
        .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
    Exposition parsed = Exposition.parse(om.body(), true);
    assertThat(parsed.type("porthole_tunnel_starts")).isEqualTo("counter");
    assertThat(parsed.seriesContaining("porthole_tunnel_starts_total")).hasSize(3);
  }

  @Test
  @DisplayName("--no-metrics: Vert.x runs without metrics and GET /metrics answers 404 with a message")
  void metricsOff(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    try (JarProcess off = JarProcess.start(dir, "app-server", "--conf", "porthole.yaml", "--no-metrics")) {
      String base = off.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(new JsonObject(r.body()).getString("message")).isEqualTo("metrics are off (metrics.enabled: false)");
    }
  }
}
