package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Start-up from the shaded jar as a user runs it: the embedded relay with its usual ports taken by
 * other programs, a configured port that is taken, and {@code $HOME}.
 */
class StartupJarIT {
  @TempDir
  Path work;
  Vertx vertx;
  LocalBackend backend;
  final List<ServerSocket> held = new ArrayList<>();
  final List<JarProcess> procs = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "startup-local");
  }

  @AfterEach
  void stop() throws Exception {
    for (JarProcess p : procs) {
      p.close();
    }
    for (ServerSocket s : held) {
      s.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Holds 127.0.0.1:{@code port} (0: a free one) until the test ends; null when another program already holds it. */
  private ServerSocket hold(int port) {
    try {
      ServerSocket s = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
      held.add(s);
      return s;
    } catch (IOException takenAlready) {
      return null;
    }
  }

  private JarProcess jar(JarProcess p) {
    procs.add(p);
    return p;
  }

  private HttpResponse<String> call(String api, String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Creates an HTTP tunnel to the backend, checks its tunnel_url and sends one request through the edge. */
  private void tunnelWorks(String api, String subdomain, String domain) throws Exception {
    HttpResponse<String> created = call(api, "POST", "/api/v1/tunnels", new JsonObject().put("name", subdomain)
        .put("port", backend.port()).put("subdomain", subdomain).encode());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(new JsonObject(created.body()).getString("tunnel_url")).isEqualTo("http://" + subdomain + "." + domain);
    int edge = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
    HttpResponse<String> viaEdge = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge + "/x"))
        .header("Host", subdomain + "." + domain).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(viaEdge.body()).isEqualTo("hello from startup-local");
  }

  @Test
  @DisplayName("with 127.0.0.1:8000, :2222 and :8001 taken, the app-server starts its embedded relay elsewhere and tunnel_url names the edge port bound")
  void usualPortsTaken() throws Exception {
    for (int port : new int[] {8000, 2222, 8001}) {
      hold(port);
    }
    Files.writeString(work.resolve("porthole.yaml"), "app_server:\n  port: 0\n");
    JarProcess app = jar(JarProcess.start(work, "app-server", "--conf", "porthole.yaml"));
    String api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    String admin = app.await("embedded relay ready: admin (http://[^,\\s]+)", Duration.ofSeconds(5));
    String ssh = app.await("embedded relay ready: .*SSH 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(5));
    String domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    assertThat(admin).doesNotEndWith(":8000");
    assertThat(ssh).isNotEqualTo("2222");
    assertThat(domain).startsWith("localhost:").isNotEqualTo("localhost:8001");
    assertThat(app.output()).contains("127.0.0.1:8001 (HTTP edge) is already in use: the HTTP edge takes a free port instead");

    tunnelWorks(api, "busy-ports", domain);
  }

  @ParameterizedTest(name = "embedded_relay.{0}")
  @CsvSource({"admin_port, admin API", "ssh_port, SSH server", "http_port, HTTP edge"})
  @DisplayName("an embedded relay port set in the config and taken stops start-up with a message naming it")
  void configuredPortTaken(String key, String label) throws Exception {
    int port = hold(0).getLocalPort();
    Files.writeString(work.resolve("porthole.yaml"), "app_server:\n  port: 0\nembedded_relay:\n  " + key + ": " + port + "\n");
    JarProcess app = jar(JarProcess.start(work, "app-server", "--conf", "porthole.yaml"));
    assertThat(app.waitFor(Duration.ofSeconds(60))).isEqualTo(1);
    assertThat(app.output()).contains("porthole: the embedded relay could not start: 127.0.0.1:" + port + " (" + label
        + ") is already in use: set embedded_relay." + key + " to a free port, or to 0 for any free port");
  }

  @Test
  @DisplayName("porthole relay names the port it could not bind, and its setting")
  void relayNamesPort() throws Exception {
    int port = hold(0).getLocalPort();
    JarProcess relay = jar(JarProcess.start(work, "relay", "--admin-port", "0", "--http-port", "0",
        "--ssh-port", String.valueOf(port), "--data-dir", work.resolve("relay").toString()));
    assertThat(relay.waitFor(Duration.ofSeconds(60))).isEqualTo(1);
    assertThat(relay.output()).contains("porthole: the relay could not start: 127.0.0.1:" + port
        + " (SSH server) is already in use: set relay.ssh_port (--ssh-port)");
  }

  @Test
  @DisplayName("HOME=<dir> (no -Duser.home): <dir>/.portr/config.yaml is the Portr config and <dir>/.portr/known_hosts is written")
  void homeFromEnvironment(@TempDir Path home, @TempDir Path relayData) throws Exception {
    try (TestRelay relay = TestRelay.start(relayData)) {
      Path portr = Files.createDirectories(home.resolve(".portr")).resolve("config.yaml");
      Files.writeString(portr, String.join("\n",
          "server_url: 127.0.0.1:" + relay.endpoints().adminPort(),
          "ssh_url: 127.0.0.1:" + relay.sshPort(),
          "tunnel_url: " + relay.endpoints().domain(),
          "secret_key: " + TestRelay.SECRET,
          "use_localhost: true",
          "insecure_skip_host_key_verification: false",
          ""));
      Files.writeString(work.resolve("porthole.yaml"), "app_server:\n  port: 0\n");
      JarProcess app = jar(JarProcess.startWithHome(work, home, "app-server", "--conf", "porthole.yaml"));
      String api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
      assertThat(app.await("using the Portr server .* from (\\S+)", Duration.ofSeconds(5))).isEqualTo(portr.toString());

      tunnelWorks(api, "from-home", relay.endpoints().domain());
      assertThat(home.resolve(".portr/known_hosts")).content().startsWith("127.0.0.1 ");
      assertThat(work.resolve(".portr")).doesNotExist();
    }
  }
}
