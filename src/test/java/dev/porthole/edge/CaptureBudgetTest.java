package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.VertxExtension;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The capture copies' memory: frame payloads grow with the bytes that arrive, not with the length
 * a peer claims; all copies in flight share one {@link CopyBudget}; every copy gives its bytes back
 * when its capture is sent or abandoned (caller gone, session closed, edge stopped).
 */
@ExtendWith(VertxExtension.class)
class CaptureBudgetTest {
  private static final String HOST = "demo.tunnel.example.test";
  private static final int MIB = 1 << 20;

  private Vertx vertx;
  private final BlockingQueue<Capture> captured = new LinkedBlockingQueue<>();
  private final List<Socket> sockets = new ArrayList<>();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    vertx.eventBus().<Capture>consumer(Addresses.REQUESTS_CAPTURE, m -> Capture.forEach(m.body(), captured::add));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
  }

  @Test
  @DisplayName("a frame header claiming 1 MiB reserves nothing; its copy grows with the payload and is given back")
  void frameGrowsAsPayloadArrives() {
    CopyBudget budget = new CopyBudget(CopyBudget.LIMIT);
    List<byte[]> frames = new ArrayList<>();
    WsFrameParser parser = new WsFrameParser(budget, (opcode, fin, payload, length) -> frames.add(payload));
    parser.handle(Buffer.buffer(header(MIB, null)));
    assertThat(budget.held()).isZero();
    parser.handle(Buffer.buffer(new byte[10]));
    assertThat(budget.held()).isBetween(10L, 1024L);
    parser.handle(Buffer.buffer(new byte[100_000]));
    assertThat(budget.held()).isBetween(100_010L, 2L * 100_010);
    parser.close();
    assertThat(budget.held()).isZero();
    parser.handle(Buffer.buffer(new byte[1000]));
    assertThat(budget.held()).as("a closed parser copies nothing").isZero();
    assertThat(frames).isEmpty();

    WsFrameParser small = new WsFrameParser(budget, (opcode, fin, payload, length) -> frames.add(payload));
    byte[] mask = {1, 2, 3, 4};
    Buffer frame = Buffer.buffer(header(5, mask));
    for (int i = 0; i < 5; i++) {
      frame.appendByte((byte) ("hello".charAt(i) ^ mask[i & 3]));
    }
    small.handle(frame);
    assertThat(frames).hasSize(1);
    assertThat(new String(frames.get(0), StandardCharsets.US_ASCII)).isEqualTo("hello");
    assertThat(budget.held()).as("an emitted frame's copy is the capture's now").isZero();
  }

  @Test
  @DisplayName("past the budget a copy stops: the count stays exact, the copy short; release gives back all")
  void budgetStopsCopying() {
    CopyBudget budget = new CopyBudget(10_000);
    BodyCopy a = new BodyCopy(budget);
    BodyCopy b = new BodyCopy(budget);
    a.handle(Buffer.buffer(new byte[6_000]));
    b.handle(Buffer.buffer(new byte[3_000]));
    b.handle(Buffer.buffer(new byte[3_000]));
    a.handle(Buffer.buffer(new byte[6_000]));
    assertThat(budget.held()).isLessThanOrEqualTo(10_000);
    assertThat(a.total()).isEqualTo(12_000);
    assertThat(b.total()).isEqualTo(6_000);
    assertThat(a.bytes().length + b.bytes().length).isLessThan(18_000);
    assertThat(a.bytes().length).isLessThan(12_000);
    a.release();
    b.release();
    a.release();
    assertThat(budget.held()).isZero();
  }

  @Test
  @DisplayName("through the edge, a body past the budget is stored cut with its full byte count")
  void exchangePastTheBudget() throws Exception {
    HttpServer local = await(vertx.createHttpServer().requestHandler(CaptureBudgetTest::count).listen(0, "127.0.0.1"));
    CopyBudget budget = new CopyBudget(64 * 1024);
    TunnelEdgeVerticle edge = deploy(local.actualPort(), budget);
    byte[] body = new byte[300_000];
    Socket s = open(edge.port());
    s.getOutputStream().write(head("POST", "/count", body.length));
    s.getOutputStream().write(body);
    assertThat(readUntil(s.getInputStream(), "300000")).startsWith("HTTP/1.1 200");
    Capture.Exchange e = next(Capture.Exchange.class);
    assertThat(e.bytesIn()).isEqualTo(body.length);
    assertThat(e.requestBody().length).isLessThanOrEqualTo(64 * 1024).isLessThan(body.length);
    Timeouts.pollUntil(Duration.ofSeconds(10), "the budget given back", () -> budget.held() == 0);
  }

  @Test
  @DisplayName("many exchanges and sessions, some aborted mid-body or mid-frame, the rest cut by stopping the edge: all given back")
  void everyPathGivesBack() throws Exception {
    HttpServer local = await(vertx.createHttpServer().requestHandler(CaptureBudgetTest::count).listen(0, "127.0.0.1"));
    CopyBudget budget = new CopyBudget(CopyBudget.LIMIT);
    TunnelEdgeVerticle http = deploy(local.actualPort(), budget);
    TunnelEdgeVerticle ws = deploy(rawWebSocketService().actualPort(), budget);

    List<Socket> uploads = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      Socket s = open(http.port());
      s.getOutputStream().write(head("POST", "/count", 200_000));
      s.getOutputStream().write(new byte[50_000]);
      uploads.add(s);
    }
    List<Socket> sessions = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Socket s = open(ws.port());
      s.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: " + HOST + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      readUntil(s.getInputStream(), "\r\n\r\n");
      byte[] mask = {9, 8, 7, 6};
      s.getOutputStream().write(header(MIB, mask));
      s.getOutputStream().write(new byte[20_000]);
      sessions.add(s);
    }
    // 12 bodies of 50 000 and 8 sessions × (20 000 up + 30 000 down), each copy within twice its bytes.
    long least = 12 * 50_000L + 8 * 50_000L;
    Timeouts.pollUntil(Duration.ofSeconds(10), "every copy under way", () -> budget.held() >= least);
    assertThat(budget.held()).isLessThanOrEqualTo(2 * least);

    // Finish some uploads, abort others; close some sessions.
    for (int i = 0; i < 4; i++) {
      Socket s = uploads.get(i);
      s.getOutputStream().write(new byte[150_000]);
      assertThat(readUntil(s.getInputStream(), "200000")).startsWith("HTTP/1.1 200");
    }
    for (int i = 4; i < 8; i++) {
      uploads.get(i).close();
    }
    for (int i = 0; i < 4; i++) {
      sessions.get(i).close();
    }
    int sent = 0;
    int closedSessions = 0;
    long deadline = System.nanoTime() + Timeouts.scaled(Duration.ofSeconds(10)).toNanos();
    while ((sent < 8 || closedSessions < 4) && System.nanoTime() < deadline) {
      Capture c = captured.poll(100, TimeUnit.MILLISECONDS);
      if (c instanceof Capture.Exchange e && e.method().equals("POST")) {
        sent++;
      } else if (c instanceof Capture.WsClose) {
        closedSessions++;
      }
    }
    assertThat(sent).as("finished and aborted uploads captured").isEqualTo(8);
    assertThat(closedSessions).isEqualTo(4);
    assertThat(budget.held()).as("4 uploads and 4 sessions still under way").isGreaterThan(0);

    await(Future.all(vertx.deploymentIDs().stream().map(vertx::undeploy).toList()));
    Timeouts.pollUntil(Duration.ofSeconds(10), "the budget given back once the edges stop", () -> budget.held() == 0);
  }

  /** The tunnel's local service: answers a body's length once it has it all. */
  private static void count(HttpServerRequest req) {
    long[] n = {0};
    req.handler(b -> n[0] += b.length());
    req.endHandler(v -> req.response().end(Long.toString(n[0])));
  }

  /** A local WebSocket service that answers 101, then starts a 1 MiB frame it never finishes. */
  private NetServer rawWebSocketService() throws Exception {
    return await(vertx.createNetServer().connectHandler(so -> {
      Buffer head = Buffer.buffer();
      so.handler(b -> {
        head.appendBuffer(b);
        if (head.toString().contains("\r\n\r\n")) {
          so.handler(x -> { });
          so.write(Buffer.buffer("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
              .appendBytes(header(MIB, null)).appendBytes(new byte[30_000]));
        }
      });
    }).listen(0, "127.0.0.1"));
  }

  private TunnelEdgeVerticle deploy(int port, CopyBudget budget) throws Exception {
    TunnelEdgeVerticle edge = new TunnelEdgeVerticle("tun-" + port, "127.0.0.1", port, "",
        new CaptureSettings(true, "tun-" + port, "demo", port, List.of()), budget);
    await(vertx.deployVerticle(edge));
    return edge;
  }

  /** A binary frame's header with a 64-bit length, masked when {@code mask} is given. */
  private static byte[] header(long length, byte[] mask) {
    Buffer b = Buffer.buffer().appendByte((byte) 0x82);
    if (length < 126) {
      b.appendByte((byte) ((mask == null ? 0 : 0x80) | length));
    } else {
      b.appendByte((byte) ((mask == null ? 0 : 0x80) | 127)).appendLong(length);
    }
    if (mask != null) {
      b.appendBytes(mask);
    }
    return b.getBytes();
  }

  private static byte[] head(String method, String path, int contentLength) {
    return (method + " " + path + " HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: " + contentLength + "\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private Socket open(int port) throws Exception {
    Socket s = new Socket("127.0.0.1", port);
    s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
    sockets.add(s);
    return s;
  }

  private <T extends Capture> T next(Class<T> type) throws InterruptedException {
    long deadline = System.nanoTime() + Timeouts.scaled(Duration.ofSeconds(10)).toNanos();
    while (System.nanoTime() < deadline) {
      Capture c = captured.poll(100, TimeUnit.MILLISECONDS);
      if (type.isInstance(c)) {
        return type.cast(c);
      }
    }
    throw new AssertionError("no " + type.getSimpleName());
  }

  private static String readUntil(InputStream in, String marker) throws Exception {
    StringBuilder b = new StringBuilder();
    int c;
    while (b.indexOf(marker) < 0 && (c = in.read()) >= 0) {
      b.append((char) c);
    }
    return b.toString();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(Timeouts.scaled(Duration.ofSeconds(20)).toMillis(),
        TimeUnit.MILLISECONDS);
  }
}
