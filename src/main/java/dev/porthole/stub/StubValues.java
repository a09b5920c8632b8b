package dev.porthole.stub;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Where a stub's placeholder values come from, read as Portr's Go responder reads them: the URL's
 * query ({@code url.Values}), and a body that is a JSON object, an urlencoded form or a multipart
 * form. A body that cannot be read that way is a {@link BadBody} (Portr: 400 {@code Bad Request}).
 */
public final class StubValues {
  private static final JsonFactory STRICT = JsonFactory.builder().build();
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");

  /** The body is not what its Content-Type says. */
  public static final class BadBody extends Exception {
    BadBody(String message) {
      super(message, null, false, false);
    }
  }

  /** A Content-Type the responder reads: its media type (lower case) and its parameters. */
  public record MediaType(String type, Map<String, String> params) {
    /** Whether Portr would read a body of this type at all. */
    public boolean readable() {
      return type.equals("application/json") || type.equals("application/x-www-form-urlencoded")
          || type.equals("multipart/form-data");
    }
  }

  private StubValues() {
  }

  /** Go's {@code url.ParseQuery}, keeping what parses and remembering whether anything did not. */
  public static final class Query {
    public final Map<String, List<String>> values = new LinkedHashMap<>();
    public boolean malformed;
  }

  public static Query query(String raw) {
    Query q = new Query();
    if (raw == null) {
      return q;
    }
    for (String pair : raw.split("&", -1)) {
      if (pair.isEmpty()) {
        continue;
      }
      if (pair.indexOf(';') >= 0) {
        q.malformed = true; // Go: invalid semicolon separator in query
        continue;
      }
      int eq = pair.indexOf('=');
      String k = unescape(eq < 0 ? pair : pair.substring(0, eq));
      String v = unescape(eq < 0 ? "" : pair.substring(eq + 1));
      if (k == null || v == null) {
        q.malformed = true;
        continue;
      }
      q.values.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
    }
    return q;
  }

