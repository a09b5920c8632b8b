package dev.porthole.requestlog;

import dev.porthole.json.GoJson;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Values as Portr's Go client writes and reads them: times as the modernc SQLite driver stores
 * them, headers as {@code json.Marshal(map[string][]string)}, strings as encoding/json escapes them.
 */
public final class GoFormats {
  private GoFormats() {
  }

  /**
   * {@code 2006-01-02 15:04:05.999999999-07:00} in UTC: the driver's write format (glebarez/go-sqlite
   * {@code parseTimeFormats[0]}), fraction without trailing zeros, none when zero.
   */
  public static String dbTime(Instant t) {
    // The writer stamps every row: the date and time of day are made once per second (about a
    // twentieth of its CPU per capture went into formatting them).
    Second last = lastSecond;
    if (last == null || last.epochSecond != t.getEpochSecond()) {
      last = new Second(t.getEpochSecond(), seconds(t));
      lastSecond = last;
    }
    StringBuilder b = new StringBuilder(35).append(last.text);
    fraction(b, t.getNano());
    return b.append("+00:00").toString();
  }

  /** {@code 2006-01-02 15:04:05} of one second. */
  private record Second(long epochSecond, String text) {
  }

  private static volatile Second lastSecond;

  private static String seconds(Instant t) {
    OffsetDateTime u = t.atOffset(ZoneOffset.UTC);
    StringBuilder b = new StringBuilder(19);
    pad(b, u.getYear(), 4).append('-');
    pad(b, u.getMonthValue(), 2).append('-');
    pad(b, u.getDayOfMonth(), 2).append(' ');
    pad(b, u.getHour(), 2).append(':');
    pad(b, u.getMinute(), 2).append(':');
    pad(b, u.getSecond(), 2);
    return b.toString();
  }

  private static void fraction(StringBuilder b, int nanos) {
    if (nanos == 0) {
      return;
    }
    int width = 9;
    while (nanos % 10 == 0) {
      nanos /= 10;
      width--;
    }
    pad(b.append('.'), nanos, width);
  }

  private static StringBuilder pad(StringBuilder b, int v, int width) {
    String s = Integer.toString(v);
    for (int i = s.length(); i < width; i++) {
      b.append('0');
    }
    return b.append(s);
  }

  private static final DateTimeFormatter LOCAL = new DateTimeFormatterBuilder()
      .appendPattern("uuuu-MM-dd")
      .optionalStart().appendLiteral(' ').optionalEnd()
      .optionalStart().appendLiteral('T').optionalEnd()
      .optionalStart().appendPattern("HH:mm")
      .optionalStart().appendPattern(":ss")
      .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
      .optionalEnd().optionalEnd()
      .toFormatter();

  /**
   * Reads a stored time the way the driver does: its formats ({@code parseTimeFormats}, with or
   * without {@code T}, offset, seconds, fraction; a trailing {@code Z} ignored) and Go's {@code
   * time.Time.String()} form. The offset is kept (Go keeps it too); no offset means UTC.
   *
   * @throws IllegalArgumentException when it is none of them
   */
  public static OffsetDateTime parseDbTime(String s) {
    String v = s.strip();
    int m = v.indexOf(" m=");
    if (m > 0) {
      v = v.substring(0, m).strip();
    }
    // time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST"
    String[] parts = v.split(" ");
    if (parts.length >= 3 && (parts[2].startsWith("+") || parts[2].startsWith("-"))) {
      OffsetDateTime t = parseLocal(parts[0] + " " + parts[1], s);
      String off = parts[2];
      return t.withOffsetSameLocal(ZoneOffset.of(off.substring(0, 3) + ":" + off.substring(3)));
    }
    if (v.endsWith("Z")) {
      v = v.substring(0, v.length() - 1);
    }
    int len = v.length();
    if (len > 16 && (v.charAt(len - 6) == '+' || v.charAt(len - 6) == '-') && v.charAt(len - 3) == ':') {
      ZoneOffset off = ZoneOffset.of(v.substring(len - 6));
      return parseLocal(v.substring(0, len - 6), s).withOffsetSameLocal(off);
    }
    return parseLocal(v, s);
  }

