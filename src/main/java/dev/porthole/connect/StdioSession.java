package dev.porthole.connect;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BooleanSupplier;

/**
 * One connection over a pair of streams (stdin/stdout). Ends when the tunnel closes (after the
 * target's last bytes reached the output); end of input is a half-close: {"type":"eof"}, and the
 * target's answer still arrives. Two daemon threads do the blocking reads and writes.
 */
public final class StdioSession {
  private final Vertx vertx;
  private final WebSocket ws;
  /** The stdin chunk waiting for the WebSocket to take it; counted down by the close too. */
  private volatile CountDownLatch writing;

  private StdioSession(Vertx vertx, WebSocket ws) {
    this.vertx = vertx;
    this.ws = ws;
  }

  /** Opens the tunnel, paused until {@link #start}. */
  public static Future<StdioSession> open(Vertx vertx, String wsUrl, String credential) {
    // Paused on its event loop as soon as it opens: a target that speaks first (an SSH server's
    // banner) must not lose bytes before the handlers are in place.
    return AppServerClient.open(vertx.createWebSocketClient(), wsUrl, credential).map(w -> {
      w.pause();
      return w;
    }).map(w -> new StdioSession(vertx, w));
  }

  /**
   * Carries the bytes until the tunnel ends, then runs {@code onDone} (once the output is written
   * or gone). {@code stopping}: true once the caller closes the session itself, so its close code
   * is not reported.
   */
  public void start(InputStream in, OutputStream out, BooleanSupplier stopping, Runnable onDone) {
    // One FIFO to the output: the WebSocket pauses above 64 waiting chunks and resumes below 16.
    BlockingQueue<Buffer> toOutput = new LinkedBlockingQueue<>();
    Buffer endMarker = Buffer.buffer();
    boolean[] paused = {false};
    Thread writer = new Thread(() -> {
      try {
        Buffer b;
        while ((b = toOutput.take()) != endMarker) {
          out.write(b.getBytes());
          out.flush();
          if (toOutput.size() < 16) {
            vertx.runOnContext(v -> {
              if (paused[0]) {
                paused[0] = false;
                ws.resume();
              }
            });
          }
        }
      } catch (IOException | InterruptedException e) {
        // Output gone: nothing more to write.
      }
      onDone.run();
    }, "connect-stdout");
    writer.setDaemon(true);
    ws.binaryMessageHandler(buf -> {
      toOutput.add(buf);
      if (toOutput.size() > 64 && !paused[0]) {
        paused[0] = true;
        ws.pause();
      }
    });
    // The end comes after the last message (a close frame is reported before messages still
    // waiting in the paused socket); only a connection dropped without one ends at the close.
    ws.endHandler(v -> toOutput.add(endMarker));
    ws.closeHandler(v -> {
      Short code = ws.closeStatusCode();
      if (!stopping.getAsBoolean() && code != null && code != PortForwardProtocol.NORMAL) {
        System.err.println("porthole: " + PortForwardProtocol.describe(code, ws.closeReason()));
      }
      if (code == null || code == PortForwardProtocol.DROPPED) {
        toOutput.add(endMarker);
      }
      // A closed WebSocket never drains: the reader must not wait for it.
      CountDownLatch pending = writing;
      if (pending != null) {
        pending.countDown();
      }
    });
    Thread reader = new Thread(() -> {
      byte[] buf = new byte[32 * 1024];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          Buffer chunk = Buffer.buffer(Arrays.copyOf(buf, n));
          CountDownLatch written = new CountDownLatch(1);
          writing = written;
          vertx.runOnContext(v -> {
            ws.writeBinaryMessage(chunk);
            if (ws.writeQueueFull() && !ws.isClosed()) {
              ws.drainHandler(d -> written.countDown());
            } else {
              written.countDown();
            }
          });
          written.await();
        }
        vertx.runOnContext(v -> ws.writeTextMessage(PortForwardProtocol.EOF));
      } catch (IOException | InterruptedException e) {
        vertx.runOnContext(v -> ws.close());
      }
    }, "connect-stdin");
    reader.setDaemon(true);
    writer.start();
    reader.start();
    ws.resume();
  }

  public Future<Void> close(short code, String reason) {
    return ws.close(code, reason);
  }
}
