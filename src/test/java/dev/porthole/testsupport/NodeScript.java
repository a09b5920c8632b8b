package dev.porthole.testsupport;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A Node script of {@code src/test/resources/node} run as a process: its stdout is one JSON object
 * per line, read as they come; stderr is kept for the failure message. Close it to end it (always
 * killed, whatever state it is in).
 *
 * <p>Its {@code node_modules} is the vendored {@code @vertx/eventbus-bridge-client.js} (its
 * package files a test resource; its code the dashboard's copy, {@code porthole/ui/vertx-eventbus.js},
 * the one file of it porthole ships) plus the WebJars that the build unpacks into {@code target/webjars} before the ITs
 * ({@code pom.xml}, {@code node-modules}), laid out by {@link #prepare} as npm would.
 */
public final class NodeScript implements AutoCloseable {
  private static final Duration EXIT = Duration.ofSeconds(10);

  private final Process process;
  private final LinkedBlockingQueue<JsonObject> pending = new LinkedBlockingQueue<>();
  private final List<JsonObject> lines = new CopyOnWriteArrayList<>();
  private final List<String> stderr = new CopyOnWriteArrayList<>();
  private final Thread out;
  private final Thread err;

  private NodeScript(Process process) {
    this.process = process;
    out = read(process.getInputStream(), "node-stdout", line -> {
      JsonObject o = line.startsWith("{") ? new JsonObject(line) : new JsonObject().put("text", line);
      lines.add(o);
      pending.add(o);
    });
    err = read(process.getErrorStream(), "node-stderr", stderr::add);
  }

  private static Thread read(InputStream in, String name, Consumer<String> sink) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          sink.accept(line);
        }
      } catch (IOException ignored) {
        // The process is gone.
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * Skips the calling test class when {@code node} is not on the PATH; else lays out the
   * scripts' {@code node_modules} and returns the scripts' directory.
   */
  public static Path prepare() {
    Assumptions.assumeTrue(nodeOnPath(), "node is not on the PATH: the Node bridge-client tests are skipped"
        + " (Debian: apt-get install nodejs; .ci/run installs it)");
    Path scripts;
    try {
      scripts = Path.of(NodeScript.class.getResource("/node/lib.js").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    Path webjars = JarProcess.jar().toAbsolutePath().getParent().resolve("webjars/META-INF/resources/webjars");
    if (!Files.isDirectory(webjars)) {
      throw new IllegalStateException(webjars + " is missing: run the ITs with `mvn verify` (pre-integration-test unpacks the WebJars)");
    }
    try (Stream<Path> packages = Files.list(webjars)) {
      for (Path pkg : packages.toList()) {
        // META-INF/resources/webjars/NAME/VERSION/… → node_modules/NAME/…
        try (Stream<Path> versions = Files.list(pkg)) {
          Path version = versions.filter(Files::isDirectory).findFirst().orElseThrow();
          copyTree(version, scripts.resolve("node_modules").resolve(pkg.getFileName().toString()));
        }
      }
      try (InputStream client = NodeScript.class.getResourceAsStream("/porthole/ui/vertx-eventbus.js")) {
        Files.copy(client, scripts.resolve("node_modules/@vertx/eventbus-bridge-client.js/vertx-eventbus.js"),
            StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return scripts;
  }

  private static boolean nodeOnPath() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** Starts {@code node <scripts>/<script> args…} with {@code env} added to this process's environment. */
  public static NodeScript start(Path scripts, Map<String, String> env, String script, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of("node", scripts.resolve(script).toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(scripts.toFile());
    pb.environment().putAll(env);
    return new NodeScript(pb.start());
  }

  /** Runs the script to its end (≤ {@code limit}, then it is killed and the test fails); its lines. */
  public static List<JsonObject> run(Path scripts, Map<String, String> env, Duration limit, String script,
      String... args) throws Exception {
    try (NodeScript s = start(scripts, env, script, args)) {
      s.endInput();
      int exit = s.waitFor(limit);
      if (exit != 0) {
        throw new AssertionError(script + " exited with " + exit + ":\n" + s.output());
      }
      return List.copyOf(s.lines);
    }
  }

  /** The next line (not yet taken) that matches, skipping others; fails after {@code limit}. */
  public JsonObject line(Predicate<JsonObject> wanted, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + Timeouts.scaled(limit).toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      JsonObject o = left > 0 ? pending.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS) : null;
      if (o != null && wanted.test(o)) {
        return o;
      }
      if (o == null && (left <= 0 || !process.isAlive() && pending.isEmpty())) {
        throw new AssertionError("no matching line from node within " + limit + " (alive: " + process.isAlive()
            + "):\n" + output());
      }
    }
  }

  /** Closes the script's stdin (the scripts that wait end then). */
  public void endInput() throws IOException {
    process.getOutputStream().close();
  }

  public int waitFor(Duration limit) throws InterruptedException {
    if (!process.waitFor(Timeouts.scaled(limit).toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("node did not exit within " + limit + ":\n" + output());
    }
    // Its last lines may still be on their way to the readers.
    out.join(EXIT.toMillis());
    err.join(EXIT.toMillis());
    return process.exitValue();
  }

  /** stdout and stderr so far, for failure messages. */
  public String output() {
    return "stdout:\n" + String.join("\n", lines.stream().map(JsonObject::encode).toList()) + "\nstderr:\n"
        + String.join("\n", stderr);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(EXIT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }
}