  /** Go's {@code url.QueryUnescape}; null for a bad escape. */
  static String unescape(String s) {
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      byte c = in[i];
      if (c == '+') {
        out.write(' ');
      } else if (c == '%') {
        if (i + 2 >= in.length) {
          return null;
        }
        int hi = Character.digit(in[i + 1], 16);
        int lo = Character.digit(in[i + 2], 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else {
        out.write(c);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Go's {@code mime.ParseMediaType}, strict enough to refuse what Go refuses. */
  public static MediaType mediaType(String contentType) throws BadBody {
    String[] parts = contentType.split(";", -1);
    String type = parts[0].strip().toLowerCase(Locale.ROOT);
    int slash = type.indexOf('/');
    if (type.isEmpty() || !(slash < 0 ? TOKEN.matcher(type).matches()
        : TOKEN.matcher(type.substring(0, slash)).matches() && TOKEN.matcher(type.substring(slash + 1)).matches())) {
      throw new BadBody("parse content type: mime: expected token");
    }
    Map<String, String> params = new HashMap<>();
    StringBuilder rest = new StringBuilder();
    for (int i = 1; i < parts.length; i++) {
      rest.append(i > 1 ? ";" : "").append(parts[i]);
    }
    String r = rest.toString();
    int i = 0;
    while (i < r.length()) {
      while (i < r.length() && (r.charAt(i) == ' ' || r.charAt(i) == '\t' || r.charAt(i) == ';')) {
        i++;
      }
      if (i >= r.length()) {
        break;
      }
      int eq = r.indexOf('=', i);
      if (eq < 0) {
        throw new BadBody("parse content type: mime: invalid media parameter");
      }
      String key = r.substring(i, eq).strip().toLowerCase(Locale.ROOT);
      if (!TOKEN.matcher(key).matches()) {
        throw new BadBody("parse content type: mime: invalid media parameter");
      }
      i = eq + 1;
      String value;
      if (i < r.length() && r.charAt(i) == '"') {
        StringBuilder v = new StringBuilder();
        i++;
        while (i < r.length() && r.charAt(i) != '"') {
          if (r.charAt(i) == '\\' && i + 1 < r.length()) {
            i++;
          }
          v.append(r.charAt(i++));
        }
        if (i >= r.length()) {
          throw new BadBody("parse content type: mime: invalid media parameter");
        }
        i++;
        value = v.toString();
      } else {
        int end = r.indexOf(';', i);
        value = (end < 0 ? r.substring(i) : r.substring(i, end)).strip();
        i = end < 0 ? r.length() : end;
        if (!TOKEN.matcher(value).matches()) {
          throw new BadBody("parse content type: mime: invalid media parameter");
        }
      }
      if (params.putIfAbsent(key, value) != null) {
        throw new BadBody("parse content type: mime: duplicate parameter name");
      }
    }
    return new MediaType(type, params);
  }

  /**
   * The body's values.
   *
   * @param method the request method: Go reads a urlencoded body only for POST, PUT and PATCH
   * @param query the URL's query, which Go's form parsing also checks
   */
  public static Map<String, String> body(MediaType media, String method, Query query, Buffer body) throws BadBody {
    switch (media.type()) {
      case "application/json" -> {
        return json(body);
      }
      case "application/x-www-form-urlencoded" -> {
        Map<String, String> out = new HashMap<>();
        if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
          Query form = query(body.toString(StandardCharsets.UTF_8));
          if (form.malformed) {
            throw new BadBody("malformed form body");
          }
          form.values.forEach((k, v) -> out.put(k, v.get(0)));
        }
        if (query.malformed) {
          throw new BadBody("malformed query");
        }
        return out;
      }
      case "multipart/form-data" -> {
        if (query.malformed) {
          throw new BadBody("malformed query");
        }
        return multipart(media, body);
      }
      default -> {
        return Map.of();
      }
    }
  }

  /** One JSON object, nothing after it; nested values as Go re-encodes them. */
  static Map<String, String> json(Buffer body) throws BadBody {
    try (JsonParser p = STRICT.createParser(body.getBytes())) {
      JsonToken t = p.nextToken();
      Map<String, String> out = new HashMap<>();
      if (t == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String key = p.currentName();
          JsonToken v = p.nextToken();
          out.put(key, switch (v) {
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getText();
            case VALUE_TRUE -> "true";
            case VALUE_FALSE -> "false";
            case VALUE_NULL -> "";
            default -> {
              StringBuilder b = new StringBuilder();
              encode(p, v, b);
              yield b.toString();
            }
          });
        }
      } else if (t != JsonToken.VALUE_NULL) {
        throw new BadBody("json body must contain one object");
      }
      if (p.nextToken() != null) {
        throw new BadBody("json body must contain one object");
      }
      return out;
    } catch (IOException e) {
      throw new BadBody("invalid json body");
    }
  }

  /** Go's {@code json.Marshal} of a decoded value: compact, object keys sorted, numbers as written. */
  private static void encode(JsonParser p, JsonToken t, StringBuilder b) throws IOException {
    switch (t) {
      case START_OBJECT -> {
        TreeMap<String, String> members = new TreeMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String key = p.currentName();
          StringBuilder v = new StringBuilder();
          encode(p, p.nextToken(), v);
          members.put(key, v.toString());
        }
        b.append('{');
        boolean first = true;
        for (Map.Entry<String, String> m : members.entrySet()) {
          b.append(first ? "" : ",").append(StubTemplate.jsonString(m.getKey())).append(':').append(m.getValue());
          first = false;
        }
        b.append('}');
      }
      case START_ARRAY -> {
        b.append('[');
        boolean first = true;
        for (JsonToken item = p.nextToken(); item != JsonToken.END_ARRAY; item = p.nextToken()) {
          b.append(first ? "" : ",");
          encode(p, item, b);
          first = false;
        }
        b.append(']');
      }
      case VALUE_STRING -> b.append(StubTemplate.jsonString(p.getText()));
      case VALUE_NULL -> b.append("null");
      default -> b.append(p.getText()); // numbers as written, true, false
    }
  }

  /** A multipart form's non-file fields, first value per name. */
  static Map<String, String> multipart(MediaType media, Buffer body) throws BadBody {
    String boundary = media.params().get("boundary");
    if (boundary == null || boundary.isEmpty()) {
      throw new BadBody("no multipart boundary param in Content-Type");
    }
    // ISO-8859-1 maps bytes to chars one to one, so offsets are byte offsets.
    String s = body.toString(StandardCharsets.ISO_8859_1);
    String delimiter = "--" + boundary;
    int at = s.startsWith(delimiter) ? 0 : s.indexOf("\n" + delimiter);
    if (at < 0) {
      throw new BadBody("multipart: NextPart: EOF");
    }
    at = s.indexOf(delimiter, at);
    Map<String, String> out = new HashMap<>();
    while (true) {
      int after = at + delimiter.length();
      if (s.startsWith("--", after)) {
        return out; // the closing delimiter
      }
      int lineEnd = s.indexOf('\n', after);
      if (lineEnd < 0 || !s.substring(after, lineEnd).strip().isEmpty()) {
        throw new BadBody("multipart: malformed delimiter line");
      }
      int next = s.indexOf("\n" + delimiter, lineEnd);
      if (next < 0) {
        throw new BadBody("multipart: NextPart: EOF");
      }
      int partEnd = next > 0 && s.charAt(next - 1) == '\r' ? next - 1 : next;
      String part = s.substring(lineEnd + 1, Math.max(lineEnd + 1, partEnd));
      int headersEnd = part.indexOf("\r\n\r\n");
      int bodyStart = headersEnd + 4;
      if (headersEnd < 0) {
        headersEnd = part.indexOf("\n\n");
        bodyStart = headersEnd + 2;
      }
      if (headersEnd < 0) {
        throw new BadBody("multipart: malformed MIME header");
      }
      String name = null;
      boolean file = false;
      for (String header : part.substring(0, headersEnd).split("\r?\n")) {
        int colon = header.indexOf(':');
        if (colon < 0) {
          throw new BadBody("multipart: malformed MIME header line");
        }
        if (header.substring(0, colon).strip().equalsIgnoreCase("Content-Disposition")) {
          MediaType d = mediaType(header.substring(colon + 1));
          if (d.type().equals("form-data")) {
            name = d.params().get("name");
            file = d.params().containsKey("filename");
          }
        }
      }
      if (name != null && !name.isEmpty() && !file) {
        String value = new String(part.substring(bodyStart).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        out.putIfAbsent(new String(name.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8), value);
      }
      at = next + 1;
    }
  }
}
