package dev.porthole.edge;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import dev.porthole.testsupport.Timeouts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every capture and edge test of {@link EdgeCaptureTest} again, against the direct edge
 * ({@link DirectEdge}, issue 19) instead of the loopback server: each test connection is fed to a
 * {@link DirectConnection} by two threads, as JSch's session thread (the caller's bytes, then
 * {@code shutdownOutput} at their end) and the channel's thread (the answers, end of stream = the
 * socket's write half shut) would feed it.
 */
class DirectEdgeCaptureTest extends EdgeCaptureTest {
  private final List<Door> doors = new CopyOnWriteArrayList<>();

  @Override
  protected int portOf(TunnelEdgeVerticle edge) throws Exception {
    for (Door d : doors) {
      if (d.edge == edge.direct()) {
        return d.server.getLocalPort();
      }
    }
    Door d = new Door(edge.direct());
    doors.add(d);
    return d.server.getLocalPort();
  }

  @AfterEach
  void closeDoors() {
    doors.forEach(Door::close);
  }

  @Test
  @DisplayName("backpressure both ways: a local service that stops reading stops the caller's upload, a caller that "
      + "stops reading stops the download; nothing piles up in the edge")
  void backpressure() throws Exception {
    long total = 256L << 20;
    AtomicLong localWrote = new AtomicLong();
    Promise<Void> stalled = Promise.promise();
    // The local service: reads nothing of /up's body; answers /down with 256 MiB as fast as it may.
    NetServer local = await(vertx.createNetServer().connectHandler(so -> {
      so.handler(b -> {
        if (b.toString().startsWith("GET /down")) {
          so.handler(null);
          so.write(Buffer.buffer("HTTP/1.1 200 OK\r\nContent-Length: " + total + "\r\n\r\n"));
          Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
          long[] left = {total};
          Runnable[] more = new Runnable[1];
          more[0] = () -> {
            while (left[0] > 0 && !so.writeQueueFull()) {
              so.write(chunk);
              left[0] -= chunk.length();
              localWrote.addAndGet(chunk.length());
            }
            so.drainHandler(v -> more[0].run());
          };
          more[0].run();
        } else {
          so.pause(); // /up: the head is read, the body never
        }
      });
    }).listen(0, "127.0.0.1"));
    TunnelEdgeVerticle edge = deployEdge(local.actualPort());
    int port = portOf(edge);

    try (Socket up = new Socket("127.0.0.1", port)) {
      AtomicLong sent = new AtomicLong();
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = up.getOutputStream();
          out.write(("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + total + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          byte[] chunk = new byte[64 * 1024];
          while (sent.get() < total) {
            out.write(chunk);
            sent.addAndGet(chunk.length);
          }
        } catch (IOException e) {
          // The socket closed at the end of the test.
        }
      }, "backpressure-writer");
      writer.setDaemon(true);
      writer.start();
      assertThat(settle(sent)).as("bytes of the upload the caller could write").isLessThan(64L << 20);
    }

    try (Socket down = new Socket("127.0.0.1", port)) {
      down.getOutputStream().write("GET /down HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      // The caller reads nothing.
      assertThat(settle(localWrote)).as("bytes of the download the local service could write").isLessThan(64L << 20);
    }
  }

  /** The counter once it has not moved for 500 ms (≤ 30 s). */
  private static long settle(AtomicLong counter) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long last = -1;
    while (System.nanoTime() < deadline) {
      long now = counter.get();
      if (now == last && now > 0) {
        return now;
      }
      last = now;
      TimeUnit.MILLISECONDS.sleep(500); // sampling a counter that must stop moving, not synchronisation
    }
    throw new AssertionError("still moving after 30 s: " + counter.get());
  }

  private TunnelEdgeVerticle deployEdge(int localPort) throws Exception {
    TunnelEdgeVerticle edge = new TunnelEdgeVerticle("tun-bp", "127.0.0.1", localPort, "", CaptureSettings.off("tun-bp"));
    await(vertx.deployVerticle(edge));
    return edge;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(Timeouts.scaled(Duration.ofSeconds(20)).toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** A loopback listener whose connections are spliced into the direct edge like forwarded channels. */
  private static final class Door {
    private static final AtomicInteger COUNT = new AtomicInteger();
    final DirectEdge edge;
    final ServerSocket server;
    final Set<Socket> open = ConcurrentHashMap.newKeySet();

    Door(DirectEdge edge) throws IOException {
      this.edge = edge;
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      thread("accept", this::accept);
    }

    private void accept() {
      try {
        while (true) {
          Socket s = server.accept();
          open.add(s);
          OutputStream toCaller = s.getOutputStream();
          DirectConnection c = edge.open((b, off, len) -> {
            toCaller.write(b, off, len); // the channel's send, from the edge's thread
            return len;
          });
          AtomicInteger ends = new AtomicInteger(2);
          Runnable end = () -> {
            if (ends.decrementAndGet() == 0) {
              c.close();
              closeQuietly(s);
            }
          };
          thread("session", () -> {
            byte[] buf = new byte[32 * 1024];
            try (InputStream in = s.getInputStream()) {
              int n;
              OutputStream out = c.out();
              while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
              }
              c.shutdownOutput();
              end.run();
            } catch (IOException e) {
              c.close();
              closeQuietly(s);
            }
          });
          thread("channel", () -> {
            byte[] buf = new byte[32 * 1024];
            try {
              InputStream in = c.in();
              while (in.read(buf) >= 0) {
                // Nothing comes: its end says every answer is sent.
              }
              s.shutdownOutput();
              end.run();
            } catch (IOException e) {
              c.close();
              closeQuietly(s);
            }
          });
        }
      } catch (IOException e) {
        // The door closed.
      }
    }

    void close() {
      closeQuietly(server);
      open.forEach(Door::closeQuietly);
    }

    private static void closeQuietly(java.io.Closeable c) {
      try {
        c.close();
      } catch (IOException ignored) {
        // Closing.
      }
    }

    private static void thread(String name, Runnable r) {
      Thread t = new Thread(r, "direct-door-" + name + "-" + COUNT.incrementAndGet());
      t.setDaemon(true);
      t.start();
    }
  }
}
