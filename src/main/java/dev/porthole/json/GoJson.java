package dev.porthole.json;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
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

  /** Decodes a JSON object body; a JSON {@code null} body decodes to an empty object, as in Go. */
  public static JsonObject object(String contentType, Buffer body) throws InvalidBody {
    if (!isJsonContentType(contentType)) {
      throw new InvalidBody("content type is not JSON");
    }
    if (body == null || body.length() == 0) {
      throw new InvalidBody("empty body");
    }
    Object value;
    try {
      value = Json.decodeValue(body);
    } catch (DecodeException e) {
      throw new InvalidBody("malformed JSON");
    }
    if (value == null) {
      return new JsonObject();
    }
    if (!(value instanceof JsonObject obj)) {
      throw new InvalidBody("not a JSON object");
    }
    return obj;
  }

  /** The value of {@code name}, matched case-insensitively (the last matching key wins, as in Go). */
  public static Object field(JsonObject obj, String name) {
    Object found = null;
    for (Map.Entry<String, Object> e : obj) {
      if (e.getKey().equalsIgnoreCase(name)) {
        found = e.getValue();
      }
    }
    return found;
  }

  /** A string field; absent or {@code null} gives {@code fallback}; any other type is invalid. */
  public static String string(JsonObject obj, String name, String fallback) throws InvalidBody {
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
  public static Long integer(JsonObject obj, String name) throws InvalidBody {
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
  public static java.util.List<String> strings(JsonObject obj, String name) throws InvalidBody {
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
}
