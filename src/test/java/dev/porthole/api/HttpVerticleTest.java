package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelList;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The real router in front of stub bus consumers ("fake service behind the real router", portr-protocol §10.1). */
@ExtendWith(VertxExtension.class)
class HttpVerticleTest {
  private static final Duration WAIT = Timeouts.scaled(Duration.ofSeconds(10));
  private static final String JSON = "application/json";

  private Vertx vertx;
  private HttpClient client;
  private int port;

  /** Bodies each stub received, by address. */
  private final Map<String, Queue<JsonObject>> received = Map.of(
      Addresses.TUNNELS_START, new ConcurrentLinkedQueue<>(),
      Addresses.TUNNELS_LIST, new ConcurrentLinkedQueue<>(),
      Addresses.TUNNELS_GET, new ConcurrentLinkedQueue<>(),
      Addresses.TUNNELS_STOP, new ConcurrentLinkedQueue<>(),
      Addresses.EVENTS_LIST, new ConcurrentLinkedQueue<>());

  record Resp(int status, MultiMap headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }

    String contentType() {
      return headers.get("Content-Type");
    }
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
  }

  @AfterEach
  void tearDown() throws Exception {
    // The VertxExtension closes the Vertx instance (and with it the verticle and this client).
    client.close().await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- helpers

  private static TunnelStatus status(String id, String name, String state) {
    Instant now = Instant.parse("2024-05-01T10:00:00.123456789Z");
    return new TunnelStatus(id, name, state, "http", "localhost", 3000, "my-app", 0, "", "",
        List.of("http://example.test/hook"), now, now, null, "");
  }

  /** A stub consumer that records the body and answers with {@code reply}. */
  private void stub(String address, Consumer<Message<JsonObject>> reply) {
    vertx.eventBus().<JsonObject>consumer(address, msg -> {
      received.get(address).add(msg.body());
      reply.accept(msg);
    }).completion().await();
  }

  private void replies(String address, JsonObject body) {
    stub(address, msg -> msg.reply(body));
  }

  private void fails(String address, FailureCode code, String text) {
    stub(address, msg -> msg.fail(code.code(), text));
  }

  private void start(String token) throws Exception {
    HttpVerticle verticle = new HttpVerticle();
    JsonObject config = new JsonObject().put("host", "127.0.0.1").put("port", 0).put("token", token)
        .put("relay", "embedded");
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config))
        .await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    port = verticle.actualPort();
    assertThat(port).isPositive();
  }

  private Resp call(HttpMethod method, String uri, Map<String, String> headers, Buffer body) throws Exception {
    Future<Resp> f = client.request(new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port)
            .setURI(uri))
        .compose(req -> {
          headers.forEach(req::putHeader);
          // body() attached in send()'s own callback: one step later the response may already be over.
          return (body == null ? req.send() : req.send(body))
              .compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(), resp.headers(), b.toString())));
        });
    return f.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private Resp call(HttpMethod method, String uri) throws Exception {
    return call(method, uri, Map.of(), null);
  }

  private Resp postJson(String uri, String body) throws Exception {
    return call(HttpMethod.POST, uri, Map.of("Content-Type", JSON), Buffer.buffer(body));
  }

  /** The status as the API shows it: porthole's access URLs appended after Portr's keys. */
  private JsonObject withUrls(JsonObject status) {
    String id = status.getString("id");
    return status.copy().put("proxy_url", "http://127.0.0.1:" + port + "/p/" + id + "/")
        .put("websocket_url", "ws://127.0.0.1:" + port + "/ws/port-forward/" + id);
  }

  /** Status, JSON Content-Type and exact body. */
  private static void assertJsonResponse(Resp r, int status, String body) {
    assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
    assertThat(r.contentType()).isEqualTo(JSON);
    assertThat(r.body()).isEqualTo(body);
  }

  private static void assertMessage(Resp r, int status, String message) {
    assertJsonResponse(r, status, new JsonObject().put("message", message).encode());
  }

  // ---------------------------------------------------------------- §10.1

  @Test
  @DisplayName("§10.1 #1 POST /api/v1/tunnels (application/json) → 201 with the service's status; name, type, callback passed through")
  void createsTunnel() throws Exception {
    JsonObject reply = status("tun_1", "api", TunnelStatus.RUNNING).toJson();
    replies(Addresses.TUNNELS_START, reply);
    start("");

    Resp r = postJson("/api/v1/tunnels", "{\"name\":\"api\",\"port\":3000,\"callback_url\":\"http://example.test/hook\"}");

    assertJsonResponse(r, 201, withUrls(reply).encode());
    assertThat(received.get(Addresses.TUNNELS_START)).singleElement().satisfies(req -> {
      assertThat(req.getString("name")).isEqualTo("api");
      assertThat(req.getString("type")).isEqualTo("http");
      assertThat(req.getInteger("port")).isEqualTo(3000);
      assertThat(req.getJsonArray("callback_urls")).isEqualTo(new JsonArray().add("http://example.test/hook"));
    });
  }

  @Test
  @DisplayName("GET /api/v1/tunnels asks with the version it holds; an unchanged answer resends the same bytes, a new version new ones")
  void listIsConditional() throws Exception {
    JsonObject one = status("tun_1", "api", TunnelStatus.RUNNING).toJson();
    JsonObject two = status("tun_2", "web", TunnelStatus.RUNNING).toJson();
    java.util.concurrent.atomic.AtomicLong managerVersion = new java.util.concurrent.atomic.AtomicLong(7);
    stub(Addresses.TUNNELS_LIST, msg -> {
      long v = managerVersion.get();
      if (TunnelList.ifVersion(msg.body()) == v) {
        msg.reply(TunnelList.unchanged(v));
      } else {
        msg.reply(TunnelList.of(v, v == 7 ? new JsonArray().add(one) : new JsonArray().add(two).add(one)));
      }
    });
    start("");

    Resp first = call(HttpMethod.GET, "/api/v1/tunnels");
    Resp again = call(HttpMethod.GET, "/api/v1/tunnels");
    managerVersion.set(8);
    Resp changed = call(HttpMethod.GET, "/api/v1/tunnels");

    assertThat(first.body()).isEqualTo(new JsonObject().put("tunnels", new JsonArray().add(withUrls(one))).encode());
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.contentType()).isEqualTo(JSON);
    assertThat(again.body()).isEqualTo(first.body());
    assertThat(changed.body()).isEqualTo(
        new JsonObject().put("tunnels", new JsonArray().add(withUrls(two)).add(withUrls(one))).encode());
    assertThat(received.get(Addresses.TUNNELS_LIST)).containsExactly(
        TunnelList.query(), TunnelList.query(7), TunnelList.query(7));
  }

  @Test
  @DisplayName("§10.1 #2 GET /api/v1/tunnels → 200 {\"tunnels\":[…]} containing tun_1")
  void listsTunnels() throws Exception {
    replies(Addresses.TUNNELS_LIST,
        new JsonObject().put("tunnels", new JsonArray().add(status("tun_1", "api", TunnelStatus.RUNNING).toJson())));
    start("");

    Resp r = call(HttpMethod.GET, "/api/v1/tunnels");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).isEqualTo(JSON);
    JsonArray tunnels = r.json().getJsonArray("tunnels");
    assertThat(tunnels).hasSize(1);
    assertThat(tunnels.getJsonObject(0).getString("id")).isEqualTo("tun_1");
    assertThat(received.get(Addresses.TUNNELS_LIST)).containsExactly(new JsonObject());
  }

  @Test
  @DisplayName("§10.1 #2 DELETE /api/v1/tunnels/tun_1 → 200 with the stopped status; the service got {\"id\":\"tun_1\"}")
  void stopsTunnelWithDelete() throws Exception {
    JsonObject stopped = status("tun_1", "api", TunnelStatus.STOPPED).toJson();
    replies(Addresses.TUNNELS_STOP, stopped);
    start("");

    Resp r = call(HttpMethod.DELETE, "/api/v1/tunnels/tun_1");

    assertJsonResponse(r, 200, withUrls(stopped).encode());
    assertThat(received.get(Addresses.TUNNELS_STOP)).containsExactly(new JsonObject().put("id", "tun_1"));
  }

  @Test
  @DisplayName("§6.3 POST /api/v1/tunnels/tun_1/shutdown → 200 like DELETE, body ignored")
  void stopsTunnelWithShutdown() throws Exception {
    JsonObject stopped = status("tun_1", "api", TunnelStatus.STOPPED).toJson();
    replies(Addresses.TUNNELS_STOP, stopped);
    start("");

    Resp r = call(HttpMethod.POST, "/api/v1/tunnels/tun_1/shutdown", Map.of("Content-Type", JSON),
        Buffer.buffer("{not json at all"));

    assertJsonResponse(r, 200, withUrls(stopped).encode());
    assertThat(received.get(Addresses.TUNNELS_STOP)).containsExactly(new JsonObject().put("id", "tun_1"));
  }

  @Test
  @DisplayName("§6.3 GET /api/v1/tunnels/tun_1 → 200 with the status; the service got {\"id\":\"tun_1\"}")
  void getsTunnel() throws Exception {
    JsonObject running = status("tun_1", "api", TunnelStatus.RUNNING).toJson();
    replies(Addresses.TUNNELS_GET, running);
    start("");

    Resp r = call(HttpMethod.GET, "/api/v1/tunnels/tun_1");

    assertJsonResponse(r, 200, withUrls(running).encode());
    assertThat(received.get(Addresses.TUNNELS_GET)).containsExactly(new JsonObject().put("id", "tun_1"));
  }

  @Test
  @DisplayName("§10.1 #3 token set: GET /api/v1/health without Authorization → 401 unauthorized")
  void healthWithoutTokenIsUnauthorized() throws Exception {
    start("secret");
    assertMessage(call(HttpMethod.GET, "/api/v1/health"), 401, "unauthorized");
  }

  @Test
  @DisplayName("§10.1 #3 token set: GET /api/v1/health with Authorization: Bearer secret → 200 {\"status\":\"ok\"…}")
  void healthWithTokenIsOk() throws Exception {
    start("secret");
    Resp r = call(HttpMethod.GET, "/api/v1/health", Map.of("Authorization", "Bearer secret"), null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).isEqualTo(JSON);
    assertThat(r.body()).startsWith("{\"status\":\"ok\"");
    assertThat(r.json().getString("relay")).isEqualTo("embedded");
  }

  @Test
  @DisplayName("§11.14 the Authorization comparison is exact: two spaces or lower-case bearer → 401")
  void authorizationIsExact() throws Exception {
    start("secret");
    for (String header : List.of("Bearer  secret", "bearer secret", "Bearer secre", "Bearer secret2", "secret")) {
      Resp r = call(HttpMethod.GET, "/api/v1/health", Map.of("Authorization", header), null);
      assertThat(r.status()).as("Authorization: %s", header).isEqualTo(401);
      assertThat(r.body()).isEqualTo("{\"message\":\"unauthorized\"}");
    }
  }

  @Test
  @DisplayName("§11.14 token set: an unknown path without Authorization → 401, not 404")
  void unknownPathNeedsTokenToo() throws Exception {
    start("secret");
    assertMessage(call(HttpMethod.GET, "/x"), 401, "unauthorized");
  }

  @Test
  @DisplayName("§6.2 no token configured → no auth on health")
  void noTokenNoAuth() throws Exception {
    start("");
    Resp r = call(HttpMethod.GET, "/api/v1/health");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("{\"status\":\"ok\"");
  }

  // ---------------------------------------------------------------- failure mapping (§6.3, §6.4 step 9)

  @Test
  @DisplayName("§6.4 a start failure (START_FAILED) → 400 with the worker's text")
  void startFailureIs400() throws Exception {
    String text = "failed to start tunnel 'web': server error: Subdomain already in use";
    fails(Addresses.TUNNELS_START, FailureCode.START_FAILED, text);
    start("");

    Resp r = postJson("/api/v1/tunnels", "{\"name\":\"web\",\"port\":3000,\"subdomain\":\"web\"}");

    assertMessage(r, 400, text);
    assertThat(received.get(Addresses.TUNNELS_START)).hasSize(1);
  }

  @Test
  @DisplayName("§6.3 GET /api/v1/tunnels/nope (TUNNEL_NOT_FOUND) → 404 tunnel not found")
  void getUnknownIs404() throws Exception {
    fails(Addresses.TUNNELS_GET, FailureCode.TUNNEL_NOT_FOUND, "tunnel not found");
    start("");

    assertMessage(call(HttpMethod.GET, "/api/v1/tunnels/nope"), 404, "tunnel not found");
    assertThat(received.get(Addresses.TUNNELS_GET)).containsExactly(new JsonObject().put("id", "nope"));
  }

  @Test
  @DisplayName("§6.3 DELETE of an unknown tunnel (TUNNEL_NOT_FOUND) → 404 tunnel not found")
  void deleteUnknownIs404() throws Exception {
    fails(Addresses.TUNNELS_STOP, FailureCode.TUNNEL_NOT_FOUND, "tunnel not found");
    start("");

    assertMessage(call(HttpMethod.DELETE, "/api/v1/tunnels/nope"), 404, "tunnel not found");
  }

  @Test
  @DisplayName("§11.1 POST /api/v1/tunnels without Content-Type → 400 invalid JSON body; the service is never asked")
  void invalidJsonBodyWithoutContentType() throws Exception {
    replies(Addresses.TUNNELS_START, status("tun_1", "api", TunnelStatus.RUNNING).toJson());
    start("");

    Resp r = call(HttpMethod.POST, "/api/v1/tunnels", Map.of(), Buffer.buffer("{\"name\":\"api\",\"port\":3000}"));

    assertMessage(r, 400, "invalid JSON body");
    assertThat(received.get(Addresses.TUNNELS_START)).isEmpty();
  }

  @Test
  @DisplayName("§6.4 a validation failure → 400 with its message; the service is never asked")
  void validationFailureIs400() throws Exception {
    replies(Addresses.TUNNELS_START, status("tun_1", "api", TunnelStatus.RUNNING).toJson());
    start("");

    assertMessage(postJson("/api/v1/tunnels", "{\"port\":0}"), 400, "port must be between 1 and 65535");
    assertThat(received.get(Addresses.TUNNELS_START)).isEmpty();
  }

  // ---------------------------------------------------------------- §6.2 routing

  @Test
  @DisplayName("§6.2 PUT /api/v1/tunnels → 405, Allow: GET, POST")
  void putOnTunnelsIs405() throws Exception {
    start("");
    Resp r = call(HttpMethod.PUT, "/api/v1/tunnels");
    assertMessage(r, 405, "method must be one of: GET, POST");
    assertThat(r.headers().get("Allow")).isEqualTo("GET, POST");
  }

  @Test
  @DisplayName("§6.2 PATCH /api/v1/tunnels/x → 405, Allow: GET, DELETE")
  void patchOnTunnelIs405() throws Exception {
    start("");
    Resp r = call(HttpMethod.PATCH, "/api/v1/tunnels/x");
    assertMessage(r, 405, "method must be one of: GET, DELETE");
    assertThat(r.headers().get("Allow")).isEqualTo("GET, DELETE");
  }

  @Test
  @DisplayName("§6.2 GET /api/v1/tunnels/x/shutdown → 405, Allow: POST")
  void getOnShutdownIs405() throws Exception {
    start("");
    Resp r = call(HttpMethod.GET, "/api/v1/tunnels/x/shutdown");
    assertMessage(r, 405, "method must be one of: POST");
    assertThat(r.headers().get("Allow")).isEqualTo("POST");
  }

  @Test
  @DisplayName("§6.2 POST /api/v1/events → 405, Allow: GET")
  void postOnEventsIs405() throws Exception {
    start("");
    Resp r = call(HttpMethod.POST, "/api/v1/events", Map.of("Content-Type", JSON), Buffer.buffer("{}"));
    assertMessage(r, 405, "method must be one of: GET");
    assertThat(r.headers().get("Allow")).isEqualTo("GET");
  }

  @Test
  @DisplayName("§11.16 OPTIONS /api/v1/tunnels → 405 with Allow (no CORS)")
  void optionsOnTunnelsIs405() throws Exception {
    start("");
    Resp r = call(HttpMethod.OPTIONS, "/api/v1/tunnels");
    assertMessage(r, 405, "method must be one of: GET, POST");
    assertThat(r.headers().get("Allow")).isEqualTo("GET, POST");
    assertThat(r.headers().get("Access-Control-Allow-Origin")).isNull();
  }

  @Test
  @DisplayName("porthole deviation: POST /api/v1/health → 405 JSON, Allow: GET, HEAD")
  void postOnHealthIs405() throws Exception {
    start("");
    Resp r = call(HttpMethod.POST, "/api/v1/health");
    assertMessage(r, 405, "method must be one of: GET, HEAD");
    assertThat(r.headers().get("Allow")).isEqualTo("GET, HEAD");
  }

  @Test
  @DisplayName("§11.16 HEAD /api/v1/tunnels → 200 with no body")
  void headOnTunnels() throws Exception {
    replies(Addresses.TUNNELS_LIST, new JsonObject().put("tunnels", new JsonArray()));
    start("");

    Resp r = call(HttpMethod.HEAD, "/api/v1/tunnels");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.contentType()).isEqualTo(JSON);
    assertThat(r.body()).isEmpty();
    assertThat(received.get(Addresses.TUNNELS_LIST)).hasSize(1);
  }

  @Test
  @DisplayName("§6.2 paths are case-insensitive and the trailing slash is optional: GET /API/V1/Tunnels/ → 200")
  void caseInsensitiveTrailingSlash() throws Exception {
    replies(Addresses.TUNNELS_LIST, new JsonObject().put("tunnels", new JsonArray()));
    start("");

    assertJsonResponse(call(HttpMethod.GET, "/API/V1/Tunnels/"), 200, "{\"tunnels\":[]}");
  }

  @Test
  @DisplayName("porthole deviation: unknown path → 404 {\"message\":\"Cannot GET /x\"}")
  void unknownPathIs404() throws Exception {
    start("");
    assertMessage(call(HttpMethod.GET, "/x"), 404, "Cannot GET /x");
  }

  @Test
  @DisplayName("§6.2 the 404 path is HTML-escaped, and the JSON escapes HTML characters as Go does")
  void unknownPathIsHtmlEscaped() throws Exception {
    start("");

    Resp r = call(HttpMethod.GET, "/<script>");

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.contentType()).isEqualTo(JSON);
    assertThat(r.json().getString("message")).isEqualTo("Cannot GET /&lt;script&gt;");
    assertThat(r.body()).isEqualTo("{\"message\":\"Cannot GET /\\u0026lt;script\\u0026gt;\"}");
  }

  @Test
  @DisplayName("§6.2 JSON responses escape < and > as \\u003c and \\u003e (Go's encoding/json)")
  void jsonEscapesHtml() throws Exception {
    fails(Addresses.TUNNELS_START, FailureCode.START_FAILED, "failed to start tunnel '<b>': x");
    start("");

    Resp r = postJson("/api/v1/tunnels", "{\"port\":3000}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).isEqualTo("{\"message\":\"failed to start tunnel '\\u003cb\\u003e': x\"}");
    assertThat(r.json().getString("message")).isEqualTo("failed to start tunnel '<b>': x");
  }

  // ---------------------------------------------------------------- events

  @Test
  @DisplayName("§6.3 GET /api/v1/events?tunnel_id=abc → the service got {\"tunnel_id\":\"abc\"}")
  void eventsWithTunnelId() throws Exception {
    replies(Addresses.EVENTS_LIST, new JsonObject().put("events", new JsonArray()));
    start("");

    assertJsonResponse(call(HttpMethod.GET, "/api/v1/events?tunnel_id=abc"), 200, "{\"events\":[]}");
    assertThat(received.get(Addresses.EVENTS_LIST)).containsExactly(new JsonObject().put("tunnel_id", "abc").put("since", 0));
  }

  @Test
  @DisplayName("§6.3 GET /api/v1/events without tunnel_id → the service got {\"tunnel_id\":\"\"}")
  void eventsWithoutTunnelId() throws Exception {
    replies(Addresses.EVENTS_LIST, new JsonObject().put("events", new JsonArray()));
    start("");

    assertJsonResponse(call(HttpMethod.GET, "/api/v1/events"), 200, "{\"events\":[]}");
    assertThat(received.get(Addresses.EVENTS_LIST)).containsExactly(new JsonObject().put("tunnel_id", "").put("since", 0));
  }

  // ---------------------------------------------------------------- limits

  @Test
  @DisplayName("§6.2 a body over 4 MiB → 413 {\"message\":\"request body too large\"}")
  void bodyTooLarge() throws Exception {
    replies(Addresses.TUNNELS_START, status("tun_1", "api", TunnelStatus.RUNNING).toJson());
    start("");

    Buffer big = Buffer.buffer(new byte[4 * 1024 * 1024 + 1]);
    Resp r = call(HttpMethod.POST, "/api/v1/tunnels", Map.of("Content-Type", JSON), big);

    assertMessage(r, 413, "request body too large");
    assertThat(received.get(Addresses.TUNNELS_START)).isEmpty();
  }

  @Test
  @DisplayName("§6.2 a body of exactly 4 MiB is not refused as too large")
  void bodyAtLimit() throws Exception {
    replies(Addresses.TUNNELS_START, status("tun_1", "api", TunnelStatus.RUNNING).toJson());
    start("");

    byte[] body = new byte[4 * 1024 * 1024];
    java.util.Arrays.fill(body, (byte) ' ');
    byte[] json = "{\"port\":3000}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    System.arraycopy(json, 0, body, 0, json.length);
    Resp r = call(HttpMethod.POST, "/api/v1/tunnels", Map.of("Content-Type", JSON), Buffer.buffer(body));

    assertThat(r.status()).isEqualTo(201);
  }

  @Test
  @DisplayName("porthole deviation: a method outside Go's list (FOO) → 400 {\"message\":\"Invalid http method\"}")
  void customMethodIs400() throws Exception {
    start("");
    assertMessage(call(HttpMethod.valueOf("FOO"), "/api/v1/health"), 400, "Invalid http method");
  }

  @Test
  @DisplayName("§6.2 every JSON response (2xx, 400, 401, 404, 405, 413, 503) has Content-Type application/json")
  void everyResponseIsJson() throws Exception {
    replies(Addresses.TUNNELS_LIST, new JsonObject().put("tunnels", new JsonArray()));
    fails(Addresses.TUNNELS_GET, FailureCode.TUNNEL_NOT_FOUND, "tunnel not found");
    start("secret");
    Map<String, String> auth = Map.of("Authorization", "Bearer secret");
    Map<String, String> authJson = Map.of("Authorization", "Bearer secret", "Content-Type", JSON);

    List<Resp> responses = List.of(
        call(HttpMethod.GET, "/api/v1/health", auth, null),
        call(HttpMethod.GET, "/api/v1/tunnels", auth, null),
        call(HttpMethod.GET, "/api/v1/tunnels/nope", auth, null),
        call(HttpMethod.POST, "/api/v1/tunnels", auth, Buffer.buffer("{}")),
        call(HttpMethod.GET, "/api/v1/health"),
        call(HttpMethod.GET, "/nowhere", auth, null),
        call(HttpMethod.PUT, "/api/v1/tunnels", auth, null),
        call(HttpMethod.valueOf("FOO"), "/api/v1/tunnels", auth, null),
        call(HttpMethod.POST, "/api/v1/tunnels", authJson, Buffer.buffer(new byte[4 * 1024 * 1024 + 1])),
        // No consumer on the stop address: the manager is unavailable.
        call(HttpMethod.DELETE, "/api/v1/tunnels/x", auth, null));

    assertThat(responses).extracting(Resp::status)
        .containsExactly(200, 200, 404, 400, 401, 404, 405, 400, 413, 503);
    assertThat(responses).allSatisfy(r -> {
      assertThat(r.contentType()).as("Content-Type of %s %s", r.status(), r.body()).isEqualTo(JSON);
      assertThat(new JsonObject(r.body())).isNotNull();
    });
  }
}
