package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.GlobalRequests;
import com.jcraft.jsch.JSchException;
import dev.porthole.relay.ConnectionRegistry.Status;
import dev.porthole.testsupport.JschTunnel;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

/** JSch, the SSH client porthole's app-server uses, against the relay (portr-protocol §3.1, §3.3, §8). */
class JschRelayIT {
  @TempDir
  static Path dir;
  static TestRelay relay;
  static Vertx vertx;
  static LocalBackend a;
  static LocalBackend b;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    vertx = Vertx.vertx();
    a = LocalBackend.start(vertx, "a");
    b = LocalBackend.start(vertx, "b");
  }

  @AfterAll
  static void stop() throws Exception {
    relay.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("§3.1 user <id>:<secret> with an empty password; wrong secret or unknown id refused")
  void authentication() throws Exception {
    String id = relay.reserve("tcp", null);
    try (JschTunnel ok = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
      assertThat(ok.session().isConnected()).isTrue();
    }
    assertThatThrownBy(() -> JschTunnel.connect(relay.sshPort(), id, TestRelay.OTHER_SECRET))
        .isInstanceOf(JSchException.class).hasMessageContaining("Auth fail");
    assertThatThrownBy(() -> JschTunnel.connect(relay.sshPort(), "01ZZZZZZZZZZZZZZZZZZZZZZZZ", TestRelay.SECRET))
        .isInstanceOf(JSchException.class).hasMessageContaining("Auth fail");
  }

  @Test
  @DisplayName("§3.1 a fixed-port http forward routes Host <sub>.<domain> to the local service; cancelling it unroutes, a new one re-activates")
  void httpForward() throws Exception {
    String id = relay.reserve("http", "jsch-web");
    try (JschTunnel t = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
      int port = t.forwardHttp(a.port());
      assertThat(port).isBetween(20000, 29999);
      assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.ACTIVE);
      HttpResponse<String> r = relay.edgeGet("jsch-web", "/hello?x=1");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from a");
      assertThat(a.seen()).contains("GET /hello?x=1");
      assertThat(a.hosts()).contains(relay.host("jsch-web"));
      // The forward's listener is for the edge alone: loopback, never a public interface.
      assertThat(relay.verticle().registry().route("jsch-web").backends())
          .extracting(ConnectionRegistry.Backend::host).containsOnly("127.0.0.1");

      // cancel-tcpip-forward removes the route and closes the connection, the session stays up.
      t.session().delPortForwardingR("0.0.0.0", port);
      Timeouts.pollUntil(Duration.ofSeconds(10), "the cancelled forward's route to go",
          () -> relay.verticle().registry().route("jsch-web") == null);
      assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.CLOSED);
      assertThat(relay.edgeGet("jsch-web", "/").statusCode()).isEqualTo(404);
      assertThat(t.session().isConnected()).isTrue();
      assertThat(t.forwardHttp(a.port())).isBetween(20000, 29999);
      assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.ACTIVE);
      assertThat(relay.edgeGet("jsch-web", "/").body()).isEqualTo("hello from a");
    }
  }

  @Test
  @DisplayName("§4.2 Expect: 100-continue gets a 100 before the body is sent, and the body reaches the tunnel")
  void expectContinue() throws Exception {
    String id = relay.reserve("http", "jsch-continue");
    try (JschTunnel t = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
         Socket s = new Socket("127.0.0.1", relay.httpPort())) {
      t.forwardHttp(a.port());
      s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(("POST /body HTTP/1.1\r\nHost: " + relay.host("jsch-continue") + "\r\nContent-Length: 5\r\n"
          + "Expect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(readUntil(in, "\r\n\r\n")).startsWith("HTTP/1.1 100 Continue");
      out.write("hello".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readUntil(in, "a got 5 bytes");
      assertThat(response).startsWith("HTTP/1.1 200 OK").endsWith("a got 5 bytes");
    }
  }

  private static String readUntil(InputStream in, String marker) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().contains(marker)) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("connection closed before " + marker + ": " + sb);
      }
      sb.append((char) c);
    }
    return sb.toString();
  }

  @Test
  @DisplayName("§3.3 the reconciliation ping reaches each active tunnel with X-Portr-Ping-Request and leaves it active")
  void reconciliationPing(@TempDir Path other) throws Exception {
    try (TestRelay pinging = TestRelay.start(other, r -> r.put("ping_interval_seconds", 1))) {
      String id = pinging.reserve("http", "pinged");
      try (JschTunnel t = JschTunnel.connect(pinging.sshPort(), id, TestRelay.SECRET)) {
        t.forwardHttp(b.port());
        Timeouts.pollUntil(Duration.ofSeconds(10), "a ping through the edge", () -> b.pings().contains(pinging.host("pinged")));
        assertThat(pinging.verticle().registry().get(id).status()).isEqualTo(Status.ACTIVE);
        assertThat(b.seen()).as("pings are not ordinary requests").noneMatch(r -> r.startsWith("GET / "));
      }
    }
  }

  @Test
  @DisplayName("§3.1 keepalive@openssh.com succeeds; other global requests (keepalive@jcraft.com too) fail")
  void keepalive() throws Exception {
    String id = relay.reserve("tcp", null);
    try (JschTunnel t = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
      assertThat(GlobalRequests.request(t.session(), "keepalive@openssh.com", 5000)).isTrue();
      assertThat(GlobalRequests.request(t.session(), "keepalive@jcraft.com", 5000)).isFalse();
      assertThat(GlobalRequests.request(t.session(), "no-such-request@example.com", 5000)).isFalse();
      assertThat(GlobalRequests.request(t.session(), "keepalive@openssh.com", 5000)).isTrue();
      assertThat(t.forwardTcp(a.port())).isBetween(30001, 40000);
    }
  }

  @Test
  @DisplayName("§3.1 a tcp connection gets exactly one forward, from any session; the public port serves")
  void tcpSingleForward() throws Exception {
    String id = relay.reserve("tcp", null);
    try (JschTunnel first = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
         JschTunnel second = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
      int port = first.forwardTcp(a.port());
      assertThat(relay.verticle().registry().get(id).port()).isEqualTo(port);
      assertThatThrownBy(() -> first.forwardTcp(a.port())).isInstanceOf(JSchException.class);
      assertThatThrownBy(() -> second.forwardTcp(b.port())).isInstanceOf(JSchException.class);
      // The public port is plain TCP to the local service: speak HTTP through it.
      HttpResponse<String> r = relay.http().send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/"))
          .version(java.net.http.HttpClient.Version.HTTP_1_1).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.body()).isEqualTo("hello from a");
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "the tcp connection to close",
        () -> relay.verticle().registry().get(id).status() == Status.CLOSED);
  }

  @Test
  @DisplayName("§8 two sessions of one id share the subdomain round robin; losing one keeps serving; losing both → 404")
  void pool() throws Exception {
    String id = relay.reserve("http", "jsch-pool");
    JschTunnel one = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
    JschTunnel two = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
    try {
      one.forwardHttp(a.port());
      two.forwardHttp(b.port());
      assertThat(relay.verticle().registry().route("jsch-pool").backends()).hasSize(2);
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        bodies.add(relay.edgeGet("jsch-pool", "/").body());
      }
      assertThat(bodies).containsOnly("hello from a", "hello from b");
      assertThat(bodies.stream().filter("hello from a"::equals).count()).isEqualTo(3);

      one.close();
      Timeouts.pollUntil(Duration.ofSeconds(10), "the first session's backend to go",
          () -> relay.verticle().registry().route("jsch-pool").backends().size() == 1);
      for (int i = 0; i < 4; i++) {
        HttpResponse<String> r = relay.edgeGet("jsch-pool", "/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello from b");
      }
      assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.ACTIVE);

      two.close();
      Timeouts.pollUntil(Duration.ofSeconds(10), "the route to go", () -> relay.verticle().registry().route("jsch-pool") == null);
      HttpResponse<String> gone = relay.edgeGet("jsch-pool", "/");
      assertThat(gone.statusCode()).isEqualTo(404);
      assertThat(gone.headers().firstValue("X-Portr-Error")).hasValue("true");
      assertThat(gone.headers().firstValue("X-Portr-Error-Reason")).hasValue("unregistered-subdomain");
      assertThat(gone.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(gone.body()).contains("Unregistered Subdomain").contains("jsch-pool");
      assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.CLOSED);
    } finally {
      one.close();
      two.close();
    }
  }

  @Test
  @DisplayName("§8 a GET is retried on the next backend after a transport failure; a POST is not (503 connection-lost)")
  void retryRules() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    String id = relay.reserve("http", "jsch-retry");
    try (JschTunnel dead = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
         JschTunnel live = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
      dead.forwardHttp(deadPort);
      live.forwardHttp(a.port());
      for (int i = 0; i < 6; i++) {
        HttpResponse<String> r = relay.edgeGet("jsch-retry", "/get-" + i);
        assertThat(r.statusCode()).as("GET %d", i).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello from a");
      }
      int lost = 0;
      int served = 0;
      for (int i = 0; i < 4; i++) {
        HttpResponse<String> r = relay.http().send(relay.edgeRequest("jsch-retry", "/body")
            .POST(HttpRequest.BodyPublishers.ofString("payload-" + i)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 503) {
          lost++;
          assertThat(r.headers().firstValue("X-Portr-Error")).hasValue("true");
          assertThat(r.headers().firstValue("X-Portr-Error-Reason")).hasValue("connection-lost");
          assertThat(r.body()).contains("Connection Lost");
        } else {
          served++;
          assertThat(r.body()).isEqualTo("a got 9 bytes");
        }
      }
      assertThat(lost).as("POSTs that hit the dead backend first").isEqualTo(2);
      assertThat(served).isEqualTo(2);
    }
  }
}
