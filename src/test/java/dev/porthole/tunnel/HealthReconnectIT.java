package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.FaultProxy;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health checks and reconnection end to end (docs/api.md "Health and reconnect", portr-protocol §3.3, §5,
 * §6.6): relays restarted or gone for good, a stalled link, a relay that forgets a route, many
 * tunnels through many restarts, and {@code ?wait=ready}. Every test brings its own relay.
 */
class HealthReconnectIT {
  static final String ROUTE_LOST = "the relay lost the tunnel's route (404 unregistered-subdomain)";
  static Vertx vertx;
  static LocalBackend backend;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "local");
  }

  @AfterAll
  static void stop() throws Exception {
    backend.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("relay restarted on the same ports: http, pooled http and tcp tunnels go unhealthy, then running with "
      + "a reconnected event; http keeps its subdomain and serves by Host, tcp reports its new remote_port and tunnel_url")
  void relayRestarted(@TempDir Path dir) throws Exception {
    try (RestartableRelay relay = new RestartableRelay(dir);
         TestAppServer app = TestAppServer.start(relay.current, c -> {
           c.healthCheckInterval = 1;
           c.healthCheckMaxRetries = 10;
         })) {
      JsonObject single = app.create(new JsonObject().put("name", "single").put("port", backend.port())
          .put("subdomain", "rs-single").put("pool_size", 1));
      JsonObject pooled = app.create(new JsonObject().put("name", "pooled").put("port", backend.port())
          .put("subdomain", "rs-pooled").put("pool_size", 2));
      JsonObject tcp = app.create(new JsonObject().put("name", "rs-tcp").put("type", "tcp").put("port", backend.port()));
      Timeouts.pollUntil(Duration.ofSeconds(10), "two forwards for the pool", () -> backends(relay.current, "rs-pooled") == 2);
      int oldTcpPort = tcp.getInteger("remote_port");

      relay.restart();

      for (JsonObject t : List.of(single, tcp, pooled)) {
        String id = t.getString("id");
        awaitReconnected(app, id, t.getString("name"), Duration.ofSeconds(30));
        List<JsonObject> events = events(app, id);
        assertThat(types(events)).as("events of %s", t.getString("name")).startsWith("started", "unhealthy")
            .endsWith("reconnected").doesNotContain("failed", "stopped");
        JsonObject now = status(app, id);
        assertThat(now.getString("status")).isEqualTo("running");
        assertThat(now.containsKey("last_error")).as("last_error cleared").isFalse();
        JsonObject reconnected = events.get(events.size() - 1);
        assertThat(reconnected.getInteger("remote_port")).as("reconnected event vs GET").isEqualTo(now.getInteger("remote_port"));
        assertThat(reconnected.getString("tunnel_url")).as("reconnected event vs GET").isEqualTo(now.getString("tunnel_url"));
        if (t == tcp) {
          int port = now.getInteger("remote_port");
          assertThat(port).isBetween(30001, 40000);
          assertThat(now.getString("tunnel_url")).isEqualTo("localhost:" + port);
          assertThat(rawGet(port, "/after-restart")).as("tcp through the new relay, old port %d", oldTcpPort)
              .startsWith("HTTP/1.1 200").endsWith("hello from local");
        } else {
          String sub = t.getString("subdomain");
          assertThat(now.getString("subdomain")).isEqualTo(sub);
          assertThat(now.getString("tunnel_url")).isEqualTo(t.getString("tunnel_url"));
          HttpResponse<String> r = relay.current.edgeGet(sub, "/after-restart");
          assertThat(r.statusCode()).as("edge of the new relay for %s", sub).isEqualTo(200);
          assertThat(r.body()).isEqualTo("hello from local");
          assertThat(backend.hosts()).contains(relay.current.host(sub));
        }
      }
    }
  }

  @Test
  @DisplayName("relay gone for good: reconnect attempts at once, then after 1, 2, 4 s (+ jitter), then failed after "
      + "the configured 4 attempts with Portr's message; events started, unhealthy, failed")
  void relayGoneForGood(@TempDir Path dir) throws Exception {
    TestRelay relay = TestRelay.start(dir);
    int adminPort = relay.endpoints().adminPort();
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    HttpServer fakeAdmin = null;
    try (FaultProxy link = new FaultProxy(relay.sshPort());
         TestAppServer app = TestAppServer.start(relay, c -> {
           c.healthCheckInterval = 1;
           c.healthCheckMaxRetries = 4;
           c.sshUrl = "127.0.0.1:" + link.port();
         })) {
      String id = app.create(new JsonObject().put("name", "gone").put("type", "tcp").put("port", backend.port()))
          .getString("id");
      // The client must not notice the loss before the stand-in admin API listens: hold the link,
      // swap the admin API, then cut the link.
      link.hold();
      relay.close();
      relay = null;
      fakeAdmin = vertx.createHttpServer().requestHandler(req -> {
        if (req.method() == HttpMethod.POST && req.path().startsWith("/api/v1/connections")) {
          arrivals.add(System.nanoTime());
          req.response().setStatusCode(503).putHeader("Content-Type", "application/json").end("{\"message\":\"down\"}");
        } else {
          req.response().setStatusCode(404).end();
        }
      }).listen(adminPort, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      link.sever();

      Timeouts.pollUntil(Duration.ofSeconds(30), "the tunnel to fail", () -> "failed".equals(status(app, id).getString("status")));
      JsonObject failed = status(app, id);
      assertThat(failed.getString("last_error")).startsWith("failed to reconnect tunnel 'gone' after 4 attempts: ")
          .endsWith("server error: down");
      assertThat(arrivals).as("POST /api/v1/connections/ attempts").hasSize(4);
      long[] base = {1_000, 2_000, 4_000};
      for (int i = 1; i < 4; i++) {
        long gapMs = (arrivals.get(i) - arrivals.get(i - 1)) / 1_000_000L;
        assertThat(gapMs).as("gap before attempt %d", i + 1).isBetween(base[i - 1], base[i - 1] + 500 + 400);
      }
      List<JsonObject> events = events(app, id);
      assertThat(types(events)).containsExactly("started", "unhealthy", "failed");
      assertThat(events.get(2).getString("error")).isEqualTo(failed.getString("last_error")).endsWith("server error: down");
      assertThat(arrivals).as("no attempt after failing").hasSize(4);
    } finally {
      if (relay != null) {
        relay.close();
      }
      if (fakeAdmin != null) {
        fakeAdmin.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  @DisplayName("a stalled link (no FIN, no RST) is unhealthy within interval + 5 s with 'ssh keepalive timed out'; "
      + "once it moves again the tunnel reconnects and carries traffic")
  void stalledLink(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         FaultProxy proxy = new FaultProxy(relay.sshPort());
         TestAppServer app = TestAppServer.start(relay, c -> {
           c.healthCheckInterval = 1;
           c.healthCheckMaxRetries = 10;
           c.sshUrl = "127.0.0.1:" + proxy.port();
         })) {
      JsonObject t = app.create(new JsonObject().put("name", "stalled").put("port", backend.port())
          .put("subdomain", "stalled").put("pool_size", 1));
      String id = t.getString("id");
      assertThat(relay.edgeGet("stalled", "/before").body()).isEqualTo("hello from local");

      long begin = System.nanoTime();
      proxy.stall();
      Timeouts.pollUntil(Duration.ofSeconds(20), "the tunnel to turn unhealthy",
          () -> "unhealthy".equals(status(app, id).getString("status")));
      long tookMs = (System.nanoTime() - begin) / 1_000_000L;
      JsonObject unhealthy = status(app, id);
      assertThat(unhealthy.getString("last_error")).isEqualTo("ssh keepalive timed out");
      assertThat(tookMs).as("detection time (interval 1 s + keepalive 5 s + 2 s slack)").isLessThanOrEqualTo(1_000 + 5_000 + 2_000);

      proxy.resume();
      awaitReconnected(app, id, "stalled", Duration.ofSeconds(30));
      assertThat(types(events(app, id))).startsWith("started", "unhealthy").endsWith("reconnected");
      HttpResponse<String> r = relay.edgeGet("stalled", "/after");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from local");
    }
  }

  @Test
  @DisplayName("the relay drops the HTTP route while SSH stays up: the public ping notices, unhealthy with the "
      + "404 unregistered-subdomain reason, reconnected, and the edge serves the subdomain again")
  void routeLost(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         TestAppServer app = TestAppServer.start(relay, c -> {
           c.healthCheckInterval = 1;
           c.healthCheckMaxRetries = 10;
         })) {
      String id = app.create(new JsonObject().put("name", "routed").put("port", backend.port()).put("subdomain", "lost-route"))
          .getString("id");
      Timeouts.pollUntil(Duration.ofSeconds(10), "two forwards for the pool", () -> backends(relay, "lost-route") == 2);
      assertThat(relay.edgeGet("lost-route", "/before").statusCode()).isEqualTo(200);

      relay.verticle().registry().simulateLostRoute("lost-route");
      Timeouts.pollUntil(Duration.ofSeconds(5), "an unhealthy event for the lost route",
          () -> events(app, id).stream().anyMatch(e -> "unhealthy".equals(e.getString("type"))
              && ROUTE_LOST.equals(e.getString("error"))));
      awaitReconnected(app, id, "routed", Duration.ofSeconds(20));
      List<JsonObject> events = events(app, id);
      assertThat(types(events)).startsWith("started", "unhealthy").endsWith("reconnected").doesNotContain("failed");
      assertThat(events.get(1).getString("error")).isEqualTo(ROUTE_LOST);
      HttpResponse<String> r = relay.edgeGet("lost-route", "/after");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from local");
    }
  }

  @Test
  @DisplayName("20 tunnels (http and tcp) through 5 relay restarts: all running after each; every event sequence is "
      + "started, (unhealthy → reconnected)*, stopped, with exactly one stopped each")
  void manyTunnelsManyRestarts(@TempDir Path dir) throws Exception {
    int count = 20;
    int restarts = 5;
    try (RestartableRelay relay = new RestartableRelay(dir);
         TestAppServer app = TestAppServer.start(relay.current, c -> {
           c.healthCheckInterval = 1;
           c.healthCheckMaxRetries = 10;
         })) {
      Map<String, String> kinds = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        JsonObject req = new JsonObject().put("name", "many-" + i).put("port", backend.port()).put("pool_size", 1);
        if (i % 2 == 0) {
          req.put("subdomain", "many-" + i);
        } else {
          req.put("type", "tcp");
        }
        JsonObject t = app.create(req);
        assertThat(t.getString("status")).isEqualTo("running");
        kinds.put(t.getString("id"), i % 2 == 0 ? "http" : "tcp");
      }
      // The event log keeps the last 200 events process-wide; 20 tunnels through 5 restarts make
      // more, so the log is read as it grows (?since=) and checked to have no gap.
      EventTrail trail = new EventTrail(app);
      trail.poll();
      for (int k = 1; k <= restarts; k++) {
        relay.restart();
        int round = k;
        Timeouts.pollUntil(Duration.ofSeconds(30), "all " + count + " tunnels running again after restart " + k, () -> {
          trail.poll();
          for (String id : kinds.keySet()) {
            if (trail.count(id, "reconnected") < round || !"running".equals(trail.lastStatus(id))) {
              return false;
            }
          }
          return allRunning(app, kinds.keySet());
        });
      }
      assertThat(allRunning(app, kinds.keySet())).isTrue();
      int h = 0;
      for (Map.Entry<String, String> k : kinds.entrySet()) {
        if (k.getValue().equals("http") && h++ < 2) {
          String sub = status(app, k.getKey()).getString("subdomain");
          assertThat(relay.current.edgeGet(sub, "/end").body()).isEqualTo("hello from local");
        }
      }

      for (String id : kinds.keySet()) {
        HttpResponse<String> r = app.send("DELETE", "/api/v1/tunnels/" + id, null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(r.body()).getString("status")).isEqualTo("stopped");
      }
      trail.poll();
      for (String id : kinds.keySet()) {
        List<JsonObject> seq = trail.of(id);
        assertWellFormed(kinds.get(id) + " tunnel " + id, seq);
        assertThat(trail.count(id, "reconnected")).as("reconnections of %s", id).isEqualTo(restarts);
        assertThat(trail.count(id, "stopped")).as("stopped events of %s", id).isEqualTo(1);
        List<JsonObject> byGet = events(app, id);
        assertThat(byGet).as("GET ?tunnel_id= of %s is the tail of the full trail", id).isNotEmpty();
        assertThat(seq.subList(seq.size() - byGet.size(), seq.size())).isEqualTo(byGet);
      }
    }
  }

  @Test
  @DisplayName("POST ?wait=ready answers 201 running once the public side works (http by Host, tcp by remote_port); "
      + "a tunnel that never comes up gets 504 after the timeout and stays listed; bad wait/timeout get 400")
  void waitReady(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir);
         TestAppServer app = TestAppServer.start(relay)) {
      HttpResponse<String> web = app.send("POST", "/api/v1/tunnels?wait=ready&timeout=10",
          new JsonObject().put("name", "ready-web").put("port", backend.port()).put("subdomain", "ready-web").encode());
      assertThat(web.statusCode()).as(web.body()).isEqualTo(201);
      assertThat(new JsonObject(web.body()).getString("status")).isEqualTo("running");
      HttpResponse<String> viaEdge = relay.edgeGet("ready-web", "/ready");
      assertThat(viaEdge.statusCode()).isEqualTo(200);
      assertThat(viaEdge.body()).isEqualTo("hello from local");

      HttpResponse<String> tcp = app.send("POST", "/api/v1/tunnels?wait=ready&timeout=10",
          new JsonObject().put("name", "ready-tcp").put("type", "tcp").put("port", backend.port()).encode());
      assertThat(tcp.statusCode()).as(tcp.body()).isEqualTo(201);
      JsonObject tcpStatus = new JsonObject(tcp.body());
      assertThat(tcpStatus.getString("status")).isEqualTo("running");
      assertThat(rawGet(tcpStatus.getInteger("remote_port"), "/ready")).startsWith("HTTP/1.1 200").endsWith("hello from local");

      int listed = tunnels(app).size();
      HttpResponse<String> later = app.send("POST", "/api/v1/tunnels?wait=later",
          new JsonObject().put("port", backend.port()).encode());
      assertThat(later.statusCode()).isEqualTo(400);
      assertThat(later.body()).isEqualTo("{\"message\":\"wait must be ready\"}");
      HttpResponse<String> zero = app.send("POST", "/api/v1/tunnels?wait=ready&timeout=0",
          new JsonObject().put("port", backend.port()).encode());
      assertThat(zero.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(zero.body()).getString("message")).startsWith("timeout must be");
      assertThat(tunnels(app)).as("refused requests start nothing").hasSize(listed);

      try (ServerSocket blackHole = new ServerSocket(0);
           TestAppServer stuck = TestAppServer.start(relay, c -> c.sshUrl = "127.0.0.1:" + blackHole.getLocalPort())) {
        long begin = System.nanoTime();
        HttpResponse<String> never = stuck.send("POST", "/api/v1/tunnels?wait=ready&timeout=2",
            new JsonObject().put("name", "never-ready").put("type", "tcp").put("port", backend.port()).encode());
        long tookMs = (System.nanoTime() - begin) / 1_000_000L;
        assertThat(never.statusCode()).as(never.body()).isEqualTo(504);
        assertThat(never.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(new JsonObject(never.body()).getString("message")).isNotBlank();
        JsonObject listedNever = tunnels(stuck).stream().filter(t -> "never-ready".equals(t.getString("name")))
            .findFirst().orElseThrow(() -> new AssertionError("never-ready not listed"));
        assertThat(listedNever.getString("status")).isNotEqualTo("stopped");
        assertThat(tookMs).as("504 after timeout=2 s (docs/api.md: 504 after S seconds)").isBetween(2_000L, 3_500L);
      }
    }
  }

  // --- helpers -------------------------------------------------------------------------------

  /** A relay that can be closed and started again on the same ports and data directory. */
  static final class RestartableRelay implements AutoCloseable {
    final Path dir;
    final int adminPort;
    final int sshPort;
    final int httpPort;
    TestRelay current;

    RestartableRelay(Path dir) throws Exception {
      this.dir = dir;
      this.current = TestRelay.start(dir);
      this.adminPort = current.endpoints().adminPort();
      this.sshPort = current.endpoints().sshPort();
      this.httpPort = current.endpoints().httpPort();
    }

    void restart() throws Exception {
      TestRelay old = current;
      current = null;
      old.close();
      current = TestRelay.start(dir, r -> r.put("admin_port", adminPort).put("ssh_port", sshPort).put("http_port", httpPort));
    }

    @Override
    public void close() throws Exception {
      if (current != null) {
        current.close();
      }
    }
  }

  /** Every recorded event, read incrementally with {@code ?since=}, checked to have no sequence gap. */
  static final class EventTrail {
    final TestAppServer app;
    final List<JsonObject> all = new ArrayList<>();
    final Map<String, List<JsonObject>> byTunnel = new HashMap<>();
    long lastSeq;

    EventTrail(TestAppServer app) {
      this.app = app;
    }

    void poll() {
      JsonArray got = call(() -> new JsonObject(app.send("GET", "/api/v1/events?since=" + lastSeq, null).body()))
          .getJsonArray("events");
      for (Object o : got) {
        JsonObject e = (JsonObject) o;
        long seq = e.getLong("seq");
        assertThat(seq).as("events read in order without a gap (the log keeps 200)").isEqualTo(lastSeq + 1);
        lastSeq = seq;
        all.add(e);
        byTunnel.computeIfAbsent(e.getString("tunnel_id"), k -> new ArrayList<>()).add(e);
      }
    }

    List<JsonObject> of(String id) {
      return byTunnel.getOrDefault(id, List.of());
    }

    long count(String id, String type) {
      return of(id).stream().filter(e -> type.equals(e.getString("type"))).count();
    }

    /** The status the last event implies. */
    String lastStatus(String id) {
      List<JsonObject> l = of(id);
      if (l.isEmpty()) {
        return "";
      }
      String t = l.get(l.size() - 1).getString("type");
      return t.equals("started") || t.equals("reconnected") ? "running" : t;
    }
  }

  /** started, then (unhealthy+ → reconnected)*, an unhealthy repeated only with another error, nothing after stopped. */
  static void assertWellFormed(String what, List<JsonObject> events) {
    List<String> types = types(events);
    assertThat(types).as("%s: %s", what, types).isNotEmpty();
    assertThat(types.get(0)).as("%s starts with started: %s", what, types).isEqualTo("started");
    String previous = "started";
    String previousError = "";
    for (int i = 1; i < events.size(); i++) {
      String type = types.get(i);
      String error = events.get(i).getString("error", "");
      assertThat(previous).as("%s: nothing after stopped: %s", what, types).isNotEqualTo("stopped");
      switch (type) {
        case "unhealthy" -> {
          assertThat(error).as("%s: unhealthy carries its reason", what).isNotEmpty();
          if (previous.equals("unhealthy")) {
            assertThat(error).as("%s: a repeated unhealthy has another error: %s", what, types).isNotEqualTo(previousError);
          }
        }
        case "reconnected" -> assertThat(previous).as("%s: reconnected follows unhealthy: %s", what, types).isEqualTo("unhealthy");
        case "stopped" -> { }
        default -> throw new AssertionError(what + ": unexpected " + type + " in " + types);
      }
      previous = type;
      previousError = error;
    }
  }

  static void awaitReconnected(TestAppServer app, String id, String name, Duration limit) {
    try {
      Timeouts.pollUntil(limit, name + " running again with a reconnected event", () -> {
        List<String> types = types(events(app, id));
        return types.contains("unhealthy") && types.contains("reconnected")
            && types.lastIndexOf("reconnected") > types.indexOf("unhealthy")
            && "running".equals(status(app, id).getString("status"));
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; status " + status(app, id).encode() + "; events "
          + types(events(app, id)) + " " + events(app, id).stream().map(ev -> ev.getString("error", "")).toList(), e);
    }
  }

  static boolean allRunning(TestAppServer app, Iterable<String> ids) {
    Map<String, String> statuses = new HashMap<>();
    for (JsonObject t : tunnels(app)) {
      statuses.put(t.getString("id"), t.getString("status"));
    }
    for (String id : ids) {
      if (!"running".equals(statuses.get(id))) {
        return false;
      }
    }
    return true;
  }

  static int backends(TestRelay relay, String subdomain) {
    var route = relay.verticle().registry().route(subdomain);
    return route == null ? 0 : route.backends().size();
  }

  static JsonObject status(TestAppServer app, String id) {
    return call(() -> app.get(id));
  }

  static List<JsonObject> events(TestAppServer app, String id) {
    return call(() -> app.events(id)).getJsonArray("events").stream().map(JsonObject.class::cast).toList();
  }

  static List<JsonObject> tunnels(TestAppServer app) {
    return call(() -> new JsonObject(app.send("GET", "/api/v1/tunnels", null).body())).getJsonArray("tunnels").stream()
        .map(JsonObject.class::cast).toList();
  }

  static List<String> types(List<JsonObject> events) {
    return events.stream().map(e -> e.getString("type")).toList();
  }

  /** An HTTP/1.1 GET over a plain socket to a tcp tunnel's public port (the local service speaks HTTP). */
  static String rawGet(int port, String path) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: tcp-tunnel\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static <T> T call(Callable<T> c) {
    try {
      return c.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
