package dev.porthole.stub;

import dev.porthole.json.GoJson;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Portr's stub template rendering (internal/client/stubresponder): {@code {{ name }}} placeholders
 * filled from the query, then the body; {@code | int}, {@code | bool}, {@code | float} casts; in a
 * JSON response ({@code application/json} or {@code +json}) values are JSON strings, and a quoted
 * placeholder's quotes are replaced along with it, so the result stays valid JSON.
 */
public final class StubTemplate {
  /** Go's {@code \s}: no vertical tab. */
  private static final String WS = "[\\t\\n\\f\\r ]";
  private static final String NAME = "([^{}|\\t\\n\\f\\r ]+)";
  private static final Pattern PLACEHOLDER = Pattern.compile(
      "\\{\\{" + WS + "*" + NAME + WS + "*(?:\\|" + WS + "*(int|bool|float)" + WS + "*)?\\}\\}");
  private static final Pattern QUOTED = Pattern.compile("\"\\{\\{" + WS + "*" + NAME + WS + "*\\}\\}\"");
  private static final Pattern QUOTED_CAST = Pattern.compile(
      "\"\\{\\{" + WS + "*" + NAME + WS + "*\\|" + WS + "*(int|bool|float)" + WS + "*\\}\\}\"");
  private static final Pattern INT = Pattern.compile("[+-]?[0-9]+");
  private static final Pattern FLOAT = Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
  private static final Pattern SPECIAL_FLOAT = Pattern.compile("[+-]?(inf|infinity)|nan", Pattern.CASE_INSENSITIVE);
  private static final Set<String> TRUE = Set.of("1", "t", "T", "TRUE", "true", "True");
  private static final Set<String> FALSE = Set.of("0", "f", "F", "FALSE", "false", "False");

  private StubTemplate() {
  }

  /**
   * Renders {@code template}.
   *
   * @param query the URL's query values (the first value of a key counts, an empty one too)
   * @param body the body's values, or an empty map
   */
  public static String render(String template, Map<String, List<String>> query, Map<String, String> body,
      boolean json) {
    Function<String, String> value = key -> {
      List<String> q = query.get(key);
      if (q != null && !q.isEmpty()) {
        return q.get(0);
      }
      return body.getOrDefault(key, "");
    };
    String out = replace(template, QUOTED_CAST, m -> {
      String v = value.apply(m.group(1));
      String cast = cast(v, m.group(2));
      return cast != null ? cast : jsonString(v);
    });
    if (json) {
      out = replace(out, QUOTED, m -> jsonString(value.apply(m.group(1))));
    }
    return replace(out, PLACEHOLDER, m -> {
      String v = value.apply(m.group(1));
      if (m.group(2) != null) {
        String cast = cast(v, m.group(2));
        if (cast != null) {
          return cast;
        }
      }
      return json ? jsonString(v) : v;
    });
  }

  private static String replace(String in, Pattern p, Function<Matcher, String> f) {
    Matcher m = p.matcher(in);
    StringBuilder b = new StringBuilder(in.length());
    while (m.find()) {
      m.appendReplacement(b, Matcher.quoteReplacement(f.apply(m)));
    }
    m.appendTail(b);
    return b.toString();
  }

  /** Portr's media-type test: {@code application/json} or any {@code …+json}, parameters ignored. */
  public static boolean isJson(String responseFormat) {
    int semi = responseFormat.indexOf(';');
    String media = (semi < 0 ? responseFormat : responseFormat.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    return media.equals("application/json") || media.endsWith("+json");
  }

  /** Go's strconv parse-and-format for the three casts; null when the value does not parse. */
  static String cast(String raw, String format) {
    String v = raw.strip();
    switch (format.toLowerCase(Locale.ROOT)) {
      case "int" -> {
        if (!INT.matcher(v).matches()) {
          return null;
        }
        try {
          return Long.toString(Long.parseLong(v));
        } catch (NumberFormatException e) {
          return null; // out of int64's range
        }
      }
      case "bool" -> {
        return TRUE.contains(v) ? "true" : FALSE.contains(v) ? "false" : null;
      }
      case "float" -> {
        if (SPECIAL_FLOAT.matcher(v).matches()) {
          String lower = v.toLowerCase(Locale.ROOT);
          return lower.contains("nan") ? "NaN" : lower.startsWith("-") ? "-Inf" : "+Inf";
        }
        if (!FLOAT.matcher(v).matches()) {
          return null;
        }
        double d = Double.parseDouble(v);
        return Double.isInfinite(d) ? null : formatFloat(d); // Go: ErrRange
      }
      default -> {
        return null;
      }
    }
  }

  /** Go's {@code strconv.FormatFloat(v, 'g', -1, 64)}: shortest digits, exponent form below 1e-4 and from 1e6. */
  static String formatFloat(double v) {
    boolean negative = v < 0 || (v == 0 && 1 / v < 0);
    double a = Math.abs(v);
    String sign = negative ? "-" : "";
    if (a == 0) {
      return sign + "0";
    }
    BigDecimal bd = new BigDecimal(Double.toString(a)).stripTrailingZeros();
    String digits = bd.unscaledValue().toString();
    int exp = digits.length() - 1 - bd.scale();
    if (exp < -4 || exp >= 6) {
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      int e = Math.abs(exp);
      return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    return sign + bd.toPlainString();
  }

  /** Go's {@code json.Marshal} of a string. */
  public static String jsonString(String s) {
    return GoJson.string(new StringBuilder(s.length() + 2), s, true).toString();
  }
}
