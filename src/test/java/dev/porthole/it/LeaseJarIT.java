package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tunnel leases from the shaded jar with its embedded relay, as a CI script would use them. */
class LeaseJarIT {
  @TempDir
  Path home;
  Vertx vertx;
  JarProcess app;
  String api;
  Process owner;
  final List<JsonObject> hooks = new CopyOnWriteArrayList<>();
  String hook;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      hooks.add(b.toJsonObject());
      req.response().end();
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    hook = "http://127.0.0.1:" + receiver.actualPort() + "/hook";
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml");
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
  }

  @AfterEach
  void stop() throws Exception {
    if (owner != null) {
      owner.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    app.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject stub(String subdomain, JsonObject lease) throws Exception {
    JsonObject body = new JsonObject().put("type", "stub").put("subdomain", subdomain)
        .put("response_format", "text/plain").put("response_tmpl", "ok").put("callback_url", hook).mergeIn(lease);
    HttpResponse<String> r = call("POST", "/api/v1/tunnels", body.encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new JsonObject(r.body());
  }

  private JsonObject stoppedHook(String id, Duration limit) {
    JsonObject[] found = new JsonObject[1];
    Timeouts.pollUntil(limit, "the stopped callback of " + id, () -> {
      for (JsonObject e : hooks) {
        if (id.equals(e.getString("tunnel_id")) && "stopped".equals(e.getString("type"))) {
          found[0] = e;
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  @Test
  @DisplayName("jar: a stub with ttl_seconds stops by itself within 1 s of expires_at, and its stopped callback, event "
      + "and log line say reason expired; one with owner_pid stops within 2 s of that process's exit (owner_exited)")
  void leases() throws Exception {
    // Warm-up: the first tunnel of a fresh process is the slowest to start.
    call("DELETE", "/api/v1/tunnels/" + stub("lease-warm", new JsonObject()).getString("id"), null);

    JsonObject t = stub("lease-ttl", new JsonObject().put("ttl_seconds", 3));
    String id = t.getString("id");
    assertThat(t.getString("status")).isEqualTo("running");
    Instant expiresAt = Instant.parse(t.getString("expires_at"));
    JsonObject e = stoppedHook(id, Duration.ofSeconds(10));
    assertThat(e.getString("reason")).isEqualTo("expired");
    assertThat(Duration.between(expiresAt, Instant.parse(e.getString("at"))))
        .isBetween(Duration.ZERO, Duration.ofSeconds(1));
    JsonObject events = new JsonObject(call("GET", "/api/v1/events?tunnel_id=" + id, null).body());
    assertThat(events.getJsonArray("events").getJsonObject(1).getString("reason")).isEqualTo("expired");
    app.await("App-server tunnel event event=stopped tunnel_id=" + id + " .*reason=expired", Duration.ofSeconds(5));

    owner = new ProcessBuilder("sleep", "600").start();
    JsonObject o = stub("lease-owner", new JsonObject().put("owner_pid", owner.pid()));
    assertThat(o.getLong("owner_pid")).isEqualTo(owner.pid());
    owner.destroy();
    assertThat(owner.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Instant exited = Instant.now();
    JsonObject oe = stoppedHook(o.getString("id"), Duration.ofSeconds(5));
    assertThat(oe.getString("reason")).isEqualTo("owner_exited");
    assertThat(Duration.between(exited, Instant.parse(oe.getString("at")))).isLessThanOrEqualTo(Duration.ofSeconds(2));
    JsonObject status = new JsonObject(call("GET", "/api/v1/tunnels/" + o.getString("id"), null).body());
    assertThat(status.getString("status")).isEqualTo("stopped");

    HttpResponse<String> renew = call("POST", "/api/v1/tunnels/" + o.getString("id") + "/renew", "{\"ttl_seconds\":60}");
    assertThat(renew.statusCode()).isEqualTo(409);
  }
}
