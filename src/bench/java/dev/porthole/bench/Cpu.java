package dev.porthole.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where a process's CPU time goes, from {@code /proc} (Linux): its total user + system time and
 * context switches, and the same per thread group (threads named alike). Read before and after a
 * load run, the difference divided by the requests served is the cost of one request, which on a
 * CPU-bound machine is what decides the request rate. No profiler does this per thread group
 * without attaching to the process, and perf needs root for kernel time.
 */
final class Cpu {
  /** Ticks of {@code utime}/{@code stime}; 100 on every Linux build this runs on, read once. */
  static final long TICKS_PER_SECOND = clockTicks();

  /**
   * A process's counters at one moment: CPU nanoseconds in total (ended threads included), context
   * switches of its live threads, and both per thread group.
   */
  record Snapshot(long nanos, long switches, Map<String, long[]> groups) {
  }

  /** Per-request cost between two snapshots. */
  record Cost(double micros, double switches, Map<String, Double> groupMicros) {
  }

  /** The group of CPU time spent by threads that ended between two snapshots. */
  static final String ENDED = "threads that ended meanwhile (JIT and GC threads come and go)";

  private Cpu() {
  }

  /**
   * @param grouping thread name (as {@code /proc} keeps it, 15 characters) → group name
   */
  static Snapshot take(long pid, java.util.function.Function<String, String> grouping) throws IOException {
    long total = ticks(Path.of("/proc/" + pid)) * (1_000_000_000L / TICKS_PER_SECOND);
    long switches = 0; // the process's own counters are its first thread's only
    Map<String, long[]> groups = new LinkedHashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks) {
        long[] t;
        String name;
        try {
          t = stat(task);
          name = Files.readString(task.resolve("comm")).strip();
        } catch (IOException gone) {
          continue; // the thread ended while we looked
        }
        long[] g = groups.computeIfAbsent(grouping.apply(name), k -> new long[2]);
        g[0] += t[0];
        g[1] += t[1];
        switches += t[1];
      }
    }
    return new Snapshot(total, switches, groups);
  }

  static Cost perRequest(Snapshot before, Snapshot after, long requests) {
    double us = 1e-3 / requests;
    Map<String, Double> groups = new LinkedHashMap<>();
    after.groups().entrySet().stream()
        .sorted((x, y) -> Long.compare(y.getValue()[0] - before.groups().getOrDefault(y.getKey(), new long[2])[0],
            x.getValue()[0] - before.groups().getOrDefault(x.getKey(), new long[2])[0]))
        .forEach(e -> groups.put(e.getKey(),
            Math.max(0, e.getValue()[0] - before.groups().getOrDefault(e.getKey(), new long[2])[0]) * us));
    double total = (after.nanos() - before.nanos()) * us;
    double live = groups.values().stream().mapToDouble(Double::doubleValue).sum();
    // The process total keeps what threads that ended spent. It is counted in ticks (10 ms), the
    // threads in nanoseconds, so a difference within two ticks is rounding, not threads.
    if (total - live > 2e6 / TICKS_PER_SECOND / requests) {
      groups.put(ENDED, total - live);
    }
    return new Cost(total, (double) (after.switches() - before.switches()) / requests, groups);
  }

  /** One window of {@link #awaitJitQuiet}: what the process is asked to do for about a second. */
  interface Window {
    void run() throws Exception;
  }

  /**
   * Runs {@code window} again and again until the compiler threads of every process used under 5 %
   * of a core over one run of it, at most {@code limitSeconds}. Right after a burst of work a fresh
   * JVM's C2 compiles what it queued for seconds, and under a load it keeps compiling what the load
   * makes hot (tiered compilation moves code up a level as its counters grow), which on 2 shared
   * cores runs through any latency measured then; a long-running process has long finished. The
   * window is the load the measurement will put on: a scrape and a second's pause for a scraper,
   * requests back to back for back-to-back requests (a wait with that load off ends early, and the
   * measured rounds pay for the rest).
   *
   * @return the seconds it took
   */
  static double awaitJitQuiet(java.util.List<Long> pids, Window window, int limitSeconds) throws Exception {
    long t0 = System.nanoTime();
    long deadline = t0 + TimeUnit.SECONDS.toNanos(limitSeconds);
    long quiet = 50_000_000L; // 5 % of a core over a window of about a second, in nanoseconds
    while (System.nanoTime() < deadline) {
      long[] before = new long[pids.size()];
      for (int i = 0; i < pids.size(); i++) {
        before[i] = jitTicks(pids.get(i));
      }
      window.run();
      boolean settled = true;
      for (int i = 0; i < pids.size(); i++) {
        settled &= jitTicks(pids.get(i)) - before[i] < quiet;
      }
      if (settled) {
        break;
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static long jitTicks(long pid) throws IOException {
    long[] jit = take(pid, name -> name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")
        ? "JIT" : "other").groups().get("JIT");
    return jit == null ? 0 : jit[0];
  }

  /** utime + stime ticks of a process (ended threads included) or of one thread. */
  private static long ticks(Path dir) throws IOException {
    String stat = Files.readString(dir.resolve("stat"));
    // The name is in parentheses and may hold spaces; the fields after it start at field 3.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * {CPU nanoseconds, voluntary + involuntary context switches} of one thread. The nanoseconds are
   * the scheduler's exact run time ({@code schedstat}'s first field): a thread's {@code stat} ticks
   * are sampled at the timer tick, and for P3's threads, which run in bursts of microseconds, their
   * sum fell 15–20 % short of the process's total, which showed up as threads that had ended.
   */
  private static long[] stat(Path dir) throws IOException {
    long nanos;
    try {
      nanos = Long.parseLong(Files.readString(dir.resolve("schedstat")).split(" ")[0]);
    } catch (IOException | RuntimeException noSchedstat) {
      nanos = ticks(dir) * (1_000_000_000L / TICKS_PER_SECOND);
    }
    long switches = 0;
    for (String line : Files.readAllLines(dir.resolve("status"))) {
      if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
        switches += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    return new long[] {nanos, switches};
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).strip();
      if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return Long.parseLong(out);
      }
    } catch (IOException | NumberFormatException e) {
      // Fall through to Linux's fixed value.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 100;
  }
}
