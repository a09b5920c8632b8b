package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import dev.porthole.testsupport.GenRawHttp;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.JschTunnel;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input that never hurts: one {@code porthole app-server} jar process with live tunnels (and
 * more being created and deleted meanwhile) gets over 10 000 seeded, generated bad requests on its
 * API, its embedded relay over 2 000 on its admin API and over 200 odd SSH user names. Never a 5xx,
 * every 4xx a JSON {@code message}, no exception in the output, the process alive, and the tunnel
 * list exactly what the valid requests made.
 *
 * <p>The generator is {@code new Random(SEED + test number)}; {@code -Dporthole.badinput.seed=N}
 * replays another seed. Every failure message names the seed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("Bad input that never hurts: seeded generated requests against one app-server jar with live tunnels, and its embedded relay")
class BadInputIT {
  static final long SEED = Long.getLong("porthole.badinput.seed", 20_260_517L);
  static final int WORKERS = 8;
  static final int MIB = 1024 * 1024;
  static final String ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  enum Target { APP, RELAY }

  @TempDir
  static Path home;
  Vertx vertx;
  HttpClient client;
  Context clientContext;
  LocalBackend backend;
  JarProcess app;
  ProcessHandle appProcess;
  int apiPort;
  int adminPort;
  int sshPort;
  String domain;
  int edgePort;
  String secret;

  /** What the valid create/delete requests made: tunnel id → expected status. */
  final Map<String, String> expected = new ConcurrentHashMap<>();
  final List<String> liveHttp = Collections.synchronizedList(new ArrayList<>());
  final List<String> churnProblems = Collections.synchronizedList(new ArrayList<>());
  final AtomicInteger churnCreates = new AtomicInteger();
  final AtomicInteger churnDeletes = new AtomicInteger();
  volatile boolean churnStop;
  Thread churn;

  final List<Offense> offenses = Collections.synchronizedList(new ArrayList<>());
  /** Tunnels that bad requests created (each one an offense too). */
  final List<String> badIds = Collections.synchronizedList(new ArrayList<>());
  final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  final AtomicInteger seq = new AtomicInteger();

