package dev.porthole.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.Map;

/**
 * Reads request bodies the way Portr's Go servers do (Fiber's BodyParser over encoding/json): only
 * when the Content-Type is JSON, an object at the top level, no trailing data, keys matched
 * case-insensitively, {@code null} meaning "absent", and strict types.
 */
public final class GoJson {
  private GoJson() {
  }

  /** The body is not something Portr would have decoded. */
  public static final class InvalidBody extends Exception {
    public InvalidBody(String why) {
      super(why, null, false, false);
    }
  }

  /** True when the media type, lower-cased and without parameters, ends in {@code json}. */
  public static boolean isJsonContentType(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semi = contentType.indexOf(';');
    String media = (semi < 0 ? contentType : contentType.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    return media.endsWith("json");
  }

  /** Plain JSON as Go reads it: no comments, single quotes or other leniencies. */
  private static final JsonFactory STRICT = JsonFactory.builder().build();

  /** What one occurrence of a top-level key held. */
  enum Kind { STRING, INT, BIG_INT, FLOAT, BOOL, NULL, OBJECT, ARRAY }

  /**
   * A decoded body: the object (for duplicate keys the last value wins, as in Go) and the kind of
   * every occurrence of every top-level key, lower-cased, so that a wrong type anywhere fails the
   * whole body as it does in Go.
   */
  public static final class Body {
    private final JsonObject json;
    private final Map<String, List<Kind>> kinds;

    Body(JsonObject json, Map<String, List<Kind>> kinds) {
      this.json = json;
      this.kinds = kinds;
    }

    public JsonObject json() {
      return json;
    }

    void require(String name, Set<Kind> allowed, String problem) throws InvalidBody {
      for (Kind k : kinds.getOrDefault(name.toLowerCase(Locale.ROOT), List.of())) {
        if (!allowed.contains(k)) {
          throw new InvalidBody(problem);
        }
      }
    }
  }

  /** Decodes a JSON object body; a JSON {@code null} body decodes to an empty object, as in Go. */
  public static Body object(String contentType, Buffer body) throws InvalidBody {
    if (!isJsonContentType(contentType)) {
      throw new InvalidBody("content type is not JSON");
    }
    if (body == null || body.length() == 0) {
      throw new InvalidBody("empty body");
    }
    Map<String, List<Kind>> kinds = new HashMap<>();
    try (JsonParser strict = STRICT.createParser(body.getBytes())) {
      int depth = 0;
      String key = null;
      JsonToken t;
      // Reading every token is the syntax check: comments, bad UTF-8, excessive nesting and broken
      // syntax throw. At the top level it also notes what each key held.
      while ((t = strict.nextToken()) != null) {
        if (depth == 1 && t == JsonToken.FIELD_NAME) {
          key = strict.currentName().toLowerCase(Locale.ROOT);
          continue;
        }
        if (depth == 1 && key != null) {
          kinds.computeIfAbsent(key, k -> new ArrayList<>()).add(kindOf(t, strict));
          key = null;
        }
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          depth++;
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        }
      }
    } catch (IOException e) {
      throw new InvalidBody("malformed JSON");
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw new InvalidBody("malformed JSON");
    }
    if (value == null) {
      return new Body(new JsonObject(), Map.of());
    }
    if (!(value instanceof JsonObject obj)) {
      throw new InvalidBody("not a JSON object");
    }
    return new Body(obj, kinds);
  }

  private static Kind kindOf(JsonToken t, JsonParser p) throws IOException {
    return switch (t) {
      case VALUE_STRING -> Kind.STRING;
      case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? Kind.BIG_INT : Kind.INT;
      case VALUE_NUMBER_FLOAT -> Kind.FLOAT;
      case VALUE_TRUE, VALUE_FALSE -> Kind.BOOL;
      case START_OBJECT -> Kind.OBJECT;
      case START_ARRAY -> Kind.ARRAY;
      default -> Kind.NULL;
    };
  }

