package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.ClusterNode;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three app-servers from the shaded jar on 127.0.0.1, joined with TCP-IP ({@code --cluster}): what
 * issue 17's "tests that must exist" list, as a user would see it over HTTP and the bridge.
 */
class ClusterJarIT {
  @TempDir
  Path dir;
  final List<JarProcess> started = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  final String cluster = "porthole-it-" + UUID.randomUUID();
  final Map<String, Integer> hzPorts = new java.util.HashMap<>();
  Vertx vertx;

  /** Held by the test: Vert.x 5 closes a client that nothing references once the GC finds it, mid-handshake too. */
  private WebSocketClient wsClient;

  private WebSocketClient webSockets() {
    if (wsClient == null) {
      wsClient = vertx.createWebSocketClient();
    }
    return wsClient;
  }


  @AfterEach
  void stop() throws Exception {
    for (JarProcess p : started) {
      p.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** A node as a process: its own home, a free API port, the cluster's join list. */
  JarProcess node(String name) throws Exception {
    Path home = dir.resolve(name);
    Files.createDirectories(home);
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n", "app_server:", "  port: 0",
        "request_log:", "  enabled: false", "embedded_relay:", "  http_port: 0", ""));
    List<String> members = new ArrayList<>();
    hzPorts.values().forEach(p -> members.add("127.0.0.1:" + p));
    JarProcess p = JarProcess.start(home, List.of(), Map.of(
        "PORTHOLE_CLUSTER_NAME", cluster,
        "PORTHOLE_CLUSTER_NODE_NAME", name,
        "PORTHOLE_CLUSTER_PORT", String.valueOf(hzPorts.get(name)),
        "PORTHOLE_CLUSTER_MEMBERS", String.join(",", members)), "app-server", "--conf", "porthole.yaml", "--cluster");
    started.add(p);
    return p;
  }

