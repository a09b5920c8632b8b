package dev.porthole.testsupport;

import dev.porthole.config.ConfigDefaults;
import dev.porthole.relay.RelayVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real {@code porthole relay} in the test JVM: every port 0, data in a temporary directory, one
 * secret key. Close it to stop it and its Vert.x instance.
 */
public final class TestRelay implements AutoCloseable {
  public static final String SECRET = "test-secret-key-0123456789";
  public static final String OTHER_SECRET = "other-secret-key-0123456789";

  private final Vertx vertx;
  private final RelayVerticle verticle;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestRelay(Vertx vertx, RelayVerticle verticle) {
    this.vertx = vertx;
    this.verticle = verticle;
  }

  public static TestRelay start(Path dataDir) throws Exception {
    return start(dataDir, relay -> { });
  }

  /** @param tweak changes to the {@code relay} section before start */
  public static TestRelay start(Path dataDir, Consumer<JsonObject> tweak) throws Exception {
    JsonObject tree = ConfigDefaults.tree();
    JsonObject relay = tree.getJsonObject("relay")
        .put("admin_port", 0).put("ssh_port", 0).put("http_port", 0)
        .put("data_dir", dataDir.toString())
        .put("secret_keys", new JsonArray().add(SECRET)
            .add(new JsonObject().put("key", OTHER_SECRET).put("reserved_subdomains", new JsonArray().add("vip"))));
    tweak.accept(relay);
    Vertx vertx = Vertx.vertx();
    RelayVerticle verticle = new RelayVerticle();
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(tree))
        .toCompletionStage().toCompletableFuture().get(Timeouts.scaled(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS);
    return new TestRelay(vertx, verticle);
  }

  public RelayVerticle.Endpoints endpoints() {
    return verticle.endpoints();
  }

  public RelayVerticle verticle() {
    return verticle;
  }

  public int sshPort() {
    return endpoints().sshPort();
  }

  public int httpPort() {
    return endpoints().httpPort();
  }

  public String adminUrl() {
    return endpoints().adminUrl();
  }

  /** The public Host of a subdomain on this relay. */
  public String host(String subdomain) {
    return subdomain + "." + endpoints().domain();
  }

  /** POSTs a JSON body to the admin API's connection endpoint. */
  public HttpResponse<String> postConnection(String contentType, String body) throws IOException, InterruptedException {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(adminUrl() + "/api/v1/connections/"))
        .timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      req.header("Content-Type", contentType);
    }
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Reserves a connection with {@link #SECRET}; returns its id. {@code subdomain} null for tcp. */
  public String reserve(String type, String subdomain) throws IOException, InterruptedException {
    JsonObject body = new JsonObject().put("connection_type", type).put("secret_key", SECRET).put("subdomain", subdomain);
    HttpResponse<String> r = postConnection("application/json", body.encode());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("reserve failed: " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body()).getString("connection_id");
  }

  /** A request to the HTTP edge carrying the given subdomain's Host (HTTP/1.1). */
  public HttpRequest.Builder edgeRequest(String subdomain, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + path))
        .version(HttpClient.Version.HTTP_1_1)
        .timeout(Duration.ofSeconds(20))
        .header("Host", host(subdomain));
  }

  public HttpResponse<String> edgeGet(String subdomain, String path) throws IOException, InterruptedException {
    return http.send(edgeRequest(subdomain, path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpClient http() {
    return http;
  }

  /** Writes a Portr client config for this relay (with {@link #SECRET}) to {@code file}; returns it. */
  public Path writePortrConfig(Path file) throws IOException {
    Files.writeString(file, String.join("\n",
        "server_url: 127.0.0.1:" + endpoints().adminPort(),
        "ssh_url: 127.0.0.1:" + sshPort(),
        "tunnel_url: " + endpoints().domain(),
        "use_localhost: true",
        "secret_key: " + SECRET, ""));
    return file;
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
