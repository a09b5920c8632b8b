package dev.porthole.it;

import static dev.porthole.testsupport.StatusUrls.withoutUrls;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.FailureCode;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.NodeScript;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event-bus bridge of the fat jar's app-server with the published Node client
 * ({@code @vertx/eventbus-bridge-client.js} on sockjs-client): one script of {@code
 * src/test/resources/node} per scenario, which reports what the client saw as JSON lines; this class
 * compares it with the HTTP API's answers. Skipped when {@code node} is absent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeBridgeIT {
  private static final String TOKEN = "node-bridge-token";
  private static final String SECRET = "node-bridge-secret-of-more-than-32-bytes-0123";
  private static final Duration SCRIPT = Duration.ofSeconds(60);

  Path scripts;
  JarProcess app;
  String api;
  ServerSocket local;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start(@TempDir Path home) throws Exception {
    scripts = NodeScript.prepare();
    local = new ServerSocket(0);
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n", "app_server:", "  port: 0",
        "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0",
        "auth:", "  jwt:", "    algorithm: HS256", "    secret: \"" + SECRET + "\"", ""));
    app = JarProcess.start(home, List.of(), Map.of("PORTR_APP_SERVER_TOKEN", TOKEN), "app-server", "--conf",
        "porthole.yaml");
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
  }

  @AfterAll
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    if (local != null) {
      local.close();
    }
  }

  // ---------------------------------------------------------------- outbound

  @Test
  @DisplayName("a Node subscriber receives started and stopped of a tunnel made over HTTP, as the HTTP event log has them")
  void subscriberSeesStartedAndStopped() throws Exception {
    try (NodeScript s = NodeScript.start(scripts, env(TOKEN), "subscribe.js")) {
      // The list reply comes after the registration on the same socket: from then on, events reach it.
      s.line(l -> l.containsKey("tunnels"), SCRIPT);
      String id = tcpTunnel();
      JsonObject started = s.line(l -> isEvent(l, id, "started"), SCRIPT).getJsonObject("event");
      assertThat(call("DELETE", "/api/v1/tunnels/" + id, null).statusCode()).isEqualTo(200);
      JsonObject stopped = s.line(l -> isEvent(l, id, "stopped"), SCRIPT).getJsonObject("event");
      assertThat(new JsonArray().add(started).add(stopped)).isEqualTo(get("/api/v1/events?tunnel_id=" + id)
          .getJsonArray("events"));
      s.endInput();
      assertThat(s.waitFor(Duration.ofSeconds(10))).as(s.output()).isZero();
    }
  }

  // ---------------------------------------------------------------- request/reply

  @Test
  @DisplayName("list, get and stop over the bridge answer what the HTTP API answers")
  void listGetStopMatchHttp() throws Exception {
    String id = tcpTunnel();
    JsonArray httpList = get("/api/v1/tunnels").getJsonArray("tunnels");
    JsonObject httpGet = get("/api/v1/tunnels/" + id);
    List<JsonObject> lines = node(TOKEN, "request-reply.js", id);

    assertThat(withoutUrls(reply(lines, "list").getJsonArray("tunnels"))).isEqualTo(withoutUrls(httpList));
    assertThat(reply(lines, "get")).isEqualTo(withoutUrls(httpGet));
    JsonObject stopped = reply(lines, "stop");
    assertThat(stopped.getString("status")).isEqualTo("stopped");
    assertThat(stopped).isEqualTo(withoutUrls(get("/api/v1/tunnels/" + id)));
    JsonObject missing = failure(lines, "missing");
    assertThat(missing.getInteger("failureCode")).isEqualTo(FailureCode.TUNNEL_NOT_FOUND.code());
    assertThat(missing.getString("message"))
        .isEqualTo(new JsonObject(call("GET", "/api/v1/tunnels/no-such-tunnel", null).body()).getString("message"));
  }

  @Test
  @DisplayName("a start over the bridge with each bad body of the POST fails with the POST's message and creates nothing")
  void startIsValidatedLikeThePost() throws Exception {
    List<Object> bad = List.of(new JsonObject(), new JsonObject().put("type", "ftp").put("port", 8080),
        new JsonObject().put("type", "http").put("port", 0),
        new JsonObject().put("type", "http").put("port", 8080).put("subdomain", "Not_Valid!"),
        new JsonObject().put("type", "tcp").put("port", 8080).put("pool_size", 1000),
        new JsonObject().put("type", "tcp").put("port", 8080).put("callback_urls", new JsonArray().add("ftp://x")),
        "just a string", new JsonArray().add(1));
    int before = get("/api/v1/tunnels").getJsonArray("tunnels").size();
    JsonArray bodies = new JsonArray(bad);
    List<JsonObject> lines = node(TOKEN, "start.js", bodies.encode());
    assertThat(lines).hasSize(bad.size());
    for (int i = 0; i < bad.size(); i++) {
      String body = bodies.getValue(i) instanceof String s ? "\"" + s + "\"" : bodies.getValue(i).toString();
      HttpResponse<String> post = call("POST", "/api/v1/tunnels", body);
      assertThat(post.statusCode()).as(body).isEqualTo(400);
      JsonObject err = lines.get(i).getJsonObject("start").getJsonObject("err");
      assertThat(err).as(body + " → " + lines.get(i).encode()).isNotNull();
      assertThat(err.getInteger("failureCode")).as(body).isEqualTo(FailureCode.INVALID_REQUEST.code());
      assertThat(err.getString("message")).as(body).isEqualTo(new JsonObject(post.body()).getString("message"));
    }
    assertThat(get("/api/v1/tunnels").getJsonArray("tunnels")).hasSize(before);

    JsonObject good = new JsonObject().put("type", "tcp").put("host", "127.0.0.1").put("port", local.getLocalPort())
        .put("pool_size", 1);
    JsonObject started = reply(node(TOKEN, "start.js", new JsonArray().add(good).encode()), "start");
    assertThat(started.getString("status")).isEqualTo("running");
    assertThat(started).isEqualTo(withoutUrls(get("/api/v1/tunnels/" + started.getString("id"))));
    call("DELETE", "/api/v1/tunnels/" + started.getString("id"), null);
  }

  // ---------------------------------------------------------------- deny by default

  @Test
  @DisplayName("porthole.internal.* and unknown addresses are refused both ways, and so is a publish")
  void internalAndUnknownRefusedBothWays() throws Exception {
    List<String> sends = List.of("porthole.internal.tunnels.target", "porthole.tunnels.stop-all",
        "porthole.internal.anything", "porthole.requests.delete", "nobody");
    List<String> registers = List.of("porthole.internal.shutting-down", "porthole.internal.worker-signal",
        "porthole.internal.requests.capture", "nobody", "porthole.tunnels.list");
    List<JsonObject> lines = node(TOKEN, "deny.js", new JsonArray(sends).encode(), new JsonArray(registers).encode());

    for (String address : sends) {
      JsonObject line = lines.stream().filter(l -> address.equals(l.getString("send"))).findFirst().orElseThrow();
      JsonObject err = line.getJsonObject("reply").getJsonObject("err");
      assertThat(err).as(line.encode()).isNotNull();
      assertThat(err.getInteger("failureCode")).isEqualTo(403);
      assertThat(err.getString("message")).isEqualTo("forbidden: " + address + " is not part of the bridged bus API");
    }
    List<String> errors = forbidden(lines);
    List<String> expected = new java.util.ArrayList<>(registers.stream()
        .map(a -> "forbidden: " + a + " is not part of the bridged bus API").toList());
    expected.add("forbidden: porthole.tunnels.lifecycle takes request/reply sends, not publish");
    assertThat(errors).containsExactlyElementsOf(expected);
    assertThat(lines).noneMatch(l -> l.containsKey("delivered"));
  }

  // ---------------------------------------------------------------- the door

  @Test
  @DisplayName("no credential, or a wrong one: the Node client never opens; the token opens it")
  void noCredentialIsRefused() throws Exception {
    for (String credential : List.of("", "not-the-token")) {
      JsonObject line = node(credential, "door.js").get(0);
      assertThat(line.containsKey("open")).as(line.encode()).isFalse();
      assertThat(line.getJsonObject("closed").getInteger("code")).as(line.encode()).isEqualTo(1002);
    }
    JsonObject opened = node(TOKEN, "door.js").get(0);
    assertThat(opened.getBoolean("open")).as(opened.encode()).isTrue();
    assertThat(opened.getJsonObject("list").getJsonObject("body").getJsonArray("tunnels")).isNotNull();
  }

  @Test
  @DisplayName("a read-only JWT lists and subscribes but cannot start or stop; a write-only one cannot subscribe")
  void readOnlyJwtListsButCannotStartOrStop() throws Exception {
    String id = tcpTunnel();
    List<JsonObject> reader = node(jwt("tunnels:read"), "scopes.js", id);
    assertThat(reply(reader, "list").getJsonArray("tunnels")).isNotEmpty();
    assertThat(reply(reader, "events").getJsonArray("events")).isNotEmpty();
    assertThat(failure(reader, "start").getInteger("failureCode")).isEqualTo(403);
    assertThat(failure(reader, "start").getString("message"))
        .isEqualTo("forbidden: porthole.tunnels.start needs tunnels:write");
    assertThat(failure(reader, "stop").getString("message"))
        .isEqualTo("forbidden: porthole.tunnels.stop needs tunnels:write");
    assertThat(forbidden(reader)).isEmpty();
    assertThat(get("/api/v1/tunnels/" + id).getString("status")).isEqualTo("running");
    assertThat(get("/api/v1/tunnels").getJsonArray("tunnels").stream()
        .map(t -> ((JsonObject) t).getInteger("port"))).doesNotContain(1);

    List<JsonObject> writer = node(jwt("tunnels:write"), "scopes.js", id, "reads-only");
    assertThat(failure(writer, "list").getString("message")).isEqualTo("forbidden: porthole.tunnels.list needs tunnels:read");
    assertThat(forbidden(writer)).containsExactly("forbidden: porthole.tunnels.lifecycle needs tunnels:read");
    call("DELETE", "/api/v1/tunnels/" + id, null);
  }

  @Test
  @DisplayName("a foreign Origin on the WebSocket transport is refused; the app-server's own origin opens")
  void foreignOriginIsRefused() throws Exception {
    JsonObject refused = node(TOKEN, "door.js", websocketOnly("http://evil.example")).get(0);
    assertThat(refused.containsKey("open")).as(refused.encode()).isFalse();
    assertThat(refused.containsKey("closed")).as(refused.encode()).isTrue();
    JsonObject own = node(TOKEN, "door.js", websocketOnly(api)).get(0);
    assertThat(own.getBoolean("open")).as(own.encode()).isTrue();
  }

  @Test
  @DisplayName("the SockJS polling transports work too (xhr-streaming, xhr-polling), not only the WebSocket")
  void pollingTransportsWork() throws Exception {
    for (String transport : List.of("xhr-streaming", "xhr-polling")) {
      JsonObject line = node(TOKEN, "door.js", new JsonObject().put("transports", new JsonArray().add(transport))
          .encode()).get(0);
      assertThat(line.getBoolean("open")).as(transport + ": " + line.encode()).isTrue();
      assertThat(line.getJsonObject("list").getJsonObject("body").getJsonArray("tunnels")).as(transport).isNotNull();
    }
  }

  // ---------------------------------------------------------------- helpers

  /** sockjs-client sets headers only on its WebSocket transport: the refusal is that transport's. */
  private static String websocketOnly(String origin) {
    return new JsonObject().put("transports", new JsonArray().add("websocket")).put("transportOptions",
        new JsonObject().put("websocket", new JsonObject().put("headers", new JsonObject().put("Origin", origin))))
        .encode();
  }

  private Map<String, String> env(String credential) {
    return Map.of("PORTHOLE_API", api, "PORTHOLE_CREDENTIAL", credential, "PORTR_APP_SERVER_TOKEN", credential);
  }

  private List<JsonObject> node(String credential, String script, String... args) throws Exception {
    return NodeScript.run(scripts, env(credential), SCRIPT, script, args);
  }

  /**
   * The err frames without an address that the script reported last (register and publish
   * refusals), less vertx-web's own {@code "rejected"} that follows every refusal.
   */
  private static List<String> forbidden(List<JsonObject> lines) {
    return lines.get(lines.size() - 1).getJsonArray("errors").stream().map(e -> ((JsonObject) e).getString("body"))
        .filter(b -> !"rejected".equals(b)).toList();
  }

  /** The {@code body} of the reply reported under {@code key}. */
  private static JsonObject reply(List<JsonObject> lines, String key) {
    JsonObject r = lines.stream().filter(l -> l.containsKey(key)).findFirst().orElseThrow().getJsonObject(key);
    assertThat(r.containsKey("body")).as(key + ": " + r.encode()).isTrue();
    return r.getJsonObject("body");
  }

  /** The failure of the reply reported under {@code key}. */
  private static JsonObject failure(List<JsonObject> lines, String key) {
    JsonObject r = lines.stream().filter(l -> l.containsKey(key)).findFirst().orElseThrow().getJsonObject(key);
    assertThat(r.containsKey("err")).as(key + ": " + r.encode()).isTrue();
    return r.getJsonObject("err");
  }

  private static boolean isEvent(JsonObject line, String id, String type) {
    JsonObject e = line.getJsonObject("event");
    return e != null && id.equals(e.getString("tunnel_id")) && type.equals(e.getString("type"));
  }

  private String tcpTunnel() throws Exception {
    HttpResponse<String> r = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "tcp")
        .put("host", "127.0.0.1").put("port", local.getLocalPort()).put("pool_size", 1).encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new JsonObject(r.body()).getString("id");
  }

  private String jwt(String scope) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
          .setBuffer(SECRET))).generateToken(new JsonObject().put("scope", scope),
          new JWTOptions().setExpiresInSeconds(300));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private JsonObject get(String path) throws Exception {
    HttpResponse<String> r = call("GET", path, null);
    assertThat(r.statusCode()).as("GET " + path + ": " + r.body()).isEqualTo(200);
    return new JsonObject(r.body());
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
}
