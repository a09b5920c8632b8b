package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import dev.porthole.tunnel.HealthReconnectIT.RestartableRelay;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tunnel leases end to end through a real relay (docs/api.md "Leases"): ttl_seconds expiry, renew,
 * owner_pid, their errors, and a lease kept through a reconnect. Each stopped event is awaited on
 * the lifecycle address itself, so its timing is the manager's own.
 */
class LeaseIT {
  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static LocalBackend backend;
  /** Each tunnel's stopped event, completed by the lifecycle consumer. */
  static final Map<String, CompletableFuture<JsonObject>> stopped = new ConcurrentHashMap<>();
  static MessageConsumer<JsonObject> lifecycle;
  Process owner;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir.resolve("relay"));
    app = TestAppServer.start(relay);
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "local");
    lifecycle = app.vertx().eventBus().<JsonObject>consumer(Addresses.TUNNELS_LIFECYCLE, m -> {
      if ("stopped".equals(m.body().getString("type"))) {
        stoppedEvent(m.body().getString("tunnel_id")).complete(m.body());
      }
    });
    lifecycle.completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    // A first tunnel warms the path up, so a short ttl below does not run out while its tunnel starts.
    app.send("DELETE", "/api/v1/tunnels/" + app.create(tcp("lease-warm-up")).getString("id"), null);
  }

  @AfterAll
  static void stop() throws Exception {
    app.close();
    relay.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void noOwner() {
    owner = null;
  }

  @AfterEach
  void killOwner() throws Exception {
    if (owner != null) {
      owner.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  static CompletableFuture<JsonObject> stoppedEvent(String id) {
    return stopped.computeIfAbsent(id, k -> new CompletableFuture<>());
  }

  private static JsonObject tcp(String name) {
    return new JsonObject().put("name", name).put("type", "tcp").put("host", "127.0.0.1").put("port", backend.port())
        .put("pool_size", 1);
  }

  private static JsonObject awaitStopped(String id, Duration limit) throws Exception {
    return stoppedEvent(id).get(Timeouts.scaled(limit).toMillis(), TimeUnit.MILLISECONDS);
  }

  private static Instant time(JsonObject j, String key) {
    return Instant.parse(j.getString(key));
  }

  private static int tunnelCount() throws Exception {
    return new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").size();
  }

  @Test
  @DisplayName("ttl_seconds: expires_at = started_at + ttl in the status; the tunnel stops by itself then, with a "
      + "stopped event carrying reason expired within 1 s of expires_at; the status keeps expires_at")
  void expires() throws Exception {
    JsonObject t = app.create(tcp("lease-expire").put("ttl_seconds", 3));
    String id = t.getString("id");
    assertThat(t.getString("status")).isEqualTo("running");
    Instant expiresAt = time(t, "expires_at");
    assertThat(expiresAt).isEqualTo(time(t, "started_at").plusSeconds(3));
    assertThat(t.fieldNames()).as("after Portr's keys, before the access URLs")
        .containsSubsequence("updated_at", "expires_at", "proxy_url");
    assertThat(t.containsKey("owner_pid")).isFalse();

    JsonObject e = awaitStopped(id, Duration.ofSeconds(10));
    assertThat(e.getString("reason")).isEqualTo("expired");
    assertThat(e.fieldNames()).endsWith("at", "seq", "reason");
    assertThat(Duration.between(expiresAt, time(e, "at"))).as("stopped after expires_at")
        .isBetween(Duration.ZERO, Duration.ofSeconds(1));
    JsonObject after = app.get(id);
    assertThat(after.getString("status")).isEqualTo("stopped");
    assertThat(after.getString("expires_at")).isEqualTo(t.getString("expires_at"));
    assertThat(app.events(id).getJsonArray("events").stream().map(o -> ((JsonObject) o).getString("type")))
        .containsExactly("started", "stopped");
  }

  @Test
  @DisplayName("renew: a tunnel without a ttl gets one; a second renewal moves expires_at to now + ttl; the tunnel "
      + "stops at the renewed time, not the first; GET and the list show each renewal, updated_at stays")
  void renew() throws Exception {
    JsonObject t = app.create(tcp("lease-renew"));
    String id = t.getString("id");
    assertThat(t.containsKey("expires_at")).isFalse();
    JsonObject first = renewOk(id, 2);
    Instant before = Instant.now();
    JsonObject second = renewOk(id, 4);
    Instant expiresAt = time(second, "expires_at");
    assertThat(expiresAt).isAfter(time(first, "expires_at"))
        .isBetween(before.plusSeconds(4).minusMillis(50), Instant.now().plusSeconds(4));
    assertThat(second.getString("status")).isEqualTo("running");
    assertThat(second.getString("updated_at")).as("a renewal is not a lifecycle change")
        .isEqualTo(t.getString("updated_at"));
    assertThat(app.get(id).getString("expires_at")).as("GET shows the renewal").isEqualTo(second.getString("expires_at"));
    JsonObject listed = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").stream()
        .map(JsonObject.class::cast).filter(s -> id.equals(s.getString("id"))).findFirst().orElseThrow();
    assertThat(listed.getString("expires_at")).as("the list shows the renewal").isEqualTo(second.getString("expires_at"));

    JsonObject e = awaitStopped(id, Duration.ofSeconds(10));
    assertThat(e.getString("reason")).isEqualTo("expired");
    assertThat(Duration.between(expiresAt, time(e, "at"))).isBetween(Duration.ZERO, Duration.ofSeconds(1));
  }

  private static JsonObject renewOk(String id, int ttl) throws Exception {
    HttpResponse<String> r = app.send("POST", "/api/v1/tunnels/" + id + "/renew", "{\"ttl_seconds\":" + ttl + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  @Test
  @DisplayName("renew errors: 409 on a stopped tunnel (expiry unchanged), 404 unknown, 400 bad body (nothing changed), "
      + "405 other methods")
  void renewErrors() throws Exception {
    JsonObject t = app.create(tcp("lease-409").put("ttl_seconds", 600));
    String id = t.getString("id");
    HttpResponse<String> bad = app.send("POST", "/api/v1/tunnels/" + id + "/renew", "{\"ttl_seconds\":604801}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).isEqualTo("{\"message\":\"ttl_seconds must be an integer between 1 and 604800\"}");
    assertThat(app.send("POST", "/api/v1/tunnels/" + id + "/renew", "{}").body())
        .isEqualTo("{\"message\":\"ttl_seconds is required\"}");
    assertThat(app.send("POST", "/api/v1/tunnels/" + id + "/renew", "nope").body())
        .isEqualTo("{\"message\":\"invalid JSON body\"}");
    assertThat(app.get(id).getString("expires_at")).as("unchanged by bad renewals").isEqualTo(t.getString("expires_at"));
    assertThat(app.send("GET", "/api/v1/tunnels/" + id + "/renew", null).statusCode()).isEqualTo(405);

    assertThat(app.send("DELETE", "/api/v1/tunnels/" + id, null).statusCode()).isEqualTo(200);
    JsonObject e = awaitStopped(id, Duration.ofSeconds(10));
    assertThat(e.containsKey("reason")).as("a stop asked for carries no reason").isFalse();
    HttpResponse<String> conflict = app.send("POST", "/api/v1/tunnels/" + id + "/renew", "{\"ttl_seconds\":60}");
    assertThat(conflict.statusCode()).isEqualTo(409);
    assertThat(new JsonObject(conflict.body()).getString("message"))
        .isEqualTo("tunnel is stopped: only a starting, running or unhealthy tunnel can be renewed");
    assertThat(app.get(id).getString("expires_at")).isEqualTo(t.getString("expires_at"));

    HttpResponse<String> unknown = app.send("POST", "/api/v1/tunnels/01NOPE/renew", "{\"ttl_seconds\":60}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("{\"message\":\"tunnel not found\"}");
  }

  @Test
  @DisplayName("bad lease values on POST → 400 with a clear message, and no tunnel is created")
  void badValues() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    assertThat(gone.waitFor(10, TimeUnit.SECONDS)).isTrue();
    int before = tunnelCount();
    Map<String, String> cases = Map.of(
        "\"ttl_seconds\":0", "ttl_seconds must be an integer between 1 and 604800",
        "\"ttl_seconds\":604801", "ttl_seconds must be an integer between 1 and 604800",
        "\"ttl_seconds\":\"60\"", "ttl_seconds must be an integer between 1 and 604800",
        "\"ttl_seconds\":2.5", "ttl_seconds must be an integer between 1 and 604800",
        "\"owner_pid\":-1", "owner_pid must be a positive integer",
        "\"owner_pid\":\"1\"", "owner_pid must be a positive integer",
        "\"owner_pid\":" + gone.pid(), "owner_pid " + gone.pid() + " is not a running process");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<String> r = app.send("POST", "/api/v1/tunnels",
          "{\"type\":\"tcp\",\"port\":" + backend.port() + "," + c.getKey() + "}");
      assertThat(r.statusCode()).as(c.getKey()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("message")).as(c.getKey()).isEqualTo(c.getValue());
    }
    assertThat(tunnelCount()).as("nothing created").isEqualTo(before);
  }

  @Test
  @DisplayName("owner_pid: the status names it; killing that process stops the tunnel within 2 s, reason owner_exited; "
      + "a second tunnel of the same owner stops too")
  void ownerExits() throws Exception {
    owner = new ProcessBuilder("sleep", "600").start();
    JsonObject a = app.create(tcp("lease-owner-a").put("owner_pid", owner.pid()));
    JsonObject b = app.create(tcp("lease-owner-b").put("owner_pid", owner.pid()).put("ttl_seconds", 600));
    assertThat(a.getLong("owner_pid")).isEqualTo(owner.pid());
    assertThat(a.containsKey("expires_at")).isFalse();
    assertThat(a.getString("status")).isEqualTo("running");

    owner.destroy();
    assertThat(owner.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Instant exited = Instant.now();
    for (JsonObject t : new JsonObject[] {a, b}) {
      JsonObject e = awaitStopped(t.getString("id"), Duration.ofSeconds(5));
      assertThat(e.getString("reason")).isEqualTo("owner_exited");
      assertThat(Duration.between(exited, time(e, "at"))).as("stopped within 2 s of the exit")
          .isLessThanOrEqualTo(Duration.ofSeconds(2));
      assertThat(app.get(t.getString("id")).getString("status")).isEqualTo("stopped");
    }
  }

  @Test
  @DisplayName("an owner that stays alive keeps its tunnel running past several owner checks")
  void ownerAlive() throws Exception {
    owner = new ProcessBuilder("sleep", "600").start();
    JsonObject t = app.create(tcp("lease-owner-alive").put("owner_pid", owner.pid()));
    // Three owner checks (one a second) pass, each seen by a lease-less tunnel expiring meanwhile.
    JsonObject marker = app.create(tcp("lease-marker").put("ttl_seconds", 3));
    awaitStopped(marker.getString("id"), Duration.ofSeconds(10));
    assertThat(stoppedEvent(t.getString("id"))).isNotDone();
    assertThat(app.get(t.getString("id")).getString("status")).isEqualTo("running");
  }

  @Test
  @DisplayName("a lease survives a reconnect: relay restarted, the tunnel reconnects with the same expires_at and "
      + "still stops at it with reason expired")
  void throughReconnect(@TempDir Path own) throws Exception {
    try (RestartableRelay restartable = new RestartableRelay(own);
         TestAppServer server = TestAppServer.start(restartable.current, c -> {
           c.healthCheckInterval = 1;
           c.healthCheckMaxRetries = 10;
         })) {
      CompletableFuture<JsonObject> done = new CompletableFuture<>();
      server.vertx().eventBus().<JsonObject>consumer(Addresses.TUNNELS_LIFECYCLE, m -> {
        if ("stopped".equals(m.body().getString("type"))) {
          done.complete(m.body());
        }
      }).completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      JsonObject t = server.create(tcp("lease-reconnect").put("ttl_seconds", 12));
      String id = t.getString("id");
      restartable.restart();
      HealthReconnectIT.awaitReconnected(server, id, "lease-reconnect", Duration.ofSeconds(20));
      JsonObject now = server.get(id);
      assertThat(now.getString("status")).isEqualTo("running");
      assertThat(now.getString("expires_at")).isEqualTo(t.getString("expires_at"));
      JsonObject e = done.get(Timeouts.scaled(Duration.ofSeconds(40)).toMillis(), TimeUnit.MILLISECONDS);
      assertThat(e.getString("tunnel_id")).isEqualTo(id);
      assertThat(e.getString("reason")).isEqualTo("expired");
      assertThat(Duration.between(time(t, "expires_at"), time(e, "at"))).isBetween(Duration.ZERO, Duration.ofSeconds(1));
    }
  }
}
