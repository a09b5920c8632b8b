package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request log from the fat jar, as a user runs it: an app-server with its embedded relay,
 * requests through real tunnels to a real local service, the real SQLite file under {@code
 * $HOME/.portr}, the API, replay, the live feed and {@code porthole logs}. One app-server for the
 * class; each test uses its own tunnel (subdomain).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestLogJarIT {
  static final int MIB = 1024 * 1024;

  Path home;
  Vertx vertx;

  /** Held by the test: Vert.x 5 closes a client that nothing references once the GC finds it, mid-handshake too. */
  private WebSocketClient wsClient;

  private WebSocketClient webSockets() {
    if (wsClient == null) {
      wsClient = vertx.createWebSocketClient();
    }
    return wsClient;
  }

  HttpServer local;
  JarProcess app;
  String api;
  int edgePort;
  String domain;
  HttpClient client;
  final List<JsonObject> seen = new CopyOnWriteArrayList<>();
  final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
      .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    home = dir;
    vertx = Vertx.vertx();
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    local = vertx.createHttpServer()
        .webSocketHandler(ws -> {
          ws.textMessageHandler(t -> ws.writeTextMessage("echo:" + t));
          ws.binaryMessageHandler(ws::writeBinaryMessage);
        })
        .requestHandler(req -> req.body().onSuccess(body -> {
          JsonObject r = new JsonObject().put("method", req.method().name()).put("uri", req.uri())
              .put("body", body.toString());
          JsonObject h = new JsonObject();
          req.headers().forEach(e -> h.put(e.getKey().toLowerCase(), e.getValue()));
          seen.add(r.put("headers", h));
          if (req.path().equals("/big")) {
            req.response().putHeader("Content-Type", "application/octet-stream").end(Buffer.buffer(new byte[3 * MIB]));
            return;
          }
          req.response().putHeader("Content-Type", "text/plain").putHeader("Set-Cookie", "s=1")
              .putHeader("X-Reply", "yes").setStatusCode(req.path().equals("/created") ? 201 : 200)
              .end("reply:" + body.length());
        }))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml");
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
  }

  @AfterAll
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(45));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject tunnel(String subdomain, String basicAuth) throws Exception {
    JsonObject body = new JsonObject().put("port", local.actualPort()).put("host", "127.0.0.1")
        .put("subdomain", subdomain).put("pool_size", 1);
    if (basicAuth != null) {
      body.put("basic_auth", basicAuth);
    }
    HttpResponse<String> r = call("POST", "/api/v1/tunnels?wait=ready", body.encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new JsonObject(r.body());
  }

  /** A request through the tunnel's public URL: {status, headers, body}. */
  private Object[] through(String subdomain, HttpMethod method, String uri, Map<String, String> headers, Buffer body)
      throws Exception {
    RequestOptions o = new RequestOptions().setMethod(method).setServer(SocketAddress.inetSocketAddress(edgePort,
        "127.0.0.1")).setHost(subdomain + ".localhost").setPort(edgePort).setURI(uri).setTimeout(20_000);
    headers.forEach(o::putHeader);
    return client.request(o)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(res -> res.body().map(b -> new Object[] {res.statusCode(), res.headers(), b}))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private JsonArray listed(String query) throws Exception {
    HttpResponse<String> r = call("GET", "/api/v1/requests?" + query, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("requests");
  }

  private JsonArray awaitListed(String subdomain, int n) {
    AtomicReference<JsonArray> out = new AtomicReference<>();
    Timeouts.pollUntil(Duration.ofSeconds(15), n + " requests of " + subdomain + " in the log", () -> {
      try {
        out.set(listed("subdomain=" + subdomain));
        return out.get().size() >= n;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    return out.get();
  }

  private JsonObject detail(String id) throws Exception {
    HttpResponse<String> r = call("GET", "/api/v1/requests/" + id, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  private static byte[] b64(JsonObject o, String key) {
    return Base64.getDecoder().decode(o.getString(key, ""));
  }

  @Test
  @DisplayName("a request through a tunnel is stored with exact headers, bodies, status and sizes; pings are not")
  void roundTrip() throws Exception {
    JsonObject t = tunnel("rl-round", null);
    Object[] ping = through("rl-round", HttpMethod.GET, "/", Map.of("X-Portr-Ping-Request", "true"), null);
    assertThat(ping[0]).isEqualTo(200);
    Object[] res = through("rl-round", HttpMethod.POST, "/hooks/github?x=1&y=%20",
        Map.of("Authorization", "Bearer secret-token", "Cookie", "a=b", "x-custom-thing", "v1",
            "Content-Type", "application/json"), Buffer.buffer("{\"ok\":true}"));
    assertThat(res[0]).isEqualTo(200);
    JsonArray items = awaitListed("rl-round", 1);
    assertThat(items).hasSize(1);
    JsonObject item = items.getJsonObject(0);
    assertThat(item.fieldNames()).containsExactly("id", "tunnel_id", "subdomain", "localport", "host", "method", "url",
        "status", "duration_ms", "bytes_in", "bytes_out", "protocol", "logged_at", "is_replayed");
    assertThat(item.getString("tunnel_id")).isEqualTo(t.getString("id"));
    assertThat(item.getString("subdomain")).isEqualTo("rl-round");
    assertThat(item.getInteger("localport")).isEqualTo(local.actualPort());
    assertThat(item.getString("host")).isEqualTo("rl-round.localhost:" + edgePort);
    assertThat(item.getString("method")).isEqualTo("POST");
    assertThat(item.getString("url")).isEqualTo("/hooks/github?x=1&y=%20");
    assertThat(item.getInteger("status")).isEqualTo(200);
    assertThat(item.getLong("bytes_in")).isEqualTo(11);
    assertThat(item.getLong("bytes_out")).isEqualTo("reply:11".length());
    assertThat(item.getLong("duration_ms")).isGreaterThanOrEqualTo(0);
    assertThat(item.getString("protocol")).isEqualTo("HTTP/1.1");
    assertThat(item.getBoolean("is_replayed")).isFalse();

    JsonObject d = detail(item.getString("id"));
    JsonObject h = d.getJsonObject("headers");
    assertThat(h.getJsonArray("Authorization")).containsExactly("[redacted]");
    assertThat(h.getJsonArray("Cookie")).containsExactly("[redacted]");
    assertThat(h.getJsonArray("X-Custom-Thing")).containsExactly("v1");
    assertThat(h.getJsonArray("Content-Type")).containsExactly("application/json");
    assertThat(h.fieldNames()).doesNotContain("Host", "host");
    JsonObject rh = d.getJsonObject("response_headers");
    assertThat(rh.getJsonArray("Set-Cookie")).containsExactly("[redacted]");
    assertThat(rh.getJsonArray("X-Reply")).containsExactly("yes");
    assertThat(d.getString("body_text")).isEqualTo("{\"ok\":true}");
    assertThat(d.getString("response_body_text")).isEqualTo("reply:11");
    assertThat(d.getBoolean("body_truncated")).isFalse();
    assertThat(d.getBoolean("response_body_truncated")).isFalse();
    assertThat(d.encode()).doesNotContain("secret-token");

    // The file is Portr's: the row is there, headers as Go's json.Marshal writes them.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + home.resolve(".portr/db.sqlite"));
        ResultSet rs = c.createStatement().executeQuery(
            "SELECT headers, response_status_code, logged_at FROM requests WHERE id = '" + item.getString("id") + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).contains("\"Authorization\":[\"[redacted]\"]").contains("\"X-Custom-Thing\":[\"v1\"]");
      assertThat(rs.getInt(2)).isEqualTo(200);
      assertThat(rs.getString(3)).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)?\\+00:00");
    }
  }

  @Test
  @DisplayName("bodies are stored up to 1 MiB each, with exact byte counts")
  void truncation() throws Exception {
    tunnel("rl-big", null);
    Object[] res = through("rl-big", HttpMethod.POST, "/big", Map.of("Content-Type", "application/octet-stream"),
        Buffer.buffer(new byte[3 * MIB + 7]));
    assertThat(res[0]).isEqualTo(200);
    assertThat(((Buffer) res[2]).length()).isEqualTo(3 * MIB);
    JsonObject d = detail(awaitListed("rl-big", 1).getJsonObject(0).getString("id"));
    assertThat(d.getLong("bytes_in")).isEqualTo(3L * MIB + 7);
    assertThat(d.getLong("bytes_out")).isEqualTo(3L * MIB);
    assertThat(b64(d, "body")).hasSize(MIB);
    assertThat(b64(d, "response_body")).hasSize(MIB);
    assertThat(d.getBoolean("body_truncated")).isTrue();
    assertThat(d.getBoolean("response_body_truncated")).isTrue();
  }

  @Test
  @DisplayName("a 401 of the basic-auth gate is stored, its Authorization redacted")
  void basicAuthRefusal() throws Exception {
    tunnel("rl-auth", "me:s3cret");
    String wrong = "Basic " + Base64.getEncoder().encodeToString("me:nope".getBytes(StandardCharsets.UTF_8));
    Object[] res = through("rl-auth", HttpMethod.GET, "/private", Map.of("Authorization", wrong), null);
    assertThat(res[0]).isEqualTo(401);
    JsonObject d = detail(awaitListed("rl-auth", 1).getJsonObject(0).getString("id"));
    assertThat(d.getInteger("status")).isEqualTo(401);
    assertThat(d.getJsonObject("headers").getJsonArray("Authorization")).containsExactly("[redacted]");
    assertThat(d.getString("response_body_text")).isEqualTo("401 Unauthorized\n");
  }

  @Test
  @DisplayName("a WebSocket session is stored with its frames, both ways")
  void webSocket() throws Exception {
    tunnel("rl-ws", null);
    WebSocket ws = webSockets().connect(new WebSocketConnectOptions()
            .setHost("127.0.0.1").setPort(edgePort).addHeader("Host", "rl-ws.localhost:" + edgePort)
            .setURI("/ws?room=1"))
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    CompletableFuture<String> echoed = new CompletableFuture<>();
    ws.textMessageHandler(echoed::complete);
    ws.writeTextMessage("hello");
    assertThat(echoed.get(10, TimeUnit.SECONDS)).isEqualTo("echo:hello");
    ws.close((short) 1000, "bye").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    AtomicReference<JsonObject> session = new AtomicReference<>();
    Timeouts.pollUntil(Duration.ofSeconds(15), "the session's frames", () -> {
      try {
        JsonArray items = listed("subdomain=rl-ws");
        if (items.isEmpty()) {
          return false;
        }
        JsonObject d = detail(items.getJsonObject(0).getString("id"));
        session.set(d.getJsonObject("websocket"));
        return session.get() != null && session.get().getJsonArray("events", new JsonArray()).size() >= 3;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    JsonArray events = session.get().getJsonArray("events");
    List<String> seenFrames = events.stream().map(JsonObject.class::cast)
        .map(e -> e.getString("direction") + ":" + e.getString("opcode_name") + ":"
            + new String(Base64.getDecoder().decode(e.getString("payload", "")), StandardCharsets.UTF_8))
        .toList();
    assertThat(seenFrames).contains("client:text:hello", "server:text:echo:hello");
    assertThat(seenFrames).anyMatch(f -> f.startsWith("client:close:"));
  }

  @Test
  @DisplayName("replay and edited replay reach the local service, linked by parent_id; 404 and 409")
  void replay() throws Exception {
    JsonObject t = tunnel("rl-replay", "me:s3cret");
    String good = "Basic " + Base64.getEncoder().encodeToString("me:s3cret".getBytes(StandardCharsets.UTF_8));
    through("rl-replay", HttpMethod.POST, "/orders?n=1", Map.of("Authorization", good, "X-Trace", "t1",
        "Content-Type", "application/json"), Buffer.buffer("{\"n\":1}"));
    String original = awaitListed("rl-replay", 1).getJsonObject(0).getString("id");
    seen.clear();

    HttpResponse<String> r = call("POST", "/api/v1/requests/" + original + "/replay", null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonObject replayed = new JsonObject(r.body());
    assertThat(replayed.getBoolean("is_replayed")).isTrue();
    assertThat(replayed.getString("parent_id")).isEqualTo(original);
    assertThat(replayed.getString("id")).isNotEqualTo(original);
    assertThat(replayed.getString("url")).isEqualTo("/orders?n=1");
    assertThat(replayed.getInteger("status")).isEqualTo(200);
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).getString("body")).isEqualTo("{\"n\":1}");
    assertThat(seen.get(0).getJsonObject("headers").getString("x-trace")).isEqualTo("t1");
    assertThat(seen.get(0).getJsonObject("headers").getString("x-portr-replayed-request-id")).isEqualTo(original);
    assertThat(seen.get(0).getJsonObject("headers").containsKey("x-porthole-replay-key")).isFalse();

    r = call("POST", "/api/v1/requests/" + original + "/replay", new JsonObject().put("method", "PUT")
        .put("url", "/created?edited=1").put("headers", new JsonObject().put("X-Trace", "t2"))
        .put("body", "edited").encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonObject edited = new JsonObject(r.body());
    assertThat(edited.getString("method")).isEqualTo("PUT");
    assertThat(edited.getInteger("status")).isEqualTo(201);
    assertThat(edited.getString("parent_id")).isEqualTo(original);
    assertThat(seen).hasSize(2);
    assertThat(seen.get(1).getString("uri")).isEqualTo("/created?edited=1");
    assertThat(seen.get(1).getString("body")).isEqualTo("edited");
    assertThat(seen.get(1).getJsonObject("headers").getString("x-trace")).isEqualTo("t2");
    assertThat(listed("subdomain=rl-replay")).hasSize(3);

    r = call("POST", "/api/v1/requests/01NOPE000000000000000000/replay", null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).isEqualTo("{\"message\":\"request not found\"}");
    assertThat(call("DELETE", "/api/v1/tunnels/" + t.getString("id"), null).statusCode()).isEqualTo(200);
    r = call("POST", "/api/v1/requests/" + original + "/replay", null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
    assertThat(new JsonObject(r.body()).getString("message")).contains("rl-replay").contains("not running");
  }

  @Test
  @DisplayName("pages newest first with before, filters by url, refuses bad parameters, deletes by subdomain")
  void paging() throws Exception {
    tunnel("rl-page", null);
    for (int i = 0; i < 7; i++) {
      through("rl-page", HttpMethod.GET, "/item/" + i + (i % 2 == 0 ? "?even" : ""), Map.of(), null);
    }
    awaitListed("rl-page", 7);
    HttpResponse<String> r = call("GET", "/api/v1/requests?subdomain=rl-page&limit=3", null);
    JsonObject page1 = new JsonObject(r.body());
    assertThat(page1.getJsonArray("requests").stream().map(o -> ((JsonObject) o).getString("url")))
        .containsExactly("/item/6?even", "/item/5", "/item/4?even");
    String next = page1.getString("next");
    assertThat(next).isNotBlank();
    JsonObject page2 = new JsonObject(call("GET", "/api/v1/requests?subdomain=rl-page&limit=3&before="
        + URLEncoder.encode(next, StandardCharsets.UTF_8), null).body());
    assertThat(page2.getJsonArray("requests").stream().map(o -> ((JsonObject) o).getString("url")))
        .containsExactly("/item/3", "/item/2?even", "/item/1");
    JsonObject page3 = new JsonObject(call("GET", "/api/v1/requests?subdomain=rl-page&limit=3&before="
        + URLEncoder.encode(page2.getString("next"), StandardCharsets.UTF_8), null).body());
    assertThat(page3.getJsonArray("requests")).hasSize(1);
    assertThat(page3.getValue("next")).isNull();
    assertThat(listed("subdomain=rl-page&filter=EVEN")).hasSize(4);

    assertThat(call("GET", "/api/v1/requests?limit=0", null).body())
        .isEqualTo("{\"message\":\"limit must be an integer between 1 and 500\"}");
    assertThat(call("GET", "/api/v1/requests?limit=501", null).statusCode()).isEqualTo(400);
    r = call("GET", "/api/v1/requests?before=not-a-cursor", null);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).isEqualTo("{\"message\":\"invalid cursor\"}");
    assertThat(call("DELETE", "/api/v1/requests", null).body())
        .isEqualTo("{\"message\":\"tunnel_id or subdomain is required\"}");
    assertThat(call("GET", "/api/v1/requests/01NOPE000000000000000000", null).statusCode()).isEqualTo(404);
    assertThat(call("PUT", "/api/v1/requests", null).statusCode()).isEqualTo(405);

    r = call("DELETE", "/api/v1/requests?subdomain=rl-page", null);
    assertThat(r.body()).isEqualTo("{\"deleted\":7}");
    assertThat(listed("subdomain=rl-page")).isEmpty();
  }

  @Test
  @DisplayName("the live feed resumes from Last-Event-ID, then goes on live")
  void liveFeed() throws Exception {
    tunnel("rl-feed", null);
    through("rl-feed", HttpMethod.GET, "/before", Map.of(), null);
    awaitListed("rl-feed", 1);
    CopyOnWriteArrayList<String> lines = new CopyOnWriteArrayList<>();
    java.net.http.HttpClient sse = java.net.http.HttpClient.newHttpClient();
    CompletableFuture<HttpResponse<java.util.stream.Stream<String>>> stream = sse.sendAsync(
        HttpRequest.newBuilder(URI.create(api + "/api/v1/requests/stream?subdomain=rl-feed"))
            .header("Last-Event-ID", "0").build(), HttpResponse.BodyHandlers.ofLines());
    HttpResponse<java.util.stream.Stream<String>> res = stream.get(10, TimeUnit.SECONDS);
    assertThat(res.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
    Thread reader = new Thread(() -> res.body().forEach(lines::add), "sse-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      Timeouts.pollUntil(Duration.ofSeconds(10), "the backlog item", () -> lines.stream().anyMatch(l -> l.contains("/before")));
      through("rl-feed", HttpMethod.GET, "/after", Map.of(), null);
      Timeouts.pollUntil(Duration.ofSeconds(10), "the live item", () -> lines.stream().anyMatch(l -> l.contains("/after")));
      assertThat(lines).anyMatch(l -> l.equals("event: request"));
      assertThat(lines.stream().filter(l -> l.startsWith("data:") && l.contains("/before")).count()).isEqualTo(1);
    } finally {
      res.body().close();
    }
  }

  @Test
  @DisplayName("porthole logs reads what the app-server captured, as Portr prints it")
  void logsCommand() throws Exception {
    tunnel("rl-cli", null);
    through("rl-cli", HttpMethod.DELETE, "/things/9", Map.of(), null);
    JsonObject item = awaitListed("rl-cli", 1).getJsonObject(0);
    JarProcess logs = JarProcess.start(home, "logs", "rl-cli");
    assertThat(logs.waitFor(Duration.ofSeconds(30))).as(logs.output()).isZero();
    String stamp = item.getString("logged_at").replaceFirst("\\.\\d+Z$", "Z");
    assertThat(logs.lines()).containsExactly(stamp + " " + local.actualPort() + " DELETE 200 /things/9");
    JarProcess none = JarProcess.start(home, "logs", "rl-nothing-here");
    assertThat(none.waitFor(Duration.ofSeconds(30))).isZero();
    assertThat(none.lines()).containsExactly("no logs found");
  }

  @Test
  @DisplayName("health reports the request log's state")
  void health() throws Exception {
    JsonObject log = new JsonObject(call("GET", "/api/v1/health", null).body()).getJsonObject("request_log");
    assertThat(log.getBoolean("enabled")).isTrue();
    assertThat(log.getString("state")).isEqualTo("on");
    assertThat(log.getString("path")).isEqualTo(home.resolve(".portr/db.sqlite").toString());
    assertThat(log.getLong("dropped")).isZero();
  }
}
