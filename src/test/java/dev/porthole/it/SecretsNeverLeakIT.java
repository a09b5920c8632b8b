package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.HalfCloseTarget;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requirement: the Portr secret_key (inside the SSH user name), the app-server token, the JWT secret
 * and basic-auth credentials never appear in API responses, events, webhook bodies, error messages
 * or logs at any level. Both jars run at TRACE through a full scenario (start, traffic, failure,
 * relay restart and reconnect, stop, bad requests) with recognisable secrets; then every byte they
 * wrote and served is scanned for them.
 */
class SecretsNeverLeakIT {
  private static final Duration START = Duration.ofSeconds(60);
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir
  Path work;

  private Vertx vertx;
  private final List<JarProcess> processes = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  // Everything the test received, per source (raw bytes decoded as UTF-8 / ISO-8859-1 both scanned).
  private final Map<String, ByteArrayOutputStream> received = new LinkedHashMap<>();
  private final List<String> callbacks = new CopyOnWriteArrayList<>();
  private final List<JsonObject> callbackEvents = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (JarProcess p : processes) {
      p.close();
    }
    // Keep what the processes wrote next to the jar, for diagnosing a failure or a leak.
    Path dir = JarProcess.jar().toAbsolutePath().getParent().resolve("secrets-never-leak");
    Files.createDirectories(dir);
    for (int i = 0; i < processes.size(); i++) {
      Files.writeString(dir.resolve("process-" + i + ".log"), processes.get(i).output());
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static String marker(String prefix) {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return prefix + HexFormat.of().formatHex(b);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  @DisplayName("secret key, token, JWT secret, minted JWT and basic-auth credentials appear in no output, response or callback")
  void secretsNeverLeak() throws Exception {
    long t0 = System.nanoTime();
    // --- recognisable secrets -------------------------------------------------------------------
    String relayKey = marker("RelayKeyMark");
    String apiToken = marker("ApiTokenMark");
    String jwtSecret = marker("JwtSecretMark");
    String basicUser = "alice";
    String basicPassword = marker("BasicPwMark");
    String basicCredential = basicUser + ":" + basicPassword;
    String basicB64 = Base64.getEncoder().encodeToString(basicCredential.getBytes(StandardCharsets.UTF_8));
    String bearer = "Bearer " + apiToken;
    String bearerB64 = Base64.getEncoder().encodeToString(bearer.getBytes(StandardCharsets.UTF_8));

    // --- files: TRACE logback, relay settings, app-server settings, Portr config ----------------
    Path logback = work.resolve("logback-trace.xml");
    Files.writeString(logback, String.join("\n",
        "<configuration>",
        "  <conversionRule conversionWord=\"rmsg\" class=\"dev.porthole.logging.RedactingMessageConverter\"/>",
        "  <conversionRule conversionWord=\"rex\" class=\"dev.porthole.logging.RedactingThrowableConverter\"/>",
        "  <appender name=\"STDERR\" class=\"ch.qos.logback.core.ConsoleAppender\">",
        "    <target>System.err</target>",
        "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger - %rmsg%n%rex</pattern></encoder>",
        "  </appender>",
        "  <root level=\"TRACE\"><appender-ref ref=\"STDERR\"/></root>",
        "</configuration>", ""));
    List<String> jvm = List.of("-Dlogback.configurationFile=" + logback.toAbsolutePath());

    int adminPort = freePort();
    int sshPort = freePort();
    int httpPort = freePort();
    Path relayConf = work.resolve("relay.yaml");
    Files.writeString(relayConf, String.join("\n",
        "relay:",
        "  admin_port: " + adminPort,
        "  ssh_port: " + sshPort,
        "  http_port: " + httpPort,
        "  data_dir: " + work.resolve("relay-data").toAbsolutePath(),
        "  max_auth_failures_per_minute: 10000",
        "  secret_keys:",
        "    - " + relayKey, ""));
    Path appConf = work.resolve("app.yaml");
    Files.writeString(appConf, String.join("\n",
        "app_server:",
        "  port: 0",
        "auth:",
        "  jwt:",
        "    algorithm: HS256",
        "    secret: " + jwtSecret, ""));
    Path portrConf = work.resolve("portr.yaml");
    Files.writeString(portrConf, String.join("\n",
        "server_url: 127.0.0.1:" + adminPort,
        "ssh_url: 127.0.0.1:" + sshPort,
        "tunnel_url: localhost:" + httpPort,
        "use_localhost: true",
        "secret_key: " + relayKey,
        "health_check_interval: 1",
        "health_check_max_retries: 30", ""));
    List<Path> inputs = List.of(logback, relayConf, appConf, portrConf);

    // --- local services: HTTP backend, TCP target, callback receiver -----------------------------
    vertx = Vertx.vertx();
    LocalBackend backend = LocalBackend.start(vertx, "leak-local");
    closeables.add(backend);
    byte[] tcpReply = "tcp-reply-through-the-relay".getBytes(StandardCharsets.US_ASCII);
    HalfCloseTarget tcpTarget = new HalfCloseTarget(tcpReply);
    closeables.add(tcpTarget);
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      StringBuilder sb = new StringBuilder(req.method() + " " + req.uri() + "\n");
      req.headers().forEach(h -> sb.append(h.getKey()).append(": ").append(h.getValue()).append('\n'));
      sb.append('\n').append(b.toString(StandardCharsets.UTF_8));
      callbacks.add(sb.toString());
      try {
        callbackEvents.add(b.toJsonObject());
      } catch (RuntimeException notJson) {
        callbackEvents.add(new JsonObject().put("unparseable", b.toString()));
      }
      req.response().end();
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    closeables.add(() -> receiver.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
    String hook = "http://127.0.0.1:" + receiver.actualPort() + "/hook";
    int closedPort = freePort();

    // --- start: relay, then mint a JWT, then the app-server --------------------------------------
    JarProcess relay1 = startRelay(jvm, relayConf);
    JarProcess minter = JarProcess.start(work, jvm, Map.of(), "token", "--conf", appConf.toString(),
        "--scope", "tunnels:read", "--ttl", "10m");
    processes.add(minter);
    assertThat(minter.waitFor(START)).as(minter.output()).isZero();
    String readJwt = minter.lines().stream().map(String::strip)
        .filter(l -> l.matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+")).reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("no JWT printed by `porthole token`:\n" + minter.output()));

    JarProcess app = JarProcess.start(work, jvm, Map.of(), "app-server", "--conf", appConf.toString(),
        "--config", portrConf.toString(), "--token", apiToken);
    processes.add(app);
    String api = app.await("Portr app server listening on http://\\S+:(\\d+)", START);
    int apiPort = Integer.parseInt(api);
    Map<String, String> auth = Map.of("Authorization", bearer);

    Raw health = apiCall(apiPort, "GET", "/api/v1/health", auth, null, null);
    assertThat(health.status).isEqualTo(200);
    assertThat(health.body).contains("\"relay\":\"configured\"");

    // --- tunnels: http with basic auth + callback, tcp, http to a closed port ------------------
    // pool_size 1: a pool shares one connection id reserved up front, which a restarted relay (its
    // registry is in memory) no longer knows, so pooled sessions cannot log in again after the restart.
    Raw webR = apiCall(apiPort, "POST", "/api/v1/tunnels", auth, "application/json", new JsonObject()
        .put("name", "web").put("port", backend.port()).put("subdomain", "leakweb").put("pool_size", 1)
        .put("basic_auth", basicCredential).put("callback_url", hook).encode());
    assertThat(webR.status).as(webR.body).isEqualTo(201);
    JsonObject web = new JsonObject(webR.body);
    assertThat(web.getString("status")).isEqualTo("running");
    Raw tcpR = apiCall(apiPort, "POST", "/api/v1/tunnels", auth, "application/json", new JsonObject()
        .put("name", "raw").put("type", "tcp").put("port", tcpTarget.port()).put("callback_url", hook).encode());
    assertThat(tcpR.status).as(tcpR.body).isEqualTo(201);
    JsonObject tcp = new JsonObject(tcpR.body);
    Raw downR = apiCall(apiPort, "POST", "/api/v1/tunnels", auth, "application/json", new JsonObject()
        .put("name", "down").put("port", closedPort).put("subdomain", "leakdown").put("pool_size", 1).put("callback_url", hook).encode());
    assertThat(downR.status).as(downR.body).isEqualTo(201);
    JsonObject down = new JsonObject(downR.body);
    List<JsonObject> tunnels = List.of(web, tcp, down);

    // --- traffic ---------------------------------------------------------------------------------
    edgeTraffic(httpPort, basicB64, basicPassword);
    tcpTraffic(tcp.getInteger("remote_port"), tcpReply);
    assertThat(tcpTarget.received().get(10, TimeUnit.SECONDS)).isNotEmpty();
    // failure: the local service of "down" is not listening
    Raw page503 = edge(httpPort, "leakdown", null);
    assertThat(page503.status).isEqualTo(503);
    assertThat(page503.head.toLowerCase(Locale.ROOT)).contains("x-portr-error-reason: local-server-not-online");

    // --- failure: the relay goes away; every tunnel becomes unhealthy ----------------------------
    assertThat(relay1.terminate(Duration.ofSeconds(30))).as(relay1.output()).isZero();
    for (JsonObject t : tunnels) {
      awaitStatus(apiPort, auth, t.getString("id"), "unhealthy", Duration.ofSeconds(20));
    }
    // --- reconnect: a new relay on the same ports and data dir -----------------------------------
    JarProcess relay2 = startRelay(jvm, relayConf);
    for (JsonObject t : tunnels) {
      awaitStatus(apiPort, auth, t.getString("id"), "running", Duration.ofSeconds(40));
    }
    edgeTraffic(httpPort, basicB64, basicPassword);
    // a reconnect reserves a new connection, and a TCP tunnel's public port may change with it
    Raw tcpNow = apiCall(apiPort, "GET", "/api/v1/tunnels/" + tcp.getString("id"), auth, null, null);
    tcpTraffic(new JsonObject(tcpNow.body).getInteger("remote_port"), tcpReply);
    assertThat(edge(httpPort, "leakdown", null).status).isEqualTo(503);

    // --- bad requests ----------------------------------------------------------------------------
    badRequests(apiPort, adminPort, auth, readJwt, relayKey, apiToken, jwtSecret, basicCredential, basicPassword);

    // --- lists, events, stop ---------------------------------------------------------------------
    Raw list = apiCall(apiPort, "GET", "/api/v1/tunnels", auth, null, null);
    assertThat(new JsonObject(list.body).getJsonArray("tunnels")).hasSize(3);
    Raw listByJwt = apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of("Authorization", "Bearer " + readJwt), null, null);
    assertThat(listByJwt.status).isEqualTo(200);
    apiCall(apiPort, "GET", "/api/v1/tunnels/" + web.getString("id"), auth, null, null);
    apiCall(apiPort, "DELETE", "/api/v1/tunnels/" + web.getString("id"), auth, null, null);
    apiCall(apiPort, "POST", "/api/v1/tunnels/" + tcp.getString("id") + "/shutdown", auth, null, null);
    Raw stopDown = apiCall(apiPort, "DELETE", "/api/v1/tunnels/" + down.getString("id"), auth, null, null);
    assertThat(new JsonObject(stopDown.body).getString("status")).isEqualTo("stopped");
    Raw events = apiCall(apiPort, "GET", "/api/v1/events", auth, null, null);
    Raw webEvents = apiCall(apiPort, "GET", "/api/v1/events?tunnel_id=" + web.getString("id"), auth, null, null);
    List<String> webTypes = types(new JsonObject(webEvents.body).getJsonArray("events"));
    assertThat(webTypes).as(webEvents.body).contains("started", "unhealthy", "reconnected", "stopped");
    assertThat(types(new JsonObject(events.body).getJsonArray("events")))
        .contains("started", "unhealthy", "reconnected", "stopped");
    Timeouts.pollUntil(Duration.ofSeconds(10), "stopped callbacks of all three tunnels", () ->
        callbackEvents.stream().filter(e -> "stopped".equals(e.getString("type"))).count() == 3);
    assertThat(callbackEvents.stream().map(e -> e.getString("type")).distinct().toList())
        .contains("started", "unhealthy", "reconnected", "stopped");

    assertThat(app.terminate(Duration.ofSeconds(30))).as(app.output()).isZero();
    assertThat(relay2.terminate(Duration.ofSeconds(30))).as(relay2.output()).isZero();

    // --- the scan is meaningful: TRACE really on ------------------------------------------------
    assertThat(relay1.lines()).as("relay logged SSH at DEBUG/TRACE")
        .anyMatch(l -> l.matches(".* (TRACE|DEBUG) +org\\.apache\\.sshd\\..*"));
    assertThat(relay2.lines()).anyMatch(l -> l.matches(".* (TRACE|DEBUG) +org\\.apache\\.sshd\\..*"));
    // ... and the secret did reach the loggers: MINA names sessions by user (<connection id>:<key>)
    assertThat(relay1.lines()).as("relay session names masked in the log")
        .anyMatch(l -> l.matches(".*ServerSessionImpl\\[[0-9A-Z]{26}:\\[redacted\\].*"));
    assertThat(app.lines()).as("app-server logged at DEBUG/TRACE")
        .anyMatch(l -> l.matches(".* (TRACE|DEBUG) +(io\\.netty|JSch|com\\.jcraft)\\S* - .*"))
        .anyMatch(l -> l.matches(".* (TRACE|DEBUG) +dev\\.porthole\\..*"));

    // --- scan ------------------------------------------------------------------------------------
    Map<String, String> needles = new LinkedHashMap<>();
    needles.put("relay secret_key", relayKey);
    needles.put("app-server token", apiToken);
    needles.put("base64(Bearer token)", bearerB64);
    needles.put("JWT secret", jwtSecret);
    needles.put("basic-auth password", basicPassword);
    needles.put("basic-auth user:password", basicCredential);
    needles.put("base64(user:password)", basicB64);
    Map<String, String> withJwt = new LinkedHashMap<>(needles);
    withJwt.put("minted JWT", readJwt);

    Map<String, String> sources = new LinkedHashMap<>();
    sources.put("relay#1 output", relay1.output());
    sources.put("relay#2 output", relay2.output());
    sources.put("app-server output", app.output());
    received.forEach((k, v) -> {
      sources.put(k + " (utf-8)", v.toString(StandardCharsets.UTF_8));
      sources.put(k + " (latin-1)", v.toString(StandardCharsets.ISO_8859_1));
    });
    sources.put("callbacks (headers+bodies)", String.join("\n----\n", callbacks));
    sources.put("GET /api/v1/events bodies", events.body + "\n" + webEvents.body);
    try (Stream<Path> files = Files.walk(work)) {
      StringBuilder written = new StringBuilder();
      for (Path f : files.filter(Files::isRegularFile).filter(f -> !inputs.contains(f)).toList()) {
        written.append("== ").append(work.relativize(f)).append('\n')
            .append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
      }
      sources.put("files written under the work dir", written.toString());
    }

    List<String> leaks = new ArrayList<>();
    StringBuilder sizes = new StringBuilder();
    sources.forEach((source, text) -> {
      sizes.append(String.format("  %-44s %,12d bytes%n", source, text.getBytes(StandardCharsets.UTF_8).length));
      scan(leaks, source, text, withJwt);
    });
    // `porthole token` prints the JWT it mints (its job), never the secret it signs with.
    sizes.append(String.format("  %-44s %,12d bytes%n", "token output",
        minter.output().getBytes(StandardCharsets.UTF_8).length));
    scan(leaks, "token output", minter.output(), needles);

    long seconds = Duration.ofNanos(System.nanoTime() - t0).toSeconds();
    System.out.println("SecretsNeverLeakIT: scenario " + seconds + " s; scanned:\n" + sizes
        + "web tunnel events: " + webTypes + "\ncallbacks: " + callbacks.size());
    assertThat(leaks).as("secrets found (source / secret / where):\n" + String.join("\n", leaks)
        + "\nbytes scanned:\n" + sizes).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------

  private JarProcess startRelay(List<String> jvm, Path relayConf) throws IOException {
    JarProcess relay = JarProcess.start(work, jvm, Map.of(), "relay", "--conf", relayConf.toString());
    processes.add(relay);
    relay.await("HTTP edge +http://<subdomain>\\.(\\S+)", START);
    return relay;
  }

  private void edgeTraffic(int httpPort, String basicB64, String basicPassword) throws IOException {
    Raw ok = edge(httpPort, "leakweb", "Basic " + basicB64);
    assertThat(ok.status).as(ok.head + ok.body).isEqualTo(200);
    assertThat(ok.body).isEqualTo("hello from leak-local");
    Raw none = edge(httpPort, "leakweb", null);
    assertThat(none.status).isEqualTo(401);
    String wrong = Base64.getEncoder().encodeToString("alice:wrong-password".getBytes(StandardCharsets.UTF_8));
    assertThat(edge(httpPort, "leakweb", "Basic " + wrong).status).isEqualTo(401);
    // the right password under another user name: refused, and not echoed
    String otherUser = Base64.getEncoder().encodeToString(("mallory:" + basicPassword).getBytes(StandardCharsets.UTF_8));
    assertThat(edge(httpPort, "leakweb", "Basic " + otherUser).status).isEqualTo(401);
  }

  private void tcpTraffic(int remotePort, byte[] expected) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), remotePort)) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write("bytes through the tcp tunnel\n".repeat(100).getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
      byte[] got = s.getInputStream().readAllBytes();
      record("tcp tunnel (public end)", got);
      assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo(new String(expected, StandardCharsets.US_ASCII));
    }
  }

