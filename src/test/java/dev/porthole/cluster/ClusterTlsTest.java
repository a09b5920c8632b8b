package dev.porthole.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.porthole.testsupport.ClusterNode;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Two clustered app-servers whose event-bus link runs TLS (PEM files made with openssl for the
 * test): a routed start with basic_auth is accepted, and the secret appears in no log line.
 */
class ClusterTlsTest {
  static final String SECRET = "tls-s3cr3t-Pa55";
  @TempDir
  Path dir;
  ClusterNode a;
  ClusterNode b;
  final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @AfterEach
  void close() throws Exception {
    root.detachAppender(logged);
    Fixtures.closeAll(b, a);
  }

  void openssl(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  static boolean hasOpenssl() {
    try {
      return new ProcessBuilder("openssl", "version").start().waitFor(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  @DisplayName("with cluster.tls a start with basic_auth goes to another node, and no log line holds the secret")
  void basicAuthCrossesTls() throws Exception {
    assumeTrue(hasOpenssl(), "openssl is needed to make the test certificates");
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=porthole-test-ca",
        "-keyout", "ca.key", "-out", "ca.pem");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "node.key", "-out", "node.csr");
    Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
        "-extfile", "san.ext", "-out", "node.pem");
    logged.start();
    root.addAppender(logged);
    String name = "porthole-tls-" + UUID.randomUUID();
    java.util.function.Consumer<JsonObject> tls = s -> s.put("tls", new JsonObject()
        .put("cert", dir.resolve("node.pem").toString()).put("key", dir.resolve("node.key").toString())
        .put("ca", dir.resolve("ca.pem").toString()));
    a = ClusterNode.start(name, "tls-a", List.of(), tls);
    b = ClusterNode.start(name, "tls-b", List.of(a.hazelcastPort), tls);
    Timeouts.pollUntil(Duration.ofSeconds(10), "both members on A", () -> {
      try {
        return a.json("GET", "/api/v1/cluster", null, 200).getJsonArray("members").size() == 2;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    JsonObject made = a.json("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub").put("subdomain", "tls-stub")
        .put("response_format", "text/plain").put("response_tmpl", "hi").put("basic_auth", "user:" + SECRET)
        .put("node", "tls-b"), 201);
    assertThat(made.getString("node")).isEqualTo("tls-b");
    assertThat(made.encode()).doesNotContain(SECRET);
    assertThat(b.json("GET", "/api/v1/tunnels/" + made.getString("id"), null, 200).getString("status"))
        .isEqualTo("running");
    b.json("DELETE", "/api/v1/tunnels/" + made.getString("id"), null, 200);
    // A copy taken under the appender's lock: the nodes' threads keep logging into the list.
    List<ILoggingEvent> lines;
    synchronized (logged) {
      lines = new ArrayList<>(logged.list);
    }
    assertThat(lines).isNotEmpty();
    assertThat(lines).noneSatisfy(e -> assertThat(e.getFormattedMessage()).contains(SECRET));
  }
}
