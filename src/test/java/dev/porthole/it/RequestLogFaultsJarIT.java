package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request log's faults from the fat jar: a database that cannot be created, one locked by
 * another program, a queue that overflows. Traffic through the tunnels is never held up, the state
 * is reported in health, and what was queued is written once the database is usable again.
 */
class RequestLogFaultsJarIT {
  @TempDir
  Path home;
  Vertx vertx;
  HttpServer local;
  HttpClient client;
  JarProcess app;
  String api;
  int edgePort;
  final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
      .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void local() throws Exception {
    vertx = Vertx.vertx();
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    local = vertx.createHttpServer().requestHandler(req -> req.response().end("ok"))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void startApp(String... requestLogLines) throws Exception {
    List<String> conf = new ArrayList<>(List.of("app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0",
        "  ssh_port: 0", "  http_port: 0", "request_log:", "  retry_seconds: 1"));
    for (String l : requestLogLines) {
      conf.add("  " + l);
    }
    conf.add("");
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n", conf));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml");
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    String domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
  }

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void tunnel(String subdomain) throws Exception {
    HttpResponse<String> r = call("POST", "/api/v1/tunnels?wait=ready", new JsonObject().put("port", local.actualPort())
        .put("host", "127.0.0.1").put("subdomain", subdomain).put("pool_size", 1).encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  /** {@code n} GETs through the tunnel, one after another; each must answer 200 within 2 s. */
  private void traffic(String subdomain, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      int status = client.request(new RequestOptions().setMethod(HttpMethod.GET)
              .setServer(SocketAddress.inetSocketAddress(edgePort, "127.0.0.1")).setHost(subdomain + ".localhost")
              .setPort(edgePort).setURI("/n/" + i).setTimeout(10_000))
          .compose(req -> req.send().compose(res -> res.body().map(b -> res.statusCode())))
          .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
      assertThat(status).isEqualTo(200);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("request " + i).isLessThan(Duration.ofSeconds(2));
    }
  }

  private JsonObject state() throws Exception {
    return new JsonObject(call("GET", "/api/v1/health", null).body()).getJsonObject("request_log");
  }

  private JsonObject awaitState(String what, java.util.function.Predicate<JsonObject> p) {
    AtomicReference<JsonObject> last = new AtomicReference<>();
    Timeouts.pollUntil(Duration.ofSeconds(30), what + " (last: " + last + ")", () -> {
      try {
        last.set(state());
        return p.test(last.get());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    return last.get();
  }

  @Test
  @DisplayName("a database that cannot be created: tunnels work, capture is reported off with the reason")
  void unwritablePath() throws Exception {
    // ~/.portr is a file: nothing can be created under it.
    Files.writeString(home.resolve(".portr"), "not a directory");
    startApp();
    tunnel("rf-unwritable");
    traffic("rf-unwritable", 5);
    JsonObject s = awaitState("capture reported off", st -> "off".equals(st.getString("state")));
    assertThat(s.getString("reason")).contains(home.resolve(".portr").toString());
    assertThat(s.getBoolean("enabled")).isTrue();
    HttpResponse<String> list = call("GET", "/api/v1/requests", null);
    assertThat(list.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(list.body()).getString("message")).isEqualTo(s.getString("reason"));
    assertThat(app.isAlive()).isTrue();
  }

  @Test
  @DisplayName("a database locked by another program: traffic unaffected, nothing lost once it is released")
  void lockedDatabase() throws Exception {
    startApp();
    tunnel("rf-locked");
    traffic("rf-locked", 3);
    awaitState("the first 3 written", st -> st.getLong("written") >= 3);
    Path db = home.resolve(".portr/db.sqlite");
    try (Connection lock = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = lock.createStatement()) {
      st.execute("BEGIN EXCLUSIVE");
      traffic("rf-locked", 20);
      JsonObject off = awaitState("the writer reports the lock", s -> "off".equals(s.getString("state")));
      assertThat(off.getString("reason")).contains("locked");
      st.execute("ROLLBACK");
    }
    JsonObject on = awaitState("all 23 written", s -> "on".equals(s.getString("state")) && s.getLong("written") >= 23);
    assertThat(on.getLong("dropped")).isZero();
    assertThat(new JsonObject(call("GET", "/api/v1/requests?subdomain=rf-locked&limit=100", null).body())
        .getJsonArray("requests")).hasSize(23);
  }

  @Test
  @DisplayName("a full queue drops captures and counts them, never the requests")
  void fullQueue() throws Exception {
    startApp("queue_size: 5");
    tunnel("rf-full");
    Path db = home.resolve(".portr/db.sqlite");
    awaitState("the database open", s -> "on".equals(s.getString("state")));
    try (Connection lock = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = lock.createStatement()) {
      st.execute("BEGIN EXCLUSIVE");
      traffic("rf-full", 30);
      JsonObject during = awaitState("drops counted", s -> s.getLong("dropped") > 0);
      assertThat(during.getLong("dropped")).isBetween(1L, 30L);
      st.execute("ROLLBACK");
    }
    JsonObject after = awaitState("the queue written", s -> "on".equals(s.getString("state")) && s.getInteger("queued") == 0);
    assertThat(after.getLong("written") + after.getLong("dropped")).isEqualTo(30);
    assertThat(app.output()).contains("dropping captures");
  }

  @Test
  @DisplayName("request_log.enabled: false captures nothing, with the embedded relay too, and says so")
  void disabled() throws Exception {
    startApp("enabled: false");
    tunnel("rf-off");
    traffic("rf-off", 3);
    JsonObject s = state();
    assertThat(s.getString("state")).isEqualTo("disabled");
    assertThat(s.getBoolean("enabled")).isFalse();
    HttpResponse<String> list = call("GET", "/api/v1/requests", null);
    assertThat(list.statusCode()).isEqualTo(503);
    assertThat(list.body()).isEqualTo("{\"message\":\"request logging is disabled\"}");
    assertThat(Files.exists(home.resolve(".portr/db.sqlite"))).isFalse();
  }
}
