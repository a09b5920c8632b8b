package dev.porthole.bridge;

import static dev.porthole.testsupport.StatusUrls.withoutUrls;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.config.ConfigDefaults;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SockJS bridge at {@code /eventbus} against a real relay and app-server, through SockJS's raw
 * WebSocket endpoint and the bridge's JSON frames.
 */
class EventBusBridgeIT {
  private static final String TOKEN = "bridge-test-token";
  private static final String SECRET = "a-test-secret-of-more-than-32-bytes-0123456789";

  @TempDir
  static Path dir;
  private static TestRelay relay;
  private static TestAppServer app;
  private static ServerSocket local;
  private static int port;
  private static WebSocketClient wsClient;
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();
  private final List<WebSocket> open = new java.util.ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    local = new ServerSocket(0);
    JsonObject settings = ConfigDefaults.tree();
    settings.getJsonObject("auth").put("jwt", new JsonObject().put("algorithm", "HS256").put("secret", SECRET)
        .put("public_key", "").put("audience", ""));
    HttpVerticle guarded = new HttpVerticle();
    await(app.vertx().deployVerticle(guarded, new DeploymentOptions().setConfig(new JsonObject()
        .put("host", "127.0.0.1").put("port", 0).put("token", TOKEN).put("relay", "configured")
        .put("settings", settings))));
    port = guarded.actualPort();
    wsClient = app.vertx().createWebSocketClient();
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (wsClient != null) {
      await(wsClient.close());
    }
    if (app != null) {
      app.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (local != null) {
      local.close();
    }
  }

  @AfterEach
  void closeSockets() throws Exception {
    for (WebSocket ws : open) {
      if (!ws.isClosed()) {
        await(ws.close());
      }
    }
    open.clear();
  }

  // ---------------------------------------------------------------- the door

  @Test
  void noTokenIsRefusedBeforeTheHandshake() {
    Throwable refused = connectFailure(new WebSocketConnectOptions().setURI("/eventbus/websocket"));
    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(401);
    Throwable wrong = connectFailure(new WebSocketConnectOptions().setURI("/eventbus/websocket?access_token=nope"));
    assertThat(((UpgradeRejectedException) wrong).getStatus()).isEqualTo(401);
  }

  @Test
  void foreignOriginIsRefused() {
    Throwable refused = connectFailure(new WebSocketConnectOptions()
        .setURI("/eventbus/websocket?access_token=" + TOKEN).addHeader("Origin", "http://evil.example"));
    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(403);
  }

