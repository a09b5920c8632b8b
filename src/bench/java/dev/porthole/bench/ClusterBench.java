package dev.porthole.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * C1, issue 17's cluster rows: three app-servers from the jar, as {@code java -jar … app-server
 * --cluster} on 127.0.0.1 with TCP-IP join (each its own home, API and Hazelcast port, the cluster
 * settings in {@code PORTHOLE_CLUSTER_*} as docs/cluster.md's three-node example has them), all on
 * the harness's relay. In order: the cluster forming, 300 tcp tunnels started on each node, the
 * merged list on each node in turn, a routed GET against a local one on the same node, each node's
 * idle RSS, a routed DELETE against a local one, and {@code kill -9} of one node until both others
 * show all of its live tunnels {@code failed}.
 */
final class ClusterBench {
  private static final String[] NAMES = {"c1-a", "c1-b", "c1-c"};

  private record Node(String name, String api, Process process, List<String> ids) {
  }

  private final Bench bench;
  private final HttpClient http;
  private final Procs procs;
  private final Report report;
  private final Path work;
  private final boolean quick;

  ClusterBench(Bench bench, HttpClient http, Procs procs, Report report, Path work, boolean quick) {
    this.bench = bench;
    this.http = http;
    this.procs = procs;
    this.report = report;
    this.work = work;
    this.quick = quick;
  }

  void run(Path portr) throws Exception {
    int perNode = 300;
    String cluster = "porthole-bench-c1-" + UUID.randomUUID();
    // Hazelcast's ports must be known before (the join list); the APIs bind port 0 and say which
    // they took, so that no event-bus or Hazelcast socket can take a port picked for them.
    int[] hz = new int[NAMES.length];
    List<String> members = new ArrayList<>();
    for (int i = 0; i < NAMES.length; i++) {
      hz[i] = Bench.freePort();
      members.add("127.0.0.1:" + hz[i]);
    }
    List<Node> nodes = new ArrayList<>();
    try (ServerSocket target = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // (a) All three launched at once; formed when each lists all three members.
      long t0 = System.nanoTime();
      for (int i = 0; i < NAMES.length; i++) {
        Path home = Files.createDirectories(work.resolve(NAMES[i]));
        Path conf = home.resolve("porthole.yaml");
        Files.writeString(conf, "limits:\n  max_tunnels: " + (perNode + 10) + "\n");
        Process p = procs.start(NAMES[i], bench.java(NAMES[i], "app-server", "--port", "0",
            "--config", portr.toString(), "--conf", conf.toString(), "--cluster"), Map.of(
            "HOME", home.toString(),
            "PORTHOLE_CLUSTER_NAME", cluster,
            "PORTHOLE_CLUSTER_NODE_NAME", NAMES[i],
            "PORTHOLE_CLUSTER_PORT", String.valueOf(hz[i]),
            "PORTHOLE_CLUSTER_MEMBERS", String.join(",", members)));
        nodes.add(new Node(NAMES[i], null, p, new ArrayList<>()));
      }
      long formDeadline = t0 + TimeUnit.SECONDS.toNanos(180);
      for (int i = 0; i < nodes.size(); i++) {
        Node n = nodes.get(i);
        nodes.set(i, new Node(n.name(), listening(n, formDeadline), n.process(), n.ids()));
      }
      for (Node n : nodes) {
        awaitMembers(n, NAMES.length, formDeadline);
      }
      double formed = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "bench: C1 cluster formed in %.2f s%n", formed);

      // (b) 300 tcp tunnels on each node at once, all to one local target.
      List<CompletableFuture<List<String>>> starts = new ArrayList<>();
      for (Node n : nodes) {
        starts.add(CompletableFuture.supplyAsync(() -> {
          try {
            return bench.createMany(n.api(), perNode, i -> new JsonObject().put("name", n.name() + "-" + i)
                .put("type", "tcp").put("port", target.getLocalPort()).put("pool_size", 1), 8);
          } catch (Exception e) {
            throw new IllegalStateException(n.name() + ": " + e, e);
          }
        }));
      }
      for (int i = 0; i < nodes.size(); i++) {
        nodes.get(i).ids().addAll(starts.get(i).get(300, TimeUnit.SECONDS));
      }
      int total = perNode * nodes.size();
      // On a busy machine a few starts time out (the relay slow to answer): those are replaced, so
      // that every row sees 900 running tunnels.
      int replaced = 0;
      for (Node n : nodes) {
        replaced += runningOnly(n, target.getLocalPort(), Duration.ofSeconds(180));
      }
      for (Node n : nodes) {
        awaitRunning(n, total, Duration.ofSeconds(60));
      }
      System.out.printf(Locale.ROOT, "bench: C1 %d tunnels running (%d failed starts replaced)%n", total, replaced);

      // (c) The merged list, each node in turn; a few unmeasured rounds first for the JIT.
      for (int i = 0; i < 30; i++) {
        list(nodes.get(i % nodes.size()), total);
      }
      List<Double> listMs = new ArrayList<>();
      for (int i = 0; i < (quick ? 90 : 300); i++) {
        listMs.add(list(nodes.get(i % nodes.size()), total));
      }

      // (d) GET one tunnel on node B: its own (local) and A's or C's (routed to the owner), alternately.
      Node b = nodes.get(1);
      List<String> others = new ArrayList<>();
      for (int i = 0; i < perNode; i++) {
        others.add(nodes.get(0).ids().get(i));
        others.add(nodes.get(2).ids().get(i));
      }
      int perRound = quick ? 40 : 100;
      // Unmeasured pairs first, until the JIT of all three nodes is quiet under them (at most 60 s):
      // the routed path runs code the local one does not (the clustered event bus's codec and
      // connections, the owner's side in two other JVMs, each getting half the requests), which a
      // cluster serving GETs all day has long compiled. With 50 pairs and then a wait with the load
      // off, the owners' compilers still ran at up to a quarter of a core through the first rounds.
      int[] pairs = {0};
      double warm = Cpu.awaitJitQuiet(nodes.stream().map(n -> n.process().pid()).toList(), () -> {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() < end) {
          int k = pairs[0]++ % perNode;
          timed("GET", b, b.ids().get(k), 200);
          timed("GET", b, others.get(k), 200);
        }
      }, 60);
      System.out.printf(Locale.ROOT, "bench: C1 the JIT of all three nodes settled under %d GET pairs, %.1f s%n",
          pairs[0], warm);
      List<Double> getLocal = new ArrayList<>();
      List<Double> getRouted = new ArrayList<>();
      List<Double> getLocalAll = new ArrayList<>();
      List<Double> getRoutedAll = new ArrayList<>();
      for (int r = 0; r < Bench.ROUNDS; r++) {
        List<Double> local = new ArrayList<>();
        List<Double> routed = new ArrayList<>();
        for (int i = 0; i < perRound; i++) {
          int k = (r * perRound + i) % perNode;
          local.add(timed("GET", b, b.ids().get(k), 200));
          routed.add(timed("GET", b, others.get(k), 200));
        }
        getLocal.add(Report.median(local));
        getRouted.add(Report.median(routed));
        System.out.printf(Locale.ROOT, "bench: C1 GET round %d: routed %.2f ms, local %.2f ms (medians)%n", r + 1,
            Report.median(routed), Report.median(local));
        getLocalAll.addAll(local);
        getRoutedAll.addAll(routed);
      }

      // (e) Idle RSS of each node, with its 300 tunnels up.
      Map<String, long[]> rss = idleRss(nodes);

      // (f) DELETE on node B: its own and A's or C's, alternately; each DELETE answers once stopped.
      List<Double> delLocal = new ArrayList<>();
      List<Double> delRouted = new ArrayList<>();
      List<Double> delLocalAll = new ArrayList<>();
      List<Double> delRoutedAll = new ArrayList<>();
      int delPerRound = quick ? 10 : 20;
      int next = 0;
      List<String> deletedOfA = new ArrayList<>();
      for (int r = 0; r < Bench.ROUNDS; r++) {
        List<Double> local = new ArrayList<>();
        List<Double> routed = new ArrayList<>();
        for (int i = 0; i < delPerRound; i++, next++) {
          local.add(timed("DELETE", b, b.ids().get(next), 200));
          String other = others.get(next);
          routed.add(timed("DELETE", b, other, 200));
          if (nodes.get(0).ids().contains(other)) {
            deletedOfA.add(other);
          }
        }
        delLocal.add(Report.median(local));
        delRouted.add(Report.median(routed));
        delLocalAll.addAll(local);
        delRoutedAll.addAll(routed);
      }

      // (g) kill -9 of A: until B and C both show every live tunnel of A failed, naming it.
      Node a = nodes.get(0);
      int live = a.ids().size() - deletedOfA.size();
      long k0 = System.nanoTime();
      a.process().destroyForcibly();
      Map<String, Double> detected = new LinkedHashMap<>();
      long deadline = k0 + TimeUnit.SECONDS.toNanos(60);
      while (detected.size() < 2) {
        for (Node n : List.of(nodes.get(1), nodes.get(2))) {
          if (!detected.containsKey(n.name()) && failedOf(n, a.name()) >= live) {
            detected.put(n.name(), (System.nanoTime() - k0) / 1e9);
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IOException("after 60 s, " + a.name() + "'s " + live + " tunnels failed on: " + detected
              + "; B shows " + failedOf(nodes.get(1), a.name()) + ", C " + failedOf(nodes.get(2), a.name()));
        }
        TimeUnit.MILLISECONDS.sleep(50); // polling interval of the measurement
      }
      double detectedS = detected.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();

      String tag = NAMES.length + " nodes × " + perNode + " tcp tunnels (pool 1)";
      report.single("C1", "3 app-server processes on loopback (TCP-IP join): first launched → every node lists 3 "
          + "members", "s", formed, Report.Better.LOWER, 10, "≤ 10 s");
      report.single("C1", String.format(Locale.ROOT, "%s: GET /api/v1/tunnels (all %d) on each node in turn, p99 "
              + "(p50 %.2f ms, %d requests)", tag, total, Report.median(listMs), listMs.size()), "ms",
          Report.percentile(listMs, 99), Report.Better.LOWER, 50, "≤ 50 ms");
      report.compare("C1", String.format(Locale.ROOT, "GET /api/v1/tunnels/{id} on node B, another node's tunnel "
              + "(routed) vs B's own, median (all %d: %.2f vs %.2f ms; p99 %.2f vs %.2f ms)", getRoutedAll.size(),
              Report.median(getRoutedAll), Report.median(getLocalAll), Report.percentile(getRoutedAll, 99),
              Report.percentile(getLocalAll, 99)), "ms", getRouted, "local", getLocal, null, Report.Better.LOWER, 2,
          "≤ 2 × local");
      report.compare("C1", String.format(Locale.ROOT, "DELETE /api/v1/tunnels/{id} on node B, routed vs local, median "
              + "(all %d: %.2f vs %.2f ms)", delRoutedAll.size(), Report.median(delRoutedAll),
              Report.median(delLocalAll)), "ms", delRouted, "local", delLocal, null, Report.Better.LOWER, 2,
          "≤ 2 × local");
      report.single("C1", String.format(Locale.ROOT, "kill -9 of node A (%d live tunnels) → both B and C show them "
              + "all failed, naming A (B %.2f s, C %.2f s)", live, detected.get(nodes.get(1).name()),
              detected.get(nodes.get(2).name())), "s", detectedS, Report.Better.LOWER, 10, "≤ 10 s");
      StringBuilder each = new StringBuilder();
      long worst = 0;
      for (Map.Entry<String, long[]> e : rss.entrySet()) {
        each.append(each.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.0f MiB (%d threads)",
            e.getKey(), e.getValue()[0] / 1024.0, e.getValue()[1]));
        worst = Math.max(worst, e.getValue()[0]);
      }
      report.single("C1", String.format(Locale.ROOT, "idle node RSS with its %d tunnels, the largest (%s; %s)",
          perNode, each, RSS_HOW), "MiB", worst / 1024.0, Report.Better.LOWER, 300, "≤ 300 MiB");
    } finally {
      for (Node n : nodes) {
        procs.stop(n.process());
      }
    }
  }

  static final String RSS_HOW = "no request for 70 s (the periodic GC comes within 2 × 30 s of the last one, the native-heap trim every 60 s), then the median of VmRSS sampled every 0.5 s for 10 s";

  /** {VmRSS KiB, threads} of each node, all idle at once: {@value #RSS_HOW}. */
  private Map<String, long[]> idleRss(List<Node> nodes) throws Exception {
    TimeUnit.SECONDS.sleep(70); // the idle period being measured, not synchronisation
    Map<String, List<Double>> kib = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      for (Node n : nodes) {
        kib.computeIfAbsent(n.name(), k -> new ArrayList<>()).add((double) Bench.procStatus(n.process().pid(), "VmRSS"));
      }
      TimeUnit.MILLISECONDS.sleep(500); // sampling interval
    }
    Map<String, long[]> out = new LinkedHashMap<>();
    for (Node n : nodes) {
      List<Double> samples = kib.get(n.name());
      out.put(n.name(), new long[] {Math.round(Report.median(samples)), Bench.procStatus(n.process().pid(), "Threads")});
      System.out.printf(Locale.ROOT, "bench: C1 %s idle RSS samples (MiB): %s%n", n.name(),
          samples.stream().map(k -> String.format(Locale.ROOT, "%.0f", k / 1024)).toList());
      System.out.printf(Locale.ROOT, "bench: C1 %s threads by name: %s%n", n.name(),
          Soak.threadNames(n.process().pid()));
      // After the samples: jcmd's attach adds a thread of its own.
      System.out.printf(Locale.ROOT, "bench: C1 %s heap: %s%n", n.name(), procs.run(n.name() + "-jcmd",
          List.of("jcmd", String.valueOf(n.process().pid()), "GC.heap_info"), 30).lines().skip(1).limit(2)
          .map(String::strip).toList());
      // With PORTHOLE_BENCH_JVM_OPTS=-XX:NativeMemoryTracking=summary: where the rest of the RSS is.
      String nmt = procs.run(n.name() + "-nmt", List.of("jcmd", String.valueOf(n.process().pid()),
          "VM.native_memory", "summary"), 30);
      if (nmt.contains("committed=")) {
        System.out.printf(Locale.ROOT, "bench: C1 %s native memory (committed KiB): %s%n", n.name(), nmt.lines()
            .filter(l -> l.startsWith("-") || l.startsWith("Total"))
            .map(l -> l.replaceAll("^-\\s*", "").replaceAll("\\(reserved=\\d+KB, committed=(\\d+)KB\\)", "$1")
                .replaceAll("reserved=\\d+KB, committed=(\\d+)KB", "$1").strip())
            .toList());
      }
    }
    return out;
  }

  private static final java.util.regex.Pattern LISTENING =
      java.util.regex.Pattern.compile("Portr app server listening on (http://\\S+)");

  /** The API URL the node prints once it listens. */
  private String listening(Node n, long deadline) throws Exception {
    while (true) {
      java.util.regex.Matcher m = LISTENING.matcher(Files.readString(procs.log(n.name())));
      if (m.find()) {
        return m.group(1);
      }
      if (!n.process().isAlive() || System.nanoTime() > deadline) {
        throw new IOException(n.name() + " never said where it listens; see " + procs.log(n.name()));
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval of the measurement
    }
  }

  private void awaitMembers(Node n, int count, long deadline) throws Exception {
    while (true) {
      try {
        HttpResponse<String> r = send("GET", n.api() + "/api/v1/cluster", Duration.ofSeconds(2));
        if (r.statusCode() == 200 && new JsonObject(r.body()).getJsonArray("members", new JsonArray()).size() == count) {
          return;
        }
      } catch (IOException notYet) {
        // Not listening yet.
      }
      if (!n.process().isAlive() || System.nanoTime() > deadline) {
        throw new IOException(n.name() + " never listed " + count + " members; see " + procs.log(n.name()));
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval of the measurement
    }
  }

  /**
   * Until none of the node's own tunnels is starting; a failed one is deleted and started again,
   * until all run. How many were replaced.
   */
  private int runningOnly(Node n, int port, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    int replaced = 0;
    while (true) {
      List<String> failed = new ArrayList<>();
      int starting = 0;
      for (Object o : tunnels(n)) {
        JsonObject t = (JsonObject) o;
        if (!n.ids().contains(t.getString("id"))) {
          continue;
        }
        switch (t.getString("status")) {
          case "starting" -> starting++;
          case "failed", "stopped" -> failed.add(t.getString("id"));
          default -> { }
        }
      }
      if (starting == 0 && failed.isEmpty()) {
        return replaced;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(n.name() + ": " + starting + " tunnels still starting, " + failed.size() + " failed after "
            + limit.toSeconds() + " s");
      }
      for (String id : failed) {
        timed("DELETE", n, id, 200);
        n.ids().remove(id);
        n.ids().addAll(bench.createMany(n.api(), 1, i -> new JsonObject().put("name", n.name() + "-again")
            .put("type", "tcp").put("port", port).put("pool_size", 1), 1));
        replaced++;
      }
      TimeUnit.MILLISECONDS.sleep(200); // polling interval
    }
  }

  private void awaitRunning(Node n, int count, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      JsonArray all = tunnels(n);
      long running = all.stream().filter(o -> "running".equals(((JsonObject) o).getString("status"))).count();
      if (running >= count) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException(n.name() + " lists " + running + " of " + count + " tunnels running after "
            + limit.toSeconds() + " s");
      }
      TimeUnit.MILLISECONDS.sleep(100); // polling interval
    }
  }

  /** One merged list, in ms; it must hold all {@code count} running tunnels. */
  private double list(Node n, int count) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = send("GET", n.api() + "/api/v1/tunnels", Duration.ofSeconds(30));
    double ms = (System.nanoTime() - t0) / 1e6;
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v1/tunnels on " + n.name() + ": " + r.statusCode() + " " + r.body());
    }
    long running = new JsonObject(r.body()).getJsonArray("tunnels").stream()
        .filter(o -> "running".equals(((JsonObject) o).getString("status"))).count();
    if (running != count) {
      throw new IOException("GET /api/v1/tunnels on " + n.name() + " listed " + running + " of " + count + " running");
    }
    return ms;
  }

  private JsonArray tunnels(Node n) throws Exception {
    HttpResponse<String> r = send("GET", n.api() + "/api/v1/tunnels", Duration.ofSeconds(30));
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v1/tunnels on " + n.name() + ": " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body()).getJsonArray("tunnels");
  }

  /** How many of {@code owner}'s tunnels {@code n} lists failed with a last_error naming it. */
  private int failedOf(Node n, String owner) throws Exception {
    int count = 0;
    for (Object o : tunnels(n)) {
      JsonObject t = (JsonObject) o;
      if (owner.equals(t.getString("node")) && "failed".equals(t.getString("status"))
          && t.getString("last_error", "").contains(owner)) {
        count++;
      }
    }
    return count;
  }

  /** One request on a tunnel, in ms; fails on any other status. */
  private double timed(String method, Node n, String id, int status) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = send(method, n.api() + "/api/v1/tunnels/" + id, Duration.ofSeconds(30));
    double ms = (System.nanoTime() - t0) / 1e6;
    if (r.statusCode() != status) {
      throw new IOException(method + " " + id + " on " + n.name() + ": " + r.statusCode() + " " + r.body());
    }
    return ms;
  }

  private HttpResponse<String> send(String method, String url, Duration timeout) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
