package dev.porthole.requestlog;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.bus.Capture;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * W1: the request log's writer on its own, in this JVM, against a real file: the log is filled to
 * its row cap first, then captures shaped like P3's (1 KiB answers) are offered at a steady rate and
 * the writer thread's CPU is read from the JVM. A child process of the harness (the writer is
 * package-private); prints one line, {@code writer_us_per_capture=… rows=… dropped=…}.
 *
 * <p>{@code WriterBench <file> <rows at the cap> <rows measured> <captures per second>}
 */
public final class WriterBench {
  private WriterBench() {
  }

  public static void main(String[] args) throws Exception {
    Path db = Path.of(args[0]);
    long cap = Long.parseLong(args[1]);
    int measured = Integer.parseInt(args[2]);
    int rate = Integer.parseInt(args[3]);
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Files.deleteIfExists(Path.of(db + suffix));
    }
    CaptureWriter w = new CaptureWriter(db, 100_000, cap, 0, batch -> { }, Clock.systemUTC(), 1_000, 5_000);
    w.start();
    try {
      Thread writer = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().equals(CaptureWriter.THREAD)).findFirst().orElseThrow();
      // to the cap and a little over, as fast as the writer takes them
      long fill = cap + cap / 50;
      for (long i = 0; i < fill; i++) {
        if (i % 1000 == 0) {
          while (w.state().queued() > 5_000) {
            TimeUnit.MILLISECONDS.sleep(1);
          }
        }
        offer(w, capture());
      }
      await(w, () -> w.written() >= fill);
      long dropped0 = w.dropped();
      var mx = ManagementFactory.getThreadMXBean();
      long cpu0 = mx.getThreadCpuTime(writer.getId());
      long written0 = w.written();
      long start = System.nanoTime();
      for (int i = 0; i < measured; i++) {
        offer(w, capture());
        if (i % 50 == 49) { // paced in steps of 50, as a tunnel under load hands them on in batches
          long due = start + (long) ((i + 1) * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
      }
      await(w, () -> w.written() - written0 + w.dropped() - dropped0 >= measured);
      long cpu = mx.getThreadCpuTime(writer.getId()) - cpu0;
      long rows = w.written() - written0;
      System.out.printf(Locale.ROOT, "writer_us_per_capture=%.2f rows=%d dropped=%d%n", cpu / 1e3 / rows, rows,
          w.dropped() - dropped0);
    } finally {
      w.stop(30_000);
    }
  }

  private static final byte[] BODY = "x".repeat(1024).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final Map<String, List<String>> REQUEST = new LinkedHashMap<>();
  private static final Map<String, List<String>> RESPONSE = new LinkedHashMap<>();

  static {
    REQUEST.put("Host", List.of("bench-w1.localhost:8080"));
    REQUEST.put("X-Forwarded-For", List.of("127.0.0.1"));
    REQUEST.put("X-Forwarded-Proto", List.of("http"));
    RESPONSE.put("Content-Type", List.of("text/plain"));
    RESPONSE.put("Content-Length", List.of("1024"));
  }

  private static Capture.Exchange capture() {
    return new Capture.Exchange(UlidCreator.getMonotonicUlid().toString(), "01JBENCHW1TUNNEL0000000000", "bench-w1",
        3000, "bench-w1.localhost:8080", "/", "GET", "HTTP/1.1", REQUEST, new byte[0], 0, 200, RESPONSE, BODY, 1024, 1,
        "", Instant.now());
  }

  private static void offer(CaptureWriter w, Capture.Exchange e) {
    w.offer(e); // a drop (the writer behind by the queue's bound) is counted, and reported
  }

  private static void await(CaptureWriter w, java.util.function.BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the writer wrote " + w.written() + " captures in 5 minutes and fell behind");
      }
      TimeUnit.MILLISECONDS.sleep(5);
    }
  }
}
