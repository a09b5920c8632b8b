package dev.porthole.cli;

import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The foreground commands' standard output: lines are queued (never blocking the event loop that
 * offers them; beyond {@value #CAPACITY} queued lines they are dropped and counted) and written in
 * order by one daemon thread. Colour only when asked (a terminal).
 */
final class LiveView implements AutoCloseable {
  static final int CAPACITY = 10_000;
  /** A URL longer than this is cut in the view (the request log keeps it whole). */
  static final int MAX_URL = 2_000;
  private static final String RESET = "\u001b[0m";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

  private final PrintStream out;
  private final boolean colour;
  private final ZoneId zone;
  private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(CAPACITY);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread printer;
  private volatile boolean closing;

  LiveView(PrintStream out, boolean colour, ZoneId zone) {
    this.out = out;
    this.colour = colour;
    this.zone = zone;
    printer = new Thread(this::print, "porthole-live-view");
    printer.setDaemon(true);
    printer.start();
  }

  /** Queues a line as it is; false (and counted) when the queue is full. */
  boolean line(String text) {
    if (lines.offer(text)) {
      return true;
    }
    dropped.incrementAndGet();
    return false;
  }

  /** Queues one request of the captured feed (a request-log summary item). */
  void request(JsonObject summary) {
    line(formatRequest(summary));
  }

  /** Queues a note about the tunnel's life ({@code unhealthy}, {@code reconnected}, …). */
  void event(Instant at, String type, String detail) {
    String text = time(at) + " tunnel " + type + (detail.isEmpty() ? "" : ": " + printable(detail, MAX_URL));
    line(colour ? paint(type.equals("reconnected") ? "32" : "33", text) : text);
  }

  /** Lines dropped because the queue was full. */
  long dropped() {
    return dropped.get();
  }

  /** {@code HH:mm:ss METHOD url status durationms}, with {@code (replay)} for a replayed request. */
  String formatRequest(JsonObject s) {
    String method = printable(s.getString("method", ""), 32);
    String url = printable(s.getString("url", ""), MAX_URL);
    int status = s.getInteger("status", 0);
    String code = String.valueOf(status);
    if (colour) {
      method = "\u001b[1m" + method + RESET;
      code = paint(status >= 500 ? "31" : status >= 400 ? "33" : status >= 300 ? "36" : "32", code);
    }
    String at;
    try {
      at = time(Instant.parse(s.getString("logged_at", "")));
    } catch (DateTimeParseException | NullPointerException e) {
      at = "--:--:--";
    }
    return at + " " + method + " " + url + " " + code + " " + s.getLong("duration_ms", 0L) + "ms"
        + (s.getBoolean("is_replayed", false) ? " (replay)" : "");
  }

  private String time(Instant at) {
    return TIME.format(at.atZone(zone));
  }

  private static String paint(String sgr, String text) {
    return "\u001b[" + sgr + "m" + text + RESET;
  }

  /** Control characters (escape sequences above all) never reach the terminal; long values are cut. */
  static String printable(String s, int max) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), max + 1));
    for (int i = 0; i < s.length() && b.length() < max; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? '?' : c);
    }
    return s.length() > max ? b + "…" : b.toString();
  }

  private void print() {
    try {
      while (!closing || !lines.isEmpty()) {
        String next = lines.poll(100, TimeUnit.MILLISECONDS);
        if (next != null) {
          out.println(next);
          if (lines.isEmpty()) {
            out.flush();
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    out.flush();
  }

  /** Writes what is queued (waiting at most 2 s for a stalled output) and stops the printer. */
  @Override
  public void close() throws InterruptedException {
    closing = true;
    printer.join(2_000);
    long lost = dropped.get();
    if (lost > 0) {
      System.err.println("porthole: " + lost + " line(s) of the live view were dropped (output too slow)");
    }
  }
}
