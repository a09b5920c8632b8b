package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.relay.ConnectionRegistry.ConnectionView;
import dev.porthole.relay.ConnectionRegistry.Status;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with the stock OpenSSH client: {@code ssh -N -R 0.0.0.0:0:127.0.0.1:<port>} against a
 * real in-process relay, then traffic through the relay's HTTP edge and public TCP listener.
 * Skipped when no {@code ssh} binary is on PATH.
 */
@DisplayName("OpenSSH client (ssh -R) against the relay")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OpenSshRelayIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final int MIB_16 = 16 * 1024 * 1024;

  @TempDir
  static Path tempDir;

  private static Path sshBinary;
  private static TestRelay relay;
  private static Vertx vertx;
  private static ExecutorService pool;

  /** Every ssh process and local resource a test started; torn down after each test. */
  private final List<SshTunnel> tunnels = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void startRelay() throws Exception {
    sshBinary = findOnPath("ssh");
    Assumptions.assumeTrue(sshBinary != null,
        "OpenSSH client (ssh) not found on PATH: skipping the OpenSSH interop tests; install openssh-client to run them");
    relay = TestRelay.start(Files.createDirectories(tempDir.resolve("relay")));
    vertx = Vertx.vertx();
    pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "openssh-it");
      t.setDaemon(true);
      return t;
    });
  }

  @AfterAll
  static void stopAll() throws Exception {
    Fixtures.closeAll(pool, vertx, relay);
  }

  @AfterEach
  void tearDown() throws Exception {
    Exception first = null;
    for (SshTunnel t : tunnels) {
      t.close();
    }
    tunnels.clear();
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        }
      }
    }
    closeables.clear();
    if (first != null) {
      throw first;
    }
  }

  @Test
  @DisplayName("an HTTP request sent to the edge with Host <subdomain>.<domain> reaches the local service behind ssh -R, which sees the public Host")
  void http_request_by_host_reaches_local_service() throws Exception {
    LocalBackend backend = backend("ossh-hello");
    String subdomain = "ossh-hello";
    String id = relay.reserve("http", subdomain);
    SshTunnel ssh = openHttpTunnel(id, subdomain, backend.port());

    HttpResponse<String> r = relay.http().send(relay.edgeRequest(subdomain, "/").GET().build(),
        HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).as("edge status; ssh stderr: %s", ssh.stderr()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello from ossh-hello");
    assertThat(backend.hosts()).as("Host headers the local service saw").contains(relay.host(subdomain));
    assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.ACTIVE);
  }

  @Test
  @DisplayName("a chunked response streams through the tunnel chunk by chunk: the first chunk arrives before the local service finishes, trailers survive")
  void streamed_response_arrives_chunk_by_chunk() throws Exception {
    String subdomain = "ossh-stream";
    LocalBackend backend = backend(subdomain);
    String id = relay.reserve("http", subdomain);
    SshTunnel ssh = openHttpTunnel(id, subdomain, backend.port());

    // 1. java.net.http: status, then the body as it arrives.
    HttpResponse<InputStream> r = relay.http().send(relay.edgeRequest(subdomain, "/stream").GET().build(),
        HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = r.body()) {
      assertThat(r.statusCode()).as("edge status; ssh stderr: %s", ssh.stderr()).isEqualTo(201);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      readUntil(body, got, "first-chunk\n", "the first chunk while the local service still holds the response", ssh);
      assertThat(text(got)).as("received before release (the backend has not sent more)")
          .isEqualTo("first-chunk\n");

      backend.release();
      readToEof(body, got, "the rest of the streamed body", ssh);
      assertThat(text(got)).isEqualTo("first-chunk\nsecond-chunk\n");
    }

    // 2. A raw HTTP/1.1 exchange, to see the chunked framing and the trailer.
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), relay.httpPort()), 5_000);
      socket.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(20)).toMillis());
      OutputStream out = socket.getOutputStream();
      out.write(("GET /stream HTTP/1.1\r\nHost: " + relay.host(subdomain) + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      readUntil(in, raw, "first-chunk", "the first chunk on the raw connection", ssh);
      assertThat(text(raw)).as("raw response before release").doesNotContain("second-chunk");

      backend.release();
      readToEof(in, raw, "the rest of the raw response", ssh);
      String all = text(raw);
      assertThat(all).as("raw response").startsWith("HTTP/1.1 201");
      assertThat(Pattern.compile("(?im)^transfer-encoding:\\s*chunked\\s*$").matcher(all).find())
          .as("chunked framing in:%n%s", all).isTrue();
      assertThat(all).contains("second-chunk");
      assertThat(Pattern.compile("(?im)^x-tunnel-trailer:\\s*complete\\s*$").matcher(all).find())
          .as("trailer X-Tunnel-Trailer: complete in:%n%s%nssh stderr: %s", all, ssh.stderr()).isTrue();
    }
    assertThat(backend.seen()).as("requests the local service served").containsSubsequence("GET /stream", "GET /stream");
    assertThat(relay.verticle().registry().get(id).status()).isEqualTo(Status.ACTIVE);
  }

  @Test
  @DisplayName("a WebSocket opened on the edge with the subdomain's Host is relayed to the local service and echoes")
  void websocket_echo_through_edge() throws Exception {
    String subdomain = "ossh-ws";
    LocalBackend backend = backend(subdomain);
    String id = relay.reserve("http", subdomain);
    SshTunnel ssh = openHttpTunnel(id, subdomain, backend.port());

    CompletableFuture<String> reply = new CompletableFuture<>();
    CompletableFuture<Integer> closed = new CompletableFuture<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      private final StringBuilder text = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
          reply.complete(text.toString());
        }
        webSocket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        reply.completeExceptionally(new IllegalStateException("closed " + statusCode + " " + reason));
        closed.complete(statusCode);
        return null;
      }

      @Override
      public void onError(WebSocket webSocket, Throwable error) {
        reply.completeExceptionally(error);
        closed.completeExceptionally(error);
      }
    };
    WebSocket ws = relay.http().newWebSocketBuilder()
        .header("Host", relay.host(subdomain))
        .connectTimeout(Duration.ofSeconds(10))
        .buildAsync(URI.create("ws://127.0.0.1:" + relay.httpPort() + "/echo"), listener)
        .get(Timeouts.scaled(WAIT).toSeconds(), TimeUnit.SECONDS);
    try {
      ws.sendText("websocket-through-tunnel", true).get(10, TimeUnit.SECONDS);
      String echoed;
      try {
        echoed = reply.get(Timeouts.scaled(WAIT).toSeconds(), TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        throw new AssertionError("no echo through the tunnel: " + e + "; ssh stderr: " + ssh.stderr(), e);
      }
      assertThat(echoed).isEqualTo("echo:websocket-through-tunnel");

      // A clean close handshake through the tunnel, before the ssh process goes away.
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
      assertThat(closed.get(Timeouts.scaled(WAIT).toSeconds(), TimeUnit.SECONDS))
          .as("close code echoed by the local service").isEqualTo(WebSocket.NORMAL_CLOSURE);
    } finally {
      ws.abort();
    }
  }

  @Test
  @DisplayName("a TCP tunnel carries 16 MiB each way intact and honours the client's half-close (EOF) before the reply")
  void tcp_tunnel_16mib_both_ways_with_half_close() throws Exception {
    tcpRoundTrip16MiB();
  }

  @Test
  @DisplayName("key re-exchanges the client starts every 256 KiB, in the middle of 16 MiB each way: nothing lost, the session stays up")
  void tcp_tunnel_survives_client_rekeys() throws Exception {
    tcpRoundTrip16MiB("-o", "RekeyLimit=256K");
  }

  /** 16 MiB each way through a tcp forward of {@code ssh -R [options]}, with the client's half-close. */
  private void tcpRoundTrip16MiB(String... sshOptions) throws Exception {
    Random random = new Random();
    byte[] request = new byte[MIB_16];
    random.nextBytes(request);
    byte[] reply = new byte[MIB_16];
    random.nextBytes(reply);
    HashingServer server = new HashingServer(reply);
    closeables.add(server);

    String id = relay.reserve("tcp", null);
    SshTunnel ssh = startSsh(id, server.port(), sshOptions);
    Integer[] port = new Integer[1];
    Timeouts.pollUntil(WAIT, "the relay to bind the tcp forward's public port", () -> {
      ssh.assertAlive("waiting for the tcp forward");
      ConnectionView v = relay.verticle().registry().get(id);
      port[0] = v == null ? null : v.port();
      return port[0] != null;
    });

    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port[0]), 5_000);
      socket.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(20)).toMillis());
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          OutputStream out = socket.getOutputStream();
          for (int off = 0; off < request.length; off += 64 * 1024) {
            out.write(request, off, Math.min(64 * 1024, request.length - off));
          }
          out.flush();
          socket.shutdownOutput();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, pool);

      MessageDigest received = sha256();
      long total = 0;
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[64 * 1024];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          received.update(buf, 0, n);
          total += n;
        }
      } catch (IOException e) {
        throw new AssertionError("reading the reply failed after " + total + " bytes: " + e
            + "; server: " + server.describe() + "; ssh stderr: " + ssh.stderr(), e);
      }
      try {
        writer.get(Timeouts.scaled(Duration.ofSeconds(20)).toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new AssertionError("writing 16 MiB failed: " + e.getCause() + "; ssh stderr: " + ssh.stderr(), e);
      }

      String serverGot;
      try {
        serverGot = server.receivedSha256().get(Timeouts.scaled(WAIT).toSeconds(), TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("the local server never saw EOF; " + server.describe() + "; ssh stderr: "
            + ssh.stderr(), e);
      }
      assertThat(serverGot).as("SHA-256 of what the local server received (%s); ssh stderr: %s",
          server.describe(), ssh.stderr()).isEqualTo(hex(sha256().digest(request)));
      assertThat(total).as("reply length after the client's half-close (a short reply with the local server's"
          + " write failing means the relay closed the forwarded channel instead of passing the EOF on);"
          + " server: %s; ssh stderr: %s", server.describe(), ssh.stderr())
          .isEqualTo(MIB_16);
      assertThat(hex(received.digest())).as("SHA-256 of the reply").isEqualTo(hex(sha256().digest(reply)));
    }
  }

  @Test
  @DisplayName("ending the ssh process removes the route: the edge answers 404 unregistered-subdomain and the connection is CLOSED")
  void closing_ssh_removes_the_route() throws Exception {
    String subdomain = "ossh-close";
    LocalBackend backend = backend(subdomain);
    String id = relay.reserve("http", subdomain);
    SshTunnel ssh = openHttpTunnel(id, subdomain, backend.port());
    assertThat(relay.edgeGet(subdomain, "/").statusCode()).as("edge status while the tunnel is up; ssh stderr: %s",
        ssh.stderr()).isEqualTo(200);

    ssh.close();

    Timeouts.pollUntil(WAIT, "the route of " + subdomain + " to go away after ssh ended",
        () -> relay.verticle().registry().route(subdomain) == null);
    HttpResponse<String> r = relay.edgeGet(subdomain, "/");
    assertThat(r.statusCode()).as("edge status after ssh ended").isEqualTo(404);
    assertThat(r.headers().firstValue("X-Portr-Error")).hasValue("true");
    assertThat(r.headers().firstValue("X-Portr-Error-Reason")).hasValue("unregistered-subdomain");
    Timeouts.pollUntil(WAIT, "connection " + id + " to be CLOSED",
        () -> relay.verticle().registry().get(id).status() == Status.CLOSED);
    assertThat(relay.verticle().registry().get(id).forwards()).isZero();
  }

  // ---------------------------------------------------------------------------------------------

  private LocalBackend backend(String name) throws Exception {
    LocalBackend b = LocalBackend.start(vertx, name);
    closeables.add(b);
    return b;
  }

  private SshTunnel openHttpTunnel(String id, String subdomain, int localPort) throws IOException {
    SshTunnel ssh = startSsh(id, localPort);
    Timeouts.pollUntil(WAIT, "a route for " + subdomain + " registered by ssh -R", () -> {
      ssh.assertAlive("waiting for the route of " + subdomain);
      return relay.verticle().registry().route(subdomain) != null;
    });
    return ssh;
  }

  /** {@code ssh -N [options] -R 0.0.0.0:0:127.0.0.1:<localPort>} as {@code <id>:<secret>}; stdin /dev/null. */
  private SshTunnel startSsh(String id, int localPort, String... options) throws IOException {
    Path stderr = Files.createTempFile(tempDir, "ssh-" + id + "-", ".stderr");
    List<String> cmd = new ArrayList<>(List.of(sshBinary.toString(), "-N",
        "-F", "/dev/null",
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "ExitOnForwardFailure=yes",
        "-o", "PreferredAuthentications=keyboard-interactive",
        "-o", "ConnectTimeout=10",
        "-o", "LogLevel=ERROR",
        "-p", String.valueOf(relay.sshPort()),
        "-l", id + ":" + TestRelay.SECRET));
    cmd.addAll(List.of(options));
    cmd.addAll(List.of("-R", "0.0.0.0:0:127.0.0.1:" + localPort, "127.0.0.1"));
    Process p = new ProcessBuilder(cmd)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.to(stderr.toFile()))
        .start();
    SshTunnel t = new SshTunnel(p, stderr);
    tunnels.add(t);
    return t;
  }

  /** One ssh process and where its stderr goes. */
  private static final class SshTunnel implements AutoCloseable {
    private final Process process;
    private final Path stderrFile;

    SshTunnel(Process process, Path stderrFile) {
      this.process = process;
      this.stderrFile = stderrFile;
    }

    String stderr() {
      try {
        String s = Files.readString(stderrFile, StandardCharsets.UTF_8).strip();
        return s.isEmpty() ? "(empty)" : "\n" + s;
      } catch (IOException e) {
        return "(unreadable: " + e + ")";
      }
    }

    void assertAlive(String what) {
      if (!process.isAlive()) {
        throw new AssertionError("ssh exited with " + process.exitValue() + " while " + what + "; stderr: "
            + stderr());
      }
    }

    /** destroy, wait up to 5 s, then destroyForcibly and wait again. */
    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The local TCP service of the tcp test: per connection, reads to EOF, records the SHA-256 of a
   * non-empty upload, then writes {@code reply} and closes. Empty connections (the relay's
   * reconciliation ping dials the public port) are just closed.
   */
  private final class HashingServer implements AutoCloseable {
    private final ServerSocket server;
    private final byte[] reply;
    private final CompletableFuture<String> receivedSha256 = new CompletableFuture<>();
    private final List<String> events = new CopyOnWriteArrayList<>();

    HashingServer(byte[] reply) throws IOException {
      this.reply = reply;
      this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      pool.execute(this::acceptLoop);
    }

    int port() {
      return server.getLocalPort();
    }

    CompletableFuture<String> receivedSha256() {
      return receivedSha256;
    }

    String describe() {
      return "local server events " + events;
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          pool.execute(() -> serve(s));
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s) {
        s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(20)).toMillis());
        MessageDigest md = sha256();
        long total = 0;
        InputStream in = s.getInputStream();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
          md.update(buf, 0, n);
          total += n;
        }
        events.add("EOF after " + total + " bytes");
        if (total == 0) {
          return;
        }
        receivedSha256.complete(hex(md.digest()));
        OutputStream out = s.getOutputStream();
        out.write(reply);
        out.flush();
        events.add("wrote " + reply.length + " bytes");
      } catch (IOException e) {
        events.add("failed: " + e);
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Reads from {@code in} into {@code into} until it contains {@code marker}; bounded by a deadline. */
  private static void readUntil(InputStream in, ByteArrayOutputStream into, String marker, String what,
      SshTunnel ssh) throws Exception {
    boolean found = bounded(in, what, into, ssh, () -> {
      byte[] buf = new byte[8192];
      while (!text(into).contains(marker)) {
        int n = in.read(buf);
        if (n < 0) {
          return false;
        }
        synchronized (into) {
          into.write(buf, 0, n);
        }
      }
      return true;
    });
    assertThat(found).as("EOF before %s; got so far: %s", what, text(into)).isTrue();
  }

  private static void readToEof(InputStream in, ByteArrayOutputStream into, String what, SshTunnel ssh)
      throws Exception {
    bounded(in, what, into, ssh, () -> {
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) >= 0; ) {
        synchronized (into) {
          into.write(buf, 0, n);
        }
      }
      return true;
    });
  }

  private interface Read {
    boolean run() throws IOException;
  }

  /** Runs a blocking read on the pool with a deadline; on timeout closes the stream to unblock it. */
  private static boolean bounded(InputStream in, String what, ByteArrayOutputStream into, SshTunnel ssh, Read read)
      throws Exception {
    CompletableFuture<Boolean> f = CompletableFuture.supplyAsync(() -> {
      try {
        return read.run();
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, pool);
    try {
      return f.get(Timeouts.scaled(WAIT).toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      in.close();
      throw new AssertionError("timed out waiting for " + what + "; got so far: " + text(into)
          + "; ssh stderr: " + ssh.stderr(), e);
    } catch (ExecutionException e) {
      throw new AssertionError("failed reading " + what + ": " + e.getCause() + "; got so far: " + text(into)
          + "; ssh stderr: " + ssh.stderr(), e.getCause());
    }
  }

  private static String text(ByteArrayOutputStream out) {
    synchronized (out) {
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** The first executable regular file called {@code name} in a PATH entry, or null. */
  private static Path findOnPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isBlank()) {
        continue;
      }
      try {
        Path candidate = Path.of(dir, name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return candidate;
        }
      } catch (RuntimeException e) {
        // an unparsable PATH entry: skip it
      }
    }
    return null;
  }
}
