package dev.porthole.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The table of issue 7: scenario, porthole, anchor, ratio, target, pass/fail; as Markdown and JSON. */
final class Report {
  enum Better { HIGHER, LOWER, ABS_LOWER }

  private final boolean quick;
  private final JsonArray rows = new JsonArray();
  private final JsonArray cpu = new JsonArray();
  private JsonObject environment = new JsonObject();

  Report(boolean quick) {
    this.quick = quick;
  }

  void environment(JsonObject env) {
    this.environment = env;
  }

  /**
   * porthole against its anchor, measured alternately; the ratio is the median of the per-round
   * ratios (each round's two runs saw the same machine), the pass rule applies to it.
   */
  void compare(String id, String title, String unit, List<Double> porthole, String anchorName, List<Double> anchor,
      List<Double> ceiling, Better better, double factor, String target) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < porthole.size(); i++) {
      ratios.add(porthole.get(i) / anchor.get(i));
    }
    double ratio = median(ratios);
    boolean pass = better == Better.HIGHER ? ratio >= factor : ratio <= factor;
    JsonObject row = new JsonObject().put("scenario", id).put("title", title).put("unit", unit)
        .put("porthole", median(porthole)).put("anchor_name", anchorName).put("anchor", median(anchor))
        .put("ratio", ratio).put("target", target).put("pass", pass)
        .put("rounds", new JsonObject().put("porthole", new JsonArray(porthole)).put("anchor", new JsonArray(anchor)));
    if (ceiling != null) {
      row.put("ceiling", median(ceiling));
      row.getJsonObject("rounds").put("ceiling", new JsonArray(ceiling));
    }
    rows.add(row);
  }

  /** A scenario with an absolute target and no anchor. */
  void single(String id, String title, String unit, double value, Better better, double limit, String target) {
    boolean pass = switch (better) {
      case HIGHER -> value >= limit;
      case LOWER -> value <= limit;
      case ABS_LOWER -> Math.abs(value) <= limit;
    };
    rows.add(new JsonObject().put("scenario", id).put("title", title).put("unit", unit).put("porthole", value)
        .put("target", target).put("pass", pass));
  }

  /**
   * Where one path's time goes: CPU per request of the relay and of the client process (and of
   * its thread groups), and the client's context switches per request, medians over the rounds.
   *
   * @param costs per round: {relay, client}
   */
  void cpu(String id, String path, List<Double> rps, String client, List<Cpu.Cost[]> costs) {
    java.util.Map<String, Double> medians = new java.util.HashMap<>();
    for (Cpu.Cost[] c : costs) {
      for (String g : c[1].groupMicros().keySet()) {
        medians.computeIfAbsent(g, k -> median(costs.stream().map(x -> x[1].groupMicros().getOrDefault(k, 0.0)).toList()));
      }
    }
    JsonObject groups = new JsonObject();
    medians.entrySet().stream().filter(e -> e.getValue() > 0) // a group seen in fewer than half the rounds
        .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .forEach(e -> groups.put(e.getKey(), e.getValue()));
    cpu.add(new JsonObject().put("scenario", id).put("path", path).put("req_per_s", median(rps))
        .put("relay_us", median(costs.stream().map(c -> c[0].micros()).toList()))
        .put("client", client)
        .put("client_us", median(costs.stream().map(c -> c[1].micros()).toList()))
        .put("client_threads_us", groups)
        .put("client_switches", median(costs.stream().map(c -> c[1].switches()).toList())));
  }

  /** A figure with no target of its own (where a cost stands): shown as measured, neither a pass nor a miss. */
  void measured(String id, String title, String unit, double value, String note) {
    rows.add(new JsonObject().put("scenario", id).put("title", title).put("unit", unit).put("porthole", value)
        .put("target", note));
  }

  /** A scenario this machine cannot run (a tool missing): shown, neither a pass nor an error. */
  void skipped(String id, String why) {
    rows.add(new JsonObject().put("scenario", id).put("title", "skipped").put("skipped", why));
  }

  void error(String id, String message) {
    rows.add(new JsonObject().put("scenario", id).put("title", "did not run to the end").put("error", message)
        .put("pass", false));
  }

  boolean hasErrors() {
    return rows.stream().anyMatch(o -> ((JsonObject) o).containsKey("error"));
  }

  void write(Path md, Path json, Duration took) throws IOException {
    JsonObject doc = new JsonObject().put("environment", environment).put("seconds", took.toSeconds())
        .put("rows", rows).put("cpu_per_request", cpu);
    Files.writeString(json, doc.encodePrettily() + "\n");
    StringBuilder b = new StringBuilder();
    b.append("# porthole benchmark").append(quick ? " (--quick)" : "").append("\n\n");
    b.append(String.format(Locale.ROOT, "%s, %d cores, %s; %s; %s; %s. Run took %d s. Medians of %d rounds, "
            + "porthole and anchor alternately; ratio = median of per-round ratios.%n%n",
        environment.getString("cpu", "?"), environment.getInteger("cores", 0), environment.getString("java", "?"),
        environment.getString("openssh", "?"), environment.getString("iperf3", "?"), environment.getString("wrk", "?"),
        took.toSeconds(), Bench.ROUNDS));
    b.append("| scenario | measure | porthole | anchor | ratio | target | result |\n");
    b.append("| --- | --- | --- | --- | --- | --- | --- |\n");
    for (Object o : rows) {
      JsonObject r = (JsonObject) o;
      if (r.containsKey("error")) {
        b.append(String.format("| %s | %s | – | – | – | – | **error**: %s |%n", r.getString("scenario"),
            r.getString("title"), r.getString("error").replace('|', '/')));
        continue;
      }
      if (r.containsKey("skipped")) {
        b.append(String.format("| %s | skipped: %s | – | – | – | – | skipped |%n", r.getString("scenario"),
            r.getString("skipped").replace('|', '/')));
        continue;
      }
      String unit = r.getString("unit");
      String anchor = r.containsKey("anchor")
          ? num(r.getDouble("anchor")) + " " + unit + " (" + r.getString("anchor_name") + ")" : "–";
      if (r.containsKey("ceiling")) {
        anchor += "; direct " + num(r.getDouble("ceiling")) + " " + unit;
      }
      String ratio = r.containsKey("ratio") ? String.format(Locale.ROOT, "%.2f", r.getDouble("ratio")) : "–";
      b.append(String.format("| %s | %s | %s %s | %s | %s | %s | %s |%n", r.getString("scenario"), r.getString("title"),
          num(r.getDouble("porthole")), unit, anchor, ratio, r.getString("target"),
          !r.containsKey("pass") ? "measured" : r.getBoolean("pass") ? "pass" : "**FAIL**"));
    }
    if (!cpu.isEmpty()) {
      b.append("\nCPU per request (user + system, from /proc, during the measured runs; medians):\n\n");
      b.append("| scenario | path | req/s | relay | client | client's threads | client's context switches |\n");
      b.append("| --- | --- | --- | --- | --- | --- | --- |\n");
      for (Object o : cpu) {
        JsonObject c = (JsonObject) o;
        StringBuilder threads = new StringBuilder();
        JsonObject g = c.getJsonObject("client_threads_us");
        if (g.size() > 1) {
          g.forEach(e -> threads.append(threads.length() == 0 ? "" : "; ").append(e.getKey()).append(' ')
              .append(num(((Number) e.getValue()).doubleValue())).append(" µs"));
        }
        b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s µs | %s %s µs | %s | %.2f |%n", c.getString("scenario"),
            c.getString("path"), num(c.getDouble("req_per_s")), num(c.getDouble("relay_us")), c.getString("client"),
            num(c.getDouble("client_us")), threads.length() == 0 ? "–" : threads, c.getDouble("client_switches")));
      }
    }
    Files.writeString(md, b.toString());
  }

  private static String num(double v) {
    if (Math.abs(v) >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (Math.abs(v) >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  static double median(List<Double> values) {
    return percentile(values, 50);
  }

  /** Nearest-rank percentile. */
  static double percentile(List<Double> values, double p) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    if (p == 50 && sorted.size() % 2 == 0) {
      int m = sorted.size() / 2;
      return (sorted.get(m - 1) + sorted.get(m)) / 2;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
