package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which threads JSch runs on in the jar ({@code ssh.virtual_threads}): with a TCP tunnel up and one
 * connection open through it, the app-server's OS threads either include JSch's session reader and
 * the connection's channel thread (platform threads) or neither (virtual threads, which have no OS
 * thread of their own). Runs on whatever Java runs the tests: the default build's Java 17, and the
 * virtual-thread run's Java 21+ (pom.xml, profile {@code virtual-threads-it}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JschThreadsJarIT {
  static final Duration START = Duration.ofSeconds(60);
  /** OS thread names as /proc shows them (15 characters): JSch's "Connect thread <host> session" and "Channel forwarded-tcpip <host>". */
  static final String SESSION = "Connect thread";
  static final String CHANNEL = "Channel forward";

  Path work;
  Vertx vertx;
  LocalBackend local;
  TestRelay relay;
  Path portrConf;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    work = dir;
    vertx = Vertx.vertx();
    local = LocalBackend.start(vertx, "vt-local");
    relay = TestRelay.start(work.resolve("relay-data"));
    portrConf = relay.writePortrConfig(work.resolve("portr.yaml"));
  }

  @AfterAll
  void stop() throws Exception {
    if (relay != null) {
      relay.close();
    }
    if (local != null) {
      local.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("ssh.virtual_threads: auto: virtual threads from Java 24 (no OS thread for JSch's session or "
      + "connection), platform threads before; traffic flows either way")
  void auto() throws Exception {
    boolean virtual = Runtime.version().feature() >= 24;
    List<String> threads = threadsWithOpenConnection("auto", Map.of());
    if (virtual) {
      assertThat(threads).noneMatch(t -> t.startsWith(SESSION) || t.startsWith(CHANNEL));
    } else {
      assertThat(threads).anyMatch(t -> t.startsWith(SESSION)).anyMatch(t -> t.startsWith(CHANNEL));
    }
  }

  @Test
  @DisplayName("ssh.virtual_threads: off keeps JSch on platform threads on every Java (PORTHOLE_SSH_VIRTUAL_THREADS)")
  void off() throws Exception {
    List<String> threads = threadsWithOpenConnection("off", Map.of("PORTHOLE_SSH_VIRTUAL_THREADS", "off"));
    assertThat(threads).anyMatch(t -> t.startsWith(SESSION)).anyMatch(t -> t.startsWith(CHANNEL));
  }

  /**
   * Runs {@code porthole tcp} to the local service, opens a connection through the tunnel and keeps
   * it open (one request answered) while reading the app-server's OS thread names.
   */
  private List<String> threadsWithOpenConnection(String name, Map<String, String> env) throws Exception {
    Path dir = Files.createDirectories(work.resolve(name));
    try (JarProcess p = JarProcess.start(dir, List.of(), env, "tcp", String.valueOf(local.port()), "--host", "127.0.0.1",
        "-c", portrConf.toString())) {
      String url = p.await("^porthole: url=localhost:(\\d+) ", START);
      try (Socket s = new Socket("127.0.0.1", Integer.parseInt(url))) {
        s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
        s.getOutputStream().write(("GET /vt HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        assertThat(readUntil(s.getInputStream(), "hello from vt-local")).startsWith("HTTP/1.1 200");
        return threadNames(p.pid());
      }
    }
  }

  private static String readUntil(InputStream in, String marker) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (!got.toString(StandardCharsets.ISO_8859_1).contains(marker)) {
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      got.write(buf, 0, n);
    }
    return got.toString(StandardCharsets.ISO_8859_1);
  }

  /** The OS threads of a process by name (Linux /proc; 15 characters each). */
  private static List<String> threadNames(long pid) throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          names.add(Files.readString(task.resolve("comm")).strip());
        } catch (NoSuchFileException gone) {
          // The thread ended meanwhile.
        }
      }
    }
    return names;
  }
}
