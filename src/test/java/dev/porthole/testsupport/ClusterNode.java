package dev.porthole.testsupport;

import dev.porthole.bootstrap.MainVerticle;
import dev.porthole.config.AppServerSettings;
import dev.porthole.config.ConfigDefaults;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A whole clustered app-server in the test JVM: a clustered Vert.x (real vertx-hazelcast on
 * 127.0.0.1, TCP-IP join) with the composition root deployed on it (embedded relay, API on port 0,
 * no request log). Each test uses its own cluster name; {@link #close()} leaves the cluster.
 */
public final class ClusterNode implements AutoCloseable {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();
  public final String name;
  public final int hazelcastPort;
  private final Vertx vertx;
  private final MainVerticle main;

  private ClusterNode(String name, int hazelcastPort, Vertx vertx, MainVerticle main) {
    this.name = name;
    this.hazelcastPort = hazelcastPort;
    this.vertx = vertx;
    this.main = main;
  }

  /** A free TCP port for Hazelcast (it cannot bind port 0 and say which it took). */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * @param members the Hazelcast ports of the nodes started before (this node's own is added)
   * @param tweak adjusts the {@code cluster} section
   */
  public static ClusterNode start(String cluster, String name, List<Integer> members, Consumer<JsonObject> tweak)
      throws Exception {
    int port = freePort();
    JsonArray join = new JsonArray().add("127.0.0.1:" + port);
    members.forEach(p -> join.add("127.0.0.1:" + p));
    JsonObject tree = ConfigDefaults.tree();
    tree.getJsonObject("app_server").put("port", 0);
    tree.getJsonObject("request_log").put("enabled", false);
    JsonObject section = tree.getJsonObject("cluster").put("enabled", true).put("name", cluster).put("node_name", name)
        .put("port", port).put("members", join);
    tweak.accept(section);
    AppServerSettings settings = AppServerSettings.parse(tree);
    Vertx vertx = MainVerticle.vertx(settings).toCompletionStage().toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    MainVerticle main = new MainVerticle(settings, "", null, Path.of("/nonexistent/portr.yaml"));
    try {
      vertx.deployVerticle(main).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
    return new ClusterNode(name, port, vertx, main);
  }

  public Vertx vertx() {
    return vertx;
  }

  public String api() {
    return "http://127.0.0.1:" + main.httpPort();
  }

  public HttpResponse<String> call(String method, String path, JsonObject body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api() + path)).timeout(Duration.ofSeconds(40));
    if (body != null) {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.encode()));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public JsonObject json(String method, String path, JsonObject body, int status) throws Exception {
    HttpResponse<String> r = call(method, path, body);
    if (r.statusCode() != status) {
      throw new AssertionError(method + " " + path + " on " + name + ": " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body());
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