  String api(JarProcess p) {
    return p.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(90));
  }

  HttpResponse<String> call(String api, String method, String path, JsonObject json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }

  JsonObject json(String api, String method, String path, JsonObject body, int status) throws Exception {
    HttpResponse<String> r = call(api, method, path, body);
    assertThat(r.statusCode()).as(method + " " + path + " on " + api + ": " + r.body()).isEqualTo(status);
    return new JsonObject(r.body());
  }

  static JsonObject stub(String subdomain) {
    return new JsonObject().put("type", "stub").put("subdomain", subdomain).put("response_format", "text/plain")
        .put("response_tmpl", "hi");
  }

  List<String> nodes(String api) {
    try {
      List<String> out = new ArrayList<>();
      json(api, "GET", "/api/v1/cluster", null, 200).getJsonArray("members")
          .forEach(m -> out.add(((JsonObject) m).getString("node")));
      return out;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  List<JsonObject> events(String api, String id) {
    try {
      List<JsonObject> out = new ArrayList<>();
      json(api, "GET", "/api/v1/events?tunnel_id=" + id, null, 200).getJsonArray("events")
          .forEach(e -> out.add((JsonObject) e));
      return out;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  List<String> types(String api, String id) {
    return events(api, id).stream().map(e -> e.getString("type")).toList();
  }

  JsonObject listed(String api, String id) throws Exception {
    for (Object o : json(api, "GET", "/api/v1/tunnels", null, 200).getJsonArray("tunnels")) {
      if (((JsonObject) o).getString("id").equals(id)) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  @DisplayName("start-up refusals of --cluster (exit 2, one line): an off-loopback cluster interface without a token,"
      + " a bad cluster value")
  void refusals() throws Exception {
    try (JarProcess p = JarProcess.start(dir, List.of(), Map.of("PORTHOLE_CLUSTER_HOST", "0.0.0.0"), "app-server",
        "--port", "0", "--cluster")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.lines()).contains("porthole: --token or PORTR_APP_SERVER_TOKEN is required when the cluster binds to"
          + " 0.0.0.0");
    }
    try (JarProcess p = JarProcess.start(dir, List.of(), Map.of("PORTHOLE_CLUSTER_NODE_NAME", "no spaces"), "app-server",
        "--port", "0", "--cluster")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.output()).contains("cluster.node_name");
    }
  }

  @Test
  @DisplayName("three jar nodes: create on A, list/get on B, stop from C, events on B and the bridge on C, placement,"
      + " refusals, kill -9 of A reported failed within 10 s, A rejoins empty, SIGINT on C → stopped everywhere")
  void threeNodes() throws Exception {
    for (String n : List.of("node-a", "node-b", "node-c")) {
      hzPorts.put(n, ClusterNode.freePort());
    }
    JarProcess pa = node("node-a");
    JarProcess pb = node("node-b");
    JarProcess pc = node("node-c");
    String a = api(pa);
    String b = api(pb);
    String c = api(pc);
    Timeouts.pollUntil(Duration.ofSeconds(20), "three members on every node",
        () -> nodes(a).size() == 3 && nodes(b).size() == 3 && nodes(c).size() == 3);
    assertThat(nodes(b)).containsExactly("node-a", "node-b", "node-c");

    // The bridge on C: A's lifecycle events arrive there.
    vertx = Vertx.vertx();
    List<JsonObject> bridged = new CopyOnWriteArrayList<>();
    WebSocket ws = webSockets().connect(new WebSocketConnectOptions()
            .setAbsoluteURI(c.replace("http://", "ws://") + "/eventbus/websocket"))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    ws.handler(buf -> bridged.add(new JsonObject(buf)));
    ws.writeTextMessage(new JsonObject().put("type", "register").put("address", "porthole.tunnels.lifecycle").encode());
    vertx.setPeriodic(5_000, t -> ws.writeTextMessage("{\"type\":\"ping\"}"));

    JsonObject made = json(a, "POST", "/api/v1/tunnels", stub("jar-a"), 201);
    String id = made.getString("id");
    assertThat(made.getString("node")).isEqualTo("node-a");
    JsonObject onList = listed(b, id);
    assertThat(onList).isNotNull();
    assertThat(onList.getString("node")).isEqualTo("node-a");
    assertThat(json(b, "GET", "/api/v1/tunnels/" + id, null, 200).getString("node")).isEqualTo("node-a");
    assertThat(json(c, "DELETE", "/api/v1/tunnels/" + id, null, 200).getString("status")).isEqualTo("stopped");

    Timeouts.pollUntil(Duration.ofSeconds(5), "A's events on B", () -> types(b, id).contains("stopped"));
    List<JsonObject> onB = events(b, id);
    assertThat(onB).extracting(e -> e.getString("type")).containsExactly("started", "stopped");
    assertThat(onB).extracting(e -> e.getString("node")).containsOnly("node-a");
    assertThat(onB.get(0).getLong("seq")).isLessThan(onB.get(1).getLong("seq"));
    try {
      Timeouts.pollUntil(Duration.ofSeconds(5), "A's events on C's bridge", () -> bridged.stream()
          .filter(f -> "rec".equals(f.getString("type")) && id.equals(f.getJsonObject("body").getString("tunnel_id")))
          .count() == 2);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; frames: " + bridged, e);
    }
    assertThat(bridged.stream().filter(f -> "rec".equals(f.getString("type")))
        .map(f -> f.getJsonObject("body")).filter(e -> id.equals(e.getString("tunnel_id")))
        .map(e -> e.getString("type") + "@" + e.getString("node")).toList())
        .containsExactly("started@node-a", "stopped@node-a");

    JsonObject placed = json(b, "POST", "/api/v1/tunnels", stub("jar-placed").put("node", "node-c"), 201);
    assertThat(placed.getString("node")).isEqualTo("node-c");
    assertThat(json(c, "GET", "/api/v1/tunnels/" + placed.getString("id"), null, 200).getString("status"))
        .isEqualTo("running");
    HttpResponse<String> unknown = call(b, "POST", "/api/v1/tunnels", stub("jar-x").put("node", "node-x"));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("unknown node \\\"node-x\\\"").contains("node-a, node-b, node-c");
    HttpResponse<String> secret = call(a, "POST", "/api/v1/tunnels", new JsonObject().put("type", "http")
        .put("port", 9).put("subdomain", "jar-secret").put("basic_auth", "user:jar-s3cr3t").put("node", "node-b"));
    assertThat(secret.statusCode()).isEqualTo(400);
    assertThat(secret.body()).contains("basic_auth is not sent to another node");

    // kill -9 A with a live tunnel: B and C report it failed, naming A, within 10 s.
    String live = json(a, "POST", "/api/v1/tunnels", stub("jar-live"), 201).getString("id");
    Timeouts.pollUntil(Duration.ofSeconds(5), "A's live tunnel known on B and C",
        () -> types(b, live).contains("started") && types(c, live).contains("started"));
    long killed = System.nanoTime();
    pa.kill();
    Timeouts.pollUntil(Duration.ofSeconds(10), "A's tunnel failed on B and C",
        () -> types(b, live).contains("failed") && types(c, live).contains("failed"));
    long detectedMs = (System.nanoTime() - killed) / 1_000_000;
    System.out.println("kill -9 detected after " + detectedMs + " ms");
    for (String n : List.of(b, c)) {
      JsonObject s = json(n, "GET", "/api/v1/tunnels/" + live, null, 200);
      assertThat(s.getString("status")).isEqualTo("failed");
      assertThat(s.getString("last_error")).isEqualTo("node node-a left the cluster");
      assertThat(types(n, live)).containsExactly("started", "failed");
      assertThat(nodes(n)).containsExactly("node-b", "node-c");
    }

    // A comes back under its name: it joins with no tunnels and the others forget its old ones.
    JarProcess again = node("node-a");
    String a2 = api(again);
    Timeouts.pollUntil(Duration.ofSeconds(20), "A back on B and C", () -> nodes(b).size() == 3 && nodes(c).size() == 3);
    assertThat(json(a2, "GET", "/api/v1/tunnels", null, 200).getJsonArray("tunnels").stream()
        .map(o -> ((JsonObject) o).getString("node")).toList()).doesNotContain("node-a");
    assertThat(listed(b, live)).isNull();

    // SIGINT on C: its live tunnel stops with a normal stopped event, seen on B.
    String onC = placed.getString("id");
    assertThat(pc.interrupt(Duration.ofSeconds(30))).isZero();
    Timeouts.pollUntil(Duration.ofSeconds(10), "C's stopped event on B", () -> types(b, onC).contains("stopped"));
    assertThat(types(b, onC)).containsExactly("started", "stopped");
    Timeouts.pollUntil(Duration.ofSeconds(10), "C gone from B", () -> nodes(b).size() == 2);
    assertThat(json(b, "GET", "/api/v1/tunnels/" + onC, null, 200).getString("status")).isEqualTo("stopped");
    assertThat(String.join("\n", List.of(pa.output(), pb.output(), pc.output(), again.output())))
        .doesNotContain("jar-s3cr3t");
  }
}
