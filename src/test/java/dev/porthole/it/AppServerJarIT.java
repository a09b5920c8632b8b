package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `porthole app-server` from the shaded jar, with its embedded relay: what `./run.sh` runs. */
class AppServerJarIT {
  @TempDir
  Path home;
  Vertx vertx;

  /** Held by the test: Vert.x 5 closes a client that nothing references once the GC finds it, mid-handshake too. */
  private WebSocketClient wsClient;

  private WebSocketClient webSockets() {
    if (wsClient == null) {
      wsClient = vertx.createWebSocketClient();
    }
    return wsClient;
  }

  LocalBackend backend;
  JarProcess app;
  String api;
  String domain;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    backend = LocalBackend.start(vertx, "jar-local");
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml");
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
  }

  @AfterEach
  void stop() throws Exception {
    app.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> call(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private int edgePort() {
    return Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
  }

  @Test
  @DisplayName("SIGTERM closes the open WebSocket tunnels with 1001 (server shutdown), not 4404, then exits 0")
  void shutdownCloses1001() throws Exception {
    NetServer echo = vertx.createNetServer().connectHandler(so -> so.handler(so::write))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpResponse<String> t = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "tcp")
        .put("host", "127.0.0.1").put("port", echo.actualPort()).put("pool_size", 1).encode());
    assertThat(t.statusCode()).as(t.body()).isEqualTo(201);
    List<CompletableFuture<Integer>> codes = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      WebSocket ws = webSockets().connect(new WebSocketConnectOptions()
              .setAbsoluteURI(new JsonObject(t.body()).getString("websocket_url")))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      CompletableFuture<Integer> code = new CompletableFuture<>();
      CompletableFuture<String> echoed = new CompletableFuture<>();
      ws.binaryMessageHandler(b -> echoed.complete(b.toString()));
      ws.closeHandler(v -> code.complete(ws.closeStatusCode() == null ? -1 : (int) ws.closeStatusCode()));
      ws.writeBinaryMessage(Buffer.buffer("up " + i));
      assertThat(echoed.get(10, TimeUnit.SECONDS)).isEqualTo("up " + i);
      codes.add(code);
    }
    assertThat(app.terminate(Duration.ofSeconds(30))).as(app.output()).isZero();
    for (CompletableFuture<Integer> code : codes) {
      assertThat(code.get(10, TimeUnit.SECONDS)).as("close code").isEqualTo(1001);
    }
  }

  @Test
  @DisplayName("embedded relay by default: health says so, and its first line says so")
  void health() throws Exception {
    assertThat(app.lines().get(0)).contains("no Portr config").contains("embedded relay");
    HttpResponse<String> r = call("GET", "/api/v1/health", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("{\"status\":\"ok\",\"relay\":\"embedded\"");
  }

  @Test
  @DisplayName("http and tcp tunnels from the jar carry traffic; DELETE stops one; SIGTERM stops the rest, delivers their callbacks, exits 0")
  void tunnelsAndShutdown() throws Exception {
    List<JsonObject> hooks = new CopyOnWriteArrayList<>();
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      hooks.add(b.toJsonObject());
      req.response().end();
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    String hook = "http://127.0.0.1:" + receiver.actualPort() + "/hook";

    HttpResponse<String> h = call("POST", "/api/v1/tunnels", new JsonObject().put("name", "web").put("port", backend.port())
        .put("subdomain", "jar-web").put("callback_url", hook).encode());
    assertThat(h.statusCode()).as(h.body()).isEqualTo(201);
    JsonObject web = new JsonObject(h.body());
    assertThat(web.getString("tunnel_url")).isEqualTo("http://jar-web." + domain);
    HttpResponse<String> viaEdge = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort() + "/x"))
        .header("Host", "jar-web." + domain).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(viaEdge.body()).isEqualTo("hello from jar-local");

    HttpResponse<String> t = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "tcp").put("port", backend.port())
        .put("callback_url", hook).encode());
    assertThat(t.statusCode()).as(t.body()).isEqualTo(201);
    JsonObject tcp = new JsonObject(t.body());
    try (Socket s = new Socket("127.0.0.1", tcp.getInteger("remote_port"))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /tcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).endsWith("hello from jar-local");
    }

    HttpResponse<String> del = call("DELETE", "/api/v1/tunnels/" + tcp.getString("id"), null);
    assertThat(new JsonObject(del.body()).getString("status")).isEqualTo("stopped");

    assertThat(app.terminate(Duration.ofSeconds(30))).isZero();
    assertThat(app.output()).contains("SIGTERM received").contains("stopped 1 tunnel(s)");
    Timeouts.pollUntil(Duration.ofSeconds(5), "stopped callbacks of both tunnels", () ->
        hooks.stream().filter(e -> e.getString("type").equals("stopped")).count() == 2);
    assertThat(hooks.stream().filter(e -> e.getString("tunnel_id").equals(web.getString("id")))
        .map(e -> e.getString("type")).toList()).containsExactly("started", "stopped");
  }

  @Test
  @DisplayName("clients written for Portr's app-server work unchanged: curl, Python urllib, Node fetch")
  void portrClients() throws Exception {
    String port = String.valueOf(backend.port());
    Path curl = onPath("curl");
    assumeTrue(curl != null || onPath("python3") != null || onPath("node") != null,
        "none of curl, python3, node is installed: nothing to run the client scripts with");
    if (curl != null) {
      String out = run(List.of(curl.toString(), "-sS", "-X", "POST", api + "/api/v1/tunnels",
          "-H", "Content-Type: application/json", "-d", "{\"name\":\"curl\",\"port\":" + port + ",\"subdomain\":\"by-curl\"}"));
      assertThat(new JsonObject(out).getString("status")).isEqualTo("running");
    }
    Path python = onPath("python3");
    if (python != null) {
      Path script = home.resolve("client.py");
      Files.writeString(script, String.join("\n",
          "import json, sys, urllib.request",
          "base, port = sys.argv[1], int(sys.argv[2])",
          "body = json.dumps({'name': 'py', 'port': port, 'subdomain': 'by-python'}).encode()",
          "req = urllib.request.Request(base + '/api/v1/tunnels', data=body, headers={'Content-Type': 'application/json'}, method='POST')",
          "with urllib.request.urlopen(req, timeout=30) as r:",
          "    assert r.status == 201, r.status",
          "    t = json.load(r)",
          "with urllib.request.urlopen(base + '/api/v1/tunnels', timeout=10) as r:",
          "    assert t['id'] in [x['id'] for x in json.load(r)['tunnels']]",
          "with urllib.request.urlopen(urllib.request.Request(base + '/api/v1/tunnels/' + t['id'], method='DELETE'), timeout=30) as r:",
          "    assert json.load(r)['status'] == 'stopped'",
          "print('python ok', t['tunnel_url'])", ""));
      assertThat(run(List.of(python.toString(), script.toString(), api, port))).startsWith("python ok http://by-python.");
    }
    Path node = onPath("node");
    if (node != null) {
      Path script = home.resolve("client.mjs");
      Files.writeString(script, String.join("\n",
          "const [base, port] = process.argv.slice(2);",
          "const r = await fetch(base + '/api/v1/tunnels', {method: 'POST', headers: {'Content-Type': 'application/json'},",
          "  body: JSON.stringify({name: 'node', port: Number(port), subdomain: 'by-node'})});",
          "if (r.status !== 201) throw new Error('status ' + r.status + ' ' + await r.text());",
          "const t = await r.json();",
          "const ev = await (await fetch(base + '/api/v1/events?tunnel_id=' + t.id)).json();",
          "if (ev.events[0].type !== 'started') throw new Error(JSON.stringify(ev));",
          "const d = await (await fetch(base + '/api/v1/tunnels/' + t.id, {method: 'DELETE'})).json();",
          "if (d.status !== 'stopped') throw new Error(JSON.stringify(d));",
          "console.log('node ok', t.tunnel_url);", ""));
      assertThat(run(List.of(node.toString(), script.toString(), api, port))).startsWith("node ok http://by-node.");
    }
  }

  @Test
  @DisplayName("start-up refusals: a non-loopback bind without a token, a missing or invalid Portr config (exit 2, one line)")
  void refusals(@TempDir Path other) throws Exception {
    try (JarProcess p = JarProcess.start(other, "app-server", "--host", "0.0.0.0", "--port", "0")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.lines()).contains("porthole: --token or PORTR_APP_SERVER_TOKEN is required when binding app-server to 0.0.0.0");
    }
    try (JarProcess p = JarProcess.start(other, "app-server", "--port", "0", "--config", "missing.yaml")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.lines()).contains("porthole: failed to load config: open missing.yaml: no such file or directory");
    }
    Files.writeString(other.resolve("bad.yaml"), "tunnels:\n  - port: 3000\n    subdomain: a_b\n");
    try (JarProcess p = JarProcess.start(other, "app-server", "--port", "0", "--config", "bad.yaml")) {
      assertThat(p.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
      assertThat(p.lines()).contains("porthole: invalid Portr config bad.yaml: invalid subdomain \"a_b\": use 1-63 "
          + "lowercase letters, numbers, or internal hyphens");
    }
  }

  private static Path onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(Timeouts.scaled(Duration.ofSeconds(60)).toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError(cmd.get(0) + " did not finish");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertThat(p.exitValue()).as("%s said: %s", cmd.get(0), out).isZero();
      return out;
    } finally {
      p.destroyForcibly();
    }
  }
}
