package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.JvmThreads;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ends of one forwarded connection (portr-protocol §4.1, §4.4): the local socket is spliced into
 * JSch's channel, so what closes one side must close the other, a failed dial must cost only that
 * connection, and nothing may stay behind once a connection is over.
 */
class ForwardedConnectionIT {
  private static final String CHANNEL_THREAD = "Channel forwarded-tcpip";

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, relay);
  }

  private static int tcpTunnel(int localPort) throws Exception {
    JsonObject status = app.create(new JsonObject().put("type", "tcp").put("port", localPort));
    assertThat(status.getString("status")).isEqualTo("running");
    return status.getInteger("remote_port");
  }

  @Test
  @DisplayName("§4.1 tcp: local service down → the public connection is closed at once; the session survives and the next connection, once the service is up, is served")
  void localDownCostsOnlyThatConnection() throws Exception {
    int localPort;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      localPort = probe.getLocalPort();
    }
    int remote = tcpTunnel(localPort);
    try (Socket s = new Socket("127.0.0.1", remote)) {
      s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
      assertThat(readToEnd(s.getInputStream())).as("nothing, then end of stream").isEmpty();
    }
    try (ServerSocket local = new ServerSocket(localPort, 50, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
        try (Socket in = local.accept()) {
          in.getOutputStream().write("up\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      try (Socket s = new Socket("127.0.0.1", remote)) {
        s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
        assertThat(readToEnd(s.getInputStream())).isEqualTo("up\n");
      }
      served.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("§4.4 a public client that resets its connection: the silent local side sees the end and its socket is closed, not left half-open")
  void publicResetClosesSilentLocal() throws Exception {
    try (ServerSocket local = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int remote = tcpTunnel(local.getLocalPort());
      try (Socket client = new Socket("127.0.0.1", remote)) {
        client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
        try (Socket in = local.accept()) {
          in.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
          byte[] hello = in.getInputStream().readNBytes(5);
          assertThat(new String(hello, StandardCharsets.US_ASCII)).isEqualTo("hello");
          client.setSoLinger(true, 0);
          client.close(); // RST
          assertThat(in.getInputStream().read()).as("end of stream at the local side").isEqualTo(-1);
          // Fully closed: writing from the local side fails instead of being carried on.
          OutputStream out = in.getOutputStream();
          Timeouts.pollUntil(Duration.ofSeconds(10), "the local socket to be closed by porthole", () -> {
            try {
              out.write(new byte[1024]);
              out.flush();
              return false;
            } catch (IOException closed) {
              return true;
            }
          });
        }
      }
    }
  }

  @Test
  @DisplayName("§4.4 after 100 short connections no channel thread is left: one JSch thread per live connection, none after")
  void noThreadLeftBehind() throws Exception {
    try (ServerSocket local = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
        try {
          while (!local.isClosed()) {
            try (Socket in = local.accept()) {
              in.getOutputStream().write(in.getInputStream().readAllBytes());
            }
          }
        } catch (IOException closedAtEnd) {
          // The test closes the server socket.
        }
      });
      int remote = tcpTunnel(local.getLocalPort());
      long before = channelThreads();
      try (Socket open = new Socket("127.0.0.1", remote)) {
        Timeouts.pollUntil(Duration.ofSeconds(10), "a channel thread for the live connection",
            () -> channelThreads() == before + 1);
      }
      for (int i = 0; i < 100; i++) {
        try (Socket s = new Socket("127.0.0.1", remote)) {
          s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
          byte[] msg = ("ping " + i).getBytes(StandardCharsets.US_ASCII);
          s.getOutputStream().write(msg);
          s.shutdownOutput();
          assertThat(readToEnd(s.getInputStream())).isEqualTo("ping " + i);
        }
      }
      Timeouts.pollUntil(Duration.ofSeconds(10), "channel threads back to " + before,
          () -> channelThreads() <= before);
      local.close();
      echo.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("a tunnel stopped while its connections are still dialling the local service: once those dials complete and the service hangs up, no channel thread is left")
  void stopWhileDiallingLeavesNoThread() throws Exception {
    long before = channelThreads();
    // Backlog 1 and nobody accepting: the pump's dials pile up in the kernel (SYN retries), so
    // the stop lands between JSch opening each channel and the pump installing its splice.
    try (ServerSocket local = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      JsonObject status = app.create(new JsonObject().put("type", "tcp").put("port", local.getLocalPort()));
      int remote = status.getInteger("remote_port");
      int connections = 12;
      Socket[] clients = new Socket[connections];
      try {
        for (int i = 0; i < connections; i++) {
          clients[i] = new Socket("127.0.0.1", remote);
        }
        Timeouts.pollUntil(Duration.ofSeconds(10), "a channel thread per public connection",
            () -> channelThreads() >= before + connections);
        assertThat(app.send("DELETE", "/api/v1/tunnels/" + status.getString("id"), null).statusCode())
            .isEqualTo(200);
        // Now let every dial through; the service says one line and hangs up.
        CompletableFuture<Void> service = CompletableFuture.runAsync(() -> {
          try {
            local.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(8)).toMillis());
            while (true) {
              try (Socket in = local.accept()) {
                in.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
              }
            }
          } catch (IOException timedOutOrClosed) {
            // Every dial that was going to come has come.
          }
        });
        Timeouts.pollUntil(Duration.ofSeconds(20), "channel threads back to " + before,
            () -> channelThreads() <= before);
        local.close();
        service.get(10, TimeUnit.SECONDS);
      } finally {
        for (Socket c : clients) {
          if (c != null) {
            c.close();
          }
        }
      }
    }
  }

  /** JSch's channel threads, platform or virtual (ssh.virtual_threads). */
  private static long channelThreads() {
    return JvmThreads.named(CHANNEL_THREAD);
  }

  private static String readToEnd(InputStream in) throws IOException {
    try {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the connection stayed open", e);
    } catch (IOException reset) {
      return ""; // a reset is an end too
    }
  }
}
