package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.Version;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.JschTunnel;
import dev.porthole.testsupport.LocalBackend;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar as a process: what `./run.sh relay` runs. */
class RelayJarIT {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  @DisplayName("`porthole version` and `--help` work from the jar")
  void versionAndHelp(@TempDir Path dir) throws Exception {
    try (JarProcess p = JarProcess.start(dir, "version")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isZero();
      assertThat(p.output()).contains("porthole " + Version.get());
    }
    try (JarProcess p = JarProcess.start(dir, "relay", "--help")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isZero();
      assertThat(p.output()).contains("--ssh-port").contains("--domain");
    }
  }

  @Test
  @DisplayName("the shaded jar is Multi-Release, or JSch cannot do ssh-ed25519 (Portr's host keys) from it")
  void multiRelease() throws Exception {
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(JarProcess.jar().toFile())) {
      assertThat(jar.getManifest().getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
      assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo("dev.porthole.Main");
      assertThat(jar.getEntry("META-INF/versions/9/com/jcraft/jsch/JplLogger.class")).isNotNull();
    }
  }

  @Test
  @DisplayName("a bad setting stops start-up with one line naming the key, exit 2")
  void badConfig(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("bad.yaml"), "relay:\n  ssh_port: 99999\n");
    try (JarProcess p = JarProcess.start(dir, "relay", "--conf", "bad.yaml")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.lines()).contains("porthole: relay.ssh_port: must be between 0 and 65535, got 99999");
    }
    try (JarProcess p = JarProcess.start(dir, "relay", "--ssh-window-bytes", "1000")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.lines()).contains("porthole: relay.ssh_window_bytes: must be between 65536 and 1073741824, got 1000");
    }
  }

  @Test
  @DisplayName("`porthole relay` serves: reserve, JSch forward, HTTP by Host through the edge; SIGTERM exits 0")
  void relayServes(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx();
    try (JarProcess relay = JarProcess.start(dir, "relay", "--admin-port", "0", "--ssh-port", "0", "--http-port", "0",
        "--data-dir", dir.resolve("data").toString());
         LocalBackend backend = LocalBackend.start(vertx, "jar")) {
      String admin = relay.await("admin API +(http://\\S+)", Duration.ofSeconds(30));
      int sshPort = Integer.parseInt(relay.await("SSH +\\S+:(\\d+) host key SHA256:", Duration.ofSeconds(5)));
      String domain = relay.await("HTTP edge +http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
      int httpPort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
      // Logged after the lines above, which may be all the output there is yet on a busy machine.
      relay.await("generated secret key stored in (\\S+)", Duration.ofSeconds(5));
      String secret = Files.readString(dir.resolve("data/secret_key")).strip();
      assertThat(relay.output()).doesNotContain(secret);

      HttpResponse<String> version = http.send(HttpRequest.newBuilder(URI.create(admin + "/api/v1/version")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(version.body()).isEqualTo("{\"version\":\"" + Version.get() + "\"}");

      HttpResponse<String> reserved = http.send(HttpRequest.newBuilder(URI.create(admin + "/api/v1/connections/"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("connection_type", "http")
              .put("secret_key", secret).put("subdomain", "smoke").encode())).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(reserved.statusCode()).as(reserved.body()).isEqualTo(200);
      String id = new JsonObject(reserved.body()).getString("connection_id");

      try (JschTunnel tunnel = JschTunnel.connect(sshPort, id, secret)) {
        tunnel.forwardHttp(backend.port());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/"))
            .version(HttpClient.Version.HTTP_1_1).header("Host", "smoke." + domain).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("hello from jar");
      }
      assertThat(relay.output()).doesNotContain(secret);
      assertThat(relay.terminate(Duration.ofSeconds(20))).isZero();
      assertThat(relay.output()).contains("SIGTERM received").contains("stopped");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
