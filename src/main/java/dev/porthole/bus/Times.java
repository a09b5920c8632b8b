package dev.porthole.bus;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/** Go's {@code time.Time} JSON form: RFC 3339 in UTC with nanoseconds, trailing zeros trimmed. */
public final class Times {
  private Times() {
  }

  /**
   * {@code 2026-12-01T18:30:21.123456789Z}. Written digit by digit: every status and event in
   * every list answer carries two or three of these, and a formatter was most of a list's cost.
   */
  public static String format(Instant t) {
    LocalDateTime utc = LocalDateTime.ofEpochSecond(t.getEpochSecond(), 0, ZoneOffset.UTC);
    StringBuilder out = new StringBuilder(30);
    int year = utc.getYear();
    if (year < 0 || year > 9999) {
      throw new IllegalArgumentException("year outside 0000–9999: " + t);
    }
    digits(out, year, 4).append('-');
    digits(out, utc.getMonthValue(), 2).append('-');
    digits(out, utc.getDayOfMonth(), 2).append('T');
    digits(out, utc.getHour(), 2).append(':');
    digits(out, utc.getMinute(), 2).append(':');
    digits(out, utc.getSecond(), 2);
    int nanos = t.getNano();
    if (nanos != 0) {
      int width = 9;
      while (nanos % 10 == 0) {
        nanos /= 10;
        width--;
      }
      digits(out.append('.'), nanos, width);
    }
    return out.append('Z').toString();
  }

  /** {@code value} zero-padded to {@code width} digits. */
  private static StringBuilder digits(StringBuilder out, int value, int width) {
    for (int p = width - 1, div = pow10(p); p >= 0; p--, div /= 10) {
      out.append((char) ('0' + value / div % 10));
    }
    return out;
  }

  private static int pow10(int p) {
    int r = 1;
    for (int i = 0; i < p; i++) {
      r *= 10;
    }
    return r;
  }

  public static Instant parse(String s) {
    return Instant.parse(s);
  }
}
