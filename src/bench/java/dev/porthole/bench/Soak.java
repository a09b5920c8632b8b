package dev.porthole.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * P8, the long-lived daemon: tunnels created and stopped in a loop against one app-server process
 * (http and tcp, pool sizes 1 and 2; one request through each HTTP tunnel, one echo through each
 * TCP tunnel), with its threads, its heap after a forced GC and its list latency read once the
 * history is full and again at the end. A daemon that leaks shows it here.
 */
final class Soak {
  private static final Pattern HISTOGRAM_ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
  private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total \\d+K, used (\\d+)K");
  private static final int LANES = 8;
  private static final int LIST_SAMPLES = 300;
  private static final int MAX_ERRORS_SHOWN = 5;

  private final HttpClient http;
  private final String api;
  private final int edgePort;
  private final int httpTarget;
  private final int echoTarget;
  private final AtomicLong errors = new AtomicLong();
  private final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();

  Soak(HttpClient http, String api, int edgePort, int httpTarget, int echoTarget) {
    this.http = http;
    this.api = api;
    this.edgePort = edgePort;
    this.httpTarget = httpTarget;
    this.echoTarget = echoTarget;
  }

  /** What the soak saw. */
  record Figures(long cycles, long errors, List<String> firstErrors, double seconds, int threadsBaseline,
      int threadsAfter, long heapBaselineKib, long heapAfterKib, List<String> grown, double listP99Start,
      double listP99End,
      int listedAtEnd, long rssAfterKib) {
  }

