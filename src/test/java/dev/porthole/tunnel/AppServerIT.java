package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.HalfCloseTarget;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The app-server end to end through a real relay: HTTP API → manager → JSch workers → relay →
 * public edge → client edge → local service (portr-protocol §3–§6, §10, §11).
 */
class AppServerIT {
  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static LocalBackend backend;
  static final List<JsonObject> callbacks = new CopyOnWriteArrayList<>();
  static final List<String> callbackContentTypes = new CopyOnWriteArrayList<>();
  static HttpServer receiver;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "local");
    receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      callbacks.add(b.toJsonObject());
      callbackContentTypes.add(req.getHeader("Content-Type"));
      req.response().setStatusCode(204).end();
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    app.close();
    relay.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static JsonObject http(String name, String subdomain, int port) {
    return new JsonObject().put("name", name).put("port", port).put("subdomain", subdomain);
  }

  @Test
  @DisplayName("http tunnel: 201 running with remote_port and tunnel_url; a request by Host through the relay reaches the local service")
  void httpTunnel() throws Exception {
    JsonObject status = app.create(http("web", "e2e-web", backend.port()));
    assertThat(status.getString("status")).isEqualTo("running");
    assertThat(status.getString("type")).isEqualTo("http");
    assertThat(status.getString("host")).isEqualTo("localhost");
    assertThat(status.getInteger("remote_port")).isBetween(20000, 29999);
    assertThat(status.getString("tunnel_url")).isEqualTo("http://e2e-web." + relay.endpoints().domain());
    assertThat(status.fieldNames()).containsExactly("id", "name", "status", "type", "host", "port", "subdomain",
        "remote_port", "tunnel_url", "started_at", "updated_at", "proxy_url", "websocket_url");
    HttpResponse<String> r = relay.edgeGet("e2e-web", "/hello?a=1");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from local");
    assertThat(backend.hosts()).contains(relay.host("e2e-web"));
  }

  @Test
  @DisplayName("§4.2 streaming through both edges: the first chunk arrives before the local service finishes; trailers kept")
  void streaming() throws Exception {
    app.create(http("stream", "e2e-stream", backend.port()));
    try (Socket s = new Socket("127.0.0.1", relay.httpPort())) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write(("GET /stream HTTP/1.1\r\nHost: " + relay.host("e2e-stream")
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      String head = readUntil(in, "first-chunk");
      assertThat(head).startsWith("HTTP/1.1 201").doesNotContain("second-chunk");
      backend.release();
      String rest = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      assertThat(rest).contains("second-chunk");
      assertThat(rest.toLowerCase()).contains("x-tunnel-trailer: complete");
    }
  }

  @Test
  @DisplayName("§4.5 a WebSocket upgrade passes through both edges and echoes")
  void webSocket() throws Exception {
    app.create(http("ws", "e2e-ws", backend.port()));
    CompletableFuture<String> reply = new CompletableFuture<>();
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().header("Host", relay.host("e2e-ws"))
        .buildAsync(URI.create("ws://127.0.0.1:" + relay.httpPort() + "/echo"), new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            reply.complete(data.toString());
            return null;
          }
        }).get(15, TimeUnit.SECONDS);
    ws.sendText("through-the-tunnel", true);
    assertThat(reply.get(15, TimeUnit.SECONDS)).isEqualTo("echo:through-the-tunnel");
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("§3.3 X-Portr-Ping-Request: true is answered 200 by the client edge, never reaching the local service")
  void ping() throws Exception {
    app.create(new JsonObject().put("port", backend.port()).put("subdomain", "e2e-ping").put("basic_auth", "u:p"));
    int before = backend.seen().size() + backend.pings().size();
    HttpResponse<String> r = relay.http().send(relay.edgeRequest("e2e-ping", "/anything")
        .header("X-Portr-Ping-Request", "true").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEmpty();
    assertThat(backend.seen().size() + backend.pings().size()).isEqualTo(before);
    HttpResponse<String> notExactly = relay.http().send(relay.edgeRequest("e2e-ping", "/anything")
        .header("X-Portr-Ping-Request", "TRUE").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(notExactly.statusCode()).as("only the exact value true is a ping").isEqualTo(401);
  }

  @Test
  @DisplayName("§4.3 basic auth: 401 with the challenge and no X-Portr-Error; wrong credentials 401; right ones pass verbatim")
  void basicAuth() throws Exception {
    app.create(new JsonObject().put("port", backend.port()).put("subdomain", "e2e-auth").put("basic_auth", " admin:pa:ss "));
    int before = backend.seen().size();
    HttpResponse<String> none = relay.edgeGet("e2e-auth", "/secret");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"Restricted\", charset=\"UTF-8\"");
    assertThat(none.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(none.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    assertThat(none.headers().firstValue("X-Portr-Error")).isEmpty();
    assertThat(none.body()).isEqualTo("401 Unauthorized\n");
    String wrong = "Basic " + Base64.getEncoder().encodeToString("admin:nope".getBytes(StandardCharsets.UTF_8));
    assertThat(relay.http().send(relay.edgeRequest("e2e-auth", "/secret").header("Authorization", wrong).GET().build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
    assertThat(backend.seen().size()).as("the local service is not contacted").isEqualTo(before);
    String right = "Basic " + Base64.getEncoder().encodeToString("admin:pa:ss".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> ok = relay.http().send(relay.edgeRequest("e2e-auth", "/secret").header("Authorization", right)
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(backend.authorizations()).contains(right);
  }

  @Test
  @DisplayName("§4.2 local service down: 503 local-server-not-online, passed through by the relay")
  void localServiceDown() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    app.create(http("down", "e2e-down", closed));
    try (Socket s = new Socket("127.0.0.1", relay.httpPort())) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + relay.host("e2e-down") + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String raw = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(raw).startsWith("HTTP/1.1 503 Service Unavailable");
      assertThat(raw).contains("X-Portr-Error: true").contains("X-Portr-Error-Reason: local-server-not-online")
          .contains("Connection Error");
    }
  }

  @Test
  @DisplayName("§4.4 tcp tunnel: 16 MiB each way with matching SHA-256, the client's half-close still gets the full reply")
  void tcpTunnel() throws Exception {
    byte[] request = new byte[16 * 1024 * 1024];
    byte[] reply = new byte[16 * 1024 * 1024];
    new Random(1).nextBytes(request);
    new Random(2).nextBytes(reply);
    try (HalfCloseTarget target = new HalfCloseTarget(reply)) {
      JsonObject status = app.create(new JsonObject().put("type", "tcp").put("port", target.port()).put("subdomain", " Kept "));
      int port = status.getInteger("remote_port");
      assertThat(port).isBetween(30001, 40000);
      assertThat(status.getString("tunnel_url")).isEqualTo("localhost:" + port);
      assertThat(status.getString("subdomain")).as("§11.5 tcp subdomain echoed untouched").isEqualTo(" Kept ");
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(30_000);
        CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
          try {
            return s.getInputStream().readAllBytes();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        OutputStream out = s.getOutputStream();
        out.write(request);
        out.flush();
        s.shutdownOutput();
        assertThat(target.received().get(30, TimeUnit.SECONDS)).isEqualTo(sha256(request));
        byte[] answer = got.get(30, TimeUnit.SECONDS);
        assertThat(answer.length).isEqualTo(reply.length);
        assertThat(sha256(answer)).isEqualTo(sha256(reply));
      }
    }
  }

  @Test
  @DisplayName("§2.2 pool of 2: one shared connection, two forwards on the relay, both serve")
  void pool() throws Exception {
    JsonObject status = app.create(new JsonObject().put("port", backend.port()).put("subdomain", "e2e-pool").put("pool_size", 2));
    Timeouts.pollUntil(Duration.ofSeconds(10), "two forwards for the pool",
        () -> relay.verticle().registry().route("e2e-pool") != null
            && relay.verticle().registry().route("e2e-pool").backends().size() == 2);
    for (var b : relay.verticle().registry().route("e2e-pool").backends()) {
      try (Socket s = new Socket(b.host(), b.port())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("GET /worker HTTP/1.1\r\nHost: " + relay.host("e2e-pool") + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
            .as("worker behind relay port %d", b.port()).startsWith("HTTP/1.1 200").endsWith("hello from local");
      }
    }
    assertThat(app.events(status.getString("id")).getJsonArray("events")).hasSize(1);
  }

  @Test
  @DisplayName("§6.3 list, get, events and stop: exact shapes, stop idempotent, stopped tunnels stay listed")
  void lifecycle() throws Exception {
    JsonObject created = app.create(http("life", "e2e-life", backend.port()).put("pool_size", 1));
    String id = created.getString("id");
    assertThat(id).matches("[0-9A-HJKMNP-TV-Z]{26}");
    JsonArray list = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels");
    assertThat(list.getJsonObject(0).getString("id")).as("newest first").isEqualTo(id);
    assertThat(app.get(id).getString("status")).isEqualTo("running");

    HttpResponse<String> stopped = app.send("DELETE", "/api/v1/tunnels/" + id, null);
    assertThat(stopped.statusCode()).isEqualTo(200);
    JsonObject s1 = new JsonObject(stopped.body());
    assertThat(s1.getString("status")).isEqualTo("stopped");
    assertThat(s1.getString("stopped_at")).isEqualTo(s1.getString("updated_at"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "the relay route to go", () -> relay.verticle().registry().route("e2e-life") == null);

    HttpResponse<String> again = app.send("POST", "/api/v1/tunnels/" + id + "/shutdown", "{}");
    assertThat(again.statusCode()).isEqualTo(200);
    JsonObject s2 = new JsonObject(again.body());
    assertThat(s2.getString("status")).isEqualTo("stopped");
    assertThat(s2.getString("stopped_at")).isGreaterThanOrEqualTo(s1.getString("stopped_at"));

    JsonArray events = app.events(id).getJsonArray("events");
    assertThat(events.stream().map(e -> ((JsonObject) e).getString("type")).toList()).containsExactly("started", "stopped");
    assertThat(events.getJsonObject(0).fieldNames()).containsExactly("id", "tunnel_id", "type", "name", "connection_type",
        "host", "port", "subdomain", "remote_port", "tunnel_url", "at", "seq");
    assertThat(app.events("01ZZZZZZZZZZZZZZZZZZZZZZZZ").getJsonArray("events")).isEmpty();
    HttpResponse<String> missing = app.send("GET", "/api/v1/tunnels/nope", null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).isEqualTo("{\"message\":\"tunnel not found\"}");
    assertThat(new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").stream()
        .map(t -> ((JsonObject) t).getString("id"))).contains(id);
  }

  @Test
  @DisplayName("§6.4 a subdomain clash: 400 with the worker's exact message and a failed tunnel listed; pooled: nothing registered")
  void subdomainClash() throws Exception {
    app.create(http("first", "e2e-clash", backend.port()));
    HttpResponse<String> single = app.send("POST", "/api/v1/tunnels",
        http("second", "e2e-clash", backend.port()).put("pool_size", 1).encode());
    assertThat(single.statusCode()).isEqualTo(400);
    assertThat(single.body())
        .isEqualTo("{\"message\":\"failed to start tunnel 'second': server error: Subdomain already in use\"}");
    JsonObject failed = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").stream()
        .map(JsonObject.class::cast).filter(t -> "second".equals(t.getString("name"))).findFirst().orElseThrow();
    assertThat(failed.getString("status")).isEqualTo("failed");
    assertThat(failed.getString("last_error")).isEqualTo("failed to start tunnel 'second': server error: Subdomain already in use");
    assertThat(app.events(failed.getString("id")).getJsonArray("events").stream()
        .map(e -> ((JsonObject) e).getString("type")).toList()).containsExactly("failed");

    int before = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").size();
    HttpResponse<String> pooled = app.send("POST", "/api/v1/tunnels", http("third", "e2e-clash", backend.port()).encode());
    assertThat(pooled.statusCode()).isEqualTo(400);
    assertThat(pooled.body()).isEqualTo(
        "{\"message\":\"failed to create shared connection for pool: server error: Subdomain already in use\"}");
    assertThat(new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").size()).isEqualTo(before);
  }

  @Test
  @DisplayName("§6.7 callbacks: every recorded event is POSTed as the same JSON /api/v1/events shows")
  void callbacksDelivered() throws Exception {
    String hook = "http://127.0.0.1:" + receiver.actualPort() + "/hook";
    JsonObject t = app.create(http("hooked", "e2e-hook", backend.port()).put("callback_url", hook)
        .put("callback_urls", new JsonArray().add(hook).add(" ")));
    assertThat(t.getJsonArray("callback_urls")).containsExactly(hook);
    app.send("DELETE", "/api/v1/tunnels/" + t.getString("id"), null);
    Timeouts.pollUntil(Duration.ofSeconds(10), "started and stopped callbacks",
        () -> callbacks.stream().filter(c -> t.getString("id").equals(c.getString("tunnel_id"))).count() == 2);
    JsonArray events = app.events(t.getString("id")).getJsonArray("events");
    List<JsonObject> mine = callbacks.stream().filter(c -> t.getString("id").equals(c.getString("tunnel_id"))).toList();
    assertThat(mine).containsExactlyInAnyOrder(events.getJsonObject(0), events.getJsonObject(1));
    assertThat(callbackContentTypes).contains("application/json");
  }

  @Test
  @DisplayName("§5 the relay gone: unhealthy, then failed after the configured attempts with Portr's message")
  void relayGone(@TempDir Path other) throws Exception {
    TestRelay doomed = TestRelay.start(other);
    try (TestAppServer quick = TestAppServer.start(doomed, c -> {
      c.healthCheckInterval = 1;
      c.healthCheckMaxRetries = 2;
    })) {
      JsonObject t = quick.create(new JsonObject().put("type", "tcp").put("port", backend.port()).put("name", "doomed"));
      doomed.close();
      Timeouts.pollUntil(Duration.ofSeconds(20), "the tunnel to fail", () -> {
        try {
          return "failed".equals(quick.get(t.getString("id")).getString("status"));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      JsonObject failed = quick.get(t.getString("id"));
      assertThat(failed.getString("last_error")).startsWith("failed to reconnect tunnel 'doomed' after 2 attempts: ");
      assertThat(quick.events(t.getString("id")).getJsonArray("events").stream()
          .map(e -> ((JsonObject) e).getString("type")).toList()).containsExactly("started", "unhealthy", "failed");
      assertThat(quick.events(t.getString("id")).getJsonArray("events").getJsonObject(1).getString("error"))
          .isIn("failed to accept connection: EOF", "ssh keepalive timed out");
    }
  }

  @Test
  @DisplayName("§3.2 trust on first use: the first relay's key is saved; a relay with another key is refused with Portr's message")
  void hostKeyTofu(@TempDir Path a, @TempDir Path b, @TempDir Path portrHome) throws Exception {
    Path knownHosts = portrHome.resolve(".portr").resolve("known_hosts");
    try (TestRelay first = TestRelay.start(a);
         TestAppServer trusting = TestAppServer.start(first, c -> { }, knownHosts)) {
      trusting.create(new JsonObject().put("type", "tcp").put("port", backend.port()).put("name", "tofu"));
      assertThat(java.nio.file.Files.readString(knownHosts)).startsWith("127.0.0.1 ecdsa-sha2-nistp256 ");
    }
    try (TestRelay second = TestRelay.start(b);
         TestAppServer wary = TestAppServer.start(second, c -> { }, knownHosts)) {
      HttpResponse<String> r = wary.send("POST", "/api/v1/tunnels",
          new JsonObject().put("type", "tcp").put("port", backend.port()).put("name", "tofu").encode());
      assertThat(r.statusCode()).isEqualTo(400);
      String message = new JsonObject(r.body()).getString("message");
      assertThat(message).startsWith("failed to start tunnel 'tofu': host key verification failed for 127.0.0.1\n"
          + "The server's host key has changed!\nNew key fingerprint: SHA256:");
      assertThat(message).endsWith("This could indicate a man-in-the-middle attack.\n"
          + "If you trust this key, remove the old entry from " + knownHosts + " and try again");
    }
  }

  @Test
  @DisplayName("§11.7/§11.8 a start still connecting answers 201 starting after 7 s; a stop meanwhile makes it stopped")
  void slowStart() throws Exception {
    try (ServerSocket blackHole = new ServerSocket(0);
         TestAppServer slow = TestAppServer.start(relay, c -> c.sshUrl = "127.0.0.1:" + blackHole.getLocalPort())) {
      long begin = System.nanoTime();
      HttpResponse<String> first = slow.send("POST", "/api/v1/tunnels",
          new JsonObject().put("type", "tcp").put("port", backend.port()).encode());
      long waitedMs = (System.nanoTime() - begin) / 1_000_000;
      assertThat(first.statusCode()).isEqualTo(201);
      assertThat(new JsonObject(first.body()).getString("status")).isEqualTo("starting");
      assertThat(waitedMs).isBetween(6_500L, 9_500L);

      CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(() -> {
        try {
          return slow.send("POST", "/api/v1/tunnels", new JsonObject().put("type", "tcp").put("port", backend.port())
              .put("name", "stopped-while-starting").encode());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      String[] id = new String[1];
      Timeouts.pollUntil(Duration.ofSeconds(5), "the second tunnel to be listed", () -> {
        try {
          return new JsonObject(slow.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").stream()
              .map(JsonObject.class::cast).filter(t -> "stopped-while-starting".equals(t.getString("name")))
              .peek(t -> id[0] = t.getString("id")).findFirst().isPresent();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(new JsonObject(slow.send("DELETE", "/api/v1/tunnels/" + id[0], null).body()).getString("status"))
          .isEqualTo("stopped");
      HttpResponse<String> answered = second.get(15, TimeUnit.SECONDS);
      assertThat(answered.statusCode()).isEqualTo(201);
      assertThat(new JsonObject(answered.body()).getString("status")).isEqualTo("stopped");
      assertThat(slow.events(id[0]).getJsonArray("events").stream().map(e -> ((JsonObject) e).getString("type")).toList())
          .containsExactly("stopped");
    }
  }

  private static String readUntil(InputStream in, String marker) throws Exception {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    while (!seen.toString(StandardCharsets.US_ASCII).contains(marker)) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("closed before " + marker + ": " + seen);
      }
      seen.write(c);
    }
    return seen.toString(StandardCharsets.US_ASCII);
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