  private void badRequests(int apiPort, int adminPort, Map<String, String> auth, String readJwt, String relayKey,
      String apiToken, String jwtSecret, String basicCredential, String basicPassword) throws IOException {
    String json = "application/json";
    // wrong credentials
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of(), null, null).status).isEqualTo(401);
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of("Authorization", "Bearer " + apiToken + "x"), null, null)
        .status).isEqualTo(401);
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of("Authorization", "Bearer " + relayKey), null, null)
        .status).isEqualTo(401);
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of("Authorization", "Bearer " + jwtSecret), null, null)
        .status).isEqualTo(401);
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of("Authorization", "Basic "
        + Base64.getEncoder().encodeToString(basicCredential.getBytes(StandardCharsets.UTF_8))), null, null).status)
        .isEqualTo(401);
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels", Map.of("Authorization", "Bearer " + readJwt + "x"), null, null)
        .status).isEqualTo(401);
    // a JWT with the wrong scope
    Raw forbidden = apiCall(apiPort, "POST", "/api/v1/tunnels", Map.of("Authorization", "Bearer " + readJwt), json,
        new JsonObject().put("port", 1).put("basic_auth", basicCredential).encode());
    assertThat(forbidden.status).as(forbidden.body).isEqualTo(403);
    // malformed bodies, some carrying secrets
    assertThat(apiCall(apiPort, "POST", "/api/v1/tunnels", auth, json, "{\"port\":").status).isEqualTo(400);
    assertThat(apiCall(apiPort, "POST", "/api/v1/tunnels", auth, json,
        "{\"port\":3000,\"basic_auth\":\"" + basicCredential + "\"").status).isEqualTo(400);
    assertThat(apiCall(apiPort, "POST", "/api/v1/tunnels", auth, json,
        new JsonObject().put("port", relayKey).encode()).status).isEqualTo(400);
    assertThat(apiCall(apiPort, "POST", "/api/v1/tunnels", auth, "text/plain",
        new JsonObject().put("port", 3000).put("basic_auth", basicCredential).encode()).status).isEqualTo(400);
    assertThat(apiCall(apiPort, "POST", "/api/v1/tunnels", auth, json,
        new JsonObject().put("port", 3000).put("basic_auth", 42).encode()).status).isEqualTo(400);
    // valid JSON, invalid requests that carry the secrets: the message must not echo them
    Map<JsonObject, String> invalid = new LinkedHashMap<>();
    invalid.put(new JsonObject().put("type", "tcp").put("port", 3000).put("basic_auth", basicCredential),
        "basic_auth is not supported for tcp tunnels");
    invalid.put(new JsonObject().put("type", "tcp").put("port", 3000).put("basic_auth", "x"),
        "basic_auth is not supported for tcp tunnels");
    invalid.put(new JsonObject().put("port", 3000).put("basic_auth", relayKey),
        "basic_auth must be in user:password format");
    invalid.put(new JsonObject().put("port", 3000).put("basic_auth", ":" + apiToken),
        "basic_auth username cannot be empty");
    invalid.put(new JsonObject().put("port", 3000).put("basic_auth", jwtSecret + ":"),
        "basic_auth password cannot be empty");
    invalid.put(new JsonObject().put("type", apiToken).put("port", 3000), "type must be http, tcp, or stub");
    invalid.put(new JsonObject().put("port", 3000).put("name", relayKey + "\u0001"), "name must not contain control characters");
    invalid.put(new JsonObject().put("port", 3000).put("host", basicPassword + "\n"), "host must not contain control characters");
    invalid.put(new JsonObject().put("port", 70000).put("basic_auth", basicCredential), "port must be between 1 and 65535");
    invalid.put(new JsonObject().put("port", 3000).put("callback_url", "ftp://u:" + jwtSecret + "@127.0.0.1/"),
        "callback_url must use http or https");
    invalid.put(new JsonObject().put("port", 3000).put("callback_url", "http://u:" + apiToken + "@/x"),
        "callback_url must be a valid absolute URL");
    invalid.forEach((body, message) -> {
      Raw r = apiCall(apiPort, "POST", "/api/v1/tunnels", auth, json, body.encode());
      assertThat(r.status).as(r.body).isEqualTo(400);
      assertThat(new JsonObject(r.body).getString("message")).isEqualTo(message);
    });
    // unknown paths and methods, unknown ids
    assertThat(apiCall(apiPort, "GET", "/api/v1/nothing-here", auth, null, null).status).isEqualTo(404);
    assertThat(apiCall(apiPort, "PUT", "/api/v1/tunnels", auth, json, "{}").status).isEqualTo(405);
    assertThat(apiCall(apiPort, "GET", "/api/v1/tunnels/01ARZ3NDEKTSV4RRFFQ69G5FAV", auth, null, null).status)
        .isEqualTo(404);
    assertThat(apiCall(apiPort, "GET", "/nope", Map.of(), null, null).status).isEqualTo(401);

    // the relay's admin API: wrong key, bad bodies carrying the key
    String conn = "/api/v1/connections/";
    assertThat(adminCall(adminPort, conn, new JsonObject().put("connection_type", "http")
        .put("secret_key", relayKey + "x").put("subdomain", "abc").encode()).status).isEqualTo(401);
    assertThat(adminCall(adminPort, conn, new JsonObject().put("connection_type", "ftp")
        .put("secret_key", relayKey).encode()).status).isEqualTo(400);
    assertThat(adminCall(adminPort, conn, new JsonObject().put("connection_type", "http")
        .put("secret_key", relayKey).put("subdomain", "Bad_Sub").encode()).status).isEqualTo(400);
    assertThat(adminCall(adminPort, conn, "{\"secret_key\":\"" + relayKey + "\",").status).isEqualTo(400);
    assertThat(adminCall(adminPort, conn, new JsonObject().put("connection_type", "http")
        .put("secret_key", 7).encode()).status).isEqualTo(400);
    Raw version = exchange("relay admin API", adminPort, request("GET", "/api/v1/version", "127.0.0.1:" + adminPort,
        Map.of(), null, null));
    assertThat(version.status).isEqualTo(200);
    assertThat(exchange("relay admin API", adminPort, request("GET", "/api/v1/" + "unknown", "127.0.0.1:" + adminPort,
        Map.of(), null, null)).status).isEqualTo(404);
  }

  private void awaitStatus(int apiPort, Map<String, String> auth, String id, String status, Duration limit) {
    String[] last = {""};
    try {
      Timeouts.pollUntil(limit, "tunnel " + id + " " + status, () -> {
        Raw r = apiCall(apiPort, "GET", "/api/v1/tunnels/" + id, auth, null, null);
        last[0] = r.body;
        return r.status == 200 && status.equals(new JsonObject(r.body).getString("status"));
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last answer: " + last[0], e);
    }
  }

  private static List<String> types(JsonArray events) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      out.add(events.getJsonObject(i).getString("type"));
    }
    return out;
  }

  private static void scan(List<String> leaks, String source, String text, Map<String, String> needles) {
    needles.forEach((name, value) -> {
      int at = text.indexOf(value);
      if (at >= 0) {
        int start = Math.max(0, text.lastIndexOf('\n', at) + 1);
        int end = text.indexOf('\n', at);
        String line = text.substring(start, end < 0 ? text.length() : end);
        leaks.add(source + " / " + name + " / " + (line.length() > 600 ? line.substring(0, 600) + "…" : line));
      }
    });
  }

  // --- a raw HTTP/1.1 client: every byte served is kept for the scan ----------------------------

  private record Raw(int status, String head, String body) {
  }

  private Raw apiCall(int port, String method, String path, Map<String, String> headers, String contentType, String body) {
    return exchange("app-server API", port, request(method, path, "127.0.0.1:" + port, headers, contentType, body));
  }

  private Raw adminCall(int port, String path, String body) {
    return exchange("relay admin API", port, request("POST", path, "127.0.0.1:" + port, Map.of(), "application/json", body));
  }

  private Raw edge(int httpPort, String subdomain, String authorization) {
    Map<String, String> h = authorization == null ? Map.of() : Map.of("Authorization", authorization);
    return exchange("relay HTTP edge", httpPort, request("GET", "/hello", subdomain + ".localhost:" + httpPort, h, null, null));
  }

  private static byte[] request(String method, String path, String host, Map<String, String> headers, String contentType,
      String body) {
    StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
        .append("Host: ").append(host).append("\r\nConnection: close\r\n");
    headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
    byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (contentType != null) {
      sb.append("Content-Type: ").append(contentType).append("\r\n");
    }
    if (body != null) {
      sb.append("Content-Length: ").append(payload.length).append("\r\n");
    }
    sb.append("\r\n");
    byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[head.length + payload.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(payload, 0, all, head.length, payload.length);
    return all;
  }

  private synchronized void record(String source, byte[] bytes) {
    received.computeIfAbsent(source, k -> new ByteArrayOutputStream()).writeBytes(bytes);
    received.get(source).writeBytes("\n".getBytes(StandardCharsets.US_ASCII));
  }

  private Raw exchange(String source, int port, byte[] request) {
    byte[] bytes;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(request);
      out.flush();
      InputStream in = s.getInputStream();
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("HTTP exchange with " + source + " on port " + port, e);
    }
    record(source, bytes);
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int split = text.indexOf("\r\n\r\n");
    if (!text.startsWith("HTTP/1.1 ") || split < 0) {
      throw new AssertionError(source + " answered something that is not HTTP/1.1: " + text);
    }
    String head = text.substring(0, split + 2);
    String rawBody = text.substring(split + 4);
    String body = head.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked") ? dechunk(rawBody) : rawBody;
    body = new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    if (!body.equals(rawBody)) {
      record(source + " (decoded bodies)", body.getBytes(StandardCharsets.UTF_8));
    }
    return new Raw(Integer.parseInt(text.substring(9, 12)), head, body);
  }

  private static String dechunk(String raw) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < raw.length()) {
      int eol = raw.indexOf("\r\n", i);
      if (eol < 0) {
        break;
      }
      String sizeField = raw.substring(i, eol);
      int semi = sizeField.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? sizeField : sizeField.substring(0, semi)).strip(), 16);
      if (size == 0) {
        break;
      }
      out.append(raw, eol + 2, Math.min(raw.length(), eol + 2 + size));
      i = eol + 2 + size + 2;
    }
    return out.toString();
  }
}