  Figures run(long pid, int warmup, int cycles, int stoppedKept) throws Exception {
    ExecutorService lanes = Executors.newFixedThreadPool(LANES);
    try {
      loop(lanes, 0, warmup);
      // The list first, at both ends: its cache is part of a listed daemon's heap. One unmeasured
      // round before the first: the warm-up never listed, so the JIT has not compiled that path.
      listP99();
      double p99Start = listP99();
      long heapBaseline = heapAfterGc(pid);
      Map<String, long[]> histogramBaseline = histogram(pid);
      // After the first jcmd: its Attach Listener thread stays, and belongs to both ends.
      int threadsBaseline = Bench.settledThreads(pid, Integer.MAX_VALUE);
      Map<String, Integer> namesBaseline = threadNames(pid);
      long t0 = System.nanoTime();
      loop(lanes, warmup, cycles);
      double seconds = (System.nanoTime() - t0) / 1e9;
      // Back to the baseline itself, given up to 20 s: idle JSch request threads go after 2 s.
      int threadsAfter = Bench.settledThreads(pid, threadsBaseline);
      threadDiff(namesBaseline, threadNames(pid)).forEach(d -> System.out.println("bench: P8 threads " + d));
      double p99End = listP99();
      long heapAfter = heapAfterGc(pid);
      List<String> grown = grown(histogramBaseline, histogram(pid));
      int listed = listed();
      if (stoppedKept > 0 && listed > stoppedKept) {
        record("the list holds " + listed + " tunnels, more than the " + stoppedKept + " kept");
      }
      return new Figures(cycles - warmup, errors.get(), List.copyOf(firstErrors), seconds, threadsBaseline,
          threadsAfter, heapBaseline, heapAfter, grown, p99Start, p99End, listed, Bench.procStatus(pid, "VmRSS"));
    } finally {
      lanes.shutdownNow();
      lanes.awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  /** Cycles {@code from} … {@code to − 1}, {@link #LANES} at a time. */
  private void loop(ExecutorService lanes, int from, int to) throws Exception {
    AtomicInteger next = new AtomicInteger(from);
    long t0 = System.nanoTime();
    List<Future<?>> running = new ArrayList<>();
    for (int lane = 0; lane < LANES; lane++) {
      running.add(lanes.submit(() -> {
        int i;
        while ((i = next.getAndIncrement()) < to) {
          try {
            cycle(i);
          } catch (Exception e) {
            record("cycle " + i + ": " + e);
          }
          if ((i + 1) % 5_000 == 0) {
            System.out.printf("bench: P8 %d cycles, %.0f/s, %d errors%n", i + 1,
                (i + 1 - from) / ((System.nanoTime() - t0) / 1e9), errors.get());
          }
        }
        return null;
      }));
    }
    for (Future<?> f : running) {
      f.get();
    }
  }

  /** Create, use once, stop. Kinds in turn: http pool 1, http pool 2, tcp pool 1, tcp pool 2. */
  private void cycle(int i) throws Exception {
    boolean isHttp = i % 4 < 2;
    int pool = i % 2 == 0 ? 1 : 2;
    JsonObject body = new JsonObject().put("name", "soak-" + i).put("type", isHttp ? "http" : "tcp")
        .put("port", isHttp ? httpTarget : echoTarget).put("pool_size", pool);
    HttpResponse<String> created = send(HttpRequest.newBuilder(URI.create(api + "/api/v1/tunnels"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())));
    if (created.statusCode() != 201) {
      stopListed("soak-" + i); // a failed start stays listed as failed until it is stopped, as in Portr
      throw new IOException("POST " + created.statusCode() + " " + created.body());
    }
    JsonObject t = new JsonObject(created.body());
    String id = t.getString("id");
    try {
      if (!"running".equals(t.getString("status"))) {
        throw new IOException("created as " + t.getString("status") + ": " + t.getString("last_error", ""));
      }
      if (isHttp) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort + "/"))
            .header("Host", t.getString("subdomain") + ".localhost:" + edgePort));
        if (r.statusCode() != 200 || r.body().length() != 1024) {
          throw new IOException("GET through the tunnel: " + r.statusCode() + ", " + r.body().length() + " bytes");
        }
      } else {
        echo(t.getInteger("remote_port"), ("soak " + i + "\n").getBytes(StandardCharsets.US_ASCII));
      }
    } finally {
      HttpResponse<String> stopped = send(HttpRequest.newBuilder(URI.create(api + "/api/v1/tunnels/" + id)).DELETE());
      if (stopped.statusCode() != 200) {
        record("DELETE " + id + ": " + stopped.statusCode() + " " + stopped.body());
      }
    }
  }

  /** Stops the listed tunnel of that name, as a user would after a failed start. */
  private void stopListed(String name) throws IOException, InterruptedException {
    JsonArray tunnels = new JsonObject(send(HttpRequest.newBuilder(URI.create(api + "/api/v1/tunnels"))).body())
        .getJsonArray("tunnels");
    for (int k = 0; k < tunnels.size(); k++) {
      JsonObject t = tunnels.getJsonObject(k);
      if (name.equals(t.getString("name"))) {
        send(HttpRequest.newBuilder(URI.create(api + "/api/v1/tunnels/" + t.getString("id"))).DELETE());
      }
    }
  }

  private static void echo(int port, byte[] msg) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(msg);
      out.flush();
      InputStream in = s.getInputStream();
      byte[] back = in.readNBytes(msg.length);
      if (!Arrays.equals(back, msg)) {
        throw new IOException("echo through the tunnel: " + new String(back, StandardCharsets.US_ASCII));
      }
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
    return http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private void record(String error) {
    if (errors.incrementAndGet() <= MAX_ERRORS_SHOWN) {
      firstErrors.add(error);
      System.out.println("bench: P8 " + error);
    }
  }

  private double listP99() throws Exception {
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < LIST_SAMPLES; i++) {
      long t0 = System.nanoTime();
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(api + "/api/v1/tunnels")));
      ms.add((System.nanoTime() - t0) / 1e6);
      if (r.statusCode() != 200) {
        throw new IOException("GET /api/v1/tunnels: " + r.statusCode());
      }
    }
    return Report.percentile(ms, 99);
  }

  private int listed() throws Exception {
    return new JsonObject(send(HttpRequest.newBuilder(URI.create(api + "/api/v1/tunnels"))).body())
        .getJsonArray("tunnels").size();
  }

  /** The heap in use after a full GC, read with jcmd (KiB). */
  static long heapAfterGc(long pid) throws Exception {
    run(List.of("jcmd", String.valueOf(pid), "GC.run"));
    String info = run(List.of("jcmd", String.valueOf(pid), "GC.heap_info"));
    Matcher m = HEAP_USED.matcher(info);
    if (!m.find()) {
      throw new IOException("no heap figure in jcmd GC.heap_info: " + info);
    }
    return Long.parseLong(m.group(1));
  }

  /** The process's threads by name, digits dropped (pool members count together). */
  static Map<String, Integer> threadNames(long pid) throws IOException {
    Map<String, Integer> out = new java.util.TreeMap<>();
    try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/task"))) {
      for (java.nio.file.Path t : tasks.toList()) {
        try {
          String name = java.nio.file.Files.readString(t.resolve("comm")).strip().replaceAll("\\d+", "N");
          out.merge(name, 1, Integer::sum);
        } catch (IOException ended) {
          // The thread ended while listed.
        }
      }
    }
    return out;
  }

  /** Thread groups whose count changed, as lines: what a thread leak would look like. */
  static List<String> threadDiff(Map<String, Integer> before, Map<String, Integer> after) {
    java.util.Set<String> names = new java.util.TreeSet<>(before.keySet());
    names.addAll(after.keySet());
    List<String> out = new ArrayList<>();
    for (String n : names) {
      int d = after.getOrDefault(n, 0) - before.getOrDefault(n, 0);
      if (d != 0) {
        out.add(String.format(java.util.Locale.ROOT, "%+d %s (%d → %d)", d, n, before.getOrDefault(n, 0),
            after.getOrDefault(n, 0)));
      }
    }
    return out;
  }

  /** Live objects by class after a full GC: {instances, bytes}. */
  static Map<String, long[]> histogram(long pid) throws Exception {
    Map<String, long[]> out = new HashMap<>();
    for (String line : run(List.of("jcmd", String.valueOf(pid), "GC.class_histogram")).split("\n")) {
      Matcher m = HISTOGRAM_ROW.matcher(line);
      if (m.find()) {
        out.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
      }
    }
    return out;
  }

  /** The classes whose live bytes grew most, as lines for the report: where a leak would show. */
  static List<String> grown(Map<String, long[]> before, Map<String, long[]> after) {
    List<Map.Entry<String, long[]>> rows = new ArrayList<>(after.entrySet());
    rows.sort((a, b) -> Long.compare(growth(before, b), growth(before, a)));
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : rows.subList(0, Math.min(12, rows.size()))) {
      long[] was = before.getOrDefault(e.getKey(), new long[2]);
      out.add(String.format(java.util.Locale.ROOT, "%+,d bytes %+,d instances %s", e.getValue()[1] - was[1],
          e.getValue()[0] - was[0], e.getKey()));
    }
    return out;
  }

  private static long growth(Map<String, long[]> before, Map.Entry<String, long[]> e) {
    return e.getValue()[1] - before.getOrDefault(e.getKey(), new long[2])[1];
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
