package dev.porthole.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.api.HttpVerticle;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.HalfCloseTarget;
import dev.porthole.testsupport.RawUpgrade;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binary WebSocket tunnel {@code /ws/port-forward/{id}} of docs/api.md, end to end:
 * a real relay, the app-server's verticles in this JVM, tcp tunnels to TCP targets of this test.
 */
class WebSocketTunnelIT {
  static final String TOKEN = "ws-tunnel-it-token-0123456789";
  static final int MIB = 1024 * 1024;

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static WebSocketClient ws;
  /** Echoes every byte, with backpressure; ends when the client half-closes. */
  static NetServer echo;
  /** Writes "bye" and closes. */
  static NetServer closer;
  static String echoId;
  /** TestAppServer's own HttpVerticle (default access.* settings). */
  static int appPort;
  /** access.ws_idle_timeout_seconds 2. */
  static int idlePort;
  /** access.ws_max_message_bytes 64 KiB, access.ws_max_connections_per_tunnel 2. */
  static int limitsPort;
  /** access.ws_max_bytes_per_second 1 MiB. */
  static int ratePort;
  /** token configured. */
  static int tokenPort;
  /** access.ws_ping_interval_seconds 1, access.ws_idle_timeout_seconds 3. */
  static int pingPort;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    appPort = Integer.parseInt(app.base().substring(app.base().lastIndexOf(':') + 1));
    vertx = Vertx.vertx();
    ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(MIB)
        .setMaxMessageSize(64 * MIB).setMaxConnections(200));
    echo = vertx.createNetServer().connectHandler(so -> {
      so.handler(b -> {
        so.write(b);
        if (so.writeQueueFull()) {
          so.pause();
          so.drainHandler(v -> so.resume());
        }
      });
      so.endHandler(v -> so.end());
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    closer = vertx.createNetServer().connectHandler(so -> so.end(Buffer.buffer("bye")))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    echoId = app.tcpTunnel(echo.actualPort());
    idlePort = app.deployHttp("", a -> a.put("ws_idle_timeout_seconds", 2));
    limitsPort = app.deployHttp("", a -> a.put("ws_max_message_bytes", 64 * 1024).put("ws_max_connections_per_tunnel", 2));
    ratePort = app.deployHttp("", a -> a.put("ws_max_bytes_per_second", (long) MIB));
    tokenPort = app.deployHttp(TOKEN, a -> { });
    pingPort = app.deployHttp("", a -> a.put("ws_ping_interval_seconds", 1).put("ws_idle_timeout_seconds", 3));
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, relay, vertx);
  }

  @Test
  @DisplayName("\"One WebSocket = one fresh TCP connection to the target. Binary messages are opaque byte chunks\": "
      + "32 MiB round trip, same SHA-256")
  void bigRoundTrip() throws Exception {
    byte[] payload = random(32 * MIB, 1);
    Peer p = connect(appPort, echoId);
    long t0 = System.nanoTime();
    send(p.socket, payload, 64 * 1024).get(60, TimeUnit.SECONDS);
    Timeouts.pollUntil(Duration.ofSeconds(60), "32 MiB echoed", () -> p.size() >= payload.length);
    assertThat(p.size()).isEqualTo(payload.length);
    assertThat(sha(p.bytes())).isEqualTo(sha(payload));
    assertThat(System.nanoTime() - t0).as("nanos").isLessThan(Duration.ofSeconds(30).toNanos());
    p.close();
  }

  @Test
  @DisplayName("\"Many sockets per tunnel at once\": 50 concurrent sockets on one tunnel all echo")
  void fiftyConcurrent() throws Exception {
    List<Peer> peers = new ArrayList<>();
    List<CompletableFuture<Peer>> pending = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      pending.add(connectAsync(appPort, echoId, new WebSocketConnectOptions()));
    }
    for (CompletableFuture<Peer> f : pending) {
      peers.add(f.get(20, TimeUnit.SECONDS));
    }
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < peers.size(); i++) {
      byte[] data = random(8 * 1024, 100 + i);
      payloads.add(data);
      peers.get(i).socket.writeBinaryMessage(Buffer.buffer(data));
    }
    Timeouts.pollUntil(Duration.ofSeconds(20), "50 echoes", () -> peers.stream().allMatch(p -> p.size() >= 8 * 1024));
    for (int i = 0; i < peers.size(); i++) {
      assertThat(peers.get(i).bytes()).as("socket %d", i).isEqualTo(payloads.get(i));
      assertThat(peers.get(i).closed).isNotDone();
    }
    for (Peer p : peers) {
      p.close();
    }
  }

  @Test
  @DisplayName("\"{\\\"type\\\":\\\"eof\\\"} = half-close of the sender's side\": the target reads to EOF, its reply "
      + "still arrives")
  void halfClose() throws Exception {
    byte[] reply = "reply after end of stream".getBytes(StandardCharsets.UTF_8);
    byte[] request = random(200 * 1024, 7);
    try (HalfCloseTarget target = new HalfCloseTarget(reply)) {
      Peer p = connect(appPort, app.tcpTunnel(target.port()));
      send(p.socket, request, 32 * 1024).get(10, TimeUnit.SECONDS);
      p.socket.writeTextMessage("{\"type\":\"eof\"}");
      assertThat(target.received().get(10, TimeUnit.SECONDS)).isEqualTo(sha(request));
      assertThat(p.closed.get(10, TimeUnit.SECONDS)).as("close code").isEqualTo(1000);
      assertThat(p.bytes()).isEqualTo(reply);
    }
  }

  @Test
  @DisplayName("\"Idle timeout on application bytes, not pings\": access.ws_idle_timeout_seconds 2 closes with 4008 "
      + "at ~2 s although the client pings")
  void idleTimeout() throws Exception {
    Peer p = connect(idlePort, echoId);
    long t0 = System.nanoTime();
    long pinger = vertx.setPeriodic(250, t -> {
      if (!p.closed.isDone()) {
        p.socket.writePing(Buffer.buffer("keepalive?"));
      }
    });
    try {
      assertThat(p.closed.get(10, TimeUnit.SECONDS)).as("close code").isEqualTo(4008);
    } finally {
      vertx.cancelTimer(pinger);
    }
    double seconds = (p.closedAt - t0) / 1e9;
    assertThat(seconds).as("seconds until 4008").isBetween(1.5, 4.0);
  }

  @Test
  @DisplayName("\"The server pings\" every access.ws_ping_interval_seconds (1 s here), and neither its pings nor the "
      + "client's pongs reset the idle timeout: 4008 at ~3 s after ~2 pings")
  void serverPings() throws Exception {
    Peer p = connect(pingPort, echoId);
    long t0 = System.nanoTime();
    List<Long> pings = new CopyOnWriteArrayList<>();
    // Vert.x answers each ping with a pong itself, and still shows the ping frame here.
    p.socket.frameHandler(f -> {
      if (f.type() == WebSocketFrameType.PING) {
        pings.add(System.nanoTime());
      }
    });
    assertThat(p.closed.get(15, TimeUnit.SECONDS)).as("close code").isEqualTo(4008);
    double closedAfter = (p.closedAt - t0) / 1e9;
    assertThat(closedAfter).as("seconds until 4008").isBetween(2.5, 5.0);
    assertThat(pings).as("pings before the idle close").hasSizeBetween(2, 4);
    long previous = t0;
    for (long at : pings) {
      assertThat((at - previous) / 1e9).as("seconds since the previous ping (or the open)").isBetween(0.6, 1.6);
      previous = at;
    }
  }

  @Test
  @DisplayName("\"1009 message over access.ws_max_message_bytes\" (64 KiB; a message of exactly 64 KiB passes)")
  void messageTooBig() throws Exception {
    Peer p = connect(limitsPort, echoId);
    byte[] atLimit = random(64 * 1024, 3);
    p.socket.writeBinaryMessage(Buffer.buffer(atLimit));
    Timeouts.pollUntil(Duration.ofSeconds(10), "64 KiB echoed", () -> p.size() >= atLimit.length);
    assertThat(p.bytes()).isEqualTo(atLimit);
    p.socket.writeBinaryMessage(Buffer.buffer(new byte[64 * 1024 + 1]));
    assertThat(p.closed.get(10, TimeUnit.SECONDS)).as("close code (1006: dropped without a close frame)")
        .isEqualTo(1009);
  }

  @Test
  @DisplayName("\"1009 message over access.ws_max_message_bytes\": the same message sent as 16 KiB fragments")
  void fragmentedMessageTooBig() throws Exception {
    WebSocketClient fragmenting = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(16 * 1024));
    try {
      WebSocket socket = fragmenting.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(limitsPort)
          .setURI("/ws/port-forward/" + echoId)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      Peer p = new Peer(socket);
      socket.writeBinaryMessage(Buffer.buffer(new byte[64 * 1024 + 1]));
      assertThat(p.closed.get(Timeouts.scaled(Duration.ofSeconds(5)).toMillis(), TimeUnit.MILLISECONDS))
          .as("close code").isEqualTo(1009);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no close within 5 s after a 64 KiB + 1 message in fragments (expected 1009)", e);
    } finally {
      fragmenting.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("\"Text messages are reserved for JSON control messages ... anything else text is closed with 1003\"")
  void textIsNotData() throws Exception {
    Peer p = connect(appPort, echoId);
    p.socket.writeTextMessage("hello as text");
    assertThat(p.closed.get(10, TimeUnit.SECONDS)).as("close code").isEqualTo(1003);
    assertThat(p.size()).isZero();
  }

  @Test
  @DisplayName("\"Throughput cap per socket, access.ws_max_bytes_per_second\": upload of 4 MiB at 1 MiB/s, measured "
      + "at a target that only counts, within 10 % of the cap; every byte arrives (SHA-256)")
  void throughputCapUpload() throws Exception {
    byte[] payload = random(4 * MIB, 11);
    try (Counter target = new Counter(vertx, 0)) {
      Peer p = connect(ratePort, app.tcpTunnel(target.port()));
      send(p.socket, payload, 16 * 1024).get(30, TimeUnit.SECONDS);
      target.done(payload.length).get(30, TimeUnit.SECONDS);
      assertThat(target.sha()).isEqualTo(sha(payload));
      assertRate(target.rate(payload.length), "upload");
      p.close();
    }
  }

  @Test
  @DisplayName("\"Throughput cap per socket\": download of 4 MiB at 1 MiB/s, measured at the client, within 10 % of "
      + "the cap; every byte arrives (SHA-256)")
  void throughputCapDownload() throws Exception {
    byte[] payload = random(4 * MIB, 13);
    NetServer source = vertx.createNetServer().connectHandler(so -> write(so, payload, 0))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      Peer p = connect(ratePort, app.tcpTunnel(source.actualPort()));
      List<long[]> arrivals = new CopyOnWriteArrayList<>();
      p.onBytes = total -> arrivals.add(new long[] {total, System.nanoTime()});
      Timeouts.pollUntil(Duration.ofSeconds(30), "4 MiB downloaded", () -> p.size() >= payload.length);
      assertThat(sha(p.bytes())).isEqualTo(sha(payload));
      assertRate(rate(arrivals, payload.length), "download");
      p.close();
    } finally {
      source.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("\"enforced by pausing reads (backpressure), never by dropping data\": a target that stops reading for "
      + "1 s after each MiB still gets all 4 MiB in order (SHA-256), and never faster than the cap")
  void throughputCapSlowTarget() throws Exception {
    byte[] payload = random(4 * MIB, 17);
    try (Counter target = new Counter(vertx, 1000)) {
      Peer p = connect(ratePort, app.tcpTunnel(target.port()));
      send(p.socket, payload, 16 * 1024).get(60, TimeUnit.SECONDS);
      target.done(payload.length).get(60, TimeUnit.SECONDS);
      assertThat(target.sha()).isEqualTo(sha(payload));
      assertThat(target.rate(payload.length) / MIB).as("MiB/s at the stalling target").isLessThan(1.1);
      p.close();
    }
  }

  /** Within 10 % of access.ws_max_bytes_per_second (1 MiB/s on ratePort). */
  private static void assertRate(double bytesPerSecond, String direction) {
    assertThat(bytesPerSecond / MIB).as("MiB/s, %s", direction).isBetween(0.9, 1.1);
  }

  /**
   * Bytes per second between the arrival of the first 512 KiB (past the first slice's burst) and
   * of the last byte; {@code arrivals} holds {total so far, nanos} pairs.
   */
  static double rate(List<long[]> arrivals, long total) {
    long from = -1;
    long fromBytes = 0;
    long to = -1;
    for (long[] a : arrivals) {
      if (from < 0 && a[0] >= 512 * 1024) {
        from = a[1];
        fromBytes = a[0];
      }
      if (a[0] >= total) {
        to = a[1];
        break;
      }
    }
    assertThat(from).as("arrival of 512 KiB").isPositive();
    assertThat(to).as("arrival of the last byte").isGreaterThan(from);
    return (total - fromBytes) / ((to - from) / 1e9);
  }

  /** Writes data to a socket with backpressure, then ends it. */
  private static void write(NetSocket so, byte[] data, int from) {
    so.drainHandler(null); // set again below while data is left; a stale one would resend the tail
    int at = from;
    while (at < data.length && !so.writeQueueFull()) {
      int n = Math.min(64 * 1024, data.length - at);
      so.write(Buffer.buffer(Arrays.copyOfRange(data, at, at + n)));
      at += n;
    }
    if (at < data.length) {
      int next = at;
      so.drainHandler(v -> write(so, data, next));
    } else {
      so.end();
    }
  }

  /**
   * A TCP target that only reads: counts and hashes what arrives, with arrival times; with {@code
   * stallMs} > 0 it stops reading for that long after every MiB.
   */
  static final class Counter implements AutoCloseable {
    private final NetServer server;
    private final MessageDigest digest;
    private final List<long[]> arrivals = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> complete = new CompletableFuture<>();
    private volatile long total;
    private long target = Long.MAX_VALUE;

    Counter(Vertx vertx, long stallMs) throws Exception {
      digest = MessageDigest.getInstance("SHA-256");
      server = vertx.createNetServer().connectHandler(so -> so.handler(b -> {
        long before = total;
        synchronized (this) {
          digest.update(b.getBytes());
          total += b.length();
          arrivals.add(new long[] {total, System.nanoTime()});
          if (total >= target) {
            complete.complete(null);
          }
        }
        if (stallMs > 0 && before / MIB != total / MIB && total < target) {
          so.pause();
          vertx.setTimer(stallMs, t -> so.resume());
        }
      })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    int port() {
      return server.actualPort();
    }

    synchronized CompletableFuture<Void> done(long bytes) {
      target = bytes;
      if (total >= bytes) {
        complete.complete(null);
      }
      return complete;
    }

    synchronized String sha() {
      return HexFormat.of().formatHex(digest.digest());
    }

    double rate(long bytes) {
      return WebSocketTunnelIT.rate(arrivals, bytes);
    }

    @Override
    public void close() throws Exception {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("\"4404 tunnel stopped or deleted (DELETE closes live sockets within a second)\"")
  void deleteClosesSockets() throws Exception {
    String id = app.tcpTunnel(echo.actualPort());
    Peer a = connect(appPort, id);
    Peer b = connect(appPort, id);
    a.socket.writeBinaryMessage(Buffer.buffer("ping"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "echo", () -> a.size() == 4);
    assertThat(app.send("DELETE", "/api/v1/tunnels/" + id, null).statusCode()).isEqualTo(200);
    long answered = System.nanoTime();
    for (Peer p : List.of(a, b)) {
      assertThat(p.closed.get(Timeouts.scaled(Duration.ofSeconds(1)).toMillis(), TimeUnit.MILLISECONDS))
          .as("close code").isEqualTo(4404);
      assertThat(p.closedAt - answered).as("nanos after the DELETE answer").isLessThan(1_000_000_000L);
    }
  }

  @Test
  @DisplayName("\"Same credentials as the API\": with a token, a handshake without one is refused with 401")
  void noCredential() {
    assertRejected(tokenPort, echoId, new WebSocketConnectOptions(), 401);
  }

  @Test
  @DisplayName("\"The API's Authorization: Bearer header works everywhere\": WebSocket with Bearer echoes")
  void bearerHeader() throws Exception {
    Peer p = connectAsync(tokenPort, echoId, new WebSocketConnectOptions().addHeader("Authorization",
        "Bearer " + TOKEN)).get(10, TimeUnit.SECONDS);
    p.socket.writeBinaryMessage(Buffer.buffer("with bearer"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "echo", () -> p.size() == 11);
    assertThat(new String(p.bytes(), StandardCharsets.UTF_8)).isEqualTo("with bearer");
    p.close();
  }

  @Test
  @DisplayName("\"Sec-WebSocket-Protocol: porthole.v1, bearer.<T> is accepted; the server selects and echoes only "
      + "porthole.v1, never the token\"")
  void bearerSubprotocol() throws Exception {
    String head = RawUpgrade.send(tokenPort, "/ws/port-forward/" + echoId,
        "Sec-WebSocket-Protocol: bearer." + TOKEN + ", porthole.v1\r\n");
    assertThat(head).startsWith("HTTP/1.1 101").doesNotContain(TOKEN);
    assertThat(RawUpgrade.header(head, "Sec-WebSocket-Protocol")).containsExactly("porthole.v1");
    Peer p = connectAsync(tokenPort, echoId, new WebSocketConnectOptions()
        .setSubProtocols(List.of("porthole.v1", "bearer." + TOKEN))).get(10, TimeUnit.SECONDS);
    assertThat(p.socket.subProtocol()).isEqualTo("porthole.v1");
    p.socket.writeBinaryMessage(Buffer.buffer("with subprotocol"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "echo", () -> p.size() == 16);
    p.close();
  }

  @Test
  @DisplayName("\"Failures are real statuses before any upgrade: ... 404 unknown id\"")
  void unknownTunnel() {
    assertRejected(appPort, "01NOSUCHTUNNEL0000000000000", new WebSocketConnectOptions(), 404);
  }

  @Test
  @DisplayName("\"Failures are real statuses before any upgrade: ... 409 tunnel not running\": a stopped tunnel")
  void stoppedTunnel() throws Exception {
    String id = app.tcpTunnel(echo.actualPort());
    assertThat(app.send("DELETE", "/api/v1/tunnels/" + id, null).statusCode()).isEqualTo(200);
    assertRejected(appPort, id, new WebSocketConnectOptions(), 409);
  }

  @Test
  @DisplayName("\"up to access.ws_max_connections_per_tunnel (429 beyond)\": 2 allowed, the third gets 429, a freed slot "
      + "is reusable")
  void connectionLimit() throws Exception {
    String id = app.tcpTunnel(echo.actualPort());
    Peer a = connect(limitsPort, id);
    Peer b = connect(limitsPort, id);
    assertRejected(limitsPort, id, new WebSocketConnectOptions(), 429);
    a.close();
    Peer[] c = new Peer[1];
    Timeouts.pollUntil(Duration.ofSeconds(5), "a freed slot", () -> {
      try {
        c[0] = connect(limitsPort, id);
        return true;
      } catch (Exception e) {
        return false;
      }
    });
    c[0].socket.writeBinaryMessage(Buffer.buffer("third"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "echo", () -> c[0].size() == 5);
    b.close();
    c[0].close();
  }

  @Test
  @DisplayName("\"The tunnel outlives every socket; a socket closing never changes the tunnel\"")
  void tunnelOutlivesSocket() throws Exception {
    String id = app.tcpTunnel(echo.actualPort());
    Peer first = connect(appPort, id);
    first.socket.writeBinaryMessage(Buffer.buffer("one"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "echo", () -> first.size() == 3);
    first.close();
    assertThat(app.get(id).getString("status")).isEqualTo("running");
    Peer second = connect(appPort, id);
    second.socket.writeBinaryMessage(Buffer.buffer("two"));
    Timeouts.pollUntil(Duration.ofSeconds(10), "echo", () -> second.size() == 3);
    assertThat(new String(second.bytes(), StandardCharsets.UTF_8)).isEqualTo("two");
    second.close();
    assertThat(app.get(id).getString("status")).isEqualTo("running");
  }

  @Test
  @DisplayName("\"1000 target closed\": the target writes, closes; the bytes arrive, then close 1000")
  void targetClosed() throws Exception {
    Peer p = connect(appPort, app.tcpTunnel(closer.actualPort()));
    assertThat(p.closed.get(10, TimeUnit.SECONDS)).as("close code").isEqualTo(1000);
    assertThat(new String(p.bytes(), StandardCharsets.UTF_8)).isEqualTo("bye");
  }

  @Test
  @DisplayName("\"1011 target dial failed\": the target's port is closed")
  void dialFailed() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Peer p = connect(appPort, app.tcpTunnel(closed));
    assertThat(p.closed.get(15, TimeUnit.SECONDS)).as("close code").isEqualTo(1011);
  }

  // ---------------------------------------------------------------------------------------------

  /** A connected client socket and what it received. */
  static final class Peer {
    final WebSocket socket;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    volatile long closedAt;
    /** Told the running total after every message. */
    volatile LongConsumer onBytes;

    Peer(WebSocket socket) {
      this.socket = socket;
      socket.binaryMessageHandler(b -> {
        long total;
        synchronized (received) {
          received.writeBytes(b.getBytes());
          total = received.size();
        }
        LongConsumer hook = onBytes;
        if (hook != null) {
          hook.accept(total);
        }
      });
      socket.closeHandler(v -> {
        closedAt = System.nanoTime();
        Short code = socket.closeStatusCode();
        closed.complete(code == null ? -1 : (int) code);
      });
    }

    int size() {
      synchronized (received) {
        return received.size();
      }
    }

    byte[] bytes() {
      synchronized (received) {
        return received.toByteArray();
      }
    }

    void close() throws Exception {
      if (!closed.isDone()) {
        socket.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  private static CompletableFuture<Peer> connectAsync(int port, String id, WebSocketConnectOptions options) {
    CompletableFuture<Peer> f = new CompletableFuture<>();
    options.setHost("127.0.0.1").setPort(port).setURI("/ws/port-forward/" + id);
    // Handlers first, then connect: a target that answers and hangs up at once can have its bytes
    // and the close frame arrive before a handler set after the connect would be in place.
    ClientWebSocket socket = ws.webSocket();
    Peer peer = new Peer(socket);
    socket.connect(options).onComplete(ar -> {
      if (ar.succeeded()) {
        f.complete(peer);
      } else {
        f.completeExceptionally(ar.cause());
      }
    });
    return f;
  }

  private static Peer connect(int port, String id) throws Exception {
    return connectAsync(port, id, new WebSocketConnectOptions()).get(10, TimeUnit.SECONDS);
  }

  private static void assertRejected(int port, String id, WebSocketConnectOptions options, int status) {
    assertThatThrownBy(() -> connectAsync(port, id, options).get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(UpgradeRejectedException.class)
        .satisfies(e -> assertThat(((UpgradeRejectedException) e).getStatus()).isEqualTo(status));
  }

  /** Writes data as binary messages of {@code chunk} bytes, honouring the socket's write queue. */
  private static CompletableFuture<Void> send(WebSocket socket, byte[] data, int chunk) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    vertx.runOnContext(v -> pump(socket, data, chunk, 0, done));
    return done;
  }

  private static void pump(WebSocket socket, byte[] data, int chunk, int from, CompletableFuture<Void> done) {
    // A drain handler stays set: left in place after the last write, the next drain would send the
    // tail again (seen once as 34 MiB echoed for 32 MiB sent).
    socket.drainHandler(null);
    int at = from;
    while (at < data.length && !socket.writeQueueFull()) {
      int n = Math.min(chunk, data.length - at);
      socket.writeBinaryMessage(Buffer.buffer(Arrays.copyOfRange(data, at, at + n)));
      at += n;
    }
    if (at < data.length) {
      int next = at;
      socket.drainHandler(v -> pump(socket, data, chunk, next, done));
    } else {
      done.complete(null);
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String sha(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }
}
