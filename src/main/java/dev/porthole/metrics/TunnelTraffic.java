package dev.porthole.metrics;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Each live tunnel's bytes, {@code porthole_tunnel_received_bytes_total} and {@code
 * porthole_tunnel_sent_bytes_total} with label {@code tunnel_id}, written by the scrape straight
 * from the tunnels' counters into its answer. With a thousand tunnels these are nine tenths of a
 * scrape; as Prometheus snapshots (a data point, its labels and a boxed value per series, then a
 * text writer over them) they were most of its time and of the garbage that made the collector
 * pause mid-scrape. Here a tunnel's two sample prefixes (name and escaped labels) are encoded once,
 * when it is added, and dropped with it: bounded by the live tunnels. A scrape copies them and
 * writes the counters' values as integers, allocating nothing but its answer.
 */
final class TunnelTraffic {
  static final String RECEIVED = "porthole_tunnel_received_bytes";
  static final String SENT = "porthole_tunnel_sent_bytes";
  static final String RECEIVED_HELP = "Bytes from the public side to the tunnel's local service, through the relay "
      + "(HTTP heads and bodies, TCP payload)";
  static final String SENT_HELP = "Bytes from the tunnel's local service back to the relay";

  /** Each family's metadata lines, as Prometheus's text writers put them, in both formats. */
  private static final byte[] RECEIVED_TEXT = text004(RECEIVED, RECEIVED_HELP);
  private static final byte[] SENT_TEXT = text004(SENT, SENT_HELP);
  private static final byte[] RECEIVED_OPENMETRICS = openMetrics(RECEIVED, RECEIVED_HELP);
  private static final byte[] SENT_OPENMETRICS = openMetrics(SENT, SENT_HELP);
  private static final int METADATA_BOUND = Math.max(RECEIVED_TEXT.length + SENT_TEXT.length,
      RECEIVED_OPENMETRICS.length + SENT_OPENMETRICS.length);

  /** A tunnel's sample prefixes, {@code name_total{tunnel_id="…"} }, and what the values are read from. */
  private record Series(byte[] received, byte[] sent, LongSupplier receivedBytes, LongSupplier sentBytes) {
    int prefixBytes() {
      return received.length + sent.length;
    }
  }

  /** By tunnel id, so that the series come out in a stable order. */
  private final ConcurrentSkipListMap<String, Series> tunnels = new ConcurrentSkipListMap<>();
  /** The prefixes' bytes, summed over {@link #tunnels}: sizes the answer. */
  private final AtomicInteger prefixBytes = new AtomicInteger();

  /** Adds a tunnel's two series; run the result to remove them. */
  Runnable add(String tunnelId, LongSupplier received, LongSupplier sent) {
    String labels = "_total{tunnel_id=\"" + escapeLabelValue(tunnelId) + "\"} ";
    Series s = new Series(utf8(RECEIVED + labels), utf8(SENT + labels), received, sent);
    Series before = tunnels.put(tunnelId, s);
    prefixBytes.addAndGet(s.prefixBytes() - (before == null ? 0 : before.prefixBytes()));
    return () -> {
      if (tunnels.remove(tunnelId, s)) {
        prefixBytes.addAndGet(-s.prefixBytes());
      }
    };
  }

  /**
   * At least the bytes {@link #write} appends now: the metadata, the prefixes and, per sample, the
   * longest value and its newline.
   */
  int sizeBound() {
    return METADATA_BOUND + prefixBytes.get() + tunnels.size() * 2 * 21;
  }

  /**
   * Appends both families to {@code out}, each whole: Prometheus text 0.0.4, or OpenMetrics 1.0
   * (their metadata differ, the samples are the same). A tunnel added or removed meanwhile may be
   * in one family and not the other; no family has a series twice. Nothing without tunnels.
   */
  void write(Buffer out, boolean openMetrics) {
    if (tunnels.isEmpty()) {
      return;
    }
    byte[] digits = new byte[20];
    out.appendBytes(openMetrics ? RECEIVED_OPENMETRICS : RECEIVED_TEXT);
    for (Series s : tunnels.values()) {
      sample(out, s.received(), s.receivedBytes().getAsLong(), digits);
    }
    out.appendBytes(openMetrics ? SENT_OPENMETRICS : SENT_TEXT);
    for (Series s : tunnels.values()) {
      sample(out, s.sent(), s.sentBytes().getAsLong(), digits);
    }
  }

  private static void sample(Buffer out, byte[] prefix, long value, byte[] digits) {
    out.appendBytes(prefix);
    if (value < 0) { // not from byte counters; written all the same, by the slow path
      out.appendBytes(utf8(Long.toString(value)));
    } else {
      int at = digits.length;
      do {
        digits[--at] = (byte) ('0' + value % 10);
        value /= 10;
      } while (value != 0);
      out.appendBytes(digits, at, digits.length - at);
    }
    out.appendByte((byte) '\n');
  }

  /** The 0.0.4 text writer's: HELP and TYPE on the sample name ({@code _total}), HELP escaping {@code \} and newline. */
  private static byte[] text004(String family, String help) {
    String name = family + "_total";
    return utf8("# HELP " + name + " " + help.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
        + "# TYPE " + name + " counter\n");
  }

  /** OpenMetrics': TYPE, UNIT and HELP on the family name, HELP escaped like a label value. */
  private static byte[] openMetrics(String family, String help) {
    return utf8("# TYPE " + family + " counter\n# UNIT " + family + " bytes\n# HELP " + family + " "
        + escapeLabelValue(help) + "\n");
  }

  /** A label value as both formats quote it: {@code \}, {@code "} and newline escaped. */
  static String escapeLabelValue(String value) {
    StringBuilder sb = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
