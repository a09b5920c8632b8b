package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.relay.ConnectionRegistry;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code porthole http <port>} and {@code porthole tcp <port>} from the fat jar, as a user runs them:
 * through a standalone relay named by a Portr config ({@code -c}), and through the embedded relay
 * when there is none; the URL first, traffic through it, the live view, Ctrl-C, and the refusals.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelCommandJarIT {
  static final Duration START = Duration.ofSeconds(60);
  static final Duration STOP = Duration.ofSeconds(20);
  /** A logback line on stderr (merged into the output): everything else is the command's stdout. */
  static final Pattern LOG_LINE = Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT");

  Path work;
  Vertx vertx;
  LocalBackend local;
  TestRelay relay;
  Path portrConf;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    work = dir;
    vertx = Vertx.vertx();
    local = LocalBackend.start(vertx, "cli-local");
    relay = TestRelay.start(work.resolve("relay-data"));
    portrConf = relay.writePortrConfig(work.resolve("portr.yaml"));
  }

  @AfterAll
  void stop() throws Exception {
    if (relay != null) {
      relay.close();
    }
    if (local != null) {
      local.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The command's own lines (stdout), without the log lines of stderr. */
  private static List<String> stdout(JarProcess p) {
    return p.lines().stream().filter(l -> !LOG_LINE.matcher(l).find()).toList();
  }

  /** Waits for the URL and the machine-readable line; checks they come first, in that order. */
  private static Matcher started(JarProcess p) {
    p.await("^porthole: url=", START);
    List<String> out = stdout(p);
    Matcher m = Pattern.compile("^porthole: url=(\\S+) id=(\\S+) type=(http|tcp) local=(\\S+) api=(http://127\\.0\\.0\\.1:\\d+)$")
        .matcher(out.get(1));
    assertThat(m.matches()).as("machine line in:\n" + p.output()).isTrue();
    assertThat(out.get(0)).as("the URL comes first").isEqualTo(m.group(1));
    return m;
  }

  private Path dir(String name) throws IOException {
    return Files.createDirectories(work.resolve(name));
  }

  @Test
  @DisplayName("http through a Portr server: URL first, traffic reaches the local service and shows in the live view "
      + "(no colour off a terminal); Ctrl-C exits 0 and the relay drops the route")
  void httpThroughConfiguredServer() throws Exception {
    try (JarProcess p = JarProcess.start(dir("http"), "http", String.valueOf(local.port()), "-s", "cli-web",
        "--host", "127.0.0.1", "--pool-size", "1", "-c", portrConf.toString())) {
      Matcher m = started(p);
      assertThat(m.group(1)).isEqualTo("http://cli-web." + relay.endpoints().domain());
      assertThat(m.group(4)).isEqualTo("127.0.0.1:" + local.port());
      assertThat(relay.verticle().registry().route("cli-web")).isNotNull();

      HttpResponse<String> r = relay.edgeGet("cli-web", "/hello?x=1");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from cli-local");
      assertThat(local.seen()).contains("GET /hello?x=1");
      p.await("^\\d\\d:\\d\\d:\\d\\d GET /hello\\?x=1 200 \\d+ms$", Duration.ofSeconds(15));

      // The API on loopback knows the tunnel.
      HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(m.group(5) + "/api/v1/tunnels/" + m.group(2)))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(status.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(status.body()).getString("status")).isEqualTo("running");

      assertThat(p.interrupt(STOP)).as(p.output()).isZero();
      assertThat(p.output()).doesNotContain("\u001b[");
      Timeouts.pollUntil(Duration.ofSeconds(10), "the relay to drop cli-web",
          () -> relay.verticle().registry().route("cli-web") == null);
      assertThat(relay.edgeGet("cli-web", "/").statusCode()).isEqualTo(404);
    }
  }

  @Test
  @DisplayName("tcp through a Portr server: host:port first, bytes reach the local service; Ctrl-C exits 0, the "
      + "relay closes the connection and its port")
  void tcpThroughConfiguredServer() throws Exception {
    try (JarProcess p = JarProcess.start(dir("tcp"), "tcp", String.valueOf(local.port()), "--host", "127.0.0.1",
        "-c", portrConf.toString())) {
      Matcher m = started(p);
      assertThat(m.group(3)).isEqualTo("tcp");
      assertThat(m.group(1)).matches("localhost:\\d+");
      int remote = Integer.parseInt(m.group(1).substring("localhost:".length()));
      assertThat(activeTcp()).containsExactly(remote);

      assertThat(rawGet(remote, "/over-tcp")).startsWith("HTTP/1.1 200").endsWith("hello from cli-local");
      assertThat(local.seen()).contains("GET /over-tcp");

      assertThat(p.interrupt(STOP)).as(p.output()).isZero();
      Timeouts.pollUntil(Duration.ofSeconds(10), "the relay to close the tcp connection", () -> activeTcp().isEmpty());
      Timeouts.pollUntil(Duration.ofSeconds(10), "the public port to close", () -> refused(remote));
    }
  }

  @Test
  @DisplayName("http with no Portr config: the embedded relay; traffic through the URL, and a DELETE through the "
      + "printed API ends the command with 0")
  void httpThroughEmbeddedRelay() throws Exception {
    Path home = dir("embedded");
    assertThat(home.resolve(".portr").resolve("config.yaml")).doesNotExist();
    try (JarProcess p = JarProcess.start(home, "http", String.valueOf(local.port()), "--subdomain", "cli-emb")) {
      Matcher m = started(p);
      URI url = URI.create(m.group(1));
      assertThat(url.getHost()).isEqualTo("cli-emb.localhost");
      assertThat(m.group(4)).isEqualTo("localhost:" + local.port());
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + url.getPort() + "/emb"))
          .header("Host", url.getHost() + ":" + url.getPort()).timeout(Duration.ofSeconds(20)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("hello from cli-local");
      p.await("^\\d\\d:\\d\\d:\\d\\d GET /emb 200 \\d+ms$", Duration.ofSeconds(15));

      HttpResponse<String> del = http.send(HttpRequest.newBuilder(URI.create(m.group(5) + "/api/v1/tunnels/" + m.group(2)))
          .DELETE().timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(del.statusCode()).as(del.body()).isEqualTo(200);
      assertThat(p.waitFor(STOP)).as(p.output()).isZero();
      assertThat(stdout(p)).anyMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d tunnel stopped"));
    }
  }

  @Test
  @DisplayName("bad flags and an unreachable relay: a clear message and a non-zero exit, no tunnel")
  void refusals() throws Exception {
    Path home = dir("refusals");
    try (JarProcess p = JarProcess.start(home, "http")) {
      assertThat(p.waitFor(STOP)).isEqualTo(2);
      assertThat(p.output()).contains("Missing required parameter: 'PORT'");
    }
    try (JarProcess p = JarProcess.start(home, "tcp", "5432", "--basic-auth", "a:b")) {
      assertThat(p.waitFor(STOP)).isEqualTo(2);
      assertThat(p.output()).contains("Unknown options: '--basic-auth', 'a:b'");
    }
    try (JarProcess p = JarProcess.start(home, "http", "3000", "--basic-auth", "nocolon")) {
      assertThat(p.waitFor(STOP)).isEqualTo(2);
      assertThat(p.output()).isEqualTo("porthole: basic_auth must be in user:password format");
    }
    try (JarProcess p = JarProcess.start(home, "http", "3000", "-c", home.resolve("missing.yaml").toString())) {
      assertThat(p.waitFor(STOP)).isEqualTo(2);
      assertThat(p.output()).contains("porthole: failed to load config: open ").contains("no such file or directory");
    }
    Path dead = home.resolve("dead.yaml");
    Files.writeString(dead, String.join("\n", "server_url: 127.0.0.1:" + freePort(), "ssh_url: 127.0.0.1:" + freePort(),
        "tunnel_url: localhost:1", "secret_key: k", ""));
    try (JarProcess p = JarProcess.start(home, "http", String.valueOf(local.port()), "-c", dead.toString())) {
      assertThat(p.waitFor(Duration.ofSeconds(60))).isEqualTo(1);
      assertThat(p.output()).contains("porthole: the tunnel could not start: ").doesNotContain("porthole: url=");
    }
  }

  @Test
  @DisplayName("completion: the bash script from the jar names the subcommands")
  void completion() throws Exception {
    try (JarProcess p = JarProcess.start(dir("completion"), "completion", "bash")) {
      assertThat(p.waitFor(STOP)).isZero();
      assertThat(p.output()).contains("complete -F _complete_porthole").contains("_picocli_porthole_http()")
          .contains("_picocli_porthole_tcp()");
    }
  }

  private List<Integer> activeTcp() {
    return relay.verticle().registry().active().stream()
        .filter(c -> c.type() == ConnectionRegistry.Type.TCP).map(ConnectionRegistry.ConnectionView::port).toList();
  }

  private static String rawGet(int port, String path) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      s.setSoTimeout(15_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
  }

  private static boolean refused(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