  private static OffsetDateTime parseLocal(String v, String original) {
    try {
      var parsed = LOCAL.parseBest(v, LocalDateTime::from, LocalDate::from);
      LocalDateTime t = parsed instanceof LocalDate d ? d.atStartOfDay() : (LocalDateTime) parsed;
      return t.atOffset(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not a time: " + original);
    }
  }

  /** Go's {@code time.RFC3339Nano} of a time with its offset ({@code Z} for UTC). */
  public static String rfc3339Nano(OffsetDateTime t) {
    return rfc3339(t, true);
  }

  /** Go's {@code t.UTC().Format(time.RFC3339)}: seconds precision, {@code Z}. */
  public static String rfc3339Seconds(OffsetDateTime t) {
    return rfc3339(t.withOffsetSameInstant(ZoneOffset.UTC), false);
  }

  private static String rfc3339(OffsetDateTime t, boolean nanos) {
    StringBuilder b = new StringBuilder(35);
    pad(b, t.getYear(), 4).append('-');
    pad(b, t.getMonthValue(), 2).append('-');
    pad(b, t.getDayOfMonth(), 2).append('T');
    pad(b, t.getHour(), 2).append(':');
    pad(b, t.getMinute(), 2).append(':');
    pad(b, t.getSecond(), 2);
    if (nanos) {
      fraction(b, t.getNano());
    }
    int off = t.getOffset().getTotalSeconds();
    if (off == 0) {
      return b.append('Z').toString();
    }
    b.append(off < 0 ? '-' : '+');
    off = Math.abs(off);
    pad(b, off / 3600, 2).append(':');
    return pad(b, off / 60 % 60, 2).toString();
  }

  /**
   * Go's {@code json.Marshal(map[string][]string)}: keys sorted bytewise, compact, HTML characters
   * and U+2028/U+2029 escaped; a null value list is {@code null}.
   */
  public static String headersJson(Map<String, List<String>> headers) {
    List<String> keys = new ArrayList<>(headers.keySet());
    if (!(headers instanceof java.util.SortedMap<String, List<String>> sorted && sorted.comparator() == null
        && keys.stream().allMatch(GoFormats::ascii))) {
      // A naturally ordered map of ASCII names (the edge's) is in Go's order already.
      keys.sort(GoFormats::compareUtf8);
    }
    StringBuilder b = new StringBuilder(64 + headers.size() * 32);
    b.append('{');
    for (int i = 0; i < keys.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      String k = keys.get(i);
      string(b, k, true).append(':');
      List<String> values = headers.get(k);
      if (values == null) {
        b.append("null");
        continue;
      }
      b.append('[');
      for (int j = 0; j < values.size(); j++) {
        if (j > 0) {
          b.append(',');
        }
        string(b, values.get(j), true);
      }
      b.append(']');
    }
    return b.append('}').toString();
  }

  /** Go sorts map keys as byte strings: UTF-8 order, which is code point order. */
  static int compareUtf8(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y) {
        // Outside surrogates UTF-16 order is code point order; header names never get here.
        return Character.isSurrogate(x) || Character.isSurrogate(y)
            ? Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray()) : x - y;
      }
    }
    return a.length() - b.length();
  }

  private static boolean ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /** A JSON string as Go's encoding/json writes it ({@link GoJson#string}). */
  public static StringBuilder string(StringBuilder b, String s, boolean html) {
    return GoJson.string(b, s, html);
  }

  /** The bytes as text when they are valid UTF-8 (Go's {@code utf8.Valid}), else null. */
  public static String utf8(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * Removes insignificant whitespace from JSON text, as Go's encoder does with a {@code
   * json.RawMessage} (escaping untouched when HTML escaping is off).
   */
  public static String compact(String json) {
    StringBuilder b = new StringBuilder(json.length());
    boolean inString = false;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (inString) {
        b.append(c);
        if (c == '\\' && i + 1 < json.length()) {
          b.append(json.charAt(++i));
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
        b.append(c);
      } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        b.append(c);
      }
    }
    return b.toString();
  }
}
