package dev.porthole.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.auth.Guard;
import dev.porthole.config.ConfigDefaults;
import dev.porthole.config.AuthConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The bridge's back room takes nobody without the front's key: no request, no upgrade. */
@ExtendWith(VertxExtension.class)
class BackRoomTest {
  private EventBusBridge bridge;
  /** Held by the test: Vert.x 5 closes a client that nothing references once the GC finds it. */
  private io.vertx.core.http.WebSocketClient wsClient;
  private HttpClient keep;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    Guard guard = new Guard(vertx, "", AuthConfig.from(ConfigDefaults.tree()), "127.0.0.1");
    bridge = new EventBusBridge(vertx, guard, body -> Future.succeededFuture(new JsonObject()));
    bridge.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    bridge.stop().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void aRequestWithoutTheKeyIsRefused(Vertx vertx, VertxTestContext ctx) {
    HttpClient http = vertx.createHttpClient();
    keep = http;
    http.request(HttpMethod.GET, bridge.backRoomPort(), "127.0.0.1", "/eventbus/info")
        .compose(req -> req.send())
        .onComplete(ctx.succeeding(res -> ctx.verify(() -> {
          assertThat(res.statusCode()).isEqualTo(403);
          ctx.completeNow();
        })));
  }

  @Test
  void anUpgradeWithoutTheKeyIsRefused(Vertx vertx, VertxTestContext ctx) {
    wsClient = vertx.createWebSocketClient();
    wsClient.connect(new WebSocketConnectOptions().setHost("127.0.0.1")
            .setPort(bridge.backRoomPort()).setURI("/eventbus/websocket")
            .addHeader("X-Porthole-Bridge-Scopes", "tunnels:read,tunnels:write"))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(UpgradeRejectedException.class);
          assertThat(((UpgradeRejectedException) err).getStatus()).isEqualTo(403);
          ctx.completeNow();
        })));
  }
}
