package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.io.DataInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code porthole connect}'s listener mode in this JVM, against a live app-server: what it keeps track of. */
class ConnectListenerIT {
  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static NetServer echo;
  static String wsUrl;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    vertx = Vertx.vertx();
    echo = vertx.createNetServer().connectHandler(so -> {
      so.handler(so::write);
      so.endHandler(v -> so.end());
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    JsonObject t = app.create(new JsonObject().put("type", "tcp").put("host", "127.0.0.1")
        .put("port", echo.actualPort()).put("pool_size", 1));
    wsUrl = t.getString("websocket_url");
  }

  @AfterAll
  static void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("a local connection that ends takes its WebSocket out of the listener's open set (no leak)")
  void closedSocketsAreForgotten() throws Exception {
    ConnectCommand.Listener listener = new ConnectCommand.Listener(vertx, wsUrl, "");
    int port = listener.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<Socket> locals = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        locals.add(s);
        byte[] hello = ("hello " + i).getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(hello);
        byte[] back = new byte[hello.length];
        new DataInputStream(s.getInputStream()).readFully(back);
        assertThat(back).isEqualTo(hello);
      }
      assertThat(listener.openSockets()).isEqualTo(5);
      for (Socket s : locals) {
        s.close();
      }
      Timeouts.pollUntil(Duration.ofSeconds(10), "no open WebSockets after the local connections closed, "
          + "still " + listener.openSockets(), () -> listener.openSockets() == 0);
      // Still serving afterwards.
      try (Socket again = new Socket("127.0.0.1", port)) {
        again.setSoTimeout(10_000);
        again.getOutputStream().write("again".getBytes(StandardCharsets.UTF_8));
        byte[] back = new byte[5];
        new DataInputStream(again.getInputStream()).readFully(back);
        assertThat(new String(back, StandardCharsets.UTF_8)).isEqualTo("again");
        assertThat(listener.openSockets()).isEqualTo(1);
      }
      Timeouts.pollUntil(Duration.ofSeconds(10), "the last WebSocket forgotten", () -> listener.openSockets() == 0);
    } finally {
      for (Socket s : locals) {
        s.close();
      }
    }
  }
}
