package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.config.ConfigDefaults;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code porthole connect} run from the fat jar, as a user would, against a live app-server. */
class ConnectJarIT {

  static final String TOKEN = "connect-jar-it-token-0123456789";

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static NetServer echo;
  static String echoId;
  static int tokenPort;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    echo = app.vertx().createNetServer().connectHandler(so -> {
      so.handler(so::write);
      so.endHandler(v -> so.end());
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    echoId = app.create(new JsonObject().put("type", "tcp").put("host", "127.0.0.1")
        .put("port", echo.actualPort()).put("pool_size", 1)).getString("id");
    HttpVerticle http = new HttpVerticle();
    app.vertx().deployVerticle(http, new DeploymentOptions().setConfig(new JsonObject()
        .put("host", "127.0.0.1").put("port", 0).put("token", TOKEN).put("relay", "configured")
        .put("settings", ConfigDefaults.tree()))).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    tokenPort = http.actualPort();
  }

  @AfterAll
  static void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  @DisplayName("connect --listen: bytes written to the local port come back from the echo service, unchanged")
  void listenerEchoes() throws Exception {
    try (JarProcess p = JarProcess.start(dir, "connect", echoId, "--api", app.base())) {
      int port = Integer.parseInt(p.await("listening 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(30)));
      byte[] payload = new byte[256 * 1024];
      new Random(7).nextBytes(payload);
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        Thread writer = new Thread(() -> {
          try {
            out.write(payload);
            out.flush();
          } catch (Exception ignored) {
            // the read below fails with the reason
          }
        });
        writer.start();
        byte[] back = new byte[payload.length];
        new DataInputStream(s.getInputStream()).readFully(back);
        writer.join(10_000);
        assertThat(back).isEqualTo(payload);
      }
      assertThat(p.terminate(Duration.ofSeconds(20))).isIn(0, 130, 143);
    }
  }

  @Test
  @DisplayName("connect to an unknown id or name exits 4 with one line saying so")
  void unknownIdExits4() throws Exception {
    try (JarProcess p = JarProcess.start(dir, "connect", "no-such-tunnel", "--api", app.base())) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(4);
      assertThat(p.output()).contains("no tunnel with id or name \"no-such-tunnel\"");
    }
  }

  @Test
  @DisplayName("connect with a wrong token exits 3 and never prints the token")
  void wrongTokenExits3() throws Exception {
    String wrong = "wrong-token-abcdefghijklmnop";
    try (JarProcess p = JarProcess.start(dir, "connect", echoId, "--api", "http://127.0.0.1:" + tokenPort,
        "--token", wrong)) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(3);
      assertThat(p.output()).contains("refused the credential").doesNotContain(wrong);
    }
  }
}
