package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LiveViewTest {
  private static JsonObject summary(String method, String url, int status) {
    return new JsonObject().put("id", "r1").put("tunnel_id", "t1").put("method", method).put("url", url)
        .put("status", status).put("duration_ms", 12).put("logged_at", "2025-01-02T03:04:05.123Z")
        .put("is_replayed", false);
  }

  @Test
  @DisplayName("a request line: time in the given zone, method, url, status, duration; no colour off a terminal")
  void plainLine() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (LiveView view = new LiveView(new PrintStream(out, true, StandardCharsets.UTF_8), false, ZoneOffset.ofHours(2))) {
      assertThat(view.formatRequest(summary("POST", "/hooks?x=1", 201))).isEqualTo("05:04:05 POST /hooks?x=1 201 12ms");
      assertThat(view.formatRequest(summary("GET", "/", 200).put("is_replayed", true))).endsWith("200 12ms (replay)");
      view.request(summary("GET", "/a", 404));
      view.event(Instant.parse("2025-01-02T03:04:06Z"), "unhealthy", "keepalive failed");
    }
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo("05:04:05 GET /a 404 12ms\n05:04:06 tunnel unhealthy: keepalive failed\n")
        .doesNotContain("\u001b");
  }

  @Test
  @DisplayName("on a terminal the method is bold and the status coloured by class")
  void colour() throws Exception {
    try (LiveView view = new LiveView(new PrintStream(OutputStream.nullOutputStream()), true, ZoneOffset.UTC)) {
      assertThat(view.formatRequest(summary("GET", "/", 200))).isEqualTo(
          "03:04:05 \u001b[1mGET\u001b[0m / \u001b[32m200\u001b[0m 12ms");
      assertThat(view.formatRequest(summary("GET", "/", 503))).contains("\u001b[31m503\u001b[0m");
      assertThat(view.formatRequest(summary("GET", "/", 404))).contains("\u001b[33m404\u001b[0m");
      assertThat(view.formatRequest(summary("GET", "/", 302))).contains("\u001b[36m302\u001b[0m");
    }
  }

  @Test
  @DisplayName("control characters never reach the terminal, and a long URL is cut")
  void printable() throws Exception {
    try (LiveView view = new LiveView(new PrintStream(OutputStream.nullOutputStream()), false, ZoneOffset.UTC)) {
      assertThat(view.formatRequest(summary("GET", "/\u001b[2Jx\u0007", 200))).isEqualTo("03:04:05 GET /?[2Jx? 200 12ms");
      String line = view.formatRequest(summary("GET", "/" + "a".repeat(5000), 200));
      assertThat(line).contains("/" + "a".repeat(LiveView.MAX_URL - 1) + "… 200");
    }
  }

  @Test
  @DisplayName("a stalled output never blocks the caller: beyond the queue's capacity lines are dropped and counted")
  void boundedQueue() throws Exception {
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    OutputStream stalled = new OutputStream() {
      @Override
      public void write(int b) throws java.io.IOException {
        writing.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        sink.write(b);
      }
    };
    LiveView view = new LiveView(new PrintStream(stalled, false, StandardCharsets.UTF_8), false, ZoneOffset.UTC);
    try {
      view.line("first");
      assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
      long t0 = System.nanoTime();
      for (int i = 0; i < LiveView.CAPACITY + 10; i++) {
        view.line("line " + i);
      }
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
      assertThat(view.dropped()).isEqualTo(10);
    } finally {
      release.countDown();
      view.close();
    }
    Timeouts.pollUntil(Duration.ofSeconds(10), "the queued lines written", () -> sink.toString(StandardCharsets.UTF_8)
        .contains("line " + (LiveView.CAPACITY - 1) + "\n"));
  }
}
