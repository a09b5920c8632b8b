package dev.porthole.testsupport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4 (and of OpenMetrics 1.0's text, which
 * ends with {@code # EOF}): every line must be a HELP, a TYPE or a sample of a family whose TYPE came
 * first, with well-formed names, quoted and escaped label values and a float value; a series may
 * appear once. Throws {@link AssertionError} naming the line that breaks a rule.
 */
public final class Exposition {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|summary|histogram|untyped|unknown|info|stateset|gaugehistogram)");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
  private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (\\S+)( -?\\d+(\\.\\d+)?)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");
  private static final Set<String> SUFFIXES = Set.of("_total", "_count", "_sum", "_bucket", "_created", "_info");

  /** Series (name and sorted labels, as {@link #key}) → value. */
  private final Map<String, Double> series = new LinkedHashMap<>();
  private final Map<String, String> types = new HashMap<>();

  private Exposition() {
  }

  /** Parses 0.0.4 text, or OpenMetrics text when {@code openMetrics}. */
  public static Exposition parse(String text, boolean openMetrics) {
    Exposition e = new Exposition();
    List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
    if (lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    if (openMetrics) {
      if (lines.isEmpty() || !lines.get(lines.size() - 1).equals("# EOF")) {
        throw new AssertionError("OpenMetrics text must end with # EOF");
      }
      lines.remove(lines.size() - 1);
    }
    for (String line : lines) {
      e.line(line);
    }
    return e;
  }

  private void line(String line) {
    Matcher m;
    if ((m = TYPE.matcher(line)).matches()) {
      if (types.put(m.group(1), m.group(2)) != null) {
        throw new AssertionError("a second TYPE for " + m.group(1) + ": " + line);
      }
      return;
    }
    if (HELP.matcher(line).matches() || line.startsWith("# UNIT ")) {
      return;
    }
    if (!(m = SAMPLE.matcher(line)).matches()) {
      throw new AssertionError("not a HELP, TYPE or sample line: " + line);
    }
    String name = m.group(1);
    if (!types.containsKey(family(name))) {
      throw new AssertionError("sample before (or without) its family's TYPE: " + line);
    }
    Map<String, String> labels = new TreeMap<>();
    if (m.group(3) != null && !m.group(3).isEmpty()) {
      Matcher l = LABEL.matcher(m.group(3));
      int at = 0;
      while (at < m.group(3).length()) {
        if (!l.find(at) || l.start() != at) {
          throw new AssertionError("bad labels in: " + line);
        }
        if (labels.put(l.group(1), l.group(2)) != null) {
          throw new AssertionError("label " + l.group(1) + " twice in: " + line);
        }
        at = l.end();
      }
    }
    double value;
    try {
      value = switch (m.group(4)) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(m.group(4));
      };
    } catch (NumberFormatException ex) {
      throw new AssertionError("bad value in: " + line);
    }
    if (series.put(key(name, labels), value) != null) {
      throw new AssertionError("a series twice: " + line);
    }
  }

  /** The family a sample belongs to: its own name when declared, else the name less a known suffix. */
  private String family(String name) {
    if (types.containsKey(name)) {
      return name;
    }
    for (String suffix : SUFFIXES) {
      if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) {
        return name.substring(0, name.length() - suffix.length());
      }
    }
    return name;
  }

  private static String key(String name, Map<String, String> labels) {
    return name + labels;
  }

  /** The TYPE declared for {@code family}, or null. */
  public String type(String family) {
    return types.get(family);
  }

  /** The value of the series {@code name} with exactly the labels {@code kv} (name, value pairs), or null. */
  public Double value(String name, String... kv) {
    Map<String, String> labels = new TreeMap<>();
    for (int i = 0; i + 1 < kv.length; i += 2) {
      labels.put(kv[i], kv[i + 1]);
    }
    return series.get(key(name, labels));
  }

  /** The value, 0 when the series is absent (a counter not yet moved). */
  public double valueOrZero(String name, String... kv) {
    Double v = value(name, kv);
    return v == null ? 0 : v;
  }

  /** Every series key ({@code name{label=value, …}}) that contains {@code fragment}. */
  public List<String> seriesContaining(String fragment) {
    return series.keySet().stream().filter(k -> k.contains(fragment)).toList();
  }

  public int size() {
    return series.size();
  }
}
