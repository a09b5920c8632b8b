package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.VertxExtension;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edge's capture (portr-protocol §7): a real local HTTP service on port 0, the edge in front
 * of it, and the test as the consumer of {@link Addresses#REQUESTS_CAPTURE}.
 */
@ExtendWith(VertxExtension.class)
class EdgeCaptureTest {
  private static final int MIB = 1 << 20;
  private static final String HOST = "demo.tunnel.example.test";
  private static final List<String> REDACT = List.of("Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization");

  Vertx vertx;

  /** Held by the test: Vert.x 5 closes a client that nothing references once the GC finds it, mid-handshake too. */
  private WebSocketClient wsClient;

  private WebSocketClient webSockets() {
    if (wsClient == null) {
      wsClient = vertx.createWebSocketClient();
    }
    return wsClient;
  }

  private HttpServer local;
  private HttpClient client;
  private final BlockingQueue<Capture> captured = new LinkedBlockingQueue<>();
  private final List<JsonObject> seenByLocal = new CopyOnWriteArrayList<>();
  private volatile Promise<Void> release;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    release = Promise.promise();
    vertx.eventBus().<Capture>consumer(Addresses.REQUESTS_CAPTURE, m -> Capture.forEach(m.body(), captured::add));
    local = await(vertx.createHttpServer().requestHandler(this::serve).listen(0, "127.0.0.1"));
    client = vertx.createHttpClient();
  }

  @AfterEach
  void tearDown() throws Exception {
    await(client.close());
  }

  /** The tunnel's local service. */
  private void serve(HttpServerRequest req) {
    JsonObject seen = new JsonObject().put("uri", req.uri());
    req.headers().forEach(h -> seen.put(h.getKey().toLowerCase(), h.getValue()));
    seenByLocal.add(seen);
    switch (req.path()) {
      case "/echo" -> req.body().onSuccess(b -> vertx.setTimer(20, t -> {
        var res = req.response().putHeader("Content-Type", "text/plain").putHeader("Set-Cookie", "session=s3cret");
        res.headers().add("x-multi", "1").add("X-Multi", "2");
        res.end("got:" + b);
      }));
      case "/count" -> {
        long[] n = {0};
        req.handler(b -> n[0] += b.length());
        req.endHandler(v -> req.response().end(Long.toString(n[0])));
      }
      case "/download" -> {
        var res = req.response().setChunked(true);
        for (int i = 0; i < 48; i++) {
          res.write(Buffer.buffer(pattern(64 * 1024, i * 64 * 1024)));
        }
        res.end(Buffer.buffer(pattern(5, 48 * 64 * 1024)));
      }
      case "/stream" -> {
        var res = req.response().setChunked(true);
        res.write("first-chunk\n");
        release.future().onComplete(v -> res.end("second-chunk\n"));
      }
      case "/ws" -> req.toWebSocket().onSuccess(ws -> {
        ws.textMessageHandler(ws::writeTextMessage);
        ws.binaryMessageHandler(ws::writeBinaryMessage);
      });
      case "/refuse-ws" -> req.response().setStatusCode(403).putHeader("Content-Type", "text/plain").end("no");
      default -> req.response().end("ok");
    }
  }

  /** Where the test sends its requests to reach {@code edge}: the loopback edge's own server. */
  protected int portOf(TunnelEdgeVerticle edge) throws Exception {
    return edge.port();
  }

  private TunnelEdgeVerticle deploy(int port, String basicAuth, boolean capture) throws Exception {
    List<String> redact = new ArrayList<>(REDACT);
    CaptureSettings settings = capture ? new CaptureSettings(true, "tun-1", "demo", port, redact)
        : CaptureSettings.off("tun-1");
    TunnelEdgeVerticle edge = new TunnelEdgeVerticle("tun-1", "127.0.0.1", port, basicAuth, settings);
    await(vertx.deployVerticle(edge));
    return edge;
  }

  private TunnelEdgeVerticle deploy() throws Exception {
    return deploy(local.actualPort(), "", true);
  }

  /** A response and its whole body. */
  private record Reply(HttpClientResponse response, Buffer body) {
    int status() {
      return response.statusCode();
    }

    String text() {
      return body.toString();
    }
  }

  private Reply send(int port, HttpMethod method, String uri, Buffer body, String... headers) throws Exception {
    return await(request(port, method, uri, body, r -> r.body().map(b -> new Reply(r, b)), headers));
  }

  /**
   * {@code onResponse} runs inside send()'s own callback: attached a tick later, Vert.x 5.0.10 may
   * already have dropped the chunks and the end of a response that arrived in one read (vert.x#6038).
   */
  private <T> Future<T> request(int port, HttpMethod method, String uri, Buffer body,
      Function<HttpClientResponse, Future<T>> onResponse, String... headers) {
    RequestOptions o = new RequestOptions().setPort(port).setHost("127.0.0.1").setMethod(method).setURI(uri)
        .putHeader("Host", HOST);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      o.addHeader(headers[i], headers[i + 1]);
    }
    return client.request(o).compose(r -> (body == null ? r.send() : r.send(body)).compose(onResponse));
  }

  private <T extends Capture> T next(Class<T> type) throws InterruptedException {
    Capture c = captured.poll(Timeouts.scaled(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(c).as("a capture").isInstanceOf(type);
    return type.cast(c);
  }

  @Test
  @DisplayName("an exchange: method, url, public Host, canonical sorted headers with redaction, bodies, sizes, status, duration")
  void exchange() throws Exception {
    TunnelEdgeVerticle edge = deploy();
    Reply r = send(portOf(edge), HttpMethod.POST, "/echo?x=1&y=%20", Buffer.buffer("hello"),
        "content-type", "application/json", "Authorization", "Bearer token-1", "cookie", "c=1",
        "x-custom", "a", "X-Custom", "b", "Pragma", "no-cache");
    assertThat(r.text()).isEqualTo("got:hello");

    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.id()).hasSize(26);
    assertThat(e.tunnelId()).isEqualTo("tun-1");
    assertThat(e.subdomain()).isEqualTo("demo");
    assertThat(e.localport()).isEqualTo(local.actualPort());
    assertThat(e.method()).isEqualTo("POST");
    assertThat(e.url()).isEqualTo("/echo?x=1&y=%20");
    assertThat(e.host()).isEqualTo(HOST);
    assertThat(e.protocol()).isEqualTo("HTTP/1.1");
    assertThat(e.requestHeaders()).containsExactly(
        Map.entry("Authorization", List.of("[redacted]")),
        Map.entry("Cache-Control", List.of("no-cache")),
        Map.entry("Content-Length", List.of("5")),
        Map.entry("Content-Type", List.of("application/json")),
        Map.entry("Cookie", List.of("[redacted]")),
        Map.entry("Pragma", List.of("no-cache")),
        Map.entry("X-Custom", List.of("a", "b")));
    assertThat(new String(e.requestBody(), StandardCharsets.UTF_8)).isEqualTo("hello");
    assertThat(e.bytesIn()).isEqualTo(5);
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.responseHeaders()).containsEntry("Set-Cookie", List.of("[redacted]"))
        .containsEntry("X-Multi", List.of("1", "2")).containsEntry("Content-Type", List.of("text/plain"))
        .containsEntry("Content-Length", List.of("9"));
    assertThat(new String(e.responseBody(), StandardCharsets.UTF_8)).isEqualTo("got:hello");
    assertThat(e.bytesOut()).isEqualTo(9);
    assertThat(e.durationMs()).isGreaterThanOrEqualTo(20);
    assertThat(e.replayed()).isFalse();
    // What the local service got is untouched by redaction.
    assertThat(seenByLocal.get(0).getString("authorization")).isEqualTo("Bearer token-1");
  }

  @Test
  @DisplayName("X-Portr-Replayed-Request-Id: first value → parent id, not stored but forwarded; the answer names the new id")
  void replayedRequest() throws Exception {
    TunnelEdgeVerticle edge = deploy();
    Reply r = send(portOf(edge), HttpMethod.GET, "/plain", null,
        "X-Portr-Replayed-Request-Id", "01PARENT", "X-Portr-Replayed-Request-Id", "01OTHER");
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.parentId()).isEqualTo("01PARENT");
    assertThat(e.replayed()).isTrue();
    assertThat(e.requestHeaders()).doesNotContainKey("X-Portr-Replayed-Request-Id");
    assertThat(seenByLocal.get(0).getString("x-portr-replayed-request-id")).isNotNull();
    assertThat(r.response().getHeader(TunnelEdgeVerticle.REQUEST_ID_HEADER)).isEqualTo(e.id());
    assertThat(e.responseHeaders()).doesNotContainKey(TunnelEdgeVerticle.REQUEST_ID_HEADER);
  }

  @Test
  @DisplayName("bodies over 1 MiB: the first 1 MiB kept, byte counts exact, both ways (3 MiB up, 3 MiB down)")
  void truncation() throws Exception {
    TunnelEdgeVerticle edge = deploy();
    byte[] up = pattern(3 * MIB + 7, 0);
    Reply r = send(portOf(edge), HttpMethod.POST, "/count", Buffer.buffer(up));
    assertThat(r.text()).isEqualTo(Integer.toString(up.length));
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.bytesIn()).isEqualTo(up.length);
    assertThat(e.requestBody()).isEqualTo(Arrays.copyOf(up, MIB));

    r = send(portOf(edge), HttpMethod.GET, "/download", null);
    byte[] down = r.body().getBytes();
    assertThat(down).hasSize(3 * MIB + 5);
    Capture.Exchange d = next(Capture.Exchange.class);
    assertThat(d.bytesOut()).isEqualTo(down.length);
    assertThat(d.responseBody()).isEqualTo(Arrays.copyOf(down, MIB));
    assertThat(d.responseHeaders()).doesNotContainKeys("Transfer-Encoding", "Content-Length");
  }

  @Test
  @DisplayName("a chunked response streams through (first chunk before the local service ends) and is captured whole")
  void streaming() throws Exception {
    TunnelEdgeVerticle edge = deploy();
    Promise<Buffer> first = Promise.promise();
    Buffer all = Buffer.buffer();
    Promise<Void> ended = Promise.promise();
    request(portOf(edge), HttpMethod.GET, "/stream", null, r -> {
      r.handler(b -> {
        all.appendBuffer(b);
        first.tryComplete(b.copy());
      });
      r.endHandler(ended::complete);
      return Future.succeededFuture();
    });
    assertThat(await(first.future()).toString()).isEqualTo("first-chunk\n");
    assertThat(captured).isEmpty();
    vertx.runOnContext(v -> release.complete());
    await(ended.future());
    assertThat(all.toString()).isEqualTo("first-chunk\nsecond-chunk\n");
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(new String(e.responseBody(), StandardCharsets.UTF_8)).isEqualTo("first-chunk\nsecond-chunk\n");
    assertThat(e.bytesOut()).isEqualTo(25);
  }

  @Test
  @DisplayName("pings are never captured; the basic-auth gate's 401 is, with Authorization redacted")
  void pingsAndUnauthorized() throws Exception {
    TunnelEdgeVerticle edge = deploy(local.actualPort(), "user:pass", true);
    Reply ping = send(portOf(edge), HttpMethod.GET, "/", null, TunnelEdgeVerticle.PING_HEADER, "true");
    assertThat(ping.status()).isEqualTo(200);
    Reply denied = send(portOf(edge), HttpMethod.GET, "/private?q=1", null,
        "Authorization", basic("user:wrong"));
    assertThat(denied.status()).isEqualTo(401);
    assertThat(denied.text()).isEqualTo("401 Unauthorized\n");

    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.status()).isEqualTo(401);
    assertThat(e.url()).isEqualTo("/private?q=1");
    assertThat(e.requestHeaders()).containsEntry("Authorization", List.of("[redacted]"));
    assertThat(e.responseHeaders()).containsExactly(
        Map.entry("Content-Type", List.of("text/plain; charset=utf-8")),
        Map.entry("Www-Authenticate", List.of("Basic realm=\"Restricted\", charset=\"UTF-8\"")),
        Map.entry("X-Content-Type-Options", List.of("nosniff")));
    assertThat(e.bytesOut()).isEqualTo(17);
    assertThat(seenByLocal).isEmpty();
  }

  @Test
  @DisplayName("the local service down: the 503 local-server-not-online page is captured")
  void notOnline() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    TunnelEdgeVerticle edge = deploy(closedPort, "", true);
    Reply r = send(portOf(edge), HttpMethod.GET, "/x", null);
    assertThat(r.status()).isEqualTo(503);
    Buffer page = r.body();
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.status()).isEqualTo(503);
    assertThat(e.responseHeaders()).containsEntry("X-Portr-Error-Reason", List.of("local-server-not-online"));
    assertThat(e.responseBody()).isEqualTo(page.getBytes());
    assertThat(e.bytesOut()).isEqualTo(page.length());
  }

  @Test
  @DisplayName("the replay key from the edge's control address lets a request past basic auth; a wrong key does not")
  void replayKey() throws Exception {
    TunnelEdgeVerticle edge = deploy(local.actualPort(), "user:pass", true);
    JsonObject control = await(vertx.eventBus().<JsonObject>request(Addresses.edgeControl("tun-1"), new JsonObject()))
        .body();
    assertThat(control.getInteger("port")).isEqualTo(edge.port());
    String key = control.getString("replay_key");
    assertThat(Base64.getUrlDecoder().decode(key)).hasSize(32);

    Reply wrong = send(portOf(edge), HttpMethod.GET, "/r", null,
        TunnelEdgeVerticle.REPLAY_KEY_HEADER, key.substring(1) + "A");
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(next(Capture.Exchange.class).requestHeaders()).doesNotContainKey(TunnelEdgeVerticle.REPLAY_KEY_HEADER);

    Reply ok = send(portOf(edge), HttpMethod.GET, "/r", null, TunnelEdgeVerticle.REPLAY_KEY_HEADER, key);
    assertThat(ok.status()).isEqualTo(200);
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.status()).isEqualTo(200);
    assertThat(e.requestHeaders()).doesNotContainKey(TunnelEdgeVerticle.REPLAY_KEY_HEADER);
    assertThat(seenByLocal).hasSize(1);
    assertThat(seenByLocal.get(0).getString("x-porthole-replay-key")).isNull();

    await(vertx.undeploy(vertx.deploymentIDs().iterator().next()));
    assertThat(vertx.eventBus().request(Addresses.edgeControl("tun-1"), new JsonObject())
        .toCompletionStage().toCompletableFuture().handle((m, err) -> err).get(10, TimeUnit.SECONDS))
        .as("no handler once the edge is gone").isNotNull();
  }

  @Test
  @DisplayName("a WebSocket session: the 101 exchange, the session, text/binary/close frames both ways unmasked, the end")
  void webSocket() throws Exception {
    TunnelEdgeVerticle edge = deploy();
    WebSocket ws = await(webSockets().connect(new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(portOf(edge)).setURI("/ws?room=1").putHeader("Host", HOST).putHeader("Cookie", "c=1")));
    Promise<String> text = Promise.promise();
    Promise<Buffer> binary = Promise.promise();
    Promise<Void> closed = Promise.promise();
    ws.textMessageHandler(text::tryComplete);
    ws.binaryMessageHandler(binary::tryComplete);
    ws.closeHandler(closed::tryComplete);
    await(ws.writeTextMessage("hi there"));
    assertThat(await(text.future())).isEqualTo("hi there");
    await(ws.writeBinaryMessage(Buffer.buffer(new byte[] {1, 2, 3})));
    assertThat(await(binary.future()).getBytes()).containsExactly(1, 2, 3);
    await(ws.close((short) 1000, "bye"));
    await(closed.future());

    Capture.Exchange hs = next(Capture.Exchange.class);
    assertThat(hs.status()).isEqualTo(101);
    assertThat(hs.method()).isEqualTo("GET");
    assertThat(hs.url()).isEqualTo("/ws?room=1");
    assertThat(hs.requestHeaders()).containsEntry("Cookie", List.of("[redacted]")).containsKey("Sec-Websocket-Key");
    assertThat(hs.responseHeaders()).containsKeys("Upgrade", "Connection", "Sec-Websocket-Accept");
    Capture.WsOpen open = next(Capture.WsOpen.class);
    assertThat(open.handshakeRequestId()).isEqualTo(hs.id());
    assertThat(open.status()).isEqualTo(101);
    assertThat(open.url()).isEqualTo("/ws?room=1");

    List<Capture.WsFrame> frames = new ArrayList<>();
    Capture c;
    while (!((c = captured.poll(Timeouts.scaled(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS))
        instanceof Capture.WsClose)) {
      assertThat(c).as("a frame before the end").isInstanceOf(Capture.WsFrame.class);
      frames.add((Capture.WsFrame) c);
    }
    Capture.WsClose end = (Capture.WsClose) c;
    assertThat(end.sessionId()).isEqualTo(open.sessionId());
    assertThat(end.reason()).isEmpty();
    assertThat(frames).allSatisfy(f -> assertThat(f.sessionId()).isEqualTo(open.sessionId()));
    for (String direction : List.of("client", "server")) {
      List<Capture.WsFrame> one = frames.stream().filter(f -> f.direction().equals(direction)).toList();
      assertThat(one).extracting(Capture.WsFrame::opcode).as(direction).containsExactly(1, 2, 8);
      assertThat(one).allSatisfy(f -> assertThat(f.fin()).isTrue());
      assertThat(new String(one.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("hi there");
      assertThat(one.get(0).payloadLength()).isEqualTo(8);
      assertThat(one.get(1).payload()).containsExactly(1, 2, 3);
      byte[] close = one.get(2).payload();
      assertThat(((close[0] & 0xFF) << 8) | (close[1] & 0xFF)).as(direction + " close code").isEqualTo(1000);
    }
    assertThat(new String(frames.stream().filter(f -> f.direction().equals("client") && f.opcode() == 8)
        .findFirst().orElseThrow().payload(), 2, 3, StandardCharsets.UTF_8)).isEqualTo("bye");
  }

  @Test
  @DisplayName("an upgrade the local service refuses is relayed as a normal response and captured as one")
  void refusedUpgrade() throws Exception {
    TunnelEdgeVerticle edge = deploy();
    try (Socket s = new Socket("127.0.0.1", portOf(edge))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("GET /refuse-ws HTTP/1.1\r\nHost: " + HOST + "\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String answer = readUntil(s.getInputStream(), "\r\n\r\nno");
      assertThat(answer).startsWith("HTTP/1.1 403");
    }
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.status()).isEqualTo(403);
    assertThat(new String(e.responseBody(), StandardCharsets.UTF_8)).isEqualTo("no");
    assertThat(e.bytesOut()).isEqualTo(2);
  }

  @Test
  @DisplayName("a frame the local service sends in the same packet as its 101 reaches the caller and is recorded")
  void greetingBehindTheHandshake() throws Exception {
    byte[] frame = {(byte) 0x81, 5, 'h', 'e', 'l', 'l', 'o'};
    NetServer raw = await(vertx.createNetServer().connectHandler(so -> {
      Buffer head = Buffer.buffer();
      so.handler(b -> {
        head.appendBuffer(b);
        if (head.toString().contains("\r\n\r\n") && head.length() > 0) {
          so.handler(null);
          so.write(Buffer.buffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").appendBytes(frame));
        }
      });
    }).listen(0, "127.0.0.1"));
    TunnelEdgeVerticle edge = deploy(raw.actualPort(), "", true);
    try (Socket s = new Socket("127.0.0.1", portOf(edge))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: " + HOST + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String answer = readUntil(s.getInputStream(), "hello");
      assertThat(answer).startsWith("HTTP/1.1 101").endsWith("\r\n\r\n\u0081\u0005hello");
    }
    next(Capture.Exchange.class);
    next(Capture.WsOpen.class);
    Capture.WsFrame f = next(Capture.WsFrame.class);
    assertThat(f.direction()).isEqualTo("server");
    assertThat(new String(f.payload(), StandardCharsets.US_ASCII)).isEqualTo("hello");
    assertThat(next(Capture.WsClose.class).reason()).isEmpty();
  }

  @Test
  @DisplayName("capture off: requests, the 401 and WebSocket sessions emit nothing")
  void disabled() throws Exception {
    TunnelEdgeVerticle edge = deploy(local.actualPort(), "user:pass", false);
    assertThat(send(portOf(edge), HttpMethod.POST, "/echo", Buffer.buffer("x"), "Authorization", basic("user:pass"))
        .status()).isEqualTo(200);
    assertThat(send(portOf(edge), HttpMethod.GET, "/", null).status()).isEqualTo(401);
    WebSocket ws = await(webSockets().connect(new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(portOf(edge)).setURI("/ws").putHeader("Authorization", basic("user:pass"))));
    Promise<String> echo = Promise.promise();
    ws.textMessageHandler(echo::tryComplete);
    await(ws.writeTextMessage("x"));
    assertThat(await(echo.future())).isEqualTo("x");
    await(ws.close());
    assertThat(captured.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }

  private static String basic(String credential) {
    return "Basic " + Base64.getEncoder().encodeToString(credential.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] pattern(int n, int offset) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ((i + offset) * 31 >>> 3);
    }
    return b;
  }

  private static String readUntil(InputStream in, String marker) throws Exception {
    StringBuilder b = new StringBuilder();
    int c;
    try {
      while (b.indexOf(marker) < 0 && (c = in.read()) >= 0) {
        b.append((char) c);
      }
    } catch (java.net.SocketTimeoutException e) {
      throw new AssertionError("no " + marker + " in " + b, e);
    }
    return b.toString();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(Timeouts.scaled(Duration.ofSeconds(20)).toMillis(),
        TimeUnit.MILLISECONDS);
  }
}
