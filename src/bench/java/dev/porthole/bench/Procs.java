package dev.porthole.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every process the harness starts goes through here: its pid is appended to a file that
 * {@code src/bench/run.sh} kills from its trap, and {@link #stopAll} (also a shutdown hook) ends
 * whatever is still running, so no run leaves a process behind.
 */
final class Procs {
  private final Path pidFile;
  private final Path logDir;
  private final List<Process> live = new ArrayList<>();
  private final java.util.Map<String, Long> named = new java.util.LinkedHashMap<>();

  Procs(Path pidFile, Path logDir) throws IOException {
    this.pidFile = pidFile;
    this.logDir = logDir;
    Files.createDirectories(logDir);
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "bench-cleanup"));
  }

  /** Starts {@code cmd} with stdout and stderr into {@code <logDir>/<name>.log}. */
  synchronized Process start(String name, List<String> cmd) throws IOException {
    return start(name, cmd, null);
  }

  synchronized Process start(String name, List<String> cmd, java.util.Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()));
    if (env != null) {
      pb.environment().putAll(env);
    }
    Process p = pb.start();
    live.add(p);
    named.put(name, p.pid());
    remember(p);
    return p;
  }

  /**
   * Writes the process's pid and start time (clock ticks since boot, field 22 of
   * {@code /proc/<pid>/stat}) for run.sh's cleanup, which kills only a pid whose start time still
   * matches: a pid of a process that ended may since belong to anything else on the machine.
   */
  private void remember(Process p) throws IOException {
    String start = "";
    try {
      String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
      start = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19];
    } catch (IOException | RuntimeException ended) {
      // already gone: nothing for the cleanup to kill
    }
    Files.writeString(pidFile, p.pid() + " " + start + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /** Name and pid of every long-running process started so far. */
  synchronized String names() {
    StringBuilder b = new StringBuilder();
    named.forEach((n, pid) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(pid));
    return b.toString();
  }

  Path log(String name) {
    return logDir.resolve(name + ".log");
  }

  /** Runs {@code cmd} to completion (bounded by {@code limitSeconds}) and returns its output. */
  String run(String name, List<String> cmd, int limitSeconds) throws IOException, InterruptedException {
    Path out = logDir.resolve(name + ".out");
    Files.deleteIfExists(out);
    Process p;
    synchronized (this) {
      p = new ProcessBuilder(cmd)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectError(ProcessBuilder.Redirect.appendTo(log(name).toFile()))
          .redirectOutput(out.toFile())
          .start();
      live.add(p);
      remember(p);
    }
    try {
      if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
        stop(p);
        throw new IOException(name + " did not finish within " + limitSeconds + " s: " + String.join(" ", cmd));
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IOException(name + " exited " + p.exitValue() + ": " + text.strip() + " (see " + log(name) + ")");
      }
      return text;
    } finally {
      synchronized (this) {
        live.remove(p);
      }
    }
  }

  /** Runs {@code cmd} and returns stdout and stderr together, whatever its exit code (version banners). */
  String runMerged(String name, List<String> cmd, int limitSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
      stop(p);
    }
    return text;
  }

  /** SIGTERM, up to 15 s, then SIGKILL. */
  void stop(Process p) {
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroy);
    p.destroy();
    try {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      live.remove(p);
    }
  }

  void stopAll() {
    List<Process> copy;
    synchronized (this) {
      copy = new ArrayList<>(live);
    }
    for (Process p : copy) {
      stop(p);
    }
  }
}