  @Test
  void sockJsInfoNeedsTheTokenToo() throws Exception {
    assertThat(httpGet("/eventbus/info", null).statusCode()).isEqualTo(401);
    HttpResponse<String> info = httpGet("/eventbus/info?access_token=" + TOKEN, null);
    assertThat(info.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(info.body()).getBoolean("websocket")).isTrue();
    assertThat(httpGet("/eventbus/info", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
  }

  /**
   * sockjs-client's WebSocket transport: {@code /eventbus/{server}/{session}/websocket}, SockJS's
   * framing ({@code o}, {@code a[...]}) around the bridge's JSON frames.
   */
  @Test
  void sockJsSessionTransportCarriesTheBridge() throws Exception {
    // SockJS speaks first: the handler is in place before the handshake.
    LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
    ClientWebSocket ws = wsClient.webSocket();
    ws.textMessageHandler(frames::add);
    await(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/eventbus/017/" + UUID.randomUUID().toString().replace("-", "") + "/websocket?access_token=" + TOKEN)));
    open.add(ws);
    assertThat(frames.poll(20, TimeUnit.SECONDS)).isEqualTo("o");
    String replyAddress = UUID.randomUUID().toString();
    String send = new JsonObject().put("type", "send").put("address", Addresses.TUNNELS_LIST)
        .put("replyAddress", replyAddress).put("body", new JsonObject()).encode();
    await(ws.writeTextMessage(new JsonArray().add(send).encode()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    JsonObject reply = null;
    while (reply == null && System.nanoTime() < deadline) {
      String f = frames.poll(1, TimeUnit.SECONDS);
      if (f != null && f.startsWith("a")) {
        JsonObject frame = new JsonObject(new JsonArray(f.substring(1)).getString(0));
        if (replyAddress.equals(frame.getString("address"))) {
          reply = frame;
        }
      }
    }
    assertThat(reply).as("the list's reply in a SockJS frame").isNotNull();
    assertThat(reply.getString("type")).isEqualTo("rec");
    assertThat(reply.getJsonObject("body").getJsonArray("tunnels")).isNotNull();
  }

  @Test
  void upgradesOutsideSockJsPathsAreRefused() {
    Throwable refused = connectFailure(new WebSocketConnectOptions().setURI("/eventbus/nope?access_token=" + TOKEN));
    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(404);
  }

  @Test
  void upgradesToPathsNobodyServesGetTheApisNotFound() {
    Throwable refused = connectFailure(new WebSocketConnectOptions().setURI("/nowhere?access_token=" + TOKEN));
    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    UpgradeRejectedException r = (UpgradeRejectedException) refused;
    assertThat(r.getStatus()).isEqualTo(404);
    assertThat(r.getHeaders().get("Content-Type")).isEqualTo("application/json");
    assertThat(new JsonObject(r.getBody()).getString("message")).isEqualTo("Cannot upgrade /nowhere to a WebSocket");
  }

  // ---------------------------------------------------------------- outbound

  @Test
  void subscriberSeesStartedAndStoppedOfATunnelMadeOverHttp() throws Exception {
    Client c = connect(TOKEN);
    c.write(new JsonObject().put("type", "register").put("address", Addresses.TUNNELS_LIFECYCLE));
    // Registration is acknowledged by nothing; a ping round trip is not echoed either, so make sure
    // the register frame was handled before the tunnel starts: a request/reply after it is ordered.
    c.request(Addresses.TUNNELS_LIST, new JsonObject());
    String id = app.tcpTunnel(local.getLocalPort());
    c.frame(f -> isEvent(f, id, "started"));
    assertThat(app.send("DELETE", "/api/v1/tunnels/" + id, null).statusCode()).isEqualTo(200);
    JsonObject stopped = c.frame(f -> isEvent(f, id, "stopped"));
    assertThat(stopped.getString("address")).isEqualTo(Addresses.TUNNELS_LIFECYCLE);
  }

  // ---------------------------------------------------------------- request/reply

  @Test
  void listGetAndStopMatchTheHttpAnswers() throws Exception {
    String id = app.tcpTunnel(local.getLocalPort());
    Client c = connect(TOKEN);

    JsonArray httpList = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels");
    JsonObject list = c.request(Addresses.TUNNELS_LIST, new JsonObject());
    assertThat(list.getString("type")).isEqualTo("rec");
    assertThat(withoutUrls(list.getJsonObject("body").getJsonArray("tunnels"))).isEqualTo(withoutUrls(httpList));

    JsonObject get = c.request(Addresses.TUNNELS_GET, new JsonObject().put("id", id));
    assertThat(withoutUrls(get.getJsonObject("body"))).isEqualTo(withoutUrls(app.get(id)));

    JsonObject stop = c.request(Addresses.TUNNELS_STOP, new JsonObject().put("id", id));
    assertThat(stop.getJsonObject("body").getString("status")).isEqualTo("stopped");
    assertThat(withoutUrls(stop.getJsonObject("body"))).isEqualTo(withoutUrls(app.get(id)));

    JsonObject missing = c.request(Addresses.TUNNELS_GET, new JsonObject().put("id", "no-such-tunnel"));
    assertThat(missing.getString("type")).isEqualTo("err");
    assertThat(missing.getString("message"))
        .isEqualTo(new JsonObject(app.send("GET", "/api/v1/tunnels/no-such-tunnel", null).body()).getString("message"));
  }

  @Test
  void startOverTheBridgeIsValidatedLikeThePost() throws Exception {
    Client c = connect(TOKEN);
    int before = tunnelCount();
    List<Object> bad = List.of(new JsonObject(), new JsonObject().put("type", "ftp").put("port", 8080),
        new JsonObject().put("type", "http").put("port", 0),
        new JsonObject().put("type", "http").put("port", 8080).put("subdomain", "Not_Valid!"),
        new JsonObject().put("type", "tcp").put("port", 8080).put("pool_size", 1000), "just a string",
        new JsonArray().add(1));
    for (Object body : bad) {
      String json = body instanceof String s ? "\"" + s + "\"" : body.toString();
      HttpResponse<String> post = app.send("POST", "/api/v1/tunnels", json);
      assertThat(post.statusCode()).as(json).isEqualTo(400);
      JsonObject reply = c.request(Addresses.TUNNELS_START, body);
      assertThat(reply.getString("type")).as(json).isEqualTo("err");
      assertThat(reply.getInteger("failureCode")).as(json).isEqualTo(FailureCode.INVALID_REQUEST.code());
      assertThat(reply.getString("message")).as(json).isEqualTo(new JsonObject(post.body()).getString("message"));
    }
    assertThat(tunnelCount()).isEqualTo(before);

    JsonObject good = c.request(Addresses.TUNNELS_START, new JsonObject().put("type", "tcp")
        .put("host", "127.0.0.1").put("port", local.getLocalPort()).put("pool_size", 1));
    assertThat(good.getString("type")).as(good.encode()).isEqualTo("rec");
    String id = good.getJsonObject("body").getString("id");
    assertThat(good.getJsonObject("body").getString("status")).isEqualTo("running");
    assertThat(withoutUrls(good.getJsonObject("body"))).isEqualTo(withoutUrls(app.get(id)));
    app.send("DELETE", "/api/v1/tunnels/" + id, null);
  }

  // ---------------------------------------------------------------- deny by default

  @Test
  void internalAndUnknownAddressesAreRefusedBothWays() throws Exception {
    Client c = connect(TOKEN);
    for (String address : List.of(Addresses.TUNNELS_TARGET, Addresses.TUNNELS_STOP_ALL, "porthole.internal.anything",
        Addresses.REQUESTS_DELETE, "nobody")) {
      JsonObject reply = c.request(address, new JsonObject().put("id", "x"));
      assertThat(reply.getString("type")).as(address).isEqualTo("err");
      assertThat(reply.getInteger("failureCode")).as(address).isEqualTo(403);
      assertThat(reply.getString("message")).as(address).isEqualTo(
          "forbidden: " + address + " is not part of the bridged bus API");
      c.frame(f -> "rejected".equals(f.getString("body")));
    }
    for (String address : List.of(Addresses.SHUTTING_DOWN, Addresses.WORKER_SIGNAL, "nobody",
        Addresses.TUNNELS_LIST)) {
      c.write(new JsonObject().put("type", "register").put("address", address));
      JsonObject err = c.frame(f -> "err".equals(f.getString("type")) && f.getString("body", "").startsWith("forbidden"));
      assertThat(err.getString("body")).isEqualTo("forbidden: " + address + " is not part of the bridged bus API");
    }
    c.write(new JsonObject().put("type", "publish").put("address", Addresses.TUNNELS_LIFECYCLE)
        .put("body", new JsonObject()));
    JsonObject err = c.frame(f -> "err".equals(f.getString("type")) && f.getString("body", "").startsWith("forbidden"));
    assertThat(err.getString("body")).contains("not publish");
  }

  @Test
  void readOnlyJwtCanListButNotStartOrStop() throws Exception {
    String id = app.tcpTunnel(local.getLocalPort());
    Client c = connect(jwt("tunnels:read"));
    assertThat(c.request(Addresses.TUNNELS_LIST, new JsonObject()).getString("type")).isEqualTo("rec");
    assertThat(c.request(Addresses.EVENTS_LIST, new JsonObject().put("tunnel_id", id).put("since", 0))
        .getJsonObject("body").getJsonArray("events")).isNotEmpty();

    JsonObject start = c.request(Addresses.TUNNELS_START, new JsonObject().put("type", "tcp").put("port", 1));
    assertThat(start.getString("type")).isEqualTo("err");
    assertThat(start.getInteger("failureCode")).isEqualTo(403);
    assertThat(start.getString("message")).isEqualTo("forbidden: porthole.tunnels.start needs tunnels:write");
    JsonObject stop = c.request(Addresses.TUNNELS_STOP, new JsonObject().put("id", id));
    assertThat(stop.getString("message")).isEqualTo("forbidden: porthole.tunnels.stop needs tunnels:write");
    assertThat(app.get(id).getString("status")).isEqualTo("running");

    Client writer = connect(jwt("tunnels:write"));
    writer.write(new JsonObject().put("type", "register").put("address", Addresses.TUNNELS_LIFECYCLE));
    assertThat(writer.frame(f -> "err".equals(f.getString("type")) && f.containsKey("body")).getString("body"))
        .isEqualTo("forbidden: porthole.tunnels.lifecycle needs tunnels:read");
    app.send("DELETE", "/api/v1/tunnels/" + id, null);
  }

  // ---------------------------------------------------------------- helpers

  private static boolean isEvent(JsonObject frame, String id, String type) {
    return "rec".equals(frame.getString("type")) && frame.getValue("body") instanceof JsonObject b
        && id.equals(b.getString("tunnel_id")) && type.equals(b.getString("type"));
  }

  private static int tunnelCount() throws Exception {
    return new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").size();
  }

  private String jwt(String scope) {
    JWTAuth signer = JWTAuth.create(app.vertx(), new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    return signer.generateToken(new JsonObject().put("scope", scope), new JWTOptions().setExpiresInSeconds(300));
  }

  private static HttpResponse<String> httpGet(String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private Throwable connectFailure(WebSocketConnectOptions options) {
    options.setHost("127.0.0.1").setPort(port);
    try {
      open.add(await(wsClient.connect(options)));
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      return e;
    }
    throw new AssertionError("the handshake was accepted");
  }

  private Client connect(String token) throws Exception {
    WebSocket ws = await(wsClient.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/eventbus/websocket?access_token=" + token)));
    open.add(ws);
    Client c = new Client(ws);
    ws.handler(buf -> c.frames.add(new JsonObject(buf)));
    return c;
  }

  /** One bridge socket: frames as they came, the bridge's JSON protocol. */
  private static final class Client {
    final WebSocket ws;
    final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();

    Client(WebSocket ws) {
      this.ws = ws;
    }

    void write(JsonObject frame) throws Exception {
      await(ws.writeTextMessage(frame.encode()));
    }

    /** A send with a reply address; the reply frame ({@code rec} or {@code err}). */
    JsonObject request(String address, Object body) throws Exception {
      String replyAddress = UUID.randomUUID().toString();
      write(new JsonObject().put("type", "send").put("address", address).put("replyAddress", replyAddress)
          .put("body", body));
      return frame(f -> replyAddress.equals(f.getString("address")));
    }

    /** The first frame that matches, skipping others; fails after 20 s. */
    JsonObject frame(Predicate<JsonObject> wanted) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (true) {
        long left = deadline - System.nanoTime();
        JsonObject f = left > 0 ? frames.poll(left, TimeUnit.NANOSECONDS) : null;
        if (f == null) {
          throw new AssertionError("no matching frame within 20 s");
        }
        if (wanted.test(f)) {
          return f;
        }
      }
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
