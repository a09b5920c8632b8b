package dev.porthole.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.config.PortrConfig;
import dev.porthole.health.HealthVerticle;
import dev.porthole.ssh.JschConnector;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import dev.porthole.tunnel.TunnelManagerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Callbacks (webhooks.*: retries, timeouts, lanes, signatures, the deliveries log) and the event log
 * ({@code ?since=}, the SSE stream and its resume), against app-server stacks with fast webhook
 * settings, through a real relay and real JSch sessions.
 */
class WebhooksAndEventsIT {
  static final String HOOK_SECRET = "whsec-porthole-test-0123456789";

  @TempDir
  static Path dir;
  static TestRelay relay;
  /** max_attempts 3, timeout 1 s, retry_base 100 ms, signed. */
  static Stack app;
  static Vertx vertx;
  static LocalBackend backend;
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = Stack.start(webhooks(3, 1));
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "local");
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, vertx, relay);
  }

  static JsonObject webhooks(int maxAttempts, int timeoutSeconds) {
    return new JsonObject().put("max_attempts", maxAttempts).put("timeout_seconds", timeoutSeconds)
        .put("retry_base_ms", 100).put("secret", HOOK_SECRET).put("max_concurrency", 32).put("deliveries_kept", 500);
  }

  // ---------------------------------------------------------------------------------------------
  // webhooks

  @Test
  @DisplayName("webhooks: 500, 500, then 200 → each event delivered once after 3 attempts, logged 500/500/200, retries ≥ 100 ms then ≥ 200 ms apart")
  void retriesUntilSuccess() throws Exception {
    try (Receiver r = Receiver.start((hit, n) -> new Answer(n < 3 ? 500 : 200, 0))) {
      String hook = r.url("/flaky");
      JsonObject t = app.createTcp("flaky", hook);
      String id = t.getString("id");
      app.stopTunnel(id);
      Timeouts.pollUntil(Duration.ofSeconds(15), "six attempts (3 per event) logged",
          () -> app.deliveries(id).size() >= 6 && r.hitsFor(id).size() >= 6);

      JsonArray events = app.events(id);
      assertThat(types(events)).containsExactly("started", "stopped");
      JsonArray deliveries = app.deliveries(id);
      assertThat(deliveries).hasSize(6);
      List<String> order = new ArrayList<>();
      for (int i = 0; i < deliveries.size(); i++) {
        JsonObject d = deliveries.getJsonObject(i);
        assertThat(d.fieldNames()).contains("url", "event_id", "event", "attempt", "status", "at");
        assertThat(d.containsKey("error")).as("an answered attempt has no error: %s", d).isFalse();
        assertThat(d.getString("url")).isEqualTo(hook);
        assertThat(d.getString("tunnel_id")).isEqualTo(id);
        Instant.parse(d.getString("at"));
        order.add(d.getString("event") + "#" + d.getInteger("attempt") + ":" + d.getInteger("status"));
      }
      assertThat(order).as("one lane: started finished before stopped began").containsExactly(
          "started#1:500", "started#2:500", "started#3:200", "stopped#1:500", "stopped#2:500", "stopped#3:200");

      for (int e = 0; e < events.size(); e++) {
        JsonObject event = events.getJsonObject(e);
        String eventId = event.getString("id");
        List<JsonObject> mine = deliveries.stream().map(JsonObject.class::cast)
            .filter(d -> eventId.equals(d.getString("event_id"))).toList();
        assertThat(mine).extracting(d -> d.getInteger("attempt")).containsExactly(1, 2, 3);
        assertThat(mine).extracting(d -> d.getInteger("status")).containsExactly(500, 500, 200);
        assertThat(mine).extracting(d -> d.getString("event")).containsOnly(event.getString("type"));

        List<Hit> hits = r.hits.stream().filter(h -> eventId.equals(h.eventId())).toList();
        assertThat(hits).extracting(h -> h.status).containsExactly(500, 500, 200);
        assertThat(hits.stream().filter(h -> h.status == 200).count()).as("delivered exactly once").isEqualTo(1);
        assertThat(hits).allSatisfy(h -> assertThat(h.json()).isEqualTo(event));
        long gap1 = (hits.get(1).arrived - hits.get(0).answered) / 1_000_000;
        long gap2 = (hits.get(2).arrived - hits.get(1).answered) / 1_000_000;
        assertThat(gap1).as("first retry waits retry_base (100 ms), not the default 1 s").isBetween(100L, 900L);
        assertThat(gap2).as("second retry waits 2 × retry_base").isBetween(200L, 1_500L);
      }
      assertThat(r.hitsFor(id)).as("no attempt after a 200").hasSize(6);
    }
  }

  @Test
  @DisplayName("webhooks: receiver down (connection refused) → 3 attempts with an error each, then given up; the API stays fast and tunnels still start")
  void receiverDown() throws Exception {
    int closed = closedPort();
    String hook = "http://127.0.0.1:" + closed + "/down";
    JsonObject t1 = app.createTcp("down-1", hook);
    String id1 = t1.getString("id");
    List<Long> apiMs = new ArrayList<>();
    int whileFailing = 0;
    // Query the API for as long as the started event's attempts are still going on.
    while (true) {
      boolean pending = countAttempts(app.deliveries(id1), "started") < 3;
      long begin = System.nanoTime();
      HttpResponse<String> list = app.send("GET", "/api/v1/tunnels", null);
      apiMs.add((System.nanoTime() - begin) / 1_000_000);
      assertThat(list.statusCode()).isEqualTo(200);
      boolean stillPending = countAttempts(app.deliveries(id1), "started") < 3;
      if (pending && stillPending) {
        whileFailing++;
      }
      if (!stillPending) {
        break;
      }
      assertThat(apiMs.size()).as("attempts should be over long before this").isLessThan(2_000);
    }
    assertThat(whileFailing).as("at least one API call made while deliveries were failing").isPositive();

    JsonObject t2 = app.createTcp("down-2", hook);
    assertThat(t2.getString("status")).as("a tunnel starts while its receiver is down").isEqualTo("running");
    assertThat(app.get(t2.getString("id")).getString("status")).isEqualTo("running");
    app.stopTunnel(id1);
    for (int i = 0; i < 5; i++) {
      long begin = System.nanoTime();
      assertThat(app.send("GET", "/api/v1/tunnels", null).statusCode()).isEqualTo(200);
      apiMs.add((System.nanoTime() - begin) / 1_000_000);
    }
    assertThat(apiMs).as("GET /api/v1/tunnels answer times (ms)").allSatisfy(ms -> assertThat(ms).isLessThan(500L));

    Timeouts.pollUntil(Duration.ofSeconds(15), "both tunnels' attempts to be over",
        () -> countAttempts(app.deliveries(id1), "stopped") >= 3 && countAttempts(app.deliveries(t2.getString("id")), "started") >= 3);
    // The second tunnel's stop makes one more lane of 3 failing attempts (≥ 300 ms), time enough
    // for a wrong 4th attempt of the first tunnel's last event to show up.
    app.stopTunnel(t2.getString("id"));
    Timeouts.pollUntil(Duration.ofSeconds(15), "the second tunnel's stopped attempts",
        () -> countAttempts(app.deliveries(t2.getString("id")), "stopped") >= 3);

    for (String id : List.of(id1, t2.getString("id"))) {
      JsonArray d = app.deliveries(id);
      List<String> order = new ArrayList<>();
      for (int i = 0; i < d.size(); i++) {
        JsonObject a = d.getJsonObject(i);
        assertThat(a.containsKey("status")).as("no status without an answer: %s", a).isFalse();
        assertThat(a.getString("error")).as("attempt %s", a).isNotBlank();
        assertThat(a.getString("url")).isEqualTo(hook);
        order.add(a.getString("event") + "#" + a.getInteger("attempt"));
      }
      assertThat(order).as("tunnel %s: 3 attempts per event, then given up", id)
          .containsExactly("started#1", "started#2", "started#3", "stopped#1", "stopped#2", "stopped#3");
    }
    assertThat(app.deliveries(id1).getJsonObject(0).getString("error")).containsIgnoringCase("refused");
  }

  @Test
  @DisplayName("webhooks: a receiver answering after 2 s (timeout 1 s) → retried as timeouts up to max_attempts; tunnel traffic and API unaffected")
  void slowReceiver() throws Exception {
    try (Receiver r = Receiver.start((hit, n) -> new Answer(200, 2_000))) {
      JsonObject t = app.createTcp("slow", r.url("/slow"));
      String id = t.getString("id");
      Timeouts.pollUntil(Duration.ofSeconds(5), "the first attempt", () -> !r.hitsFor(id).isEmpty());

      // While the callback hangs: traffic through the tunnel and the API.
      long begin = System.nanoTime();
      String answer = rawGet(t.getInteger("remote_port"));
      long trafficMs = (System.nanoTime() - begin) / 1_000_000;
      assertThat(answer).startsWith("HTTP/1.1 200").endsWith("hello from local");
      begin = System.nanoTime();
      HttpResponse<String> got = app.send("GET", "/api/v1/tunnels/" + id, null);
      long apiMs = (System.nanoTime() - begin) / 1_000_000;
      assertThat(got.statusCode()).isEqualTo(200);
      assertThat(app.deliveries(id).size() < 3).as("measured while deliveries were still timing out").isTrue();
      assertThat(trafficMs).as("tunnel round trip (ms)").isLessThan(1_000L);
      assertThat(apiMs).as("API answer (ms)").isLessThan(500L);

      Timeouts.pollUntil(Duration.ofSeconds(15), "three timed-out attempts",
          () -> countAttempts(app.deliveries(id), "started") >= 3);
      // Stopping queues the next event in the lane: its first attempt proves the started event was
      // given up after max_attempts.
      app.stopTunnel(id);
      Timeouts.pollUntil(Duration.ofSeconds(10), "the stopped event's first attempt",
          () -> r.hitsFor(id).stream().anyMatch(h -> "stopped".equals(h.type())));
      List<Hit> hits = r.hitsFor(id);
      assertThat(hits).extracting(Hit::type).containsExactly("started", "started", "started", "stopped");
      for (int i = 1; i < 3; i++) {
        assertThat((hits.get(i).arrived - hits.get(i - 1).arrived) / 1_000_000)
            .as("attempt %d starts after the 1 s timeout and the backoff", i + 1).isGreaterThanOrEqualTo(1_000L);
      }
      JsonArray d = app.deliveries(id);
      for (int i = 0; i < 3; i++) {
        JsonObject a = d.getJsonObject(i);
        assertThat(a.getString("event")).isEqualTo("started");
        assertThat(a.getInteger("attempt")).isEqualTo(i + 1);
        assertThat(a.containsKey("status")).as("a timed-out attempt has no status: %s", a).isFalse();
        assertThat(a.getString("error")).as("attempt %d", i + 1).containsIgnoringCase("timeout");
      }
    }
  }

  @Test
  @DisplayName("webhooks: per tunnel in order (started strictly before stopped, after a held answer); another tunnel's lane is not held up (a's answer waits for b's started)")
  void orderingPerTunnel() throws Exception {
    // a's started is held until b's started has arrived (10 s at most): b's lane must not wait behind a's.
    Promise<Void> bArrived = Promise.promise();
    try (Stack ordered = Stack.start(webhooks(3, 5));
         Receiver r = Receiver.start((hit, n) -> {
           if (hit.path.equals("/b")) {
             bArrived.tryComplete();
           }
           return new Answer(200, hit.path.equals("/a") && hit.indexOnPath == 0 ? 10_000 : 0, bArrived.future());
         })) {
      JsonObject a = ordered.createTcp("lane-a", r.url("/a"));
      String idA = a.getString("id");
      long createB = System.nanoTime();
      JsonObject b = ordered.createTcp("lane-b", r.url("/b"));
      long createBMs = (System.nanoTime() - createB) / 1_000_000;
      String idB = b.getString("id");
      ordered.stopTunnel(idA);
      Timeouts.pollUntil(Duration.ofSeconds(20), "a's started and stopped answered, b's started received",
          () -> r.hitsFor(idA).size() >= 2 && r.hitsFor(idA).stream().allMatch(h -> h.answered != 0)
              && !r.hitsFor(idB).isEmpty());

      List<Hit> hitsA = r.hitsFor(idA);
      assertThat(hitsA).extracting(Hit::type).containsExactly("started", "stopped");
      Hit startedA = hitsA.get(0);
      Hit stoppedA = hitsA.get(1);
      assertThat(stoppedA.arrived).as("stopped is sent only once started was answered").isGreaterThan(startedA.answered);
      assertThat(r.hits.indexOf(startedA)).isLessThan(r.hits.indexOf(stoppedA));

      Hit startedB = r.hitsFor(idB).get(0);
      assertThat(startedB.type()).isEqualTo("started");
      assertThat(startedB.arrived)
          .as("b's started arrives while a's started is still held (b took %d ms to create)", createBMs)
          .isLessThan(startedA.answered);

      assertThat(ordered.deliveries(idA).stream().map(JsonObject.class::cast)
          .map(d -> d.getString("event") + "#" + d.getInteger("attempt") + ":" + d.getInteger("status")).toList())
          .containsExactly("started#1:200", "stopped#1:200");
      ordered.stopTunnel(idB);
    }
  }

  @Test
  @DisplayName("webhooks: X-Porthole-Event-Id = body id, X-Porthole-Signature = sha256=<hex HMAC of the exact bytes>, application/json, body = the event /api/v1/events shows (with seq)")
  void headersAndSignature() throws Exception {
    try (Receiver r = Receiver.start((hit, n) -> new Answer(204, 0))) {
      JsonObject t = app.createTcp("signed <&> hook", r.url("/signed"));
      String id = t.getString("id");
      app.stopTunnel(id);
      Timeouts.pollUntil(Duration.ofSeconds(10), "two callbacks", () -> r.hitsFor(id).size() >= 2);
      HttpResponse<String> listed = app.send("GET", "/api/v1/events?tunnel_id=" + id, null);
      JsonArray events = new JsonObject(listed.body()).getJsonArray("events");
      assertThat(types(events)).containsExactly("started", "stopped");
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(HOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      List<Hit> hits = r.hitsFor(id);
      assertThat(hits).hasSize(2);
      for (int i = 0; i < 2; i++) {
        Hit h = hits.get(i);
        JsonObject event = events.getJsonObject(i);
        assertThat(h.headers.get("X-Porthole-Event-Id")).isEqualTo(h.json().getString("id")).isEqualTo(event.getString("id"));
        String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(h.body.getBytes()));
        assertThat(h.headers.get("X-Porthole-Signature")).isEqualTo(expected).matches("sha256=[0-9a-f]{64}");
        assertThat(h.headers.get("Content-Type")).isEqualTo("application/json");
        assertThat(h.headers.get("User-Agent")).startsWith("porthole/");
        assertThat(h.json()).as("the callback body is the listed event").isEqualTo(event);
        assertThat(h.json().getLong("seq")).isPositive();
      }
      // Byte for byte too (the name holds <, & and >, which Go's encoder and /api/v1/events write
      // as \u003c, \u0026, \u003e; portr-protocol §6.7: the body is identical to the events element).
      assertThat(hits.stream().map(h -> h.body.toString(StandardCharsets.UTF_8)).toList())
          .as("the callbacks' bytes are the events' bytes in /api/v1/events")
          .containsExactlyElementsOf(rawEvents(listed.body()));
    }
  }

  @Test
  @DisplayName("webhooks: max_attempts 1 (Portr's way) → a 500 gets one attempt only")
  void singleAttempt() throws Exception {
    try (Stack portrLike = Stack.start(webhooks(1, 1));
         Receiver r = Receiver.start((hit, n) -> new Answer("started".equals(hit.type()) ? 500 : 200, 0))) {
      JsonObject t = portrLike.createTcp("once", r.url("/once"));
      String id = t.getString("id");
      portrLike.stopTunnel(id);
      // The lane sends stopped only once started is final, so stopped's arrival settles it.
      Timeouts.pollUntil(Duration.ofSeconds(10), "the stopped callback",
          () -> r.hitsFor(id).stream().anyMatch(h -> "stopped".equals(h.type()) && h.answered != 0));
      assertThat(r.hitsFor(id)).extracting(h -> h.type() + ":" + h.status).containsExactly("started:500", "stopped:200");
      Timeouts.pollUntil(Duration.ofSeconds(5), "both attempts logged", () -> portrLike.deliveries(id).size() >= 2);
      assertThat(portrLike.deliveries(id).stream().map(JsonObject.class::cast)
          .map(d -> d.getString("event") + "#" + d.getInteger("attempt") + ":" + d.getInteger("status")).toList())
          .containsExactly("started#1:500", "stopped#1:200");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // events and SSE

  @Test
  @DisplayName("events: ?since=<seq> returns only later events; seqs strictly increase across tunnels; ?since=abc → 400")
  void eventsSince() throws Exception {
    JsonObject t1 = app.createTcp("since-1");
    JsonObject t2 = app.createTcp("since-2");
    app.stopTunnel(t1.getString("id"));
    app.stopTunnel(t2.getString("id"));
    JsonArray all = app.events(null);
    assertThat(all.size()).isGreaterThanOrEqualTo(4);
    List<Long> seqs = seqs(all);
    for (int i = 1; i < seqs.size(); i++) {
      assertThat(seqs.get(i)).as("seq %d after %d", seqs.get(i), seqs.get(i - 1)).isGreaterThan(seqs.get(i - 1));
    }
    assertThat(seqs.get(0)).isPositive();
    int mid = all.size() / 2;
    long since = seqs.get(mid);
    HttpResponse<String> later = app.send("GET", "/api/v1/events?since=" + since, null);
    assertThat(later.statusCode()).isEqualTo(200);
    JsonArray after = new JsonObject(later.body()).getJsonArray("events");
    List<JsonObject> expected = all.stream().map(JsonObject.class::cast).toList().subList(mid + 1, all.size());
    List<JsonObject> got = after.stream().map(JsonObject.class::cast).toList();
    assertThat(got.size()).isGreaterThanOrEqualTo(expected.size());
    assertThat(got.subList(0, expected.size())).as("the events after seq %d", since).containsExactlyElementsOf(expected);
    assertThat(seqs(after)).allSatisfy(s -> assertThat(s).isGreaterThan(since));

    String id2 = t2.getString("id");
    JsonArray own = new JsonObject(app.send("GET", "/api/v1/events?tunnel_id=" + id2 + "&since="
        + app.events(id2).getJsonObject(0).getLong("seq"), null).body()).getJsonArray("events");
    assertThat(types(own)).containsExactly("stopped");
    long last = seqs.get(seqs.size() - 1);
    assertThat(seqs(new JsonObject(app.send("GET", "/api/v1/events?since=" + last, null).body()).getJsonArray("events")))
        .allSatisfy(s -> assertThat(s).isGreaterThan(last));

    for (String bad : List.of("abc", "-1", "1.5")) {
      HttpResponse<String> r = app.send("GET", "/api/v1/events?since=" + bad, null);
      assertThat(r.statusCode()).as("since=%s", bad).isEqualTo(400);
      assertThat(r.body()).isEqualTo("{\"message\":\"since must be a non-negative integer\"}");
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    }
  }

  @Test
  @DisplayName("SSE: /api/v1/events/stream is text/event-stream with id/event/data frames, shows tunnels' events live; ?tunnel_id= filters")
  void eventStream() throws Exception {
    JsonObject x = app.createTcp("sse-x");
    String idX = x.getString("id");
    try (Sse everything = Sse.open(app, "/api/v1/events/stream", null);
         Sse onlyX = Sse.open(app, "/api/v1/events/stream?tunnel_id=" + idX, null)) {
      assertThat(everything.status).isEqualTo(200);
      assertThat(everything.header("content-type")).startsWith("text/event-stream");
      assertThat(onlyX.header("content-type")).startsWith("text/event-stream");
      Timeouts.pollUntil(Duration.ofSeconds(5), "x's started in the backlog of both",
          () -> everything.hasEvent(idX, "started") && onlyX.hasEvent(idX, "started"));

      JsonObject y = app.createTcp("sse-y");
      String idY = y.getString("id");
      Timeouts.pollUntil(Duration.ofSeconds(5), "y's started, live", () -> everything.hasEvent(idY, "started"));
      app.stopTunnel(idX);
      Timeouts.pollUntil(Duration.ofSeconds(5), "x's stopped, live",
          () -> everything.hasEvent(idX, "stopped") && onlyX.hasEvent(idX, "stopped"));
      app.stopTunnel(idY);
      Timeouts.pollUntil(Duration.ofSeconds(5), "y's stopped, live", () -> everything.hasEvent(idY, "stopped"));

      for (Sse s : List.of(everything, onlyX)) {
        List<List<String>> frames = s.frames();
        assertThat(frames.get(0)).as("the opening comment").allSatisfy(l -> assertThat(l).startsWith(":"));
        for (List<String> f : frames) {
          if (f.get(0).startsWith(":")) {
            continue;
          }
          assertThat(f).as("frame %s", f).hasSize(3);
          assertThat(f.get(0)).matches("id: [1-9][0-9]*");
          assertThat(f.get(1)).matches("event: (started|unhealthy|reconnected|failed|stopped)");
          assertThat(f.get(2)).startsWith("data: {");
          JsonObject data = new JsonObject(f.get(2).substring("data: ".length()));
          assertThat(data.getLong("seq")).isEqualTo(Long.parseLong(f.get(0).substring(4)));
          assertThat(data.getString("type")).isEqualTo(f.get(1).substring(7));
        }
        assertThat(s.lines.get(s.lines.size() - 1)).as("each frame ends with a blank line").isEmpty();
        List<Long> seqs = s.events().stream().map(e -> e.getLong("seq")).toList();
        assertThat(seqs).as("strictly increasing").isSorted().doesNotHaveDuplicates();
      }
      JsonArray listed = app.events(null);
      Map<Long, JsonObject> bySeq = new LinkedHashMap<>();
      listed.forEach(e -> bySeq.put(((JsonObject) e).getLong("seq"), (JsonObject) e));
      for (JsonObject e : everything.events()) {
        assertThat(e).as("the streamed event is the listed one").isEqualTo(bySeq.get(e.getLong("seq")));
      }
      assertThat(onlyX.events()).extracting(e -> e.getString("tunnel_id")).containsOnly(idX);
      assertThat(onlyX.events()).extracting(e -> e.getString("type")).containsExactly("started", "stopped");
      assertThat(everything.events().stream().filter(e -> idY.equals(e.getString("tunnel_id")))
          .map(e -> e.getString("type")).toList()).containsExactly("started", "stopped");
    }
  }

  @Test
  @DisplayName("SSE resume: after a disconnect, Last-Event-ID brings exactly the missed events, then live ones: nothing missed, nothing twice")
  void eventStreamResume() throws Exception {
    JsonObject first = app.createTcp("resume-1");
    String lastId;
    List<JsonObject> seenBefore;
    try (Sse s = Sse.open(app, "/api/v1/events/stream", null)) {
      Timeouts.pollUntil(Duration.ofSeconds(5), "resume-1's started", () -> s.hasEvent(first.getString("id"), "started"));
      seenBefore = s.events();
      lastId = s.lastId();
    }
    assertThat(Long.parseLong(lastId)).isEqualTo(seenBefore.get(seenBefore.size() - 1).getLong("seq"));

    // While disconnected.
    app.stopTunnel(first.getString("id"));
    JsonObject second = app.createTcp("resume-2");
    app.stopTunnel(second.getString("id"));
    JsonArray missed = new JsonObject(app.send("GET", "/api/v1/events?since=" + lastId, null).body()).getJsonArray("events");
    assertThat(missed.size()).isGreaterThanOrEqualTo(3);

    try (Sse s = Sse.open(app, "/api/v1/events/stream", lastId)) {
      Timeouts.pollUntil(Duration.ofSeconds(5), "the missed events", () -> s.events().size() >= missed.size());
      JsonObject third = app.createTcp("resume-3");
      Timeouts.pollUntil(Duration.ofSeconds(5), "resume-3's started, live", () -> s.hasEvent(third.getString("id"), "started"));
      app.stopTunnel(third.getString("id"));
      Timeouts.pollUntil(Duration.ofSeconds(5), "resume-3's stopped, live", () -> s.hasEvent(third.getString("id"), "stopped"));

      List<JsonObject> resumed = s.events();
      assertThat(resumed.subList(0, missed.size())).as("exactly the missed events first")
          .containsExactlyElementsOf(missed.stream().map(JsonObject.class::cast).toList());
      assertThat(resumed).extracting(e -> e.getLong("seq")).allSatisfy(q -> assertThat(q).isGreaterThan(Long.parseLong(lastId)));

      List<Long> union = new ArrayList<>();
      seenBefore.forEach(e -> union.add(e.getLong("seq")));
      resumed.forEach(e -> union.add(e.getLong("seq")));
      assertThat(union).as("nothing twice").doesNotHaveDuplicates().isSorted();
      long upTo = union.get(union.size() - 1);
      List<Long> logged = seqs(app.events(null)).stream().filter(q -> q <= upTo).toList();
      assertThat(union).as("nothing missed").containsExactlyElementsOf(logged);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // support

  static List<String> types(JsonArray events) {
    return events.stream().map(e -> ((JsonObject) e).getString("type")).toList();
  }

  static List<Long> seqs(JsonArray events) {
    return events.stream().map(e -> ((JsonObject) e).getLong("seq")).toList();
  }

  static long countAttempts(JsonArray deliveries, String type) {
    return deliveries.stream().map(JsonObject.class::cast).filter(d -> type.equals(d.getString("event"))).count();
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The raw text of each event in a {@code {"events":[…]}} body (its objects hold no nested ones). */
  static List<String> rawEvents(String body) {
    List<String> out = new ArrayList<>();
    int from = body.indexOf('[') + 1;
    while (true) {
      int open = body.indexOf('{', from);
      if (open < 0) {
        return out;
      }
      int close = body.indexOf('}', open);
      out.add(body.substring(open, close + 1));
      from = close + 1;
    }
  }

  /** GET / through a TCP tunnel to the local backend; the whole answer. */
  static String rawGet(int port) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** One app-server (manager, health every 1 s, webhooks with the given settings, HTTP API on port 0). */
  static final class Stack implements AutoCloseable {
    final Vertx vertx;
    final HttpVerticle http;

    private Stack(Vertx vertx, HttpVerticle http) {
      this.vertx = vertx;
      this.http = http;
    }

    static Stack start(JsonObject webhooks) throws Exception {
      var e = relay.endpoints();
      PortrConfig portr = PortrConfig.of("127.0.0.1:" + e.adminPort(), "127.0.0.1:" + e.sshPort(), e.domain(),
          TestRelay.SECRET, true);
      Vertx v = Vertx.vertx();
      HttpVerticle http = new HttpVerticle();
      try {
        v.deployVerticle(new TunnelManagerVerticle(portr, new JschConnector(), null, Clock.systemUTC()))
            .compose(id -> v.deployVerticle(new HealthVerticle(), new DeploymentOptions().setConfig(
                new JsonObject().put("interval_seconds", 1))))
            .compose(id -> v.deployVerticle(new WebhookVerticle(), new DeploymentOptions().setConfig(
                new JsonObject().put("webhooks", webhooks))))
            .compose(id -> v.deployVerticle(http, new DeploymentOptions().setConfig(new JsonObject()
                .put("host", "127.0.0.1").put("port", 0).put("token", "").put("relay", "configured"))))
            .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception ex) {
        v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        throw ex;
      }
      return new Stack(v, http);
    }

    int port() {
      return http.actualPort();
    }

    HttpResponse<String> send(String method, String path, String json) throws IOException, InterruptedException {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
          .timeout(Duration.ofSeconds(30));
      if (json != null) {
        b.header("Content-Type", "application/json");
      }
      b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
      return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A TCP tunnel (one SSH session) to the local backend with these callback URLs; must be 201. */
    JsonObject createTcp(String name, String... callbacks) throws IOException, InterruptedException {
      JsonObject req = new JsonObject().put("name", name).put("type", "tcp").put("port", backend.port())
          .put("pool_size", 1).put("callback_urls", new JsonArray(List.of((Object[]) callbacks)));
      HttpResponse<String> r = send("POST", "/api/v1/tunnels", req.encode());
      if (r.statusCode() != 201) {
        throw new AssertionError("POST /api/v1/tunnels → " + r.statusCode() + " " + r.body());
      }
      return new JsonObject(r.body());
    }

    JsonObject get(String id) throws IOException, InterruptedException {
      return new JsonObject(send("GET", "/api/v1/tunnels/" + id, null).body());
    }

    void stopTunnel(String id) throws IOException, InterruptedException {
      HttpResponse<String> r = send("DELETE", "/api/v1/tunnels/" + id, null);
      if (r.statusCode() != 200) {
        throw new AssertionError("DELETE " + id + " → " + r.statusCode() + " " + r.body());
      }
    }

    JsonArray events(String tunnelId) {
      try {
        return new JsonObject(send("GET", "/api/v1/events" + (tunnelId == null ? "" : "?tunnel_id=" + tunnelId), null)
            .body()).getJsonArray("events");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    JsonArray deliveries(String tunnelId) {
      try {
        HttpResponse<String> r = send("GET", "/api/v1/webhooks/deliveries?tunnel_id=" + tunnelId, null);
        if (r.statusCode() != 200) {
          throw new AssertionError("GET deliveries → " + r.statusCode() + " " + r.body());
        }
        return new JsonObject(r.body()).getJsonArray("deliveries");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws Exception {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * @param delayMs how long the answer is held at most
   * @param release when not null, the answer goes out as soon as it completes (or at delayMs, whichever is first)
   */
  record Answer(int status, long delayMs, Future<?> release) {
    Answer(int status, long delayMs) {
      this(status, delayMs, null);
    }
  }

  interface Policy {
    /** @param attempt 1 for the first request carrying this event id, 2 for the next… */
    Answer answer(Hit hit, int attempt);
  }

  /** One callback request as the receiver got it. */
  static final class Hit {
    final String path;
    final int indexOnPath;
    final MultiMap headers;
    final Buffer body;
    final long arrived;
    volatile long answered;
    volatile int status;

    Hit(String path, int indexOnPath, MultiMap headers, Buffer body, long arrived) {
      this.path = path;
      this.indexOnPath = indexOnPath;
      this.headers = headers;
      this.body = body;
      this.arrived = arrived;
    }

    JsonObject json() {
      return new JsonObject(body.toString(StandardCharsets.UTF_8));
    }

    String eventId() {
      return json().getString("id");
    }

    String type() {
      return json().getString("type");
    }

    String tunnelId() {
      return json().getString("tunnel_id");
    }

    @Override
    public String toString() {
      return path + " " + type() + " " + status;
    }
  }

  /** A callback receiver on the test's Vert.x: records every request in arrival order, answers by policy. */
  static final class Receiver implements AutoCloseable {
    final List<Hit> hits = new CopyOnWriteArrayList<>();
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
    private final Map<String, Integer> perPath = new ConcurrentHashMap<>();
    private HttpServer server;

    static Receiver start(Policy policy) throws Exception {
      Receiver r = new Receiver();
      r.server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
        long now = System.nanoTime();
        int index = r.perPath.merge(req.path(), 1, Integer::sum) - 1;
        Hit h = new Hit(req.path(), index, MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body.copy(), now);
        int attempt = r.attempts.merge(h.eventId(), 1, Integer::sum);
        Answer a = policy.answer(h, attempt);
        r.hits.add(h);
        Runnable respond = () -> {
          if (h.answered != 0) {
            return;
          }
          h.status = a.status();
          h.answered = System.nanoTime();
          req.response().setStatusCode(a.status()).end();
        };
        if (a.delayMs() > 0) {
          long timer = vertx.setTimer(a.delayMs(), id -> respond.run());
          if (a.release() != null) {
            a.release().onComplete(done -> {
              vertx.cancelTimer(timer);
              respond.run();
            });
          }
        } else {
          respond.run();
        }
      })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      return r;
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.actualPort() + path;
    }

    List<Hit> hitsFor(String tunnelId) {
      return hits.stream().filter(h -> tunnelId.equals(h.tunnelId())).toList();
    }

    @Override
    public void close() throws Exception {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * An SSE client on a raw socket (HTTP/1.1, chunked): a reader thread decodes the chunks and keeps
   * every line; closing the socket is the disconnect.
   */
  static final class Sse implements AutoCloseable {
    final Socket socket;
    final List<String> lines = new CopyOnWriteArrayList<>();
    final Map<String, String> headers = new ConcurrentHashMap<>();
    volatile int status;
    private final Thread reader;

    private Sse(Socket socket) {
      this.socket = socket;
      this.reader = new Thread(this::read, "sse-reader");
      this.reader.setDaemon(true);
    }

    static Sse open(Stack stack, String path, String lastEventId) throws IOException {
      Socket s = new Socket("127.0.0.1", stack.port());
      Sse sse = new Sse(s);
      String req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + stack.port() + "\r\nAccept: text/event-stream\r\n"
          + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n") + "\r\n";
      s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      sse.reader.start();
      Timeouts.pollUntil(Duration.ofSeconds(5), "the stream's response head", () -> sse.status != 0);
      return sse;
    }

    String header(String name) {
      return headers.get(name.toLowerCase());
    }

    private void read() {
      try {
        InputStream in = socket.getInputStream();
        String statusLine = line(in);
        Map<String, String> head = new LinkedHashMap<>();
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
          int colon = h.indexOf(':');
          head.put(h.substring(0, colon).trim().toLowerCase(), h.substring(colon + 1).trim());
        }
        headers.putAll(head);
        status = Integer.parseInt(statusLine.split(" ")[1]);
        if (!"chunked".equalsIgnoreCase(head.get("transfer-encoding"))) {
          throw new IllegalStateException("expected a chunked stream: " + head);
        }
        StringBuilder pending = new StringBuilder();
        while (true) {
          int size = Integer.parseInt(line(in).trim(), 16);
          if (size == 0) {
            return;
          }
          byte[] chunk = in.readNBytes(size);
          line(in);
          pending.append(new String(chunk, StandardCharsets.UTF_8));
          int nl;
          while ((nl = pending.indexOf("\n")) >= 0) {
            lines.add(pending.substring(0, nl));
            pending.delete(0, nl + 1);
          }
        }
      } catch (IOException | RuntimeException e) {
        // Closed by the test, or the server went away.
      }
    }

    private static String line(InputStream in) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        b.write(c);
      }
      if (c < 0) {
        throw new IOException("closed");
      }
      String s = b.toString(StandardCharsets.UTF_8);
      return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Complete frames (lines up to a blank line), in order. */
    List<List<String>> frames() {
      List<List<String>> out = new ArrayList<>();
      List<String> current = new ArrayList<>();
      for (String l : List.copyOf(lines)) {
        if (l.isEmpty()) {
          if (!current.isEmpty()) {
            out.add(current);
          }
          current = new ArrayList<>();
        } else {
          current.add(l);
        }
      }
      return out;
    }

    /** The data of every event frame, in order. */
    List<JsonObject> events() {
      List<JsonObject> out = new ArrayList<>();
      for (List<String> f : frames()) {
        for (String l : f) {
          if (l.startsWith("data: ")) {
            out.add(new JsonObject(l.substring(6)));
          }
        }
      }
      return out;
    }

    boolean hasEvent(String tunnelId, String type) {
      return events().stream().anyMatch(e -> tunnelId.equals(e.getString("tunnel_id")) && type.equals(e.getString("type")));
    }

    String lastId() {
      String last = null;
      for (List<String> f : frames()) {
        for (String l : f) {
          if (l.startsWith("id: ")) {
            last = l.substring(4);
          }
        }
      }
      return last;
    }

    @Override
    public void close() throws Exception {
      socket.close();
      reader.join(TimeUnit.SECONDS.toMillis(5));
    }
  }
}
