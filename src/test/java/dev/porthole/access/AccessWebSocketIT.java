package dev.porthole.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.LocalBackend;
import dev.porthole.testsupport.RawUpgrade;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.NetServer;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket upgrades through the /p/{id}/ view (docs/api.md: "WebSocket upgrades on
 * /p/{id}/… pass through"): the same path, headers and error statuses as plain /p/ requests
 * (statuses only: a rejected Vert.x handshake carries no headers or body, see WebSocketPassthrough).
 */
class AccessWebSocketIT {
  static final String TOKEN = "access-ws-it-token-0123456789";

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static WebSocketClient client;
  static LocalBackend backend;
  /** A WebSocket target that records each handshake it accepts (uri and headers). */
  static HttpServer recorder;
  static final LinkedBlockingQueue<Handshake> handshakes = new LinkedBlockingQueue<>();
  /** Accepts TCP, never answers. */
  static NetServer silent;
  static int appPort;
  /** access.idle_timeout_seconds 1. */
  static int impatientPort;
  /** token configured. */
  static int tokenPort;

  record Handshake(String uri, MultiMap headers) {
  }

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    appPort = URI.create(app.base()).getPort();
    vertx = Vertx.vertx();
    client = vertx.createWebSocketClient();
    backend = LocalBackend.start(vertx, "ws-view");
    recorder = vertx.createHttpServer(new HttpServerOptions().setWebSocketSubProtocols(List.of("chat")))
        .webSocketHandshakeHandler(hs -> {
          handshakes.add(new Handshake(hs.uri(), MultiMap.caseInsensitiveMultiMap().addAll(hs.headers())));
          hs.accept();
        })
        .requestHandler(req -> req.response().setStatusCode(400).end())
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    silent = vertx.createNetServer().connectHandler(so -> { /* accepts, never answers */ })
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    impatientPort = app.deployHttp("", a -> a.put("idle_timeout_seconds", 1));
    tokenPort = app.deployHttp(TOKEN, a -> { });
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, relay, vertx);
  }

  @Test
  @DisplayName("a WebSocket opened on /p/{id}/echo reaches the target's /echo and text frames come back as text")
  void echoThroughView() throws Exception {
    String id = app.tcpTunnel(backend.port());
    WebSocket ws = connect(appPort, new WebSocketConnectOptions().setURI("/p/" + id + "/echo"))
        .get(10, TimeUnit.SECONDS);
    CompletableFuture<String> reply = new CompletableFuture<>();
    ws.textMessageHandler(reply::complete);
    ws.writeTextMessage("through-the-view");
    assertThat(reply.get(10, TimeUnit.SECONDS)).isEqualTo("echo:through-the-view");
    ws.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("refused before the upgrade with the statuses plain /p/ requests get: 404 unknown tunnel, 409 stopped "
      + "tunnel, 502 target down")
  void refusals() throws Exception {
    assertThat(rejection(appPort, "/p/NOPE/echo").getStatus()).isEqualTo(404);
    String stopped = app.tcpTunnel(backend.port());
    app.send("DELETE", "/api/v1/tunnels/" + stopped, null);
    assertThat(rejection(appPort, "/p/" + stopped + "/echo").getStatus()).isEqualTo(409);
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    assertThat(rejection(appPort, "/p/" + app.tcpTunnel(closed) + "/echo").getStatus()).isEqualTo(502);
  }

  @Test
  @DisplayName("\"504 target timeout\": a target that accepts TCP but never answers the upgrade "
      + "(access.idle_timeout_seconds 1), as for plain /p/ requests")
  void targetTimeout() throws Exception {
    long t0 = System.nanoTime();
    assertThat(rejection(impatientPort, "/p/" + app.tcpTunnel(silent.actualPort()) + "/ws").getStatus()).isEqualTo(504);
    assertThat((System.nanoTime() - t0) / 1e9).as("seconds until the 504").isBetween(0.8, 5.0);
  }

  @Test
  @DisplayName("the upgrade request gets what plain /p/ requests get: the rest of the path and the query, Host = the "
      + "target, X-Forwarded-For appended, X-Forwarded-Proto/-Host/-Prefix set, the access cookie stripped")
  void upgradeHeaders() throws Exception {
    String id = app.tcpTunnel(recorder.actualPort());
    handshakes.clear();
    WebSocket ws = connect(appPort, new WebSocketConnectOptions().setURI("/p/" + id + "/hmr/socket?token=a%2Fb")
        .addHeader("X-Forwarded-For", "10.1.2.3").addHeader("X-Forwarded-Host", "spoofed.example")
        .addHeader("Cookie", "porthole_access=secret; app=1")).get(10, TimeUnit.SECONDS);
    Handshake seen = handshakes.poll(10, TimeUnit.SECONDS);
    assertThat(seen).isNotNull();
    assertThat(seen.uri()).isEqualTo("/hmr/socket?token=a%2Fb");
    assertThat(seen.headers().get("Host")).isEqualTo("127.0.0.1:" + recorder.actualPort());
    assertThat(seen.headers().getAll("X-Forwarded-For")).containsExactly("10.1.2.3, 127.0.0.1");
    assertThat(seen.headers().getAll("X-Forwarded-Proto")).containsExactly("http");
    assertThat(seen.headers().getAll("X-Forwarded-Host")).containsExactly("127.0.0.1:" + appPort);
    assertThat(seen.headers().getAll("X-Forwarded-Prefix")).containsExactly("/p/" + id);
    assertThat(seen.headers().getAll("Cookie")).containsExactly("app=1");
    ws.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("/p/{id}?q as an upgrade reaches the target as /?q (the URI a plain request ends at after its 308), "
      + "never as \"?q\"; /p/{id} as /")
  void queryWithoutSlash() throws Exception {
    String id = app.tcpTunnel(recorder.actualPort());
    for (String[] c : new String[][] {{"/p/" + id + "?q=1", "/?q=1"}, {"/p/" + id, "/"}, {"/p/" + id + "/?q=1", "/?q=1"}}) {
      handshakes.clear();
      WebSocket ws = connect(appPort, new WebSocketConnectOptions().setURI(c[0])).get(10, TimeUnit.SECONDS);
      assertThat(handshakes.poll(10, TimeUnit.SECONDS).uri()).as("target URI for %s", c[0]).isEqualTo(c[1]);
      ws.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("the subprotocol the target chose is the one answered (hot-reload clients such as Vite's offer their "
      + "own and browsers drop any other answer): a strict client offering other, chat gets chat; no porthole.v1")
  void targetsSubprotocolAnswered() throws Exception {
    String id = app.tcpTunnel(recorder.actualPort());
    handshakes.clear();
    WebSocket ws = connect(appPort, new WebSocketConnectOptions().setURI("/p/" + id + "/hmr")
        .setSubProtocols(List.of("other", "chat"))).get(10, TimeUnit.SECONDS);
    try {
      assertThat(ws.subProtocol()).isEqualTo("chat");
      Handshake seen = handshakes.poll(10, TimeUnit.SECONDS);
      assertThat(seen).isNotNull();
      assertThat(seen.headers().getAll("Sec-WebSocket-Protocol")).containsExactly("other,chat");
    } finally {
      ws.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("with a token: 401 without a credential; the bearer.<T> subprotocol is porthole's credential, never "
      + "forwarded nor echoed; the app's own subprotocols are forwarded")
  void bearerSubprotocol() throws Exception {
    String id = app.tcpTunnel(recorder.actualPort());
    assertThat(rejection(tokenPort, "/p/" + id + "/x").getStatus()).isEqualTo(401);
    handshakes.clear();
    // Raw, to see the exact answer: the credential offered first, the app's protocol after it.
    String head = RawUpgrade.send(tokenPort, "/p/" + id + "/x", "Sec-WebSocket-Protocol: bearer." + TOKEN + ", chat\r\n");
    assertThat(head).startsWith("HTTP/1.1 101").doesNotContain(TOKEN);
    assertThat(RawUpgrade.header(head, "Sec-WebSocket-Protocol")).containsExactly("chat");
    Handshake seen = handshakes.poll(10, TimeUnit.SECONDS);
    assertThat(seen).isNotNull();
    assertThat(seen.headers().getAll("Sec-WebSocket-Protocol")).containsExactly("chat");
    assertThat(seen.headers().toString()).doesNotContain(TOKEN);
  }

  @Test
  @DisplayName("with a token, a page's WebSocket authenticates with the tunnel's access cookie (browsers send it; "
      + "they cannot set headers): the cookie is stripped, the app's own cookies and Authorization pass through")
  void accessCookieAuthenticates() throws Exception {
    String id = app.tcpTunnel(recorder.actualPort());
    handshakes.clear();
    String head = RawUpgrade.send(tokenPort, "/p/" + id + "/hmr", "Cookie: theme=dark; "
        + AccessProxy.ACCESS_COOKIE + "=" + TOKEN + "; lang=en\r\nAuthorization: Basic YXBwOnNlY3JldA==\r\n");
    assertThat(head).startsWith("HTTP/1.1 101");
    Handshake seen = handshakes.poll(10, TimeUnit.SECONDS);
    assertThat(seen).isNotNull();
    assertThat(seen.headers().getAll("Cookie")).containsExactly("theme=dark; lang=en");
    assertThat(seen.headers().getAll("Authorization")).containsExactly("Basic YXBwOnNlY3JldA==");
    assertThat(seen.headers().toString()).doesNotContain(TOKEN);
  }

  @Test
  @DisplayName("an Authorization header that is porthole's credential is not forwarded to the target; a wrong access "
      + "cookie is refused with 401")
  void portholeAuthorizationNotForwarded() throws Exception {
    String id = app.tcpTunnel(recorder.actualPort());
    handshakes.clear();
    assertThat(RawUpgrade.send(tokenPort, "/p/" + id + "/x", "Authorization: Bearer " + TOKEN + "\r\n"))
        .startsWith("HTTP/1.1 101");
    Handshake seen = handshakes.poll(10, TimeUnit.SECONDS);
    assertThat(seen).isNotNull();
    assertThat(seen.headers().getAll("Authorization")).isEmpty();
    assertThat(seen.headers().toString()).doesNotContain(TOKEN);
    assertThat(RawUpgrade.send(tokenPort, "/p/" + id + "/x", "Cookie: " + AccessProxy.ACCESS_COOKIE + "=wrong\r\n"))
        .startsWith("HTTP/1.1 401");
  }

  // ---------------------------------------------------------------------------------------------

  private static CompletableFuture<WebSocket> connect(int port, WebSocketConnectOptions options) {
    return client.connect(options.setHost("127.0.0.1").setPort(port)).toCompletionStage().toCompletableFuture();
  }

  private static UpgradeRejectedException rejection(int port, String path) throws Exception {
    try {
      WebSocket ws = connect(port, new WebSocketConnectOptions().setURI(path)).get(15, TimeUnit.SECONDS);
      ws.close();
      throw new AssertionError("the upgrade of " + path + " was accepted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UpgradeRejectedException r) {
        return r;
      }
      throw e;
    }
  }
}
