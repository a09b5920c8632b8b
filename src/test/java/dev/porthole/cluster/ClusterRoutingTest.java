package dev.porthole.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelList;
import dev.porthole.testsupport.ClusterNode;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three clustered app-servers in one JVM (real vertx-hazelcast on 127.0.0.1, their own cluster
 * name and ports): the merged list, routing to the owner, placement, refusals, events relayed once,
 * and what the others show when a member leaves with live tunnels.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterRoutingTest {
  static ClusterNode a;
  static ClusterNode b;
  static ClusterNode c;
  static String clusterName;

  @BeforeAll
  static void cluster() throws Exception {
    System.setProperty("hazelcast.logging.type", "none");
    String name = "porthole-test-" + UUID.randomUUID();
    clusterName = name;
    a = ClusterNode.start(name, "node-a", List.of(), s -> { });
    b = ClusterNode.start(name, "node-b", List.of(a.hazelcastPort), s -> { });
    c = ClusterNode.start(name, "node-c", List.of(a.hazelcastPort, b.hazelcastPort), s -> { });
    Timeouts.pollUntil(Duration.ofSeconds(10), "three members seen by every node", () -> {
      for (ClusterNode n : List.of(a, b, c)) {
        if (members(n).size() != 3) {
          return false;
        }
      }
      return true;
    });
  }

  @AfterAll
  static void close() throws Exception {
    Fixtures.closeAll(c, b, a);
  }

  static List<JsonObject> members(ClusterNode n) {
    try {
      JsonArray m = n.json("GET", "/api/v1/cluster", null, 200).getJsonArray("members");
      List<JsonObject> out = new ArrayList<>();
      m.forEach(o -> out.add((JsonObject) o));
      return out;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static JsonObject stub(String subdomain) {
    return new JsonObject().put("type", "stub").put("subdomain", subdomain).put("response_format", "text/plain")
        .put("response_tmpl", "hi");
  }

  static JsonObject find(ClusterNode n, String id) throws Exception {
    for (Object o : n.json("GET", "/api/v1/tunnels", null, 200).getJsonArray("tunnels")) {
      if (((JsonObject) o).getString("id").equals(id)) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  @Order(1)
  @DisplayName("GET /api/v1/cluster lists every member with its API URL, tunnel count and joined_at; self on the asking node")
  void members() throws Exception {
    JsonObject body = b.json("GET", "/api/v1/cluster", null, 200);
    assertThat(body.getBoolean("clustered")).isTrue();
    assertThat(body.getString("node")).isEqualTo("node-b");
    List<JsonObject> m = members(b);
    assertThat(m).extracting(j -> j.getString("node")).containsExactly("node-a", "node-b", "node-c");
    assertThat(m).extracting(j -> j.getBoolean("self")).containsExactly(false, true, false);
    assertThat(m.get(0).getString("api_url")).isEqualTo(a.api());
    assertThat(m.get(2).getString("api_url")).isEqualTo(c.api());
    assertThat(m).allSatisfy(j -> {
      assertThat(j.getString("joined_at")).isNotBlank();
      assertThat(j.getBoolean("reachable")).isTrue();
      assertThat(j.getInteger("tunnels")).isNotNegative();
    });
  }

  @Test
  @Order(2)
  @DisplayName("a tunnel made on A is listed and read on B with node A, stopped from C, and its events reach B once, in order")
  void routing() throws Exception {
    JsonObject made = a.json("POST", "/api/v1/tunnels", stub("route-" + System.nanoTime() % 100000), 201);
    String id = made.getString("id");
    assertThat(made.getString("node")).isEqualTo("node-a");
    List<String> keys = new ArrayList<>(made.fieldNames());
    assertThat(keys.indexOf("node")).as("node after Portr's keys").isGreaterThan(keys.indexOf("updated_at"));

    JsonObject listed = find(b, id);
    assertThat(listed).isNotNull();
    assertThat(listed.getString("node")).isEqualTo("node-a");
    assertThat(listed.getString("status")).isEqualTo("running");
    JsonObject got = b.json("GET", "/api/v1/tunnels/" + id, null, 200);
    assertThat(got.getString("node")).isEqualTo("node-a");
    assertThat(got.getString("id")).isEqualTo(id);

    // A lease renewed from another node is the owner's: A's status shows it.
    JsonObject renewed = b.json("POST", "/api/v1/tunnels/" + id + "/renew", new JsonObject().put("ttl_seconds", 600), 200);
    assertThat(renewed.getString("node")).isEqualTo("node-a");
    assertThat(a.json("GET", "/api/v1/tunnels/" + id, null, 200).getString("expires_at"))
        .isEqualTo(renewed.getString("expires_at"));
    b.json("POST", "/api/v1/tunnels/01NOPE/renew", new JsonObject().put("ttl_seconds", 600), 404);

    JsonObject stopped = c.json("DELETE", "/api/v1/tunnels/" + id, null, 200);
    assertThat(stopped.getString("status")).isEqualTo("stopped");
    assertThat(a.json("GET", "/api/v1/tunnels/" + id, null, 200).getString("status")).isEqualTo("stopped");
    b.json("POST", "/api/v1/tunnels/" + id + "/renew", new JsonObject().put("ttl_seconds", 600), 409);

    Timeouts.pollUntil(Duration.ofSeconds(5), "A's stopped event on B", () -> types(b, id).contains("stopped"));
    assertThat(types(b, id)).containsExactly("started", "stopped");
    JsonArray events = b.json("GET", "/api/v1/events?tunnel_id=" + id, null, 200).getJsonArray("events");
    assertThat(events.getJsonObject(0).getString("node")).isEqualTo("node-a");
    assertThat(events.getJsonObject(0).getLong("seq")).isLessThan(events.getJsonObject(1).getLong("seq"));
    assertThat(b.call("GET", "/api/v1/tunnels/01HZZZZZZZZZZZZZZZZZZZZZZZ", null).statusCode()).isEqualTo(404);
  }

  static JsonObject listOnBus(ClusterNode n, JsonObject query) throws Exception {
    return n.vertx().eventBus().<JsonObject>request(Addresses.TUNNELS_LIST, query).map(Message::body)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @Order(3)
  @DisplayName("the merged list has a version: the same version again is answered \"unchanged\"; a change on any node"
      + " gives a new version with it")
  void mergedListVersion() throws Exception {
    JsonObject first = listOnBus(b, TunnelList.query());
    long v = TunnelList.version(first);
    assertThat(v).isPositive();
    assertThat(TunnelList.isUnchanged(first)).isFalse();
    JsonObject again = listOnBus(b, TunnelList.query(v));
    assertThat(TunnelList.isUnchanged(again)).as(again.encode()).isTrue();
    assertThat(TunnelList.version(again)).isEqualTo(v);

    String id = c.json("POST", "/api/v1/tunnels", stub("version-" + System.nanoTime() % 100000), 201).getString("id");
    JsonObject changed = listOnBus(b, TunnelList.query(v));
    assertThat(TunnelList.isUnchanged(changed)).isFalse();
    assertThat(TunnelList.version(changed)).isGreaterThan(v);
    assertThat(changed.getJsonArray("tunnels").stream().map(o -> ((JsonObject) o).getString("id"))).contains(id);
    // Over HTTP, B's cached answer follows: the stop on C shows at once.
    c.json("DELETE", "/api/v1/tunnels/" + id, null, 200);
    assertThat(find(b, id).getString("status")).isEqualTo("stopped");
  }

  static List<String> types(ClusterNode n, String id) {
    try {
      List<String> out = new ArrayList<>();
      n.json("GET", "/api/v1/events?tunnel_id=" + id, null, 200).getJsonArray("events")
          .forEach(e -> out.add(((JsonObject) e).getString("type")));
      return out;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  @Order(3)
  @DisplayName("\"node\" places a tunnel on another member; an unknown node is 400 naming the known ones")
  void placement() throws Exception {
    JsonObject made = b.json("POST", "/api/v1/tunnels", stub("placed-" + System.nanoTime() % 100000)
        .put("node", "node-c"), 201);
    assertThat(made.getString("node")).isEqualTo("node-c");
    assertThat(c.json("GET", "/api/v1/tunnels/" + made.getString("id"), null, 200).getString("node"))
        .isEqualTo("node-c");
    // ?wait=ready on another node: the waiting node follows the owner's relayed events and probes the public URL.
    JsonObject ready = a.json("POST", "/api/v1/tunnels?wait=ready&timeout=20", stub("ready-" + System.nanoTime() % 100000)
        .put("node", "node-b"), 201);
    assertThat(ready.getString("node")).isEqualTo("node-b");
    assertThat(ready.getString("status")).isEqualTo("running");
    a.json("DELETE", "/api/v1/tunnels/" + ready.getString("id"), null, 200);
    HttpResponse<String> unknown = b.call("POST", "/api/v1/tunnels", stub("nowhere").put("node", "node-x"));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(unknown.body()).getString("message"))
        .isEqualTo("unknown node \"node-x\"; known nodes: node-a, node-b, node-c");
    b.json("DELETE", "/api/v1/tunnels/" + made.getString("id"), null, 200);
  }

  @Test
  @Order(4)
  @DisplayName("a routed start with basic_auth is refused (400) when the event bus is plain; on its own node it starts")
  void basicAuthStaysLocal() throws Exception {
    HttpResponse<String> r = a.call("POST", "/api/v1/tunnels", stub("secret-" + System.nanoTime() % 100000)
        .put("type", "http").put("port", 9).put("basic_auth", "u:s3cr3t-pw").put("node", "node-b"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("message")).startsWith("basic_auth is not sent to another node")
        .doesNotContain("s3cr3t-pw");
  }

  @Test
  @Order(4)
  @DisplayName("webhooks fire once per event, from the owner; the other nodes record no delivery")
  void webhooksOnce() throws Exception {
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    com.sun.net.httpserver.HttpServer hook = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    hook.createContext("/hook", ex -> {
      ex.getRequestBody().readAllBytes();
      calls.incrementAndGet();
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    hook.start();
    try {
      String url = "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
      String id = a.json("POST", "/api/v1/tunnels", stub("hooked-" + System.nanoTime() % 100000)
          .put("callback_url", url), 201).getString("id");
      c.json("DELETE", "/api/v1/tunnels/" + id, null, 200);
      Timeouts.pollUntil(Duration.ofSeconds(10), "started and stopped delivered", () -> calls.get() >= 2);
      Timeouts.pollUntil(Duration.ofSeconds(5), "A's stopped event on B and C",
          () -> types(b, id).contains("stopped") && types(c, id).contains("stopped"));
      assertThat(calls.get()).isEqualTo(2);
      assertThat(a.json("GET", "/api/v1/webhooks/deliveries?tunnel_id=" + id, null, 200).getJsonArray("deliveries"))
          .hasSize(2);
      for (ClusterNode n : List.of(b, c)) {
        assertThat(n.json("GET", "/api/v1/webhooks/deliveries?tunnel_id=" + id, null, 200)
            .getJsonArray("deliveries")).isEmpty();
      }
    } finally {
      hook.stop(0);
    }
  }

  @Test
  @Order(5)
  @DisplayName("a second node under a name a live member holds does not start (after waiting out failure detection)")
  void nameTaken() throws Exception {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ClusterNode.start(clusterName, "node-a",
            List.of(a.hazelcastPort), s -> s.put("heartbeat_interval_seconds", 1).put("max_no_heartbeat_seconds", 2)))
        .hasMessageContaining("node name \"node-a\" is already taken by another member");
    Timeouts.pollUntil(Duration.ofSeconds(10), "the second node-a gone from B", () -> members(b).size() == 3);
    assertThat(members(b)).extracting(j -> j.getString("node")).containsExactly("node-a", "node-b", "node-c");
    assertThat(members(b)).allSatisfy(j -> assertThat(j.getBoolean("reachable")).isTrue());
  }

  @Test
  @Order(6)
  @DisplayName("a member that leaves with live tunnels: the others show them failed, naming the node, with one failed event")
  void memberLeaves() throws Exception {
    JsonObject made = c.json("POST", "/api/v1/tunnels", stub("leaving-" + System.nanoTime() % 100000), 201);
    String id = made.getString("id");
    Timeouts.pollUntil(Duration.ofSeconds(5), "C's tunnel known on A", () -> types(a, id).contains("started"));
    assertThat(find(a, id)).isNotNull();
    c.vertx().close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    for (ClusterNode n : List.of(a, b)) {
      Timeouts.pollUntil(Duration.ofSeconds(10), "C's tunnel failed on " + n.name,
          () -> types(n, id).contains("failed"));
      JsonObject s = n.json("GET", "/api/v1/tunnels/" + id, null, 200);
      assertThat(s.getString("status")).isEqualTo("failed");
      assertThat(s.getString("last_error")).isEqualTo("node node-c left the cluster");
      assertThat(find(n, id).getString("status")).isEqualTo("failed");
      assertThat(types(n, id)).containsExactly("started", "failed");
      HttpResponse<String> stop = n.call("DELETE", "/api/v1/tunnels/" + id, null);
      assertThat(stop.statusCode()).isEqualTo(503);
      assertThat(new JsonObject(stop.body()).getString("message")).contains("node-c");
      assertThat(members(n)).extracting(j -> j.getString("node")).containsExactly("node-a", "node-b");
    }
    HttpResponse<String> gone = a.call("POST", "/api/v1/tunnels", stub("to-gone").put("node", "node-c"));
    assertThat(gone.statusCode()).isEqualTo(400);
  }
}
