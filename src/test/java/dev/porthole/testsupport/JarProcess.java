package dev.porthole.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shaded jar run as a user runs it: {@code java -jar target/porthole.jar …} in its own
 * process, with its output collected line by line. Close it to stop it (SIGTERM, then kill).
 * {@link #startPiped} keeps stdin, stdout and stderr apart, for commands that carry bytes over
 * stdin/stdout ({@code connect --stdio}).
 */
public final class JarProcess implements AutoCloseable {
  private final Process process;
  private final boolean piped;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread reader;

  private JarProcess(Process process, boolean piped) {
    this.process = process;
    this.piped = piped;
    // Merged: stdout and stderr, line by line. Piped: stderr only; stdout is the caller's to read.
    InputStream text = piped ? process.getErrorStream() : process.getInputStream();
    reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(text, StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // The process is gone.
      }
    }, "jar-output");
    reader.setDaemon(true);
    reader.start();
  }

  public static Path jar() {
    Path jar = Path.of(System.getProperty("porthole.jar", "target/porthole.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: run the tests with `mvn verify` (it builds the jar first)");
    }
    return jar;
  }

  /** Starts {@code java -jar porthole.jar args…} in {@code workDir}; stdout and stderr are merged. */
  public static JarProcess start(Path workDir, String... args) throws IOException {
    return start(workDir, List.of(), Map.of(), args);
  }

  /**
   * The same with extra JVM options (before {@code -jar}, e.g. {@code
   * -Dlogback.configurationFile=…}) and extra environment variables.
   */
  public static JarProcess start(Path workDir, List<String> jvmArgs, Map<String, String> env, String... args)
      throws IOException {
    return start(workDir, jvmArgs, env, false, args);
  }

  /**
   * Starts {@code java -jar porthole.jar args…} with its standard streams kept apart: write to
   * {@link #stdin()}, read the raw bytes of {@link #stdout()}; {@link #output()} then holds stderr.
   */
  public static JarProcess startPiped(Path workDir, String... args) throws IOException {
    return start(workDir, List.of(), Map.of(), true, args);
  }

  private static JarProcess start(Path workDir, List<String> jvmArgs, Map<String, String> env, boolean piped,
      String... args) throws IOException {
    // Java takes user.home from the password database, not $HOME: pin both, so no real ~/.portr or
    // ~/.porthole is read or written even by a porthole that ignored $HOME.
    List<String> pinned = new ArrayList<>(jvmArgs);
    pinned.add("-Duser.home=" + workDir.toAbsolutePath());
    return start(workDir, workDir, pinned, env, piped, args);
  }

  /**
   * Starts {@code java -jar porthole.jar args…} in {@code workDir} with {@code HOME=home} and no
   * {@code -Duser.home}: as a user runs it with {@code HOME} set, for tests of what the home is.
   */
  public static JarProcess startWithHome(Path workDir, Path home, String... args) throws IOException {
    return start(workDir, home, List.of(), Map.of(), false, args);
  }

  private static JarProcess start(Path workDir, Path home, List<String> jvmArgs, Map<String, String> env,
      boolean piped, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(jar().toAbsolutePath().toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(!piped);
    pb.environment().put("HOME", home.toString());
    pb.environment().putAll(env);
    return new JarProcess(pb.start(), piped);
  }

  /** The process's standard input (close it for end of stream). */
  public OutputStream stdin() {
    return process.getOutputStream();
  }

  /** The process's standard output as bytes; only for {@link #startPiped} processes. */
  public InputStream stdout() {
    if (!piped) {
      throw new IllegalStateException("stdout is merged into output(): start the process with startPiped");
    }
    return process.getInputStream();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Sends SIGINT (what Ctrl-C sends) and waits for the exit code. Java's process API only sends
   * SIGTERM and SIGKILL, so this asks {@code kill}.
   */
  public int interrupt(Duration limit) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-INT", String.valueOf(process.pid())).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS)) {
      kill.destroyForcibly();
      throw new AssertionError("kill -INT " + process.pid() + " did not finish");
    }
    if (kill.exitValue() != 0) {
      throw new AssertionError("kill -INT " + process.pid() + " exited with " + kill.exitValue());
    }
    return waitFor(limit);
  }

  /** SIGKILL ({@code kill -9}): the process gets no chance to clean up. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  public List<String> lines() {
    return lines;
  }

  public String output() {
    return String.join("\n", lines);
  }

  /** Waits for a line matching {@code regex}; returns its first group (or the whole match). */
  public String await(String regex, Duration limit) {
    Pattern p = Pattern.compile(regex);
    String[] found = new String[1];
    Timeouts.pollUntil(limit, "a line matching " + regex + " in:\n" + output(), () -> {
      for (String line : lines) {
        Matcher m = p.matcher(line);
        if (m.find()) {
          found[0] = m.groupCount() > 0 ? m.group(1) : m.group();
          return true;
        }
      }
      if (!process.isAlive()) {
        throw new AssertionError("the process exited with " + process.exitValue() + " before " + regex + ":\n" + output());
      }
      return false;
    });
    return found[0];
  }

  /**
   * Sends SIGTERM and waits for the exit code. Through the process handle: {@code
   * Process.destroy()} would also close our end of its output, losing what it prints while stopping.
   */
  public int terminate(Duration limit) throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(Timeouts.scaled(limit).toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("the process did not stop within " + limit + " after SIGTERM:\n" + output());
    }
    reader.join(5_000);
    return process.exitValue();
  }

  public int waitFor(Duration limit) throws InterruptedException {
    if (!process.waitFor(Timeouts.scaled(limit).toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the process did not exit within " + limit + ":\n" + output());
    }
    reader.join(5_000);
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
