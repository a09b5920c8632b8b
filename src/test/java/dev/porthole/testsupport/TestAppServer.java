package dev.porthole.testsupport;

import dev.porthole.api.HttpVerticle;
import dev.porthole.config.ConfigDefaults;
import dev.porthole.config.LimitsConfig;
import dev.porthole.config.PortrConfig;
import dev.porthole.health.HealthVerticle;
import dev.porthole.ssh.JschConnector;
import dev.porthole.tunnel.TunnelManagerVerticle;
import dev.porthole.webhook.WebhookVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The app-server's verticles in the test JVM, pointed at a {@link TestRelay} the way a Portr config
 * would point at a server: manager, webhook and HTTP API on port 0, real JSch sessions.
 */
public final class TestAppServer implements AutoCloseable {
  private final Vertx vertx;
  private final TestRelay relay;
  private final HttpVerticle http;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();

  private TestAppServer(Vertx vertx, TestRelay relay, HttpVerticle http) {
    this.vertx = vertx;
    this.relay = relay;
    this.http = http;
  }

  public static TestAppServer start(TestRelay relay) throws Exception {
    return start(relay, c -> { });
  }

  /** @param tweak adjusts the Portr client config (health check interval, retries…) */
  public static TestAppServer start(TestRelay relay, Consumer<PortrConfig> tweak) throws Exception {
    return start(relay, tweak, null);
  }

  /** @param knownHosts Portr's known_hosts for trust on first use, or null for insecure mode */
  public static TestAppServer start(TestRelay relay, Consumer<PortrConfig> tweak, java.nio.file.Path knownHosts)
      throws Exception {
    return start(relay, tweak, knownHosts, LimitsConfig.UNBOUNDED);
  }

  /** @param limits the manager's {@code limits.*} */
  public static TestAppServer start(TestRelay relay, LimitsConfig limits) throws Exception {
    return start(relay, c -> { }, null, limits);
  }

  private static TestAppServer start(TestRelay relay, Consumer<PortrConfig> tweak, java.nio.file.Path knownHosts,
      LimitsConfig limits) throws Exception {
    RelayEndpoint e = new RelayEndpoint(relay);
    PortrConfig portr = PortrConfig.of("127.0.0.1:" + e.adminPort, "127.0.0.1:" + e.sshPort, e.domain,
        TestRelay.SECRET, true);
    tweak.accept(portr);
    Vertx vertx = Vertx.vertx();
    HttpVerticle http = new HttpVerticle();
    vertx.deployVerticle(new TunnelManagerVerticle(portr, new JschConnector(), knownHosts, Clock.systemUTC(),
            limits))
        .compose(id -> vertx.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(
            new JsonObject().put("interval_seconds", portr.effectiveHealthCheckInterval()))))
        .compose(id -> vertx.deployVerticle(new WebhookVerticle()))
        .compose(id -> vertx.deployVerticle(http, new DeploymentOptions().setConfig(new JsonObject()
            .put("host", "127.0.0.1").put("port", 0).put("token", "").put("relay", "configured"))))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new TestAppServer(vertx, relay, http);
  }

  private record RelayEndpoint(int adminPort, int sshPort, String domain) {
    RelayEndpoint(TestRelay r) {
      this(r.endpoints().adminPort(), r.endpoints().sshPort(), r.endpoints().domain());
    }
  }

  public String base() {
    return "http://127.0.0.1:" + http.actualPort();
  }

  public Vertx vertx() {
    return vertx;
  }

  public HttpResponse<String> send(String method, String path, String json) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** POSTs a tunnel; fails the test unless the answer is 201. Returns the status JSON. */
  public JsonObject create(JsonObject request) throws IOException, InterruptedException {
    HttpResponse<String> r = send("POST", "/api/v1/tunnels", request.encode());
    if (r.statusCode() != 201) {
      throw new AssertionError("POST /api/v1/tunnels → " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body());
  }

  /** A tcp tunnel to {@code 127.0.0.1:port} with one session; its id. */
  public String tcpTunnel(int port) throws IOException, InterruptedException {
    return create(new JsonObject().put("type", "tcp").put("host", "127.0.0.1").put("port", port)
        .put("pool_size", 1)).getString("id");
  }

  /**
   * Another HTTP API verticle next to this app-server's manager, with {@code access.*} settings
   * changed by {@code access} and the API token {@code token} (empty: none); its port.
   */
  public int deployHttp(String token, Consumer<JsonObject> access) throws Exception {
    JsonObject settings = ConfigDefaults.tree();
    access.accept(settings.getJsonObject("access"));
    HttpVerticle extra = new HttpVerticle();
    vertx.deployVerticle(extra, new DeploymentOptions().setConfig(new JsonObject()
            .put("host", "127.0.0.1").put("port", 0).put("token", token).put("relay", "configured")
            .put("settings", settings)))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return extra.actualPort();
  }

  public JsonObject get(String id) throws IOException, InterruptedException {
    return new JsonObject(send("GET", "/api/v1/tunnels/" + id, null).body());
  }

  public JsonObject events(String tunnelId) throws IOException, InterruptedException {
    return new JsonObject(send("GET", "/api/v1/events?tunnel_id=" + tunnelId, null).body());
  }

  public TestRelay relay() {
    return relay;
  }

  /** Stops every tunnel first, as the app-server's shutdown does (a blocked connect is aborted). */
  @Override
  public void close() throws Exception {
    try {
      vertx.eventBus().request(dev.porthole.bus.Addresses.TUNNELS_STOP_ALL, new JsonObject(),
              new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(15_000))
          .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      // Closing anyway: Vert.x undeploys whatever is left.
    }
    // A separate wait: a callback chained after close() would be due on a closed event loop.
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
