package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.config.ConfigDefaults;
import dev.porthole.connect.PortForwardProtocol;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.HalfCloseTarget;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
    echo = Fixtures.echo(app.vertx());
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
    Fixtures.closeAll(app, relay);
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
  @DisplayName("connect --stdio: 4 MiB through stdin reach the echo target and come back on stdout, same SHA-256; "
      + "stdin's end of stream ends the session and the process exits 0")
  void stdioEchoes() throws Exception {
    byte[] payload = new byte[4 * 1024 * 1024];
    new Random(11).nextBytes(payload);
    try (JarProcess p = JarProcess.startPiped(dir, "connect", echoId, "--api", app.base(), "--stdio")) {
      CompletableFuture<Void> written = writeThenClose(p, payload);
      byte[] back = p.stdout().readAllBytes();
      written.get(30, TimeUnit.SECONDS);
      assertThat(back.length).as("bytes on stdout; stderr:\n%s", p.output()).isEqualTo(payload.length);
      assertThat(sha(back)).isEqualTo(sha(payload));
      assertThat(p.waitFor(Duration.ofSeconds(20))).as("exit code; stderr:\n%s", p.output()).isZero();
    }
  }

  @Test
  @DisplayName("connect --stdio: end of stdin is a half-close: the target reads to its end of stream, and its answer "
      + "written afterwards still reaches stdout; exit 0")
  void stdioHalfClose() throws Exception {
    byte[] request = new byte[300 * 1024];
    new Random(12).nextBytes(request);
    byte[] reply = "answer written after the client's end of stream".getBytes(StandardCharsets.UTF_8);
    try (HalfCloseTarget target = new HalfCloseTarget(reply)) {
      String id = app.create(new JsonObject().put("type", "tcp").put("host", "127.0.0.1")
          .put("port", target.port()).put("pool_size", 1)).getString("id");
      try (JarProcess p = JarProcess.startPiped(dir, "connect", id, "--api", app.base(), "--stdio")) {
        CompletableFuture<Void> written = writeThenClose(p, request);
        byte[] back = p.stdout().readAllBytes();
        written.get(30, TimeUnit.SECONDS);
        assertThat(target.received().get(30, TimeUnit.SECONDS)).isEqualTo(sha(request));
        assertThat(new String(back, StandardCharsets.UTF_8)).as("stdout; stderr:\n%s", p.output())
            .isEqualTo(new String(reply, StandardCharsets.UTF_8));
        assertThat(p.waitFor(Duration.ofSeconds(20))).as("exit code; stderr:\n%s", p.output()).isZero();
      }
    }
  }

  @ParameterizedTest(name = "SIG{0}")
  @ValueSource(strings = {"INT", "TERM"})
  @DisplayName("connect --stdio stopped by a signal closes its WebSocket with 1001 and exits 0")
  void stdioSignalCloses1001(String signal) throws Exception {
    try (FakeAppServer fake = FakeAppServer.start(app.vertx());
        JarProcess p = JarProcess.startPiped(dir, "connect", FakeAppServer.ID, "--api", fake.base(), "--stdio")) {
      fake.connected.get(30, TimeUnit.SECONDS);
      int exit = signal.equals("INT") ? p.interrupt(Duration.ofSeconds(20)) : p.terminate(Duration.ofSeconds(20));
      assertThat(fake.closeCode.get(10, TimeUnit.SECONDS)).as("close code; stderr:\n%s", p.output()).isEqualTo(1001);
      assertThat(exit).as("exit code; stderr:\n%s", p.output()).isZero();
    }
  }

  @Test
  @DisplayName("connect --listen stopped by SIGINT closes the open WebSockets with 1001 and exits 0")
  void listenerSignalCloses1001() throws Exception {
    try (FakeAppServer fake = FakeAppServer.start(app.vertx());
        JarProcess p = JarProcess.start(dir, "connect", FakeAppServer.ID, "--api", fake.base())) {
      int port = Integer.parseInt(p.await("listening 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(30)));
      try (Socket local = new Socket("127.0.0.1", port)) {
        // A byte there and back: the client has wired this connection to its WebSocket.
        local.setSoTimeout(30_000);
        local.getOutputStream().write('x');
        assertThat(local.getInputStream().read()).isEqualTo('x');
        assertThat(p.interrupt(Duration.ofSeconds(20))).as("exit code:\n%s", p.output()).isZero();
        assertThat(fake.closeCode.get(10, TimeUnit.SECONDS)).as("close code:\n%s", p.output()).isEqualTo(1001);
      }
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

  /** Writes {@code data} to the process's stdin from another thread, then closes stdin (end of stream). */
  private static CompletableFuture<Void> writeThenClose(JarProcess p, byte[] data) {
    return CompletableFuture.runAsync(() -> {
      try (OutputStream in = p.stdin()) {
        for (int at = 0; at < data.length; at += 64 * 1024) {
          in.write(data, at, Math.min(64 * 1024, data.length - at));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  private static String sha(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  /**
   * Just enough of an app-server for {@code connect} to find one tunnel, {@link #ID}, whose
   * WebSocket tunnel this test accepts itself (echoing binary messages), to see how the client
   * closes it.
   */
  static final class FakeAppServer implements AutoCloseable {
    static final String ID = "01FAKETUNNEL00000000000000";
    final CompletableFuture<Void> connected = new CompletableFuture<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private final HttpServer server;

    private FakeAppServer(Vertx vertx) throws Exception {
      int[] port = new int[1];
      server = vertx.createHttpServer(new HttpServerOptions()
              .setWebSocketSubProtocols(List.of(PortForwardProtocol.SUBPROTOCOL)))
          .webSocketHandler(ws -> {
            ws.binaryMessageHandler(ws::writeBinaryMessage);
            ws.closeHandler(v -> closeCode.complete(ws.closeStatusCode() == null ? -1 : (int) ws.closeStatusCode()));
            connected.complete(null);
          })
          .requestHandler(req -> req.response().putHeader("Content-Type", "application/json")
              .end(new JsonObject().put("id", ID).put("status", "running")
                  .put("websocket_url", "ws://127.0.0.1:" + port[0] + "/ws/port-forward/" + ID).encode()))
          .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      port[0] = server.actualPort();
    }

    static FakeAppServer start(Vertx vertx) throws Exception {
      return new FakeAppServer(vertx);
    }

    String base() {
      return "http://127.0.0.1:" + server.actualPort();
    }

    @Override
    public void close() throws Exception {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
