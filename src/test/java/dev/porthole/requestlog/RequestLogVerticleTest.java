package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.bus.FailureCode;
import dev.porthole.config.RequestLogConfig;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The request log on real SQLite files: writer, queries, state, faults and pruning. */
class RequestLogVerticleTest {
  @TempDir
  Path dir;
  Vertx vertx;
  Path db;
  int next;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    db = dir.resolve("sub").resolve("db.sqlite");
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  RequestLogVerticle deploy(RequestLogConfig config, Clock clock) throws Exception {
    RequestLogVerticle v = new RequestLogVerticle(config, clock, 200, 300);
    await(vertx.deployVerticle(v));
    return v;
  }

  RequestLogVerticle deploy(long maxRows, int queueSize) throws Exception {
    return deploy(new RequestLogConfig(db, maxRows, queueSize, true, 0), Clock.systemUTC());
  }

  Capture.Exchange exchange(String tunnel, String subdomain, String url, byte[] body, long bytesIn) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("User-Agent", List.of("test"));
    headers.put("Accept", List.of("a/b", "<c>"));
    String id = String.format("01REQ%05d", next++);
    return new Capture.Exchange(id, tunnel, subdomain, 3000, subdomain + ".example.com", url, "POST", "HTTP/1.1",
        headers, body, bytesIn, 201, Map.of("Content-Type", List.of("text/plain")), "done".getBytes(), 4, 7, "",
        Instant.now());
  }

  void send(Capture c) {
    vertx.eventBus().send(Addresses.REQUESTS_CAPTURE, c, Capture.DELIVERY);
  }

  JsonObject request(String address, JsonObject body) throws Exception {
    return await(vertx.eventBus().<JsonObject>request(address, body)).body();
  }

  JsonObject state() {
    try {
      return request(Addresses.REQUESTS_STATE, new JsonObject());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  void awaitState(String state) {
    Timeouts.pollUntil(Duration.ofSeconds(10), "state " + state, () -> {
      try {
        return state.equals(state().getString("state"));
      } catch (Exception e) {
        return false;
      }
    });
  }

  void awaitReason(String prefix) {
    Timeouts.pollUntil(Duration.ofSeconds(10), "reason " + prefix,
        () -> state().getString("reason", "").startsWith(prefix));
  }

  long written() {
    return state().getLong("written");
  }

  @Test
  void a_batch_of_captures_is_queued_capture_by_capture_in_its_order() throws Exception {
    deploy(0, 100);
    List<JsonObject> published = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.REQUESTS_CAPTURED, m -> published.add(m.body()));
    List<Capture> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(exchange("t1", "web", "/batch/" + i, new byte[0], 0));
    }
    send(new Capture.Batch(sent));
    send(exchange("t1", "web", "/after", new byte[0], 0));
    Timeouts.pollUntil(Duration.ofSeconds(10), "6 published", () -> published.size() == 6);
    assertThat(published).extracting(j -> j.getString("url")).containsExactly("/batch/0", "/batch/1", "/batch/2",
        "/batch/3", "/batch/4", "/after");
    assertThat(state().getLong("written")).isEqualTo(6);
  }

  @Test
  void runs_of_exchanges_share_an_insert_keep_their_order_and_a_duplicate_among_them_is_the_only_one_dropped()
      throws Exception {
    RequestLogVerticle v = deploy(0, 200);
    List<String> published = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.REQUESTS_CAPTURED, m -> published.add(m.body().getString("id")));
    Capture.Exchange alone = exchange("t0", "one", "/alone", "single".getBytes(), 6);
    send(alone); // written by itself: the reference for the columns a shared insert writes
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 1);
    assertThat(v.writer().sharedRows.get()).isZero();
    int n = Store.ROWS_PER_INSERT;

    // a full run, three one by one, two other captures, two full runs: in one transaction
    List<Capture> batch = new ArrayList<>();
    List<String> expected = new ArrayList<>(List.of(alone.id()));
    Capture.Exchange hs = exchange("t1", "web", "/ws", new byte[0], 0);
    for (int i = 0; i < n + 3; i++) {
      batch.add(i == 0 ? hs : exchange("t1", "web", "/first/" + i, ("b" + i).getBytes(), 2));
    }
    Instant now = Instant.now();
    batch.add(new Capture.WsOpen("ws1", hs.id(), "t1", "web", 3000, "web.example.com", "/ws", "GET", Map.of(), 101,
        Map.of(), now));
    batch.add(new Capture.WsFrame("ws1", "client", 1, true, "hi".getBytes(StandardCharsets.UTF_8), 2, now));
    for (int i = 0; i < 2 * n; i++) {
      batch.add(exchange(i % 2 == 0 ? "t2" : "t3", "api", "/second/" + i, new byte[0], 0));
    }
    batch.stream().filter(c -> c instanceof Capture.Exchange).forEach(c -> expected.add(((Capture.Exchange) c).id()));
    queueStalled(v, batch);
    // the counter moves on the writer's thread, the summaries are published afterwards on the event loop
    Timeouts.pollUntil(Duration.ofSeconds(10), "all written and published",
        () -> written() == 1 + batch.size() && published.size() >= expected.size());
    assertThat(published).containsExactlyElementsOf(expected);
    assertThat(v.writer().sharedRows.get()).isEqualTo(3L * n);
    assertThat(SchemaTest.rows(db, "SELECT event_count FROM web_socket_sessions WHERE id = 'ws1'")).containsExactly("1");
    String columns = "subdomain, localport, host, method, headers, hex(body), response_headers, hex(response_body), "
        + "response_status_code, is_replayed, parent_id, duration_ms, bytes_in, bytes_out, protocol, porthole_tunnel_id";
    String from = " FROM requests r WHERE r.url = ";
    assertThat(SchemaTest.rows(db, "SELECT " + columns + from + "'/first/3'"))
        .containsExactly(SchemaTest.rows(db, "SELECT " + columns + from + "'/alone'").get(0)
            .replace("one|", "web|").replace("one.example.com", "web.example.com")
            .replace(hex("single"), hex("b3")).replace("|6|", "|2|").replace("|t0", "|t1"));
    assertThat(SchemaTest.rows(db, "SELECT porthole_tunnel_id" + from + "'/second/7'")).containsExactly("t3");
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM requests WHERE logged_at NOT LIKE '____-__-__ %'"))
        .containsExactly("0");

    // a full run with a duplicate in it: the transaction goes one by one, and only the duplicate is dropped
    List<Capture> again = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      again.add(i == 5 ? alone : exchange("t1", "web", "/third/" + i, new byte[0], 0));
    }
    queueStalled(v, again);
    Timeouts.pollUntil(Duration.ofSeconds(10), "the rest written and published",
        () -> written() == 1 + batch.size() + n - 1 && published.size() >= expected.size() + n - 1);
    assertThat(state().getLong("dropped")).isEqualTo(1);
    assertThat(v.writer().sharedRows.get()).isEqualTo(3L * n);
    assertThat(published).hasSize(expected.size() + n - 1).doesNotHaveDuplicates();
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM requests")).containsExactly(String.valueOf(published.size()));
  }

  /** Queues the captures while the writer waits, so that they make one batch. */
  private void queueStalled(RequestLogVerticle v, List<Capture> captures) {
    CountDownLatch stall = new CountDownLatch(1);
    v.writer().stall = stall;
    int before = state().getInteger("queued");
    send(new Capture.Batch(captures));
    Timeouts.pollUntil(Duration.ofSeconds(10), "all queued",
        () -> state().getInteger("queued") == before + captures.size());
    v.writer().stall = null;
    stall.countDown();
  }

  private static String hex(String s) {
    return java.util.HexFormat.of().withUpperCase().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  @Test
  void writes_in_portrs_form_publishes_in_commit_order_and_reads_back() throws Exception {
    deploy(0, 100);
    List<JsonObject> published = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.REQUESTS_CAPTURED, m -> published.add(m.body()));
    byte[] big = new byte[10];
    Arrays.fill(big, (byte) 'x');
    List<Capture.Exchange> sent = List.of(exchange("t1", "web", "/a?q=1", "hello".getBytes(), 5),
        exchange("t1", "web", "/b", big, 20), exchange("t2", "api", "/c", new byte[] {(byte) 0xff}, 1));
    sent.forEach(this::send);
    Timeouts.pollUntil(Duration.ofSeconds(10), "3 published", () -> published.size() == 3);
    assertThat(published).extracting(j -> j.getString("id")).containsExactly(sent.get(0).id(), sent.get(1).id(),
        sent.get(2).id());
    assertThat(published).extracting(j -> j.getLong("seq")).isSorted().doesNotHaveDuplicates();
    assertThat(new ArrayList<>(published.get(0).fieldNames())).containsExactly("id", "tunnel_id", "subdomain",
        "localport", "host", "method", "url", "status", "duration_ms", "bytes_in", "bytes_out", "protocol", "logged_at",
        "is_replayed", "seq");

    // stored as Portr stores it
    List<String> row = SchemaTest.rows(db, "SELECT headers, typeof(body), logged_at, is_replayed, parent_id "
        + "FROM requests WHERE id = '" + sent.get(0).id() + "'");
    assertThat(row.get(0)).startsWith("{\"Accept\":[\"a/b\",\"\\u003cc\\u003e\"],\"User-Agent\":[\"test\"]}|blob|")
        .matches(".*\\|\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d*[1-9])?\\+00:00\\|0\\|$");

    JsonObject list = request(Addresses.REQUESTS_LIST, new JsonObject().put("limit", 10));
    assertThat(list.getJsonArray("requests").stream().map(o -> ((JsonObject) o).getString("id")).toList())
        .containsExactly(sent.get(2).id(), sent.get(1).id(), sent.get(0).id());
    assertThat(list.getValue("next")).isNull();

    JsonObject detail = request(Addresses.REQUESTS_GET, new JsonObject().put("id", sent.get(1).id()));
    assertThat(detail.getString("tunnel_id")).isEqualTo("t1");
    assertThat(detail.getJsonObject("headers")).isEqualTo(new JsonObject()
        .put("Accept", new JsonArray().add("a/b").add("<c>")).put("User-Agent", new JsonArray().add("test")));
    assertThat(detail.getString("body_text")).isEqualTo("xxxxxxxxxx");
    assertThat(detail.getBoolean("body_truncated")).isTrue();
    assertThat(detail.getBoolean("response_body_truncated")).isFalse();
    assertThat(detail.getString("response_body_text")).isEqualTo("done");
    JsonObject binary = request(Addresses.REQUESTS_GET, new JsonObject().put("id", sent.get(2).id()));
    assertThat(binary.getString("body")).isEqualTo("/w==");
    assertThat(binary.containsKey("body_text")).isFalse();
    assertThatThrownBy(() -> request(Addresses.REQUESTS_GET, new JsonObject().put("id", "nope")))
        .isInstanceOfSatisfying(ReplyException.class,
            e -> assertThat(e.failureCode()).isEqualTo(FailureCode.REQUEST_NOT_FOUND.code()));
  }

  @Test
  void pages_newest_first_with_cursors_filters_and_the_seq_backlog() throws Exception {
    deploy(0, 100);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      Capture.Exchange e = exchange(i % 2 == 0 ? "t1" : "t2", i < 5 ? "web" : "api", "/Item_" + i, new byte[0], 0);
      ids.add(e.id());
      send(e);
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "7 written", () -> written() == 7);
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonObject q = new JsonObject().put("limit", 3);
      if (cursor != null) {
        q.put("before", cursor);
      }
      JsonObject page = request(Addresses.REQUESTS_LIST, q);
      page.getJsonArray("requests").forEach(o -> seen.add(((JsonObject) o).getString("id")));
      cursor = page.getString("next");
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    List<String> newestFirst = new ArrayList<>(ids);
    java.util.Collections.reverse(newestFirst);
    assertThat(seen).containsExactlyElementsOf(newestFirst);

    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("tunnel_id", "t2").put("limit", 50))))
        .containsExactly(ids.get(5), ids.get(3), ids.get(1));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("subdomain", "api"))))
        .containsExactly(ids.get(6), ids.get(5));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("filter", "item_3"))))
        .containsExactly(ids.get(3));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("filter", "m%"))))
        .isEmpty();
    JsonObject t1Page = request(Addresses.REQUESTS_LIST, new JsonObject().put("tunnel_id", "t1").put("limit", 2));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("tunnel_id", "t1").put("limit", 2)
        .put("before", t1Page.getString("next"))))).containsExactly(ids.get(2), ids.get(0));

    JsonObject backlog = request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", 0).put("limit", 100));
    List<Long> seqs = backlog.getJsonArray("requests").stream().map(o -> ((JsonObject) o).getLong("seq")).toList();
    assertThat(ids(backlog)).containsExactlyElementsOf(ids);
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", seqs.get(4)).put("limit", 1))))
        .containsExactly(ids.get(5));

    for (String bad : List.of("garbage!", "Zm9v", java.util.Base64.getUrlEncoder().encodeToString("x\ny".getBytes()))) {
      assertThatThrownBy(() -> request(Addresses.REQUESTS_LIST, new JsonObject().put("before", bad)))
          .isInstanceOfSatisfying(ReplyException.class, e -> {
            assertThat(e.failureCode()).isEqualTo(FailureCode.INVALID_REQUEST.code());
            assertThat(e.getMessage()).isEqualTo("invalid cursor");
          });
    }
    assertThatThrownBy(() -> request(Addresses.REQUESTS_LIST, new JsonObject().put("limit", 501)))
        .isInstanceOfSatisfying(ReplyException.class,
            e -> assertThat(e.failureCode()).isEqualTo(FailureCode.INVALID_REQUEST.code()));

    assertThat(request(Addresses.REQUESTS_DELETE, new JsonObject().put("tunnel_id", "t2")).getInteger("deleted"))
        .isEqualTo(3);
    assertThat(request(Addresses.REQUESTS_DELETE, new JsonObject().put("subdomain", "api")).getInteger("deleted"))
        .isEqualTo(1);
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject()))).containsExactly(ids.get(4), ids.get(2),
        ids.get(0));
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM requests WHERE porthole_tunnel_id = 't2'"))
        .containsExactly("0");
  }

  @Test
  void the_seq_backlog_keeps_the_latest_and_forgets_what_is_deleted() throws Exception {
    deploy(0, 5_000);
    List<JsonObject> published = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.REQUESTS_CAPTURED, m -> published.add(m.body()));
    int n = RequestLogVerticle.RECENT + 5;
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Capture.Exchange e = exchange(i % 2 == 0 ? "t1" : "t2", i % 2 == 0 ? "web" : "api", "/" + i, new byte[0], 0);
      ids.add(e.id());
      send(e);
    }
    Timeouts.pollUntil(Duration.ofSeconds(20), n + " published", () -> published.size() == n);
    List<Long> seqs = published.stream().map(j -> j.getLong("seq")).toList();
    assertThat(seqs).isSorted().doesNotHaveDuplicates();
    assertThat(seqs.get(n - 1) - seqs.get(0)).as("numbered one after another").isEqualTo(n - 1);

    // from before what is kept: the oldest kept on, in pages, each item as it was published
    List<JsonObject> backlog = new ArrayList<>();
    long after = 0;
    while (true) {
      JsonArray page = request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", after).put("limit", 300))
          .getJsonArray("requests");
      page.forEach(o -> backlog.add((JsonObject) o));
      if (page.size() < 300) {
        break;
      }
      after = page.getJsonObject(page.size() - 1).getLong("seq");
    }
    assertThat(backlog).containsExactlyElementsOf(published.subList(5, n));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", seqs.get(n - 3)))))
        .containsExactlyElementsOf(ids.subList(n - 2, n));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", seqs.get(n - 1)))))
        .isEmpty();

    request(Addresses.REQUESTS_DELETE, new JsonObject().put("tunnel_id", "t2"));
    JsonArray left = request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", seqs.get(n - 11)))
        .getJsonArray("requests");
    assertThat(left.stream().map(o -> ((JsonObject) o).getString("tunnel_id")).distinct().toList())
        .containsExactly("t1");
    assertThat(left).hasSize(5);
    request(Addresses.REQUESTS_DELETE, new JsonObject().put("subdomain", "web"));
    assertThat(ids(request(Addresses.REQUESTS_LIST, new JsonObject().put("after_seq", 0)))).isEmpty();
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM requests")).containsExactly("0");
  }

  static List<String> ids(JsonObject list) {
    return list.getJsonArray("requests").stream().map(o -> ((JsonObject) o).getString("id")).toList();
  }

  @Test
  void a_stalled_writer_drops_and_counts_past_the_bound_without_blocking() throws Exception {
    RequestLogVerticle v = deploy(0, 5);
    awaitState("on");
    CountDownLatch stall = new CountDownLatch(1);
    v.writer().stall = stall;
    long t0 = System.nanoTime();
    for (int i = 0; i < 12; i++) {
      send(exchange("t1", "web", "/" + i, new byte[0], 0));
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "7 dropped", () -> state().getLong("dropped") == 7);
    assertThat(state().getInteger("queued")).isEqualTo(5);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    v.writer().stall = null;
    stall.countDown();
    Timeouts.pollUntil(Duration.ofSeconds(10), "5 written", () -> written() == 5);
    assertThat(state()).isEqualTo(new JsonObject().put("enabled", true).put("state", "on").put("path", db.toString())
        .put("queued", 0).put("dropped", 7L).put("written", 5L));
  }

  @Test
  void the_log_it_creates_is_its_owners_only() throws Exception {
    deploy(0, 10);
    awaitState("on");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db.getParent()))).isEqualTo("rwx------");
  }

  @Test
  void an_unusable_path_is_reported_off_and_captures_return_at_once() throws Exception {
    Files.writeString(dir.resolve("file"), "not a directory");
    Path bad = dir.resolve("file").resolve("db.sqlite");
    deploy(new RequestLogConfig(bad, 0, 3, true, 0), Clock.systemUTC());
    awaitReason("cannot open " + bad + ": ");
    for (int i = 0; i < 5; i++) {
      send(exchange("t1", "web", "/", new byte[0], 0));
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "2 dropped", () -> state().getLong("dropped") == 2);
    assertThatThrownBy(() -> request(Addresses.REQUESTS_LIST, new JsonObject()))
        .isInstanceOfSatisfying(ReplyException.class,
            e -> assertThat(e.failureCode()).isEqualTo(FailureCode.LOG_UNAVAILABLE.code()));
  }

  @Test
  void a_file_that_is_not_a_database_is_reported() throws Exception {
    Files.createDirectories(db.getParent());
    byte[] junk = new byte[8192];
    Arrays.fill(junk, (byte) 7);
    Files.write(db, junk);
    deploy(0, 10);
    awaitReason("cannot open " + db + ": file is not a database");
    assertThat(state().getString("state")).isEqualTo("off");
  }

  @Test
  void a_database_locked_beyond_the_busy_timeout_is_reported_and_recovers() throws Exception {
    deploy(0, 100);
    awaitState("on");
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = other.createStatement()) {
      s.execute("BEGIN IMMEDIATE");
      s.execute("DELETE FROM requests WHERE id = ''");
      send(exchange("t1", "web", "/locked", new byte[0], 0));
      awaitReason("cannot write " + db + ": database is locked");
      assertThat(state().getString("state")).isEqualTo("off");
      s.execute("COMMIT");
    }
    awaitState("on");
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 1);
    assertThat(SchemaTest.rows(db, "SELECT url FROM requests")).containsExactly("/locked");
  }

  @Test
  void the_row_cap_prunes_the_oldest() throws Exception {
    deploy(5, 100);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Capture.Exchange e = exchange("t1", "web", "/" + i, new byte[0], 0);
      ids.add(e.id());
      send(e);
      Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == ids.size());
    }
    // Pruned in chunks of 1 % of the cap (at least 1): the 7th row went over 5 + 1, back to 5; the 8th makes 6.
    assertThat(SchemaTest.rows(db, "SELECT id FROM requests ORDER BY logged_at, id"))
        .containsExactlyElementsOf(ids.subList(2, 8));
    assertThat(SchemaTest.rows(db, "SELECT porthole_tunnel_id FROM requests")).containsOnly("t1");
  }

  @Test
  void retention_deletes_older_rows_and_closed_sessions_at_open() throws Exception {
    Instant old = Instant.now().minus(Duration.ofDays(10));
    RequestLogConfig config = new RequestLogConfig(db, 0, 100, true, 3);
    RequestLogVerticle first = deploy(new RequestLogConfig(db, 0, 100, true, 0), Clock.fixed(old, ZoneOffset.UTC));
    Capture.Exchange e = exchange("t1", "web", "/old", new byte[0], 0);
    send(e);
    send(new Capture.WsOpen("ws1", e.id(), "t1", "web", 3000, "h", "/ws", "GET", Map.of(), 101, Map.of(), old));
    send(new Capture.WsClose("ws1", "", old));
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 3);
    await(vertx.undeploy(first.deploymentID()));
    deploy(config, Clock.systemUTC());
    send(exchange("t1", "web", "/new", new byte[0], 0));
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 1);
    assertThat(SchemaTest.rows(db, "SELECT url, porthole_tunnel_id FROM requests")).containsExactly("/new|t1");
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM web_socket_sessions")).containsExactly("0");
  }

  @Test
  void websocket_sessions_and_frames_follow_portrs_rules() throws Exception {
    deploy(0, 100);
    Capture.Exchange hs = exchange("t1", "web", "/ws", new byte[0], 0);
    Instant now = Instant.now();
    send(hs);
    send(new Capture.WsOpen("ws1", hs.id(), "t1", "web", 3000, "web.example.com", "/ws", "GET",
        Map.of("Upgrade", List.of("websocket")), 101, Map.of(), now));
    send(new Capture.WsFrame("ws1", "client", 1, true, "hi".getBytes(StandardCharsets.UTF_8), 2, now));
    send(new Capture.WsFrame("ws1", "server", 2, true, new byte[] {(byte) 0xff}, 3, now));
    byte[] close = {0x03, (byte) 0xE8, 'b', 'y', 'e'};
    send(new Capture.WsFrame("ws1", "server", 8, true, close, 5, now));
    send(new Capture.WsClose("ws1", "boom", now));
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 6);
    JsonObject ws = request(Addresses.REQUESTS_GET, new JsonObject().put("id", hs.id())).getJsonObject("websocket");
    assertThat(ws.getString("id")).isEqualTo("ws1");
    assertThat(ws.getLong("event_count")).isEqualTo(3);
    assertThat(ws.getLong("client_event_count")).isEqualTo(1);
    assertThat(ws.getLong("server_event_count")).isEqualTo(2);
    assertThat(ws.getInteger("close_code")).isEqualTo(1000);
    assertThat(ws.getString("close_reason")).isEqualTo("bye"); // closed by the frame already: the close keeps it
    assertThat(ws.getString("closed_at")).isNotEmpty();
    JsonArray events = ws.getJsonArray("events");
    assertThat(events).hasSize(3);
    assertThat(events.getJsonObject(0).getString("payload_text")).isEqualTo("hi");
    assertThat(events.getJsonObject(1).getString("opcode_name")).isEqualTo("binary");
    assertThat(events.getJsonObject(1).containsKey("payload_text")).isFalse();
    assertThat(events.getJsonObject(1).getLong("payload_length")).isEqualTo(3);
    assertThat(events.getJsonObject(2).getString("opcode_name")).isEqualTo("close");
  }

  @Test
  void a_replay_waits_for_its_row_and_a_disabled_log_says_so() throws Exception {
    RequestLogVerticle v = deploy(0, 100);
    Capture.Exchange e = exchange("t1", "web", "/replayed", new byte[0], 0);
    Future<JsonObject> waited = Future.future(p -> v.context().runOnContext(x ->
        v.awaitCommitted(e.id(), 10_000).onComplete(p)));
    Future<JsonObject> timesOut = Future.future(p -> v.context().runOnContext(x ->
        v.awaitCommitted("never", 50).onComplete(p)));
    // both waits are queued on the verticle's context before the commit can reach it
    send(e);
    assertThat(await(waited).getString("id")).isEqualTo(e.id());
    assertThatThrownBy(() -> await(timesOut)).isInstanceOf(java.util.concurrent.TimeoutException.class);

    Vertx other = Vertx.vertx();
    try {
      RequestLogVerticle off = new RequestLogVerticle(new RequestLogConfig(dir.resolve("x.sqlite"), 0, 10, false, 0));
      await(other.deployVerticle(off));
      JsonObject s = await(other.eventBus().<JsonObject>request(Addresses.REQUESTS_STATE, new JsonObject())).body();
      assertThat(s.getString("state")).isEqualTo("disabled");
      assertThat(s.getBoolean("enabled")).isFalse();
      assertThat(Files.exists(dir.resolve("x.sqlite"))).isFalse();
    } finally {
      await(other.close());
    }
  }

  // ---- robustness ----

  /** The writer's log lines while {@code body} runs. */
  static List<String> logOf(ThrowingRunnable body) throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(CaptureWriter.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      body.run();
    } finally {
      logger.detachAppender(appender);
      appender.stop();
    }
    return appender.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  static void sql(Path db, String... statements) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout = 5000");
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  @Test
  void sessions_left_open_orphans_and_frames_after_a_delete_are_cleaned_up() throws Exception {
    Files.createDirectories(db.getParent());
    Schema.open(db.toString(), true, false, 5000).close();
    String t0 = GoFormats.dbTime(Instant.parse("2026-01-01T10:00:00Z"));
    String t1 = GoFormats.dbTime(Instant.parse("2026-01-01T10:05:00Z"));
    String session = "INSERT INTO web_socket_sessions (id,handshake_request_id,subdomain,localport,host,url,method,"
        + "request_headers,response_status_code,response_headers,started_at,last_event_at,closed_at,close_code,"
        + "close_reason,event_count,client_event_count,server_event_count) VALUES ('%s','%s','web',3000,'h','/ws',"
        + "'GET','{}',101,'{}','" + t0 + "',%s,NULL,NULL,'',0,0,0)";
    String event = "INSERT INTO web_socket_events (id,session_id,direction,opcode,opcode_name,is_final,payload,"
        + "payload_length,logged_at) VALUES ('%s','%s','client',1,'text',1,x'6869',2,'" + t0 + "')";
    sql(db,
        "INSERT INTO requests (id,subdomain,logged_at,porthole_tunnel_id) VALUES ('h1','web','" + t0 + "','t1'),"
            + "('h2','web','" + t0 + "',NULL),('h3','web','" + t0 + "','t1')",
        String.format(session, "ours-active", "h1", "'" + t1 + "'"), // porthole's, killed while open
        String.format(session, "ours-quiet", "h3", "NULL"), // porthole's, no frame ever
        String.format(session, "portrs", "h2", "NULL"), // Portr's: may be live in Portr
        String.format(session, "orphan", "gone", "NULL"), // its handshake was pruned while it was open
        String.format(event, "e1", "ours-active"), String.format(event, "e2", "orphan"),
        String.format(event, "e3", "no-such-session"));

    deploy(0, 100);
    awaitState("on");
    assertThat(SchemaTest.rows(db, "SELECT id, closed_at FROM web_socket_sessions ORDER BY id")).containsExactly(
        "ours-active|" + t1, "ours-quiet|" + t0, "portrs|null");
    assertThat(SchemaTest.rows(db, "SELECT id FROM web_socket_events")).containsExactly("e1");

    // a frame that comes after its session was deleted leaves no event behind
    Capture.Exchange hs = exchange("t9", "late", "/ws", new byte[0], 0);
    send(hs);
    send(new Capture.WsOpen("ws9", hs.id(), "t9", "late", 3000, "h", "/ws", "GET", Map.of(), 101, Map.of(),
        Instant.now()));
    send(new Capture.WsFrame("ws9", "client", 1, true, "a".getBytes(), 1, Instant.now()));
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 3);
    assertThat(request(Addresses.REQUESTS_DELETE, new JsonObject().put("tunnel_id", "t9")).getInteger("deleted"))
        .isEqualTo(1);
    send(new Capture.WsFrame("ws9", "server", 1, true, "b".getBytes(), 1, Instant.now()));
    send(new Capture.WsClose("ws9", "", Instant.now()));
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 5);
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM web_socket_events WHERE session_id = 'ws9'"))
        .containsExactly("0");
    assertThat(SchemaTest.rows(db, "SELECT COUNT(*) FROM web_socket_sessions WHERE id = 'ws9'"))
        .containsExactly("0");
  }

  @Test
  void a_session_keeps_its_first_events_and_a_detail_keeps_to_its_payload_budget() throws Exception {
    deploy(0, 100);
    Capture.Exchange hs = exchange("t1", "web", "/ws", new byte[0], 0);
    send(hs);
    send(new Capture.WsOpen("ws1", hs.id(), "t1", "web", 3000, "h", "/ws", "GET", Map.of(), 101, Map.of(),
        Instant.now()));
    byte[] mib = new byte[Capture.MAX_BODY];
    Arrays.fill(mib, (byte) 'm');
    for (int i = 0; i < 6; i++) {
      send(new Capture.WsFrame("ws1", "client", 1, true, mib, mib.length + 10L, Instant.now()));
    }
    Timeouts.pollUntil(Duration.ofSeconds(20), "written", () -> written() == 8);
    JsonArray events = request(Addresses.REQUESTS_GET, new JsonObject().put("id", hs.id()))
        .getJsonObject("websocket").getJsonArray("events");
    assertThat(events).hasSize(6);
    for (int i = 0; i < 6; i++) {
      JsonObject e = events.getJsonObject(i);
      assertThat(e.getLong("payload_length")).isEqualTo(mib.length + 10L);
      if (i < 4) { // 4 MiB of payloads, then none
        assertThat(e.getString("payload_text")).hasSize(mib.length);
        assertThat(e.getString("payload")).isNotEmpty();
        assertThat(e.containsKey("payload_omitted")).isFalse();
      } else {
        assertThat(e.getBoolean("payload_omitted")).isTrue();
        assertThat(e.containsKey("payload")).isFalse();
        assertThat(e.containsKey("payload_text")).isFalse();
      }
    }

    // near the cap (as if 9 998 frames had passed): two more rows, then counting only
    sql(db, "UPDATE web_socket_sessions SET event_count = " + (Store.MAX_SESSION_EVENTS - 2) + " WHERE id = 'ws1'");
    for (int i = 0; i < 4; i++) {
      send(new Capture.WsFrame("ws1", "server", 1, true, ("f" + i).getBytes(), 2, Instant.now()));
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 12);
    assertThat(SchemaTest.rows(db, "SELECT event_count, client_event_count, server_event_count FROM "
        + "web_socket_sessions")).containsExactly((Store.MAX_SESSION_EVENTS + 2) + "|6|4");
    assertThat(SchemaTest.rows(db, "SELECT CAST(payload AS TEXT) FROM web_socket_events WHERE direction = 'server' "
        + "ORDER BY id")).containsExactly("f0", "f1");
  }

  @Test
  void a_capture_that_cannot_be_written_is_dropped_and_the_others_are_written() throws Exception {
    RequestLogVerticle v = deploy(0, 100);
    awaitState("on");
    CountDownLatch stall = new CountDownLatch(1);
    v.writer().stall = stall;
    Capture.Exchange good = exchange("t1", "web", "/good", new byte[0], 0);
    Capture.Exchange e = exchange("t1", "web", "/bug", new byte[0], 0);
    // a null where the writer expects a value: a bug's RuntimeException, in the middle of a batch
    Capture.Exchange bug = new Capture.Exchange(e.id(), "t1", "web", 3000, "h", "/bug", "GET", "HTTP/1.1", Map.of(),
        new byte[0], 0, 200, Map.of(), new byte[0], 0, 1, null, Instant.now());
    Capture.Exchange after = exchange("t1", "web", "/after", new byte[0], 0);
    List<String> lines = logOf(() -> {
      send(good);
      send(bug);
      send(after);
      Timeouts.pollUntil(Duration.ofSeconds(10), "3 queued", () -> state().getInteger("queued") == 3);
      v.writer().stall = null;
      stall.countDown();
      Timeouts.pollUntil(Duration.ofSeconds(10), "2 written", () -> written() == 2);
    });
    assertThat(state().getLong("dropped")).isEqualTo(1);
    assertThat(state().getString("state")).isEqualTo("on");
    assertThat(lines).filteredOn(l -> l.contains("could not be written")).hasSize(1);
    send(exchange("t1", "web", "/later", new byte[0], 0));
    Timeouts.pollUntil(Duration.ofSeconds(10), "3 written", () -> written() == 3);
    assertThat(SchemaTest.rows(db, "SELECT url FROM requests ORDER BY url")).containsExactly("/after", "/good",
        "/later");
  }

  @Test
  void an_error_in_the_writer_turns_the_log_off_and_it_tries_again() throws Exception {
    List<String> committed = new CopyOnWriteArrayList<>();
    CaptureWriter w = new CaptureWriter(db, 100, 0, 0, batch -> {
      if (committed.isEmpty()) {
        committed.add("boom");
        throw new AssertionError("boom"); // an Error after the commit, where nothing catches it
      }
      batch.forEach(c -> committed.add(c.exchange().id()));
    }, Clock.systemUTC(), 200, 300);
    Capture.Exchange first = exchange("t1", "web", "/1", new byte[0], 0);
    Capture.Exchange second = exchange("t1", "web", "/2", new byte[0], 0);
    try {
      List<String> lines = logOf(() -> {
        w.start();
        w.offer(first);
        Timeouts.pollUntil(Duration.ofSeconds(10), "the failure", () -> committed.contains("boom"));
        Timeouts.pollUntil(Duration.ofSeconds(10), "on again", () -> "on".equals(w.state().state()));
        w.offer(second);
        Timeouts.pollUntil(Duration.ofSeconds(10), "the second", () -> committed.contains(second.id()));
      });
      assertThat(lines).contains("request log: the writer failed")
          .anyMatch(l -> l.startsWith("request log: off: the writer failed: java.lang.AssertionError: boom"));
      assertThat(w.state().written()).isEqualTo(2);
      assertThat(w.state().dropped()).isZero();
      assertThat(SchemaTest.rows(db, "SELECT url FROM requests ORDER BY url")).containsExactly("/1", "/2");
    } finally {
      assertThat(w.stop(10_000)).isTrue();
    }
  }

  @Test
  void a_database_failure_amid_one_by_one_writes_keeps_what_was_committed() throws Exception {
    RequestLogVerticle v = deploy(0, 100);
    List<String> published = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.REQUESTS_CAPTURED, m -> published.add(m.body().getString("id")));
    Capture.Exchange dup = exchange("t1", "web", "/dup", new byte[0], 0);
    send(dup);
    Timeouts.pollUntil(Duration.ofSeconds(10), "written", () -> written() == 1);
    // a failure that is not a constraint, on one row only: malformed JSON raised by a trigger
    sql(db, "CREATE TRIGGER boom BEFORE INSERT ON requests WHEN NEW.url = '/boom' BEGIN SELECT json('{'); END");
    CountDownLatch stall = new CountDownLatch(1);
    v.writer().stall = stall;
    Capture.Exchange a = exchange("t1", "web", "/a", new byte[0], 0);
    Capture.Exchange boom = exchange("t1", "web", "/boom", new byte[0], 0);
    Capture.Exchange b = exchange("t1", "web", "/b", new byte[0], 0);
    for (Capture.Exchange e : List.of(dup, a, boom, b)) {
      send(e); // the duplicate sends the batch one by one; /a is committed, then /boom fails
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "4 queued", () -> state().getInteger("queued") == 4);
    v.writer().stall = null;
    stall.countDown();
    Timeouts.pollUntil(Duration.ofSeconds(10), "/a published", () -> published.contains(a.id()));
    awaitReason("cannot write " + db + ": malformed JSON");
    assertThat(state().getLong("written")).isEqualTo(2);
    assertThat(state().getInteger("queued")).isEqualTo(2);
    sql(db, "DROP TRIGGER boom");
    Timeouts.pollUntil(Duration.ofSeconds(10), "all published", () -> published.size() == 4);
    assertThat(published).containsExactly(dup.id(), a.id(), boom.id(), b.id());
    assertThat(state().getLong("written")).isEqualTo(4);
    assertThat(state().getLong("dropped")).isEqualTo(1);
    assertThat(SchemaTest.rows(db, "SELECT url FROM requests ORDER BY url")).containsExactly("/a", "/b", "/boom",
        "/dup");
  }

  @Test
  void captures_after_a_stop_are_counted_without_the_full_queue_warning() throws Exception {
    CaptureWriter w = new CaptureWriter(db, 100, 0, 0, batch -> { }, Clock.systemUTC(), 200, 300);
    List<String> lines = logOf(() -> {
      w.start();
      assertThat(w.stop(10_000)).isTrue();
      assertThat(w.offer(exchange("t1", "web", "/1", new byte[0], 0))).isFalse();
      assertThat(w.offer(exchange("t1", "web", "/2", new byte[0], 0))).isFalse();
    });
    assertThat(w.state().dropped()).isEqualTo(2);
    assertThat(lines).noneMatch(l -> l.contains("queue is full"))
        .containsOnlyOnce("request log stopping: captures from now on are counted as dropped");
  }
}
