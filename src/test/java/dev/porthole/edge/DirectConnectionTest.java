package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * How a {@link DirectConnection} uses its threads and the local service's connections (issue 19):
 * the test plays JSch's session thread (writes the caller's bytes into {@code out()}), a sink plays
 * the channel (each send one SSH packet, within a window the test may shut), and a thread plays the
 * channel's own, reading {@code in()} until its end. The local service is a plain socket server that
 * counts its connections and answers each request with one write.
 */
class DirectConnectionTest {
  private static final String GET = "GET / HTTP/1.1\r\nHost: demo.example.test\r\n\r\n";
  private static final String PING = "GET / HTTP/1.1\r\nHost: demo.example.test\r\n"
      + TunnelEdgeVerticle.PING_HEADER + ": true\r\n\r\n";
  private static final int BODY = 1024;

  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private ServerSocket local;
  private DirectEdge edge;
  /** Answers with keep-alive, then closes the connection this long after (0: never). */
  private volatile long closeAfterMs;

  @AfterEach
  void tearDown() throws IOException {
    if (edge != null) {
      edge.close();
    }
    if (local != null) {
      local.close();
    }
    for (Socket s : sockets) {
      s.close();
    }
  }

  @Test
  @DisplayName("an answer goes back in one send (one SSH packet), its head and body together")
  void oneReadPerAnswer() throws Exception {
    Channel ch = open();
    ch.send(GET);
    byte[] first = ch.reads.poll(20, TimeUnit.SECONDS);
    assertThat(first).as("the first read").isNotNull();
    String text = new String(first, StandardCharsets.ISO_8859_1);
    assertThat(text).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n" + "x".repeat(BODY));
    ch.end();
  }

  @Test
  @DisplayName("keep-alive requests of one connection all go over one connection to the local service")
  void oneLocalConnection() throws Exception {
    Channel ch = open();
    for (int i = 0; i < 200; i++) {
      ch.send(GET);
      assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK");
    }
    assertThat(accepted).as("connections the local service accepted").hasValue(1);
    ch.end();
  }

  @Test
  @DisplayName("an answer of the edge's own between two relayed ones, while the edge's thread watches the kept "
      + "local connection: it is answered, and the next request is relayed again")
  void ownAnswerBetween() throws Exception {
    Channel ch = open();
    ch.send(GET);
    assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK");
    ch.send(PING);
    assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK").contains("content-length: 0");
    ch.send(GET);
    assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK").endsWith("x".repeat(BODY));
    ch.end();
  }

  @Test
  @DisplayName("the local service closes the kept connection while it is idle: the next request goes over a new one")
  void keptConnectionClosedWhileIdle() throws Exception {
    closeAfterMs = 50;
    Channel ch = open();
    ch.send(GET);
    assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK");
    Timeouts.pollUntil(Duration.ofSeconds(10), "the local service closed its connection",
        () -> closedByService.get() == 1);
    ch.send(GET);
    assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK").endsWith("x".repeat(BODY));
    assertThat(accepted).hasValue(2);
    ch.end();
  }

  @Test
  @DisplayName("the caller's side ends while the edge's thread watches the kept connection: the answers end")
  void callerEndsWhileWaiting() throws Exception {
    Channel ch = open();
    ch.send(GET);
    assertThat(ch.answer()).startsWith("HTTP/1.1 200 OK");
    ch.conn.shutdownOutput();
    assertThat(ch.ended.await(20, TimeUnit.SECONDS)).as("the answers' end of stream").isTrue();
    ch.conn.close();
  }

  @Test
  @DisplayName("a channel whose window is used up holds its answer back, the rest follows when the window opens, "
      + "and another connection of the tunnel is answered meanwhile")
  void windowUsedUp() throws Exception {
    Channel stuck = open();
    stuck.window.set(100);
    stuck.send(GET);
    Timeouts.pollUntil(Duration.ofSeconds(20), "the first 100 bytes sent", () -> stuck.sent.get() == 100);
    Channel other = new Channel(null);
    other.send(GET);
    assertThat(other.answer()).as("the other connection's answer, while the first is held back")
        .startsWith("HTTP/1.1 200 OK").endsWith("x".repeat(BODY));
    assertThat(stuck.sent).as("still held back").hasValue(100);
    stuck.window.set(Long.MAX_VALUE);
    assertThat(stuck.answer()).startsWith("HTTP/1.1 200 OK").endsWith("x".repeat(BODY));
    stuck.send(GET);
    assertThat(stuck.answer()).startsWith("HTTP/1.1 200 OK").endsWith("x".repeat(BODY));
    other.end();
    stuck.end();
  }