  /** The value of {@code name}, matched case-insensitively (the last matching key wins, as in Go). */
  public static Object field(Body body, String name) {
    Object found = null;
    for (Map.Entry<String, Object> e : body.json) {
      if (e.getKey().equalsIgnoreCase(name)) {
        found = e.getValue();
      }
    }
    return found;
  }

  /** A string field; absent or {@code null} gives {@code fallback}; any other type is invalid. */
  public static String string(Body obj, String name, String fallback) throws InvalidBody {
    obj.require(name, EnumSet.of(Kind.STRING, Kind.NULL), name + " must be a string");
    Object v = field(obj, name);
    if (v == null) {
      return fallback;
    }
    if (v instanceof String s) {
      return s;
    }
    throw new InvalidBody(name + " must be a string");
  }

  /** An integer field; floats, strings and out-of-range numbers are invalid, as in Go's decoder. */
  public static Long integer(Body obj, String name) throws InvalidBody {
    obj.require(name, EnumSet.of(Kind.INT, Kind.NULL), name + " must be an integer");
    Object v = field(obj, name);
    if (v == null) {
      return null;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof java.math.BigInteger) {
      throw new InvalidBody(name + " is out of range");
    }
    throw new InvalidBody(name + " must be an integer");
  }

  /** A list of strings; {@code null} items are skipped like Go's zero values would be dropped later. */
  public static java.util.List<String> strings(Body obj, String name) throws InvalidBody {
    obj.require(name, EnumSet.of(Kind.ARRAY, Kind.NULL), name + " must be a list of strings");
    Object v = field(obj, name);
    if (v == null) {
      return java.util.List.of();
    }
    if (!(v instanceof JsonArray arr)) {
      throw new InvalidBody(name + " must be a list of strings");
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    for (Object item : arr) {
      if (item == null) {
        out.add("");
      } else if (item instanceof String s) {
        out.add(s);
      } else {
        throw new InvalidBody(name + " must be a list of strings");
      }
    }
    return out;
  }

  /**
   * Compact JSON as Go's encoding/json writes it: {@code <}, {@code >}, {@code &} and the two
   * JavaScript line separators escaped inside strings ({@code \u003c} …), so porthole's bodies
   * are byte-identical to Portr's wherever both are defined.
   */
  public static String encode(JsonObject body) {
    String s = body.encode();
    if (s.indexOf('<') < 0 && s.indexOf('>') < 0 && s.indexOf('&') < 0 && s.indexOf('\u2028') < 0
        && s.indexOf('\u2029') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("\\u003c");
        case '>' -> b.append("\\u003e");
        case '&' -> b.append("\\u0026");
        case '\u2028' -> b.append("\\u2028");
        case '\u2029' -> b.append("\\u2029");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** True when {@code c} goes into a Go JSON string as it is. */
  private static boolean plain(char c, boolean html) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && !(html && (c == '<' || c == '>' || c == '&'));
  }

  /**
   * A JSON string as Go's encoding/json writes it (Go ≥ 1.22): {@code \b \f \n \r \t}, other
   * controls as six-character escapes with lower-case hex, U+2028/U+2029 always escaped, {@code < > &}
   * when {@code html} ({@code SetEscapeHTML}, on for {@code json.Marshal}), and a lone surrogate,
   * which is invalid UTF-8 to Go, as {@code \ufffd}. The one encoder of Go strings: the request
   * log's stored headers and {@code porthole logs --json}, and the stub templates.
   */
  public static StringBuilder string(StringBuilder b, String s, boolean html) {
    b.append('"');
    int start = 0;
    while (start < s.length() && plain(s.charAt(start), html)) {
      start++;
    }
    // Mostly printable ASCII: one append for the run that needs no escaping.
    b.append(s, 0, start);
    for (int i = start; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        case '\u2028' -> b.append("\\u2028");
        case '\u2029' -> b.append("\\u2029");
        default -> {
          if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&'))) {
            b.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            b.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c)) {
            b.append("\\ufffd");
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"');
  }
}
