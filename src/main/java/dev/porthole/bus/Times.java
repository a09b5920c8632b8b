package dev.porthole.bus;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Go's {@code time.Time} JSON form: RFC 3339 in UTC with nanoseconds, trailing zeros trimmed. */
public final class Times {
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  private Times() {
  }

  public static String format(Instant t) {
    LocalDateTime utc = LocalDateTime.ofInstant(t, ZoneOffset.UTC);
    StringBuilder out = new StringBuilder(SECONDS.format(utc));
    int nanos = t.getNano();
    if (nanos != 0) {
      String frac = String.format("%09d", nanos);
      int end = frac.length();
      while (frac.charAt(end - 1) == '0') {
        end--;
      }
      out.append('.').append(frac, 0, end);
    }
    return out.append('Z').toString();
  }

  public static Instant parse(String s) {
    return Instant.parse(s);
  }
}