  @Test
  @DisplayName("the answers of many connections of one tunnel come from one thread, which ends when the edge closes")
  void oneThreadForAllAnswers() throws Exception {
    Channel first = open();
    java.util.List<Channel> all = new java.util.ArrayList<>(java.util.List.of(first));
    for (int i = 0; i < 19; i++) {
      all.add(new Channel(null));
    }
    for (int round = 0; round < 5; round++) {
      for (Channel c : all) {
        c.send(GET);
      }
      for (Channel c : all) {
        assertThat(c.answer()).startsWith("HTTP/1.1 200 OK").endsWith("x".repeat(BODY));
      }
    }
    Set<String> senders = ConcurrentHashMap.newKeySet();
    all.forEach(c -> senders.addAll(c.senders));
    assertThat(senders).as("threads that sent answers").containsExactly("porthole-edge-tun-direct");
    for (Channel c : all) {
      c.end();
    }
    edge.close();
    Timeouts.pollUntil(Duration.ofSeconds(10), "the edge's thread ended",
        () -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("porthole-edge-tun-direct")));
  }

  private final AtomicInteger closedByService = new AtomicInteger();

  /** The local service, the edge, and a connection with its channel thread. */
  private Channel open() throws IOException {
    local = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    thread("local-accept", () -> {
      try {
        while (true) {
          Socket s = local.accept();
          sockets.add(s);
          accepted.incrementAndGet();
          thread("local-serve", () -> serve(s));
        }
      } catch (IOException e) {
        // closed at the end of the test
      }
    });
    edge = new DirectEdge("tun-direct", "127.0.0.1", local.getLocalPort(), new BasicAuthGate(""), key -> false, null,
        null, "not online".getBytes(StandardCharsets.US_ASCII));
    return new Channel(null);
  }

  /** Answers each bodiless request with one write; with {@link #closeAfterMs}, closes after a while. */
  private void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] answer = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + BODY + "\r\n\r\n"
          + "x".repeat(BODY)).getBytes(StandardCharsets.US_ASCII);
      while (readHead(in)) {
        out.write(answer);
        out.flush();
        if (closeAfterMs > 0) {
          TimeUnit.MILLISECONDS.sleep(closeAfterMs); // the service's own idle timeout
          closedByService.incrementAndGet();
          return;
        }
      }
    } catch (IOException | InterruptedException e) {
      // closed
    }
  }

  private static boolean readHead(InputStream in) throws IOException {
    int matched = 0;
    int c;
    while ((c = in.read()) >= 0) {
      matched = c == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : c == '\r' ? 1 : 0;
      if (matched == 4) {
        return true;
      }
    }
    return false;
  }

  /**
   * One forwarded connection: the test writes as the session thread; its sink takes the answers as
   * the channel would (one send one packet, within {@link #window}); a thread reads {@code in()} as
   * the channel's own does, until its end.
   */
  private final class Channel {
    final DirectConnection conn;
    final BlockingQueue<byte[]> reads = new LinkedBlockingQueue<>();
    final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
    /** The relay's window: what the sink takes before the test opens it again. */
    final java.util.concurrent.atomic.AtomicLong window = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
    final java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    final Set<String> senders = ConcurrentHashMap.newKeySet();
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    /** @param conn null: a connection of this test's edge, sending to this channel */
    Channel(DirectConnection conn) throws IOException {
      this.conn = conn != null ? conn : edge.open(this::offer);
      thread("channel", () -> {
        byte[] buf = new byte[64 * 1024];
        try {
          while (this.conn.in().read(buf, 0, buf.length) >= 0) {
            // Nothing comes: its end says every answer is sent.
          }
        } catch (IOException e) {
          // closed
        }
        ended.countDown();
      });
    }

    private int offer(byte[] b, int off, int len) {
      senders.add(Thread.currentThread().getName());
      int n = (int) Math.min(len, window.get() - sent.get());
      if (n <= 0) {
        return 0;
      }
      reads.add(java.util.Arrays.copyOfRange(b, off, off + n));
      sent.addAndGet(n);
      return n;
    }

    void send(String request) throws IOException {
      byte[] b = request.getBytes(StandardCharsets.US_ASCII);
      conn.out().write(b, 0, b.length);
    }

    /** The next whole answer (head, and a body of its Content-Length). */
    String answer() throws InterruptedException {
      long deadline = System.nanoTime() + Timeouts.scaled(Duration.ofSeconds(20)).toNanos();
      while (true) {
        String text = received.toString(StandardCharsets.ISO_8859_1);
        int head = text.indexOf("\r\n\r\n");
        if (head >= 0) {
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(text);
          int length = m.find() && m.start() < head ? Integer.parseInt(m.group(1)) : 0;
          int end = head + 4 + length;
          if (text.length() >= end) {
            received.reset();
            received.write(text.substring(end).getBytes(StandardCharsets.ISO_8859_1), 0, text.length() - end);
            return text.substring(0, end);
          }
        }
        long left = deadline - System.nanoTime();
        byte[] more = left > 0 ? reads.poll(left, TimeUnit.NANOSECONDS) : null;
        if (more == null) {
          throw new AssertionError("no whole answer within 20 s; got: " + text);
        }
        received.write(more, 0, more.length);
      }
    }

    /** The caller's end, then the channel's close, as JSch ends a connection. */
    void end() throws InterruptedException {
      conn.shutdownOutput();
      assertThat(ended.await(20, TimeUnit.SECONDS)).as("the answers' end of stream").isTrue();
      conn.close();
    }
  }

  private static void thread(String name, Runnable r) {
    Thread t = new Thread(r, "direct-connection-test-" + name);
    t.setDaemon(true);
    t.start();
  }
}