  // ------------------------------------------------------------------------------------------
  // Set-up: the jar, three live tunnels, and the churn of valid creates and deletes.

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    clientContext = vertx.getOrCreateContext();
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(5_000),
        new PoolOptions().setHttp1MaxSize(WORKERS + 2));
    backend = LocalBackend.start(vertx, "badinput");
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0",
        "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0",
        "relay:", "  max_auth_failures_per_minute: 100000", "  max_reserved_per_key: 100000", ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml");
    String api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    apiPort = Integer.parseInt(api.substring(api.lastIndexOf(':') + 1));
    String admin = app.await("embedded relay ready: admin (http://[^,\\s]+)", Duration.ofSeconds(5));
    adminPort = Integer.parseInt(admin.substring(admin.lastIndexOf(':') + 1));
    sshPort = Integer.parseInt(app.await("embedded relay ready: .*SSH 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(5)));
    domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
    secret = Files.readString(home.resolve(".porthole/relay/secret_key")).strip();
    String homeArg = "-Duser.home=" + home.toAbsolutePath();
    appProcess = ProcessHandle.current().children()
        .filter(p -> p.info().arguments().map(a -> List.of(a).contains(homeArg)).orElse(false))
        .findFirst().orElseThrow(() -> new AssertionError("the app-server process is not a child of this JVM"));

    // The live tunnels every bad request runs against.
    liveHttp.add(createValid("{\"name\":\"live-a\",\"port\":" + backend.port() + ",\"subdomain\":\"bi-live-a\"}", null));
    liveHttp.add(createValid("{\"name\":\"live-b\",\"port\":" + backend.port() + ",\"subdomain\":\"bi-live-b\",\"pool_size\":1}", null));
    createValid("{\"name\":\"live-tcp\",\"type\":\"tcp\",\"port\":" + backend.port() + "}", null);
    assertThat(churnProblems).as("seed=%d: the live tunnels", SEED).isEmpty();
    assertThat(viaEdge("bi-live-a")).isEqualTo("hello from badinput");

    churn = new Thread(this::churn, "badinput-churn");
    churn.setDaemon(true);
    churn.start();
  }

  @AfterAll
  void stop() throws Exception {
    churnStop = true;
    if (churn != null) {
      churn.join(30_000);
    }
    if (app != null) {
      app.close();
    }
    if (backend != null) {
      backend.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Valid creates and deletes while the bad requests run, including valid edge cases a strict
   * parser might refuse (upper-case keys, nulls for optional fields, a repeated key whose last value
   * is valid, a 253-character and a non-ASCII name, a JSON media type with parameters).
   */
  private void churn() {
    Random rnd = new Random(SEED + 99);
    List<String> mine = new ArrayList<>();
    int p = backend.port();
    for (int n = 1; n <= 24 && !churnStop; n++) {
      String sub = "bi-churn-" + n;
      String body = switch (n % 8) {
        case 0 -> "{\"type\":\"tcp\",\"port\":" + p + ",\"name\":\"churn-tcp-" + n + "\"}";
        case 1 -> "{\"PORT\":" + p + ",\"Subdomain\":\"" + sub.toUpperCase() + "\",\"NAME\":\"churn-upper\"}";
        case 2 -> "{\"name\":null,\"host\":null,\"type\":null,\"port\":" + p + ",\"subdomain\":\"" + sub + "\",\"callback_urls\":null}";
        case 3 -> "{\"port\":1,\"subdomain\":\"" + sub + "\",\"port\":" + p + "}";
        case 4 -> "{\"name\":\"" + "n".repeat(253) + "\",\"port\":" + p + ",\"subdomain\":\"" + sub + "\"}";
        case 5 -> "{\"name\":\"t\u00fcnnel-\u65e5\u672c-\ud83d\ude80\",\"port\":" + p + ",\"subdomain\":\"" + sub + "\",\"pool_size\":1}";
        case 6 -> "{\"name\":\"churn-" + n + "\",\"port\":" + p + ",\"subdomain\":\"" + sub + "\",\"basic_auth\":\"u:p\"}";
        default -> "{\"name\":\"churn-" + n + "\",\"port\":" + p + ",\"subdomain\":\"" + sub + "\"}";
      };
      String id = createValid(body, n % 4 == 2 ? "application/json; charset=utf-8" : null);
      if (id != null) {
        mine.add(id);
        churnCreates.incrementAndGet();
      }
      if (!mine.isEmpty() && rnd.nextInt(3) != 0) {
        String victim = mine.remove(rnd.nextInt(mine.size()));
        stopValid(victim, rnd.nextBoolean());
        if (rnd.nextInt(4) == 0) {
          stopValid(victim, rnd.nextBoolean()); // again: still 200 stopped
        }
        churnDeletes.incrementAndGet();
      }
      long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(250);
      Timeouts.pollUntil(Duration.ofSeconds(5), "the churn's pace", () -> churnStop || System.nanoTime() > next);
    }
  }

  /** A valid create; records the id as expected running (or a churn problem). */
  private String createValid(String body, String contentType) {
    try {
      Result r = vertxSend(apiPort, "POST", "/api/v1/tunnels",
          List.<String[]>of(new String[] {"Content-Type", contentType == null ? "application/json" : contentType}),
          body.getBytes(StandardCharsets.UTF_8));
      JsonObject t = r.status == 201 ? new JsonObject(new String(r.body, StandardCharsets.UTF_8)) : null;
      if (t == null || !"running".equals(t.getString("status"))) {
        churnProblems.add("valid create " + body + " → " + r.status + " " + excerpt(r.body, 300) + " " + r.error);
        return null;
      }
      expected.put(t.getString("id"), "running");
      return t.getString("id");
    } catch (RuntimeException e) {
      churnProblems.add("valid create " + body + " → " + e);
      return null;
    }
  }

  private void stopValid(String id, boolean viaShutdown) {
    Result r = viaShutdown ? vertxSend(apiPort, "POST", "/api/v1/tunnels/" + id + "/shutdown", List.of(), null)
        : vertxSend(apiPort, "DELETE", "/api/v1/tunnels/" + id, List.of(), null);
    String status = r.status == 200 ? new JsonObject(new String(r.body, StandardCharsets.UTF_8)).getString("status") : null;
    if (!"stopped".equals(status)) {
      churnProblems.add("valid stop of " + id + " → " + r.status + " " + excerpt(r.body, 300));
    } else {
      expected.put(id, "stopped");
    }
  }

  private String viaEdge(String subdomain) throws Exception {
    try (GenRawHttp raw = new GenRawHttp("127.0.0.1", edgePort, 10_000)) {
      GenRawHttp.Response r = raw.exchange(("GET / HTTP/1.1\r\nHost: " + subdomain + "." + domain + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1), false, true);
      return r == null ? "no answer" : new String(r.body(), StandardCharsets.UTF_8);
    }
  }

  // ------------------------------------------------------------------------------------------
  // The app-server API.

  @Test
  @Order(1)
  @DisplayName("app-server POST bodies: malformed JSON, wrong types, floats for ints, huge numbers, nulls, arrays/strings instead of objects, duplicate keys, deep nesting")
  void jsonBodies() throws Exception {
    Random rnd = new Random(SEED + 1);
    List<Req> reqs = new ArrayList<>();
    for (int i = 0; i < 450; i++) {
      reqs.add(post("malformed JSON", malformedJson(rnd, "{\"name\":\"m-" + i + "\",\"type\":\"http\",\"subdomain\":\"bi-m" + i + "\",\"pool_size\":1}",
          "\"port\":" + backend.port())));
      reqs.add(post("wrong types", wrongTypes(rnd)).message("invalid JSON body"));
      reqs.add(post("floats for ints", floatsForInts(rnd)).message("invalid JSON body"));
      reqs.add(hugeNumbers(rnd));
      reqs.add(nulls(rnd));
      reqs.add(post("arrays or strings instead of objects", notAnObject(rnd, appBody(rnd))).message("invalid JSON body"));
      reqs.add(duplicateKeys(rnd));
      reqs.add(post("deep nesting", deepNesting(rnd, appFields(rnd), List.of("name", "host", "type", "subdomain",
          "port", "pool_size", "callback_urls", "basic_auth"))).message("invalid JSON body"));
    }
    run(Target.APP, reqs, "jsonBodies");
  }

  @Test
  @Order(2)
  @DisplayName("app-server POST bodies: invalid UTF-8 bytes, control characters in names and hosts, overlong names and hosts, wrong or missing Content-Type, invalid values")
  void textAndValues() throws Exception {
    Random rnd = new Random(SEED + 2);
    List<Req> reqs = new ArrayList<>();
    for (int i = 0; i < 450; i++) {
      reqs.add(invalidUtf8App(rnd));
      reqs.add(controlChars(rnd));
      reqs.add(overlong(rnd));
      reqs.add(wrongContentType(rnd, "/api/v1/tunnels", appBody(rnd), null));
      reqs.add(invalidValues(rnd));
    }
    run(Target.APP, reqs, "textAndValues");
  }

  @Test
  @Order(3)
  @DisplayName("app-server paths: traversal (../, %2e%2e, //), overlong ids (to 64 KB), random paths under /api/v1/ and elsewhere, HEAD/OPTIONS everywhere, random query strings")
  void paths() throws Exception {
    Random rnd = new Random(SEED + 3);
    List<Req> reqs = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      reqs.add(traversal(rnd, Target.APP));
      reqs.add(overlongId(rnd, Target.APP));
      reqs.add(randomApiPath(rnd, Target.APP));
      reqs.add(randomOtherPath(rnd));
      reqs.add(headOrOptions(rnd, Target.APP));
      reqs.add(randomQuery(rnd, Target.APP));
    }
    run(Target.APP, reqs, "paths");
  }

  @Test
  @Order(4)
  @DisplayName("app-server protocol: unknown methods (FOO, PROPFIND → 400), absurd headers (100 KB → 431, 500 headers, odd bytes), overlong request lines (414), garbage (400), bodies over 4 MiB (413)")
  void protocol() throws Exception {
    Random rnd = new Random(SEED + 4);
    List<Req> reqs = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      reqs.add(unknownMethod(rnd, Target.APP));
    }
    for (int i = 0; i < 900; i++) {
      reqs.add(absurdHeaders(rnd, Target.APP));
    }
    for (int i = 0; i < 150; i++) {
      reqs.add(overlongLine(rnd, Target.APP));
    }
    for (int i = 0; i < 400; i++) {
      reqs.add(garbage(rnd));
    }
    reqs.addAll(bigBodies(Target.APP, "/api/v1/tunnels", 4 * MIB));
    run(Target.APP, reqs, "protocol");
  }

  // ------------------------------------------------------------------------------------------
  // The embedded relay.

  @Test
  @Order(5)
  @DisplayName("relay admin API: valid reservations among malformed JSON, wrong types, huge numbers, nulls, non-objects, duplicate keys, deep nesting, invalid UTF-8, control characters, overlong values, wrong Content-Type, > 64 KiB bodies, odd paths, methods, headers, lines and garbage")
  void relayAdmin() throws Exception {
    Random rnd = new Random(SEED + 5);
    List<Req> reqs = new ArrayList<>();
    for (int i = 0; i < 110; i++) {
      reqs.add(relayValid(rnd, i));
      reqs.add(post("malformed JSON", malformedJson(rnd, "{\"connection_type\":\"tcq\",\"subdomain\":\"fz-m\"}",
          "\"connection_type\":\"tcp\",\"secret_key\":\"" + secret + "\"")).at("/api/v1/connections/"));
      reqs.add(post("wrong types", relayWrongTypes(rnd)).at("/api/v1/connections/").error("Invalid input"));
      reqs.add(post("huge numbers and floats", relayNumbers(rnd)).at("/api/v1/connections/").error("Invalid input"));
      reqs.add(relayNulls(rnd));
      reqs.add(post("arrays or strings instead of objects", notAnObject(rnd, relayBody(rnd, "tcp")))
          .at("/api/v1/connections/").error("Invalid input"));
      reqs.add(relayDuplicateKeys(rnd));
      reqs.add(post("deep nesting", deepNesting(rnd, relayFields(rnd, "http"), List.of("secret_key", "connection_type", "subdomain")))
          .at(rnd.nextBoolean() ? "/api/v1/connections/" : "/api/v1/connections").error("Invalid input"));
      reqs.add(relayInvalidUtf8(rnd));
      reqs.add(relayControlAndOverlong(rnd));
      reqs.add(wrongContentType(rnd, "/api/v1/connections/", relayBody(rnd, "tcp"), "Invalid input"));
      reqs.add(traversal(rnd, Target.RELAY));
      reqs.add(overlongId(rnd, Target.RELAY));
      reqs.add(randomApiPath(rnd, Target.RELAY));
      reqs.add(headOrOptions(rnd, Target.RELAY));
      reqs.add(randomQuery(rnd, Target.RELAY));
      reqs.add(unknownMethod(rnd, Target.RELAY));
      reqs.add(absurdHeaders(rnd, Target.RELAY));
      reqs.add(i % 2 == 0 ? overlongLine(rnd, Target.RELAY) : garbage(rnd));
    }
    reqs.addAll(bigBodies(Target.RELAY, "/api/v1/connections/", 64 * 1024));
    run(Target.RELAY, reqs, "relayAdmin");
  }

  @Test
  @Order(6)
  @DisplayName("relay SSH: 220 odd user names (empty, no colon, many colons, unicode, control characters, 10 KB, valid id + wrong secret, wrong id + right secret) all refused but the valid ones; then reserve + forward + edge still work")
  void sshUserNames() throws Exception {
    Random rnd = new Random(SEED + 6);
    String id1 = reserve("tcp", null);
    String id2 = reserve("http", "bi-ssh-valid");
    List<String[]> names = new ArrayList<>(); // {class, user, "valid"|""}
    for (int i = 0; i < 22; i++) {
      String id = rnd.nextBoolean() ? id1 : id2;
      names.add(new String[] {"empty", "", ""});
      names.add(new String[] {"no colon", pick(rnd, List.of(id, secret, id + secret, "root", randomToken(rnd, 1 + rnd.nextInt(40)),
          "\u65e5\u672c\u8a9e", id + " " + secret)), ""});
      names.add(new String[] {"many colons", pick(rnd, List.of(id + ":" + secret + ":", id + ":" + secret + ":" + secret,
          ":" + id + ":" + secret, id + "::" + secret, ":".repeat(1 + rnd.nextInt(200)), id + ":" + secret + ":x:y:z")), ""});
      names.add(new String[] {"unicode", pick(rnd, List.of("\u65e5\u672c:\u0441\u0435\u043a\u0440\u0435\u0442",
          id + ":" + secret + "\u00e9", "\ud83d\ude80:" + secret, id.replace('0', '\uff10') + ":" + secret,
          id + ":\u2010" + secret, "\u202e" + id + ":" + secret)), ""});
      names.add(new String[] {"control characters", pick(rnd, List.of(id + "\u0000:" + secret, id + ":" + secret + "\u0000",
          "\r\n" + id + ":" + secret, id + ":\n" + secret, "\u001b[31m" + id + ":" + secret, id + "\t:" + secret,
          id + ":" + secret + "\u007f", "\u0000".repeat(32))), ""});
      names.add(new String[] {"10 KB long", pick(rnd, List.of("A".repeat(10_240), id + ":" + "s".repeat(10_240),
          "I".repeat(10_240) + ":" + secret, id + ":" + secret + "x".repeat(10_240), ":".repeat(10_240))), ""});
      names.add(new String[] {"valid id, wrong secret", id + ":" + pick(rnd, List.of("", " ", secret + " ", " " + secret,
          secret.substring(1), secret.substring(0, secret.length() - 1), secret.toUpperCase(), mutate(rnd, secret),
          secret + secret, "wrong-secret-0123456789")), ""});
      names.add(new String[] {"wrong id, right secret", pick(rnd, List.of(randomUlid(rnd), id.toLowerCase(), id + "0",
          id.substring(1), " " + id, "", "../" + id, randomUlid(rnd))) + ":" + secret, ""});
      names.add(new String[] {"random bytes", randomString(rnd, rnd.nextInt(300), true), ""});
    }
    for (int i = 0; i < 4; i++) {
      names.add(new String[] {"valid", (i % 2 == 0 ? id1 : id2) + ":" + secret, "valid"});
    }
    Collections.shuffle(names, rnd);

    List<String> wrong = Collections.synchronizedList(new ArrayList<>());
    Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (String[] n : names) {
        done.add(pool.submit(() -> {
          count("SSH", n[0]);
          String outcome = trySsh(n[1]);
          outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
          boolean accepted = outcome.equals("accepted");
          if (accepted != n[2].equals("valid")) {
            wrong.add("[" + n[0] + "] user " + excerpt(n[1].getBytes(StandardCharsets.UTF_8), 120) + " → " + outcome);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get(Timeouts.scaled(Duration.ofSeconds(60)).toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(15, TimeUnit.SECONDS);
    }
    System.out.println("SSH outcomes: " + new TreeMap<>(outcomes));
    assertThat(wrong).as("seed=%d: SSH logins with the wrong outcome (%d of %d)", SEED, wrong.size(), names.size()).isEmpty();
    assertThat(names.size()).isGreaterThanOrEqualTo(200);

    // The relay still serves: a new reservation, a JSch forward, a request through the edge.
    String id = reserve("http", "bi-after-ssh");
    try (JschTunnel tunnel = JschTunnel.connect(sshPort, id, secret)) {
      tunnel.forwardHttp(backend.port());
      assertThat(viaEdge("bi-after-ssh")).as("seed=%d: the edge after the SSH names", SEED).isEqualTo("hello from badinput");
    }
  }

  /** "accepted" or why not. Names with a colon go through JschTunnel, the others through JSch itself. */
  private String trySsh(String user) {
    try {
      int colon = user.indexOf(':');
      if (colon >= 0) {
        try (JschTunnel t = JschTunnel.connect(sshPort, user.substring(0, colon), user.substring(colon + 1))) {
          return "accepted";
        }
      }
      Session s = new JSch().getSession(user, "127.0.0.1", sshPort);
      s.setPassword("");
      s.setConfig("StrictHostKeyChecking", "no");
      s.setConfig("PreferredAuthentications", "password");
      s.setDaemonThread(true);
      try {
        s.connect(10_000);
        return "accepted";
      } finally {
        s.disconnect();
      }
    } catch (JSchException e) {
      return "refused: " + e.getMessage();
    }
  }

  private String reserve(String type, String subdomain) {
    JsonObject body = new JsonObject().put("connection_type", type).put("secret_key", secret);
    if (subdomain != null) {
      body.put("subdomain", subdomain);
    }
    Result r = vertxSend(adminPort, "POST", "/api/v1/connections/", List.<String[]>of(new String[] {"Content-Type", "application/json"}),
        body.toBuffer().getBytes());
    assertThat(r.status).as("reserve %s: %s", type, excerpt(r.body, 300)).isEqualTo(200);
    return new JsonObject(new String(r.body, StandardCharsets.UTF_8)).getString("connection_id");
  }

  // ------------------------------------------------------------------------------------------
  // After everything.

  @Test
  @Order(7)
  @DisplayName("afterwards: the process is alive, health is 200, the live tunnels carry traffic, the tunnel list is exactly what the valid requests made, no exception or ERROR in the output")
  void afterwards() throws Exception {
    churnStop = true;
    churn.join(Timeouts.scaled(Duration.ofSeconds(30)).toMillis());
    assertThat(churn.isAlive()).as("the churn thread stopped").isFalse();
    printCounts();
    SoftAssertions soft = new SoftAssertions();

    soft.assertThat(appProcess.isAlive()).as("seed=%d: the app-server process is alive", SEED).isTrue();
    Result health = vertxSend(apiPort, "GET", "/api/v1/health", List.of(), null);
    soft.assertThat(health.status).as("seed=%d: GET /api/v1/health", SEED).isEqualTo(200);
    for (String sub : List.of("bi-live-a", "bi-live-b")) {
      soft.assertThat(viaEdge(sub)).as("seed=%d: live tunnel %s through the edge", SEED, sub).isEqualTo("hello from badinput");
    }

    soft.assertThat(churnProblems).as("seed=%d: valid creates and deletes", SEED).isEmpty();
    Result list = vertxSend(apiPort, "GET", "/api/v1/tunnels", List.of(), null);
    assertThat(list.status).isEqualTo(200);
    Map<String, String> actual = new TreeMap<>();
    for (Object o : new JsonObject(new String(list.body, StandardCharsets.UTF_8)).getJsonArray("tunnels")) {
      JsonObject t = (JsonObject) o;
      actual.put(t.getString("id"), t.getString("status"));
    }
    System.out.printf("tunnels: %d made by valid requests (%d by the churn), %d of them deleted; %d made by bad requests%n",
        expected.size(), churnCreates.get(), expected.values().stream().filter("stopped"::equals).count(), badIds.size());
    Map<String, String> byValid = new TreeMap<>(actual);
    byValid.keySet().removeAll(badIds);
    soft.assertThat(byValid).as("seed=%d: the tunnel list (id → status), bad requests' tunnels aside, against what the valid "
        + "requests made", SEED).isEqualTo(new TreeMap<>(expected));
    soft.assertThat(badIds.size()).as("seed=%d: tunnels made by bad requests (listed among the offenses), e.g. %s", SEED,
        badIds.subList(0, Math.min(5, badIds.size()))).isZero();

    soft.assertThat(total("APP")).as("app-server requests").isGreaterThanOrEqualTo(10_000);
    soft.assertThat(total("RELAY")).as("relay admin requests").isGreaterThanOrEqualTo(2_000);
    soft.assertThat(total("SSH")).as("SSH user names").isGreaterThanOrEqualTo(200);
    soft.assertThat(offenses.size()).as("seed=%d: offending answers over the whole run:%s", SEED, summary(offenses)).isZero();

    List<String> bad = app.lines().stream()
        .filter(l -> (l.contains("Exception") || l.contains(" ERROR ")) && !l.contains("App-server tunnel event event=failed"))
        .toList();
    if (!bad.isEmpty()) {
      // The whole output beside the jar, for the lines around each offending one.
      java.nio.file.Files.writeString(JarProcess.jar().resolveSibling("bad-input-app-server.log"), app.output());
    }
    Map<String, Integer> kinds = new TreeMap<>();
    for (String l : bad) {
      kinds.merge(l.replaceFirst("^\\S+Z ", "").replaceAll("[0-9A-Z]{26}|\\d+", "N"), 1, Integer::sum);
    }
    StringBuilder shown = new StringBuilder();
    kinds.forEach((k, n) -> shown.append(String.format("%n  %4d × %s", n, k.length() > 300 ? k.substring(0, 300) + "…" : k)));
    soft.assertThat(bad.size()).as("seed=%d: output lines with Exception or ERROR (digits and ids as N):%s", SEED, shown)
        .isZero();
    soft.assertAll();
  }


  private int total(String prefix) {
    return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix + " | "))
        .mapToInt(e -> e.getValue().get()).sum();
  }

  private void printCounts() {
    StringBuilder b = new StringBuilder("requests per input class (seed=" + SEED + "):\n");
    new TreeMap<>(counts).forEach((k, v) -> b.append(String.format("  %-60s %6d%n", k, v.get())));
    b.append(String.format("  totals: app-server %d, relay admin %d, SSH %d%n", total("APP"), total("RELAY"), total("SSH")));
    System.out.print(b);
  }

  // ------------------------------------------------------------------------------------------
  // Requests, sending, checking.

  /** One generated request: its input class, how it goes on the wire, and what must come back. */
  static final class Req {
    final String cls;
    String method = "POST";
    String target = "/api/v1/tunnels";
    final List<String[]> headers = new ArrayList<>();
    byte[] body;
    byte[] wire;
    boolean raw;
    boolean fresh;
    boolean noHost;
    boolean chunked;
    /**
     * Broken chunked framing: the body's length cannot be known, so the server drops the
     * connection (docs/compatibility.md); a close is the documented answer.
     */
    boolean brokenFraming;
    Integer expect;
    boolean fourxx;
    String message;
    String error;
    boolean valid;

    Req(String cls) {
      this.cls = cls;
    }

    Req m(String m) {
      method = m;
      return this;
    }

    Req at(String t) {
      target = t;
      return this;
    }

    Req h(String name, String value) {
      headers.add(new String[] {name, value});
      return this;
    }

    Req json(String text) {
      return json(text.getBytes(StandardCharsets.UTF_8));
    }

    Req json(byte[] bytes) {
      body = bytes;
      return h("Content-Type", "application/json");
    }

    Req raw() {
      raw = true;
      return this;
    }

    Req bodyOf(byte[] bytes) {
      body = bytes;
      return this;
    }

    Req fresh() {
      raw = true;
      fresh = true;
      return this;
    }

    Req expect(int status) {
      expect = status;
      return this;
    }

    Req expect4xx() {
      fourxx = true;
      return this;
    }

    /** The exact {@code message} a 4xx must carry. */
    Req message(String m) {
      message = m;
      return this;
    }

    /** The exact {@code error} a 4xx must carry (the relay's {"error":"Invalid input"}). */
    Req error(String e) {
      error = e;
      return this;
    }

    String show() {
      if (wire != null) {
        return "raw bytes " + excerpt(wire, 200);
      }
      return excerpt(method.getBytes(StandardCharsets.ISO_8859_1), 60) + " " + excerpt(target.getBytes(StandardCharsets.ISO_8859_1), 160)
          + (headers.isEmpty() ? "" : " headers " + excerpt(String.join("; ", headers.stream().map(h -> h[0] + ": " + h[1]).toList())
          .getBytes(StandardCharsets.ISO_8859_1), 160))
          + (body == null ? "" : " body[" + body.length + "] " + excerpt(body, 200));
    }
  }

  /** An answer; {@code hung}: its body never ended (no length, the connection left open). */
  record Result(int status, String contentType, byte[] body, String error, boolean hung) {
    Result(int status, String contentType, byte[] body, String error) {
      this(status, contentType, body, error, false);
    }
  }

  private static Req post(String cls, String json) {
    return new Req(cls).json(json);
  }

  private void run(Target target, List<Req> reqs, String test) throws Exception {
    int port = target == Target.APP ? apiPort : adminPort;
    int before = offenses.size();
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
    List<String> slow = Collections.synchronizedList(new ArrayList<>());
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        int first = w;
        done.add(pool.submit(() -> {
          try (GenRawHttp raw = new GenRawHttp("127.0.0.1", port, 10_000)) {
            for (int i = first; i < reqs.size(); i += WORKERS) {
              Req r = reqs.get(i);
              long s0 = System.nanoTime();
              check(target, r, send(port, r, raw));
              long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s0);
              if (ms > 2_000) {
                slow.add(ms + " ms: [" + r.cls + "] " + r.show());
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(Timeouts.scaled(Duration.ofSeconds(120)).toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(15, TimeUnit.SECONDS);
    }
    System.out.printf("%s: %d requests to the %s in %d ms%n", test, reqs.size(), target,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    slow.stream().limit(10).forEach(l -> System.out.println("  slow: " + l.substring(0, Math.min(300, l.length()))));
    List<Offense> mine = new ArrayList<>(offenses.subList(before, offenses.size()));
    if (!mine.isEmpty()) {
      throw new AssertionError(String.format("seed=%d: %d offending answers in %s, by input class and rule:%s", SEED,
          mine.size(), test, summary(mine)));
    }
  }

  private Result send(int port, Req r, GenRawHttp raw) {
    if (!r.raw && r.wire == null) {
      return vertxSend(port, r.method, r.target, r.headers, r.body);
    }
    try {
      GenRawHttp.Response res = raw.exchange(wire(r, port), r.wire == null && r.method.equals("HEAD"), r.fresh || r.wire != null);
      if (res == null) {
        return new Result(-1, null, new byte[0], "the connection closed without an answer");
      }
      return new Result(res.status(), res.header("content-type"), res.body(), null, res.hung());
    } catch (Exception e) {
      return new Result(-1, null, new byte[0], e.toString());
    }
  }

  private Result vertxSend(int port, String method, String target, List<String[]> headers, byte[] body) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.valueOf(method)).setHost("127.0.0.1").setPort(port)
        .setURI(target).setIdleTimeout(15_000);
    for (String[] h : headers) {
      o.addHeader(h[0], h[1]);
    }
    String[] stage = {"no connection"};
    CompletableFuture<Result> result = new CompletableFuture<>();
    // Every request from the one context its connections belong to: Vert.x 5.0's client can lose a
    // response's end when body() is attached from elsewhere (eclipse-vertx/vert.x#6038).
    clientContext.runOnContext(v -> client.request(o)
        .compose(req -> {
          stage[0] = "connected";
          return body == null ? req.send() : req.send(Buffer.buffer(body));
        })
        .compose(res -> {
          stage[0] = "response " + res.statusCode();
          return res.body().map(b -> new Result(res.statusCode(), res.getHeader("Content-Type"), b.getBytes(), null));
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            result.complete(ar.result());
          } else {
            result.completeExceptionally(ar.cause());
          }
        }));
    try {
      return result.get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      return new Result(-1, null, new byte[0], e + " at " + stage[0]);
    }
  }

  /** The request's bytes: ISO-8859-1 text (so any byte can be written) and the body as given. */
  private static byte[] wire(Req r, int port) {
    if (r.wire != null) {
      return r.wire;
    }
    StringBuilder s = new StringBuilder(bytes(r.method)).append(' ').append(bytes(r.target)).append(" HTTP/1.1\r\n");
    if (!r.noHost) {
      s.append("Host: 127.0.0.1:").append(port).append("\r\n");
    }
    boolean framed = false;
    for (String[] h : r.headers) {
      s.append(bytes(h[0])).append(": ").append(bytes(h[1])).append("\r\n");
      framed |= h[0].equalsIgnoreCase("Content-Length") || h[0].equalsIgnoreCase("Transfer-Encoding");
    }
    byte[] body = r.body == null ? new byte[0] : r.body;
    if (r.chunked) {
      s.append("Transfer-Encoding: chunked\r\n");
    } else if (!framed && r.body != null) {
      s.append("Content-Length: ").append(body.length).append("\r\n");
    }
    s.append("\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + body.length + 64);
    out.writeBytes(s.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (r.chunked) {
      for (int i = 0; i < body.length; i += 65_536) {
        int n = Math.min(65_536, body.length - i);
        out.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body, i, n);
        out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      }
      out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    } else {
      out.writeBytes(body);
    }
    return out.toByteArray();
  }

  /** Text for the wire as ISO-8859-1: kept as is when every char is a byte, else its UTF-8 bytes. */
  private static String bytes(String s) {
    return s.chars().allMatch(c -> c <= 0xff) ? s : new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  /** One offending answer: what it breaks (class and rule, for grouping) and the full story. */
  record Offense(String key, String line) {
  }

  private void offend(Target target, Req r, String line, String rule) {
    offenses.add(new Offense(target + " [" + r.cls + "] " + rule.replaceAll("\"[^\"]*\"", "…"), line + " (" + rule + ")"));
  }

  /** Offenses grouped by class and rule: a count and the first example of each. */
  static String summary(List<Offense> list) {
    Map<String, List<Offense>> by = new TreeMap<>();
    for (Offense o : list) {
      by.computeIfAbsent(o.key(), k -> new ArrayList<>()).add(o);
    }
    StringBuilder b = new StringBuilder();
    by.forEach((k, v) -> b.append(String.format("%n  %4d × %s%n         e.g. %s", v.size(), k, v.get(0).line())));
    return b.toString();
  }

  private void count(String target, String cls) {
    counts.computeIfAbsent(target + " | " + cls, k -> new AtomicInteger()).incrementAndGet();
  }

  /** The rules: an answer; never 5xx; the expected status; nothing created by a bad request; 4xx as JSON. */
  private void check(Target target, Req r, Result res) {
    count(target.name(), r.cls);
    String who = target + " [" + r.cls + "] " + r.show();
    if (res.error != null && r.brokenFraming && res.error.startsWith("the connection closed")) {
      return;
    }
    if (res.error != null) {
      String kind = res.error.startsWith("the connection closed") ? "closed" : res.error.replaceFirst(":.*", "").replaceFirst(".*\\.", "");
      offenses.add(new Offense(target + " [" + r.cls + "] no answer (" + kind + ")", who + " → no answer: " + res.error));
      return;
    }
    String said = " → " + res.status + " " + res.contentType + " " + excerpt(res.body, 200);
    if (res.hung) {
      offend(target, r, who + said, "the answer never ended: no length, and the connection left open");
    }
    if (res.status >= 500) {
      offend(target, r, who + said, "5xx: " + res.status);
      return;
    }
    if (r.expect != null && res.status != r.expect) {
      offend(target, r, who + said, "expected " + r.expect + ", got " + res.status);
      return;
    }
    String text = new String(res.body, StandardCharsets.UTF_8);
    if (!r.valid && (res.status == 201 || text.contains("\"connection_id\""))) {
      offend(target, r, who + said, "a bad request was accepted: it made a tunnel or a reservation");
      if (target == Target.APP && res.status == 201) {
        // Stopped at once, so the run goes on without a pile of stray tunnels; the final check lists it.
        String id = new JsonObject(text).getString("id");
        badIds.add(id);
        vertxSend(apiPort, "DELETE", "/api/v1/tunnels/" + id, List.of(), null);
      }
      return;
    }
    if (r.fourxx && (res.status < 400 || res.status >= 500)) {
      offend(target, r, who + said, "expected a 4xx");
      return;
    }
    if (res.status >= 400 && res.status < 500) {
      boolean unknownExpectation = res.status == 417 && r.show().contains("Expect: ") && !r.show().contains("Expect: 100-continue");
      if (unknownExpectation) {
        // Netty's HTTP codec answers an unknown Expect with a bare 417 before porthole sees the
        // request (docs/compatibility.md).
        return;
      }
      if (res.contentType == null || !res.contentType.toLowerCase().startsWith("application/json")) {
        offend(target, r, who + said, "a 4xx that is not application/json");
        return;
      }
      boolean head = r.wire == null && r.method.equals("HEAD");
      if (head) {
        return;
      }
      JsonObject o;
      try {
        o = new JsonObject(text);
      } catch (RuntimeException e) {
        offend(target, r, who + said, "a 4xx whose body is not a JSON object");
        return;
      }
      boolean hasMessage = o.getValue("message") instanceof String;
      boolean hasError = target == Target.RELAY && o.getValue("error") instanceof String;
      if (!hasMessage && !hasError) {
        offend(target, r, who + said, "a 4xx without a string message");
      } else if (r.message != null && !r.message.equals(o.getValue("message"))) {
        offend(target, r, who + said, "expected message \"" + r.message + "\"");
      } else if (r.error != null && res.status == 400 && !r.error.equals(o.getValue("error"))) {
        offend(target, r, who + said, "expected error \"" + r.error + "\"");
      }
    }
    if (r.valid && r.expect != null && r.expect == 200 && target == Target.RELAY && !text.contains("\"connection_id\"")) {
      offend(target, r, who + said, "a valid reservation without a connection_id");
    }
  }

  // ------------------------------------------------------------------------------------------
  // Generators: app-server bodies. Each bad body is otherwise valid (port of the live backend, a
  // fresh valid subdomain) unless said so, so that a parser that let the bad part through would
  // visibly create a tunnel.

  /** The fields of a valid create, as JSON texts, in a mutable list of {key, value}. */
  private List<String[]> appFields(Random rnd) {
    List<String[]> f = new ArrayList<>();
    f.add(new String[] {"name", q("fz-" + seq.incrementAndGet())});
    if (rnd.nextBoolean()) {
      f.add(new String[] {"type", q("http")});
    }
    if (rnd.nextBoolean()) {
      f.add(new String[] {"host", q("localhost")});
    }
    f.add(new String[] {"port", String.valueOf(backend.port())});
    f.add(new String[] {"subdomain", q("bi-f" + seq.incrementAndGet())});
    if (rnd.nextInt(3) == 0) {
      f.add(new String[] {"pool_size", "1"});
    }
    Collections.shuffle(f, rnd);
    return f;
  }

  private String appBody(Random rnd) {
    return obj(appFields(rnd));
  }

  private static String obj(List<String[]> fields) {
    StringBuilder b = new StringBuilder("{");
    for (String[] kv : fields) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append(q(kv[0])).append(':').append(kv[1]);
    }
    return b.append('}').toString();
  }

  private static void set(List<String[]> fields, String key, String value) {
    for (String[] kv : fields) {
      if (kv[0].equals(key)) {
        kv[1] = value;
        return;
      }
    }
    fields.add(new String[] {key, value});
  }

  static String q(String s) {
    return Json.encode(s);
  }

  /** Broken JSON: fixed classics around {@code validPart}, or random structural mutations of {@code base} (no letters are inserted, so no valid field can appear). */
  private static String malformedJson(Random rnd, String base, String validPart) {
    List<String> classics = List.of("{", "}", "[", "\"", "tru", "nul", "{,}", "{" + validPart + ",}", "{" + validPart + "}}",
        "{" + validPart + "} {" + validPart + "}", "{" + validPart + "}x", "{" + validPart + "}]", "{" + validPart.replace("\"", "'") + "}",
        "{" + validPart.replaceFirst("\"([a-z_]+)\"", "$1") + "}", "/* c */ {" + validPart + "}", "{" + validPart + "} // c",
        "{" + validPart + ",\"name\":\"unterminated}", "{" + validPart + ",\"name\":\"a\\x\"}", "{" + validPart + ",\"name\":\"\\u12\"}",
        "{" + validPart + ",\"name\":\"tab\there\"}", "{" + validPart + ",\"name\":\"nl\nhere\"}", "{\"port\" 1}", "{\"port\"::1}",
        "{\"port\":}", "{\"port\":0x1F}", "{\"port\":0800}", "{\"port\":+80}", "{\"port\":NaN}", "{\"port\":Infinity}",
        "{\"port\":-Infinity}", "{\"port\":1.}", "{\"port\":.5}", "{\"port\":1e}", "{\"port\":-}", "{" + validPart,
        "{" + validPart + ",\"a\":[1,2,]}", "\ufeff\ufeff{" + validPart + "}", "{" + validPart + ",}" + "\u0000", "{\"\":}",
        "{" + validPart + ",\"name\":undefined}", "{" + validPart + ",\"name\":'x'}", "{" + validPart + " \"name\":\"x\"}");
    if (rnd.nextInt(3) > 0) {
      return pick(rnd, classics);
    }
    String chars = "{}[]\":,\\ 0123456789-.\n\t";
    StringBuilder b = new StringBuilder(base);
    int ops = 1 + rnd.nextInt(3);
    for (int i = 0; i < ops; i++) {
      int at = rnd.nextInt(b.length() + 1);
      switch (rnd.nextInt(4)) {
        case 0 -> b.insert(at, chars.charAt(rnd.nextInt(chars.length())));
        case 1 -> b.setLength(Math.min(b.length(), at));
        case 2 -> {
          if (at < b.length()) {
            b.deleteCharAt(at);
          }
        }
        default -> {
          if (at < b.length()) {
            b.setCharAt(at, chars.charAt(rnd.nextInt(chars.length())));
          }
        }
      }
    }
    return b.toString();
  }

  private String wrongTypes(Random rnd) {
    List<String[]> f = appFields(rnd);
    String field = pick(rnd, List.of("name", "type", "host", "subdomain", "basic_auth", "callback_url", "response_format",
        "port", "pool_size", "callback_urls"));
    String value = switch (field) {
      case "port", "pool_size" -> pick(rnd, List.of(q(String.valueOf(backend.port())), "\"1\"", "\"\"", "true", "false", "{}",
          "[" + backend.port() + "]", "{\"value\":" + backend.port() + "}", "\"0x10\"", "[]"));
      case "callback_urls" -> pick(rnd, List.of("\"http://127.0.0.1/\"", "[1]", "[{}]", "{}", "true", "[[\"http://x/\"]]", "[true]", "7"));
      default -> pick(rnd, List.of("123", "-1", "true", "false", "{}", "{\"a\":\"b\"}", "[]", "[\"x\"]", "1.5", "[[]]", "0"));
    };
    set(f, field, value);
    return obj(f);
  }

  private String floatsForInts(Random rnd) {
    List<String[]> f = appFields(rnd);
    int p = backend.port();
    set(f, rnd.nextInt(3) == 0 ? "pool_size" : "port", pick(rnd, List.of(p + ".0", p + ".5", p + "e0", p + "0e-1", "1e3",
        "2.0", "-0.0", "0.0", "1E2", p + ".000000000000000000001", "1.0e0", (p / 10.0) + "e1", "3.14159")));
    return obj(f);
  }

  private Req hugeNumbers(Random rnd) {
    List<String[]> f = appFields(rnd);
    boolean port = rnd.nextBoolean();
    String beyond = pick(rnd, List.of("9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "1" + "0".repeat(30), "9".repeat(500), "9".repeat(5_000), "-" + "9".repeat(100), "1e400", "-1e400", "1e-400",
        "123456789012345678901234567890.5"));
    if (rnd.nextInt(3) > 0) {
      set(f, port ? "port" : "pool_size", beyond);
      return post("huge numbers (beyond int64)", obj(f)).message("invalid JSON body");
    }
    if (port) {
      set(f, "port", pick(rnd, List.of("9223372036854775807", "-9223372036854775808", "2147483648", "-2147483649", "65536",
          "4294967296", "0", "-1", "100000")));
      return post("huge numbers (beyond int64)", obj(f)).message("port must be between 1 and 65535");
    }
    set(f, "pool_size", pick(rnd, List.of("9223372036854775807", "2147483648", "2147483647", "65", "1000", "4294967297")));
    return post("huge numbers (beyond int64)", obj(f)).message("pool_size must be at most 64");
  }

  private Req nulls(Random rnd) {
    int kind = rnd.nextInt(5);
    if (kind == 0) {
      return post("nulls", pick(rnd, List.of("null", " null ", "{}", "{\"port\":null,\"PORT\":null}")))
          .message("port must be between 1 and 65535");
    }
    if (kind == 1) {
      return post("nulls", pick(rnd, List.of("[null]", "{\"port\":[null]}", "{\"name\":[null],\"port\":null}")))
          .message("invalid JSON body");
    }
    List<String[]> f = appFields(rnd);
    set(f, "port", "null");
    for (String k : List.of("name", "host", "type", "subdomain", "pool_size", "callback_url", "callback_urls", "basic_auth")) {
      if (rnd.nextInt(3) == 0) {
        set(f, k, "null");
      }
    }
    Collections.shuffle(f, rnd);
    return post("nulls", obj(f)).message("port must be between 1 and 65535");
  }

  private static String notAnObject(Random rnd, String valid) {
    return pick(rnd, List.of("[]", "[" + valid + "]", q(valid), "42", "true", "false", q("str"), "[[" + valid + "]]",
        "1.5", "[" + valid + "," + valid + "]", "\"\"", "[null," + valid + "]", "-0", "1e3"));
  }

  private Req duplicateKeys(Random rnd) {
    List<String[]> f = appFields(rnd);
    if (rnd.nextInt(8) == 0) {
      // Go's decoder reports the earliest type error even when a later duplicate is fine: 400.
      String key = pick(rnd, List.of("port", "name", "subdomain"));
      String bad = key.equals("port") ? q("x") : "{}";
      f.add(0, new String[] {key, bad});
      return post("duplicate keys, the first of the wrong type", obj(f)).message("invalid JSON body");
    }
    String key = pick(rnd, List.of("port", "Port", "PORT", "type", "TYPE", "name", "Name", "host", "subdomain", "pool_size"));
    String value = switch (key.toLowerCase()) {
      case "port" -> pick(rnd, List.of("0", "\"x\"", "70000", "-5", "1.5", "[]"));
      case "type" -> pick(rnd, List.of("\"stub\"", "\"udp\"", "\"HTTP\"", "1"));
      case "name", "host" -> pick(rnd, List.of(q("a\u0001b"), q("x".repeat(300)), "{}"));
      case "subdomain" -> pick(rnd, List.of(q("A_B"), q("-x-"), q("x".repeat(64)), "[]"));
      default -> pick(rnd, List.of("65", "\"2\"", "2.5"));
    };
    f.add(new String[] {key, value});
    return post("duplicate keys", obj(f)).expect(400);
  }

  /** One field holds {@code depth} nested arrays or objects (5 000 and more beyond Jackson's limit). */
  private static String deepNesting(Random rnd, List<String[]> f, List<String> keys) {
    int depth = pick(rnd, List.of(10, 100, 999, 1_000, 1_001, 5_000, 5_000, 20_000));
    String field = pick(rnd, keys);
    StringBuilder b = new StringBuilder(depth * 6);
    int shape = rnd.nextInt(4);
    for (int i = 0; i < depth; i++) {
      b.append(shape == 1 ? "{\"a\":" : "[");
    }
    b.append(shape == 2 ? "" : "1");
    if (shape != 3) {
      for (int i = 0; i < depth; i++) {
        b.append(shape == 1 ? "}" : "]");
      }
    }
    set(f, field, b.toString());
    return obj(f);
  }

  // ------------------------------------------------------------------------------------------
  // Generators: text, values, Content-Type.

  static final byte[][] BAD_UTF8 = {
      {(byte) 0xff}, {(byte) 0xfe, (byte) 0xff}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
      {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}, {(byte) 0xe2, (byte) 0x82},
      {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xc3}, {(byte) 0xe0, (byte) 0x80, (byte) 0xaf}};

  /** {@code json} with its first {@code @@BAD@@} replaced by invalid UTF-8 bytes. */
  private static byte[] splice(String json, byte[] bad) {
    byte[] text = json.getBytes(StandardCharsets.UTF_8);
    byte[] mark = "@@BAD@@".getBytes(StandardCharsets.UTF_8);
    int at = new String(text, StandardCharsets.ISO_8859_1).indexOf(new String(mark, StandardCharsets.ISO_8859_1));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(text, 0, at);
    out.writeBytes(bad);
    out.write(text, at + mark.length, text.length - at - mark.length);
    return out.toByteArray();
  }

  /** Invalid UTF-8 in values, keys and structure; no port, so the answer is 400 whatever the decoder does. */
  private Req invalidUtf8App(Random rnd) {
    List<String[]> f = appFields(rnd);
    f.removeIf(kv -> kv[0].equals("port"));
    String where = pick(rnd, List.of("name", "host", "subdomain", "key", "structure", "escape"));
    String json;
    switch (where) {
      case "key" -> {
        f.add(new String[] {"na@@BAD@@me", q("x")});
        json = obj(f);
      }
      case "structure" -> json = obj(f).replaceFirst(",", ",@@BAD@@");
      case "escape" -> {
        set(f, "name", pick(rnd, List.of("\"\\ud800\"", "\"\\udc00\\ud800\"", "\"a\\ud83d\"", "\"\\uDFFF\\uDBFF\"")));
        return post("invalid UTF-8 bytes", obj(f)).message("port must be between 1 and 65535");
      }
      default -> {
        set(f, where, q("a@@BAD@@b"));
        json = obj(f);
      }
    }
    if (!json.contains("@@BAD@@")) {
      json = json.replaceFirst("\\{", "{@@BAD@@");
    }
    return new Req("invalid UTF-8 bytes").json(splice(json, BAD_UTF8[rnd.nextInt(BAD_UTF8.length)])).expect(400);
  }

  static final String[] CONTROLS = {"\u0000", "\u0001", "\u0007", "\b", "\t", "\n", "\u000b", "\f", "\r", "\u001b", "\u001f",
      "\u007f", "\u0080", "\u0085", "\u009b", "\u009f", "\u2028", "\u2029", "\u001b[31m", "\r\n"};

  private Req controlChars(Random rnd) {
    List<String[]> f = appFields(rnd);
    String field = rnd.nextBoolean() ? "name" : "host";
    String c = CONTROLS[rnd.nextInt(CONTROLS.length)];
    String value = pick(rnd, List.of(c, "a" + c + "b", c + "localhost", "localhost" + c, "fz" + c.repeat(1 + rnd.nextInt(5))));
    if (rnd.nextInt(4) == 0 && c.charAt(0) < 0x20) {
      // The raw byte inside the JSON string: not JSON at all.
      set(f, field, "\"" + value + "\"");
      return post("control characters in names and hosts", obj(f)).message("invalid JSON body");
    }
    set(f, field, q(value));
    return post("control characters in names and hosts", obj(f)).message(field + " must not contain control characters");
  }

  private Req overlong(Random rnd) {
    List<String[]> f = appFields(rnd);
    String field = rnd.nextInt(4) == 0 ? "subdomain" : rnd.nextBoolean() ? "name" : "host";
    int n = rnd.nextInt(50) == 0 ? 1_000_000 : pick(rnd, List.of(254, 255, 256, 300, 1_000, 10_000, 100_000));
    String unit = pick(rnd, List.of("a", "\u00e9", "\ud83d\ude80", "-", "."));
    String value = unit.repeat(n);
    if (field.equals("subdomain")) {
      value = "a".repeat(Math.max(64, n / 10));
      set(f, field, q(value));
      return post("overlong names and hosts", obj(f)).expect(400);
    }
    set(f, field, q(value));
    return post("overlong names and hosts", obj(f)).message(field + " must be at most 253 characters");
  }

  private static Req wrongContentType(Random rnd, String path, String validBody, String relayError) {
    Req r = new Req("wrong or missing Content-Type").at(path);
    r.body = validBody.getBytes(StandardCharsets.UTF_8);
    String ct = pick(rnd, List.of("", "none", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/xml", "application/jsonp", "application/json-seq", "text/html; charset=json", "*/*", "application/*",
        "json/text", "application/json5", "application/javascript", "application/octet-stream", "application/jsonx",
        "application/json\u00ff", "application/json\u0001", "\u00ffapplication/xml"));
    if (!ct.equals("none")) {
      r.h("Content-Type", ct);
    }
    boolean oddBytes = ct.chars().anyMatch(c -> c < 0x20 || c > 0x7e);
    if (ct.isEmpty() || oddBytes || rnd.nextInt(3) == 0) {
      r.raw();
    }
    // Odd bytes in the header value: the request may be refused before routing (400 "malformed HTTP request").
    return r.message(path.startsWith("/api/v1/tunnels") && !oddBytes ? "invalid JSON body" : null)
        .error(oddBytes ? null : relayError).expect(400);
  }

  private Req invalidValues(Random rnd) {
    List<String[]> f = appFields(rnd);
    int kind = rnd.nextInt(6);
    String message;
    switch (kind) {
      case 0 -> {
        set(f, "type", q(pick(rnd, List.of("HTTP", "Tcp", "Stub", "static", "udp", " http", "http ", "http\u0000", "tcp\n",
            "h\u0435tp", "x".repeat(1000)))));
        message = "type must be http, tcp, or stub";
      }
      case 1 -> {
        set(f, "type", q("http"));
        set(f, "subdomain", q(pick(rnd, List.of("A_B", "-a", "a-", "a..b", "a.b", "x".repeat(64), "\u00e9t\u00e9", "a b",
            "a/b", "*", "..", "a\u0000b", "%41"))));
        message = null;
      }
      case 2 -> {
        set(f, "basic_auth", q(pick(rnd, List.of("nocolon", ":pw", "user:", ":"))));
        message = null;
      }
      case 3 -> {
        set(f, rnd.nextBoolean() ? "callback_url" : "callback_urls", "");
        f.removeIf(kv -> kv[1].isEmpty());
        String url = pick(rnd, List.of("ftp://x/", "not a url", "http://", "//host/x", "javascript:alert(1)", "http://[::1",
            "file:///etc/passwd", "gopher://127.0.0.1:70/", "http:x", "http://%zz/", "mailto:a@b"));
        f.add(rnd.nextBoolean() ? new String[] {"callback_url", q(url)} : new String[] {"callback_urls", "[" + q("http://127.0.0.1/ok") + "," + q(url) + "]"});
        message = null;
      }
      case 4 -> {
        set(f, "pool_size", pick(rnd, List.of("65", "100", "1000")));
        message = "pool_size must be at most 64";
      }
      default -> {
        set(f, "port", pick(rnd, List.of("0", "-1", "65536", "100000")));
        message = "port must be between 1 and 65535";
      }
    }
    return post("invalid values (type, subdomain, basic_auth, callback URLs, pool_size, port)", obj(f)).message(message).expect(400);
  }

  // ------------------------------------------------------------------------------------------
  // Generators: paths, methods, headers, lines, garbage, big bodies (both servers).

  private static List<String> knownPaths(Target t) {
    return t == Target.APP
        ? List.of("/api/v1/health", "/api/v1/tunnels", "/api/v1/tunnels/", "/api/v1/events", "/api/v1/tunnels/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "/api/v1/tunnels/x/shutdown", "/API/V1/TUNNELS", "/api/v1/Health/")
        : List.of("/api/v1/connections/", "/api/v1/connections", "/api/v1/version", "/api/v1/version/", "/API/V1/VERSION");
  }

  private Req traversal(Random rnd, Target t) {
    String base = t == Target.APP ? pick(rnd, List.of("/api/v1/tunnels/", "/api/v1/", "/", "/api/v1/health/", "/api/v1/events/"))
        : pick(rnd, List.of("/api/v1/connections/", "/api/v1/", "/", "/api/v1/version/"));
    String up = pick(rnd, List.of("../", "..%2f", "%2e%2e/", "%2E%2E%2F", "..;/", "..\\", "%5c..%5c", "%c0%ae%c0%ae/", "%252e%252e/",
        ".%2e/", "./", "//", "%2f", "....//", "..%00/", "..%c0%af", "\u00c0\u00ae\u00c0\u00ae/"));
    String tail = pick(rnd, List.of("etc/passwd", "etc/shadow", "windows/win.ini", "", "%00", "%", "%zz", "%u002e", "x%00.json",
        "%0d%0aSet-Cookie:x", ".", "..", "api/v1/tunnels", "api/v1/health", "file:///etc/passwd", "\u00ff\u00fe", "%ff%fe"));
    String path = base + up.repeat(1 + rnd.nextInt(8)) + tail;
    if (rnd.nextInt(5) == 0) {
      path = pick(rnd, List.of("//api/v1/tunnels", "/api/v1//tunnels", "/api//v1/tunnels/", "///", "/api/v1/tunnels//x",
          "/./api/v1/health", "/api/v1/./tunnels", "/api/v1/tunnels/.", "/api/v1/tunnels/..", "/api/v1/health/../tunnels",
          "/api/v1/tunnels/" + (liveHttp.isEmpty() ? "x" : liveHttp.get(0)) + "/../../../etc/passwd",
          "//api/v1/connections/", "/api/v1/connections/../version", "/api/v1/connections/%2e%2e/version"));
    }
    boolean readOnly = path.contains(liveHttp.isEmpty() ? "\u0000none" : liveHttp.get(0));
    String method = readOnly ? pick(rnd, List.of("GET", "HEAD")) : pick(rnd, List.of("GET", "GET", "HEAD", "DELETE", "POST", "OPTIONS", "PUT"));
    Req r = new Req("path traversal").m(method).at(path).raw();
    if (method.equals("POST") || method.equals("PUT")) {
      r.json(t == Target.APP ? "{\"name\":\"trav\"}" : "{\"connection_type\":\"tcp\"}");
    }
    return r;
  }

  private Req overlongId(Random rnd, Target t) {
    int n = pick(rnd, List.of(300, 1_000, 3_000, 3_900, 4_050, 4_200, 10_240, 10_240, 20_480, 65_536));
    String unit = pick(rnd, List.of("A", "0", "%41", "\u00e9", "-", "Z"));
    String id = unit.repeat(Math.max(1, n / unit.length()));
    String method = pick(rnd, List.of("GET", "DELETE", "HEAD", "POST"));
    String path = t == Target.APP
        ? (method.equals("POST") ? "/api/v1/tunnels/" + id + "/shutdown" : "/api/v1/tunnels/" + id)
        : "/api/v1/connections/" + id;
    Req r = new Req("overlong ids (to 64 KB)").m(method).at(path).raw();
    int line = method.length() + 1 + path.length() + " HTTP/1.1".length();
    if (line > 4_300) {
      r.expect(414).fresh();
    } else if (line < 4_000 && t == Target.APP) {
      r.expect(404);
    }
    return r;
  }

  private Req randomApiPath(Random rnd, Target t) {
    List<String> segs = List.of("tunnels", "events", "health", "shutdown", "webhooks", "connections", "version", "", "..",
        "%20", "~", "TUNNELS", "Tunnels", "v1", "api", "null", "undefined", "0", "-1", "*", "%2F");
    StringBuilder p = new StringBuilder("/api/v1");
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      p.append('/').append(rnd.nextInt(3) == 0 ? randomToken(rnd, 1 + rnd.nextInt(20)) : rnd.nextInt(4) == 0 ? randomUlid(rnd) : pick(rnd, segs));
    }
    if (rnd.nextBoolean()) {
      p.append('/');
    }
    String method = pick(rnd, List.of("GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"));
    Req r = new Req("random paths under /api/v1/").m(method).at(p.toString());
    if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
      r.json(t == Target.APP ? "{\"name\":\"rnd\",\"type\":\"http\"}" : "{\"connection_type\":\"tcp\",\"secret_key\":\"nope-nope-nope-nope\"}");
    }
    if (method.equals("TRACE") || rnd.nextBoolean()) {
      r.raw();
    }
    return r;
  }

  private Req randomOtherPath(Random rnd) {
    String p = pick(rnd, List.of("/", "/index.html", "/favicon.ico", "/api", "/api/", "/api/v2/tunnels", "/v1/tunnels", "/p/x",
        "/ws/x", "/.env", "/.git/config", "/admin", "/metrics", "/actuator/health", "/server-status", "/cgi-bin/x.sh",
        "/api/v1", "/api/v10/tunnels", "/robots.txt", "/%", "/%zz", "/%00", "/\u00ff\u00fe", "/\u00e6\u0097\u00a5", "/%e6%97%a5",
        "*", "http://127.0.0.1:" + apiPort + "/api/v1/health", "http://evil.example/api/v1/tunnels", "/" + randomToken(rnd, 1 + rnd.nextInt(60)),
        "/" + randomString(rnd, 1 + rnd.nextInt(40), false).replaceAll("[\\s]", "_")));
    String method = pick(rnd, List.of("GET", "GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT"));
    Req r = new Req("random paths elsewhere").m(method).at(p).raw();
    if (method.equals("POST") || method.equals("PUT")) {
      r.json("{\"x\":1}");
    }
    return r;
  }

  private Req headOrOptions(Random rnd, Target t) {
    List<String> paths = new ArrayList<>(knownPaths(t));
    paths.addAll(List.of("/", "/api/v1/" + randomToken(rnd, 8), "/api/v1/tunnels/" + randomUlid(rnd), "/nope", "/api/v1/events?tunnel_id=x"));
    String method = rnd.nextBoolean() ? "HEAD" : "OPTIONS";
    Req r = new Req("HEAD and OPTIONS everywhere").m(method).at(pick(rnd, paths));
    int hdr = rnd.nextInt(4);
    if (hdr == 1) {
      r.h("Origin", "http://evil.example").h("Access-Control-Request-Method", "DELETE");
    } else if (hdr == 2) {
      r.h("Origin", "http://127.0.0.1:" + (t == Target.APP ? apiPort : adminPort));
    }
    if (rnd.nextBoolean()) {
      r.raw();
    }
    return r;
  }

  private Req randomQuery(Random rnd, Target t) {
    String path = t == Target.APP ? pick(rnd, List.of("/api/v1/tunnels", "/api/v1/events", "/api/v1/health", "/api/v1/tunnels/" + randomUlid(rnd)))
        : pick(rnd, knownPaths(t));
    String query = pick(rnd, List.of("tunnel_id=" + randomUlid(rnd), "tunnel_id=", "tunnel_id", "a=b&a=c", "=", "&&&", "%zz", "%00",
        "a[b]=c", "tunnel_id=%ff%fe", "x=" + "y".repeat(3_000), ";", "?", "tunnel_id=" + randomToken(rnd, 30), "a=%0d%0a",
        "port=" + backend.port() + "&subdomain=bi-q" + seq.incrementAndGet(), "tunnel_id=\u00ff", "x=\u00e6\u0097\u00a5",
        randomToken(rnd, 1 + rnd.nextInt(50)) + "=" + randomToken(rnd, rnd.nextInt(50)), "#frag", "a=1#b", "tunnel_id[]=1&tunnel_id[]=2"));
    String method = path.endsWith("/tunnels") || path.endsWith("/connections/") ? pick(rnd, List.of("GET", "POST", "HEAD"))
        : pick(rnd, List.of("GET", "HEAD", "DELETE"));
    Req r = new Req("random query strings").m(method).at(path + "?" + query);
    if (method.equals("POST")) {
      r.h("Content-Type", "application/json");
      r.body = rnd.nextBoolean() ? new byte[0] : "{}".getBytes(StandardCharsets.UTF_8);
      r.expect(400);
    }
    if (query.chars().anyMatch(c -> c > 0x7e || c == '#' || c == '[' || c == '%') || rnd.nextBoolean()) {
      r.raw();
    }
    return r;
  }

  private Req unknownMethod(Random rnd, Target t) {
    String m = pick(rnd, List.of("FOO", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
        "PURGE", "LINK", "UNLINK", "BREW", "QUERY", "get", "Get", "pOST", "GETS", "GE", "X".repeat(50), "X".repeat(1_000),
        randomMethodToken(rnd), randomMethodToken(rnd), "G\u00ffT", "GET\u0000", "G(T", "{}", "M-SEARCH", "BASELINE-CONTROL"));
    List<String> paths = new ArrayList<>(knownPaths(t));
    paths.add("/");
    paths.add("/nope/" + randomToken(rnd, 5));
    String path = pick(rnd, paths);
    Req r = new Req("unknown methods").m(m).at(path).fresh();
    if (rnd.nextBoolean()) {
      r.json("{\"a\":1}");
    }
    if (t == Target.APP && !m.equals("GET\u0000")) {
      r.expect(400); // ApiGuard: "Invalid http method" (Netty trims "GET\0" to GET)
    }
    return r;
  }

  private Req absurdHeaders(Random rnd, Target t) {
    String path = pick(rnd, knownPaths(t));
    Req r = new Req("absurd headers").m(pick(rnd, List.of("GET", "GET", "POST", "DELETE"))).at(path).fresh();
    int kind = rnd.nextInt(14);
    switch (kind) {
      case 0 -> r.h("X-Huge", "v".repeat(pick(rnd, List.of(9_000, 20_000, 100 * 1024, 100 * 1024)))).expect(431);
      case 1 -> r.h("X-" + "N".repeat(100 * 1024), "v").expect(431);
      case 2 -> {
        for (int i = 0; i < 500; i++) {
          r.h(String.format("X-Fuzz-Header-%03d", i), "value-" + i);
        }
        r.expect(431);
      }
      case 3 -> {
        for (int i = 0; i < 500; i++) {
          r.h("X-A", "b");
        }
      }
      case 4 -> r.h("X-Odd", "a" + pick(rnd, List.of("\u0000", "\u0001", "\u0007", "\u007f", "\u00ff", "\u0080", "\r", "\u001b[2J",
          "\u00e6\u0097\u00a5", "\u00c3", "\u00ed\u00a0\u0080")) + "b");
      case 5 -> r.h(pick(rnd, List.of("X A", "X-\u00dc", "", "X-A ", "X-(),", "X-A\u0000", "X:A", "\u00ff")), "b");
      case 6 -> r.h("X-Folded", "first\r\n  continued\r\n\tagain");
      case 7 -> {
        r.h("Content-Length", pick(rnd, List.of("abc", "-1", "1 2", "99999999999999999999", "+5", "0x10", "5, 6", "")));
        if (rnd.nextBoolean()) {
          r.h("Content-Length", "6");
        }
      }
      case 8 -> {
        r.h("Content-Length", "5").h("Content-Length", "6");
        r.body = "{}{}{}".getBytes(StandardCharsets.ISO_8859_1);
      }
      case 9 -> {
        r.brokenFraming = true;
        r.h("Transfer-Encoding", "chunked");
        r.body = pick(rnd, List.of("zz\r\nabc\r\n0\r\n\r\n", "-1\r\n\r\n", "fffffffffffffffff\r\n", "3\r\nabcdef\r\n0\r\n\r\n",
            "2;\u0000=x\r\nab\r\n0\r\n\r\n")).getBytes(StandardCharsets.ISO_8859_1);
      }
      case 10 -> {
        r.h("Transfer-Encoding", pick(rnd, List.of("chunked, chunked", "xchunked", "chunked\u0000", "gzip, chunked")))
            .h("Content-Length", "4");
        r.body = "0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
      }
      case 11 -> {
        r.noHost = true;
        int hosts = rnd.nextInt(4);
        for (int i = 0; i < hosts; i++) {
          r.h("Host", pick(rnd, List.of("127.0.0.1", "evil.example", "", "[::1", "127.0.0.1:" + apiPort + "\u0000x", "localhost:99999",
              "\u00ff\u00fe", "a".repeat(300))));
        }
      }
      case 12 -> r.h("Origin", pick(rnd, List.of("http://evil.example", "null", "\u00ff", "http://127.0.0.1:1", "file://")));
      default -> {
        r.h(pick(rnd, List.of("Expect", "Upgrade", "Connection", "Authorization", "Cookie", "Content-Encoding", "Accept-Encoding", "Range")),
            pick(rnd, List.of("100-continue", "foo", "websocket", "h2c", "Upgrade, HTTP2-Settings", "Bearer " + "x".repeat(6_000),
                "gzip", "bytes=0-0,-1", "a=" + "b".repeat(7_000), "close", "keep-alive, Upgrade")));
        if (rnd.nextBoolean()) {
          r.json("{\"n\":1}");
        }
      }
    }
    return r;
  }

  private Req overlongLine(Random rnd, Target t) {
    int n = 4_200 + rnd.nextInt(66_000);
    int kind = rnd.nextInt(4);
    Req r = new Req("overlong request lines").fresh().expect(414);
    switch (kind) {
      case 0 -> r.at("/api/v1/" + "a".repeat(n));
      case 1 -> r.m("GET").at(pick(rnd, knownPaths(t)) + "?q=" + "x".repeat(n));
      case 2 -> r.m("X".repeat(n)).at("/");
      default -> {
        r.wire = ("GET /api/v1/health HTTP/1.1" + "1".repeat(n) + "\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
      }
    }
    return r;
  }

  private Req garbage(Random rnd) {
    Req r = new Req("garbage").fresh();
    int kind = rnd.nextInt(3);
    if (kind == 0) {
      r.wire = pick(rnd, List.of(
          "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003" + "\u0000".repeat(40) + "\r\n\r\n",
          "SSH-2.0-OpenSSH_9.6\r\n\r\n", "GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", "GET / FOO/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          "GET /api/v1/health HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n", "\u0000\u0000\u0000\u0000GARBAGE\r\n\r\n",
          "HELLO\r\n\r\n", "GET /api/v1/health HTTP/1.1\r\n: novalue\r\nHost: 127.0.0.1\r\n\r\n", "{\"port\":3000}\r\n\r\n",
          " GET /api/v1/health HTTP/1.1\r\n\r\n", "GET /api/v1/health HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",
          "GET /api/v1/health HTTP/1.1\r\n\u00ff\u00fe: x\r\n\r\n", "GET\u0000/ HTTP/1.1\r\n\r\n", "GET /a\u0000b HTTP/1.1\r\n\r\n",
          "HTTP/1.1 200 OK\r\n\r\n", "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"))
          .getBytes(StandardCharsets.ISO_8859_1);
      boolean lenient = new String(r.wire, StandardCharsets.ISO_8859_1).startsWith("GET /api/v1/health HTTP/1.1\r\n:")
          || new String(r.wire, StandardCharsets.ISO_8859_1).startsWith(" GET");
      if (!lenient) {
        r.expect(400);
      }
      return r;
    }
    // Random bytes, never starting with a control byte or blank (see below), ending with a blank line.
    byte[] b = new byte[1 + rnd.nextInt(kind == 1 ? 64 : 2_000)];
    rnd.nextBytes(b);
    if ((b[0] & 0xff) <= ' ' || b[0] == 0x7f) {
      b[0] = 'Z'; // a parser skips leading control bytes and blank lines, then waits for a request line
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (kind == 2 && rnd.nextBoolean()) {
      out.writeBytes("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    out.writeBytes(b);
    out.writeBytes("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    r.wire = out.toByteArray();
    return r;
  }

  /** Bodies over the limit: Content-Length, chunked, with Expect, far over; and one just under (400, not 413). */
  private List<Req> bigBodies(Target t, String path, int limit) {
    List<Req> out = new ArrayList<>();
    String cls = t == Target.APP ? "bodies over 4 MiB" : "bodies over 64 KiB";
    byte[] over = padded(limit + 1);
    byte[] five = padded(5 * MIB);
    out.add(new Req(cls).at(path).json(over).fresh().expect(413));
    out.add(new Req(cls).at(path).json(five).fresh().expect(413));
    Req chunked = new Req(cls).at(path).json(five).fresh().expect(413);
    chunked.chunked = true;
    out.add(chunked);
    Req far = new Req(cls).at(path).json(padded(16 * MIB)).fresh().expect(413);
    far.chunked = true;
    out.add(far);
    out.add(new Req(cls).at(path).json(five).h("Expect", "100-continue").fresh().expect(413));
    out.add(new Req(cls).at(path).h("Content-Type", "text/plain").fresh().expect(413).bodyOf(five));
    out.add(new Req(cls).at(path).json(padded(limit)).fresh().expect(400));
    for (int i = 0; i < 3; i++) {
      out.add(new Req(cls).at(path).json(padded(limit + 1 + i * 1_000_000)).fresh().expect(413));
    }
    return out;
  }

  /** {@code n} bytes: spaces then {@code {}} (valid JSON, no port: 400 when within the limit). */
  private static byte[] padded(int n) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) ' ');
    b[n - 2] = '{';
    b[n - 1] = '}';
    return b;
  }

  // ------------------------------------------------------------------------------------------
  // Generators: the relay's admin API.

  private List<String[]> relayFields(Random rnd, String type) {
    List<String[]> f = new ArrayList<>();
    f.add(new String[] {"connection_type", q(type)});
    f.add(new String[] {"secret_key", q(secret)});
    if (type.equals("http") || rnd.nextBoolean()) {
      f.add(new String[] {"subdomain", q("fz" + seq.incrementAndGet())});
    }
    Collections.shuffle(f, rnd);
    return f;
  }

  private String relayBody(Random rnd, String type) {
    return obj(relayFields(rnd, type));
  }

  private Req relayValid(Random rnd, int i) {
    Req r = post("valid reservations", relayBody(rnd, i % 3 == 0 ? "tcp" : "http")).at(rnd.nextBoolean() ? "/api/v1/connections/" : "/api/v1/connections")
        .expect(200);
    r.valid = true;
    return r;
  }

  private String relayWrongTypes(Random rnd) {
    List<String[]> f = relayFields(rnd, "http");
    set(f, pick(rnd, List.of("secret_key", "connection_type", "subdomain")), pick(rnd, List.of("123", "true", "{}", "[]",
        "[" + q(secret) + "]", "{\"value\":" + q(secret) + "}", "[\"http\"]", "false", "0")));
    return obj(f);
  }

  private String relayNumbers(Random rnd) {
    List<String[]> f = relayFields(rnd, "tcp");
    set(f, pick(rnd, List.of("secret_key", "connection_type", "subdomain")), pick(rnd, List.of("1.0", "2.5e3", "-0.0",
        "9223372036854775808", "1" + "0".repeat(40), "9".repeat(5_000), "1e400", "-9223372036854775809", "3.14")));
    return obj(f);
  }

  private Req relayNulls(Random rnd) {
    int kind = rnd.nextInt(4);
    Req r;
    switch (kind) {
      case 0 -> {
        List<String[]> f = relayFields(rnd, "tcp");
        set(f, "secret_key", "null");
        r = post("nulls", obj(f)).message("Secret key is required");
      }
      case 1 -> {
        List<String[]> f = relayFields(rnd, "tcp");
        set(f, "connection_type", "null");
        r = post("nulls", obj(f)).message("Connection type must be either 'http' or 'tcp'");
      }
      case 2 -> {
        List<String[]> f = relayFields(rnd, "http");
        set(f, "subdomain", "null");
        r = post("nulls", obj(f)).message("Subdomain is required for HTTP connections");
      }
      default -> r = post("nulls", pick(rnd, List.of("null", "{}", "{\"secret_key\":null,\"connection_type\":null}")))
          .message("Secret key is required");
    }
    return r.at("/api/v1/connections/").expect(400);
  }

  private Req relayDuplicateKeys(Random rnd) {
    List<String[]> f = relayFields(rnd, "tcp");
    int kind = rnd.nextInt(8);
    Req r;
    if (kind < 2) {
      f.add(new String[] {pick(rnd, List.of("secret_key", "SECRET_KEY", "Secret_Key")), q("wrong-secret-0123456789")});
      r = post("duplicate keys", obj(f)).message("Invalid secret key").expect(401);
    } else if (kind < 4) {
      f.add(new String[] {pick(rnd, List.of("connection_type", "CONNECTION_TYPE")), q(pick(rnd, List.of("udp", "HTTP", "", "stub")))});
      r = post("duplicate keys", obj(f)).message("Connection type must be either 'http' or 'tcp'").expect(400);
    } else if (kind < 7) {
      f.add(new String[] {"connection_type", q("http")});
      f.add(new String[] {"subdomain", q(pick(rnd, List.of("A_B", "-x", "x".repeat(64))))});
      r = post("duplicate keys", obj(f)).message("Invalid subdomain").expect(400);
    } else {
      // The first occurrence has the wrong type, the last is fine: Go reports the type error.
      f.add(0, new String[] {pick(rnd, List.of("secret_key", "connection_type")), pick(rnd, List.of("123", "{}", "[]"))});
      r = post("duplicate keys, the first of the wrong type", obj(f)).error("Invalid input").expect(400);
    }
    return r.at("/api/v1/connections/");
  }

  private Req relayInvalidUtf8(Random rnd) {
    List<String[]> f = relayFields(rnd, "http");
    String where = pick(rnd, List.of("subdomain", "secret_key", "connection_type", "key"));
    if (where.equals("key")) {
      // No subdomain for http: refused whether or not the decoder takes the bytes.
      f.removeIf(kv -> kv[0].equals("subdomain"));
      f.add(new String[] {"sub@@BAD@@domain", q("fz" + seq.incrementAndGet())});
    } else {
      set(f, where, q(where.equals("secret_key") ? secret + "@@BAD@@" : "fz@@BAD@@x"));
    }
    // 400 when the decoder refuses the bytes; 401 when it decodes them into a (wrong) secret.
    return new Req("invalid UTF-8 bytes").at("/api/v1/connections/")
        .json(splice(obj(f), BAD_UTF8[rnd.nextInt(BAD_UTF8.length)])).expect4xx();
  }

  private Req relayControlAndOverlong(Random rnd) {
    List<String[]> f = relayFields(rnd, "http");
    int kind = rnd.nextInt(4);
    String c = CONTROLS[rnd.nextInt(CONTROLS.length)];
    if (c.isBlank() && kind == 0) {
      c = "\u0000";
    }
    Req r;
    switch (kind) {
      case 0 -> {
        set(f, "subdomain", q("fz" + c + "x"));
        r = post("control characters and overlong values", obj(f)).message("Invalid subdomain").expect(400);
      }
      case 1 -> {
        set(f, "secret_key", q(secret + c));
        r = post("control characters and overlong values", obj(f)).message("Invalid secret key").expect(401);
      }
      case 2 -> {
        set(f, "subdomain", q("a".repeat(pick(rnd, List.of(64, 100, 1_000, 10_000, 60_000)))));
        r = post("control characters and overlong values", obj(f)).message("Invalid subdomain").expect(400);
      }
      default -> {
        set(f, "secret_key", q("s".repeat(pick(rnd, List.of(1_000, 10_240, 60_000)))));
        r = post("control characters and overlong values", obj(f)).message("Invalid secret key").expect(401);
      }
    }
    return r.at("/api/v1/connections/");
  }

  // ------------------------------------------------------------------------------------------
  // Small random helpers.

  static <T> T pick(Random rnd, List<T> items) {
    return items.get(rnd.nextInt(items.size()));
  }

  static String randomToken(Random rnd, int n) {
    String chars = "abcdefghijklmnopqrstuvwxyz0123456789-_.~";
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(rnd.nextInt(chars.length())));
    }
    return b.toString();
  }

  static String randomMethodToken(Random rnd) {
    String chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-.^_`|~0123456789";
    StringBuilder b = new StringBuilder();
    int n = 1 + rnd.nextInt(20);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(rnd.nextInt(chars.length())));
    }
    String s = b.toString();
    return List.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH").contains(s) ? s + "X" : s;
  }

  static String randomUlid(Random rnd) {
    StringBuilder b = new StringBuilder(26);
    b.append("01");
    for (int i = 0; i < 24; i++) {
      b.append(ULID_CHARS.charAt(rnd.nextInt(ULID_CHARS.length())));
    }
    return b.toString();
  }

  /** Random code points (control characters too when {@code controls}); never the words the log check looks for. */
  static String randomString(Random rnd, int n, boolean controls) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      int kind = rnd.nextInt(5);
      int cp = switch (kind) {
        case 0 -> controls ? rnd.nextInt(0x20) : 0x21 + rnd.nextInt(0x5e);
        case 1 -> 0x80 + rnd.nextInt(0x780);
        case 2 -> 0x4e00 + rnd.nextInt(0x5000);
        case 3 -> 0x1f300 + rnd.nextInt(0x300);
        default -> 0x61 + rnd.nextInt(26);
      };
      b.appendCodePoint(cp);
    }
    return b.toString();
  }

  static String mutate(Random rnd, String s) {
    char[] c = s.toCharArray();
    int at = rnd.nextInt(c.length);
    c[at] = c[at] == 'a' ? 'b' : 'a';
    return new String(c);
  }

  /** A short printable excerpt: non-printable bytes as \xNN. */
  static String excerpt(byte[] b, int max) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < b.length && s.length() < max; i++) {
      int c = b[i] & 0xff;
      if (c >= 0x20 && c < 0x7f) {
        s.append((char) c);
      } else {
        s.append(String.format("\\x%02x", c));
      }
    }
    if (s.length() >= max || b.length > max) {
      s.append("…(").append(b.length).append(" bytes)");
    }
    return s.toString();
  }
}
