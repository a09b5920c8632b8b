package dev.porthole.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** WebSocket upgrades through the /p/{id}/ view (port-forward-access.md: "WebSocket upgrades on /p/{id}/… pass through"). */
class AccessWebSocketIT {
  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static LocalBackend backend;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "ws-view");
  }

  @AfterAll
  static void stop() throws Exception {
    app.close();
    relay.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static WebSocketConnectOptions at(String path) {
    URI base = URI.create(app.base());
    return new WebSocketConnectOptions().setHost(base.getHost()).setPort(base.getPort()).setURI(path);
  }

  @Test
  @DisplayName("a WebSocket opened on /p/{id}/echo reaches the target's /echo and text frames come back as text")
  void echoThroughView() throws Exception {
    JsonObject t = app.create(new JsonObject().put("type", "tcp").put("port", backend.port()));
    WebSocket ws = vertx.createWebSocketClient().connect(at("/p/" + t.getString("id") + "/echo"))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    CompletableFuture<String> reply = new CompletableFuture<>();
    ws.textMessageHandler(reply::complete);
    ws.writeTextMessage("through-the-view");
    assertThat(reply.get(10, TimeUnit.SECONDS)).isEqualTo("echo:through-the-view");
    ws.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("refused before the upgrade: 404 unknown tunnel, 409 stopped tunnel, 502 target down")
  void refusals() throws Exception {
    assertThat(status("/p/NOPE/echo")).isEqualTo(404);
    JsonObject stopped = app.create(new JsonObject().put("type", "tcp").put("port", backend.port()));
    app.send("DELETE", "/api/v1/tunnels/" + stopped.getString("id"), null);
    assertThat(status("/p/" + stopped.getString("id") + "/echo")).isEqualTo(409);
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    JsonObject down = app.create(new JsonObject().put("type", "tcp").put("port", closed));
    assertThat(status("/p/" + down.getString("id") + "/echo")).isEqualTo(502);
  }

  private static int status(String path) throws Exception {
    try {
      vertx.createWebSocketClient().connect(at(path)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      return 101;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UpgradeRejectedException r) {
        return r.getStatus();
      }
      throw e;
    }
  }
}
