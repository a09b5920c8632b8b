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
import org.junit.jupiter.api.AfterEach;

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
          DirectConnection c = edge.open();
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
              OutputStream out = s.getOutputStream();
              int n;
              while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
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
