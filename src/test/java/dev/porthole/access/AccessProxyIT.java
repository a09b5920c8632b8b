package dev.porthole.access;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP view {@code /p/{id}/} of docs/api.md, end to end: a real relay, the
 * app-server's verticles in this JVM, a tcp tunnel whose target is a Vert.x server of this test
 * that echoes what it received (uri, headers) and serves a few special paths.
 */
class AccessProxyIT {
  static final String TOKEN = "access-proxy-it-token-0123456789";
  static final long BIG = 200L * 1024 * 1024;

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static Vertx vertx;
  static HttpClient client;
  static HttpServer target;
  static NetServer silent;
  /** The shared tunnel to {@link #target}. */
  static String id;
  /** TestAppServer's own HttpVerticle (default access.* settings). */
  static int appPort;
  /** access.max_body_bytes 1 MiB. */
  static int limitedPort;
  static int bigPort;
  /** access.idle_timeout_seconds 1. */
  static int impatientPort;
  /** token configured. */
  static int tokenPort;

  /** SSE: the target writes the next event when the test completes the current promise. */
  static final BlockingQueue<Runnable> sseGates = new LinkedBlockingQueue<>();
  static final AtomicLong bigWritten = new AtomicLong();
  static final CompletableFuture<String> bigDigest = new CompletableFuture<>();
  static final byte[] GZIPPED = gzip("hello, compressed world\n".repeat(200));

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay);
    appPort = Integer.parseInt(app.base().substring(app.base().lastIndexOf(':') + 1));
    vertx = Vertx.vertx();
    client = vertx.createHttpClient(new HttpClientOptions().setDecompressionSupported(false).setKeepAlive(false));
    target = vertx.createHttpServer().requestHandler(AccessProxyIT::serve).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    silent = vertx.createNetServer().connectHandler(so -> { /* accepts, never answers */ })
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    id = tunnel(target.actualPort()).getString("id");
    limitedPort = app.deployHttp("", a -> a.put("max_body_bytes", 1_048_576L));
    // Responses are bounded by the same limit (100 MiB by default): the 200 MiB download needs more.
    bigPort = app.deployHttp("", a -> a.put("max_body_bytes", 536_870_912L));
    impatientPort = app.deployHttp("", a -> a.put("idle_timeout_seconds", 1));
    tokenPort = app.deployHttp(TOKEN, a -> { });
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, relay, vertx);
  }

  // ---------------------------------------------------------------------------------------------
  // Paths and redirects

  @Test
  @DisplayName("\"Exactly the /p/{id} prefix is stripped; the rest of the raw path (no decoding, no normalising, "
      + "trailing slash kept) and the query string go to the target byte for byte\"")
  void pathAndQueryByteForByte() throws Exception {
    for (String rest : List.of("/a%2Fb/c%3Fd", "/dir/", "//double//slash//", "/x/y/?", "/",
        "/q?a=1&b=%2F%3F&c=x%20y+z&d=|~!*'();:@$,&e&&f==", "/%7Euser/%252F/?k=%E2%82%AC")) {
      Raw r = raw(appPort, "GET /p/" + id + rest + " HTTP/1.1\r\nHost: 127.0.0.1:" + appPort
          + "\r\nConnection: close\r\n\r\n");
      assertThat(r.status).as(rest).isEqualTo(200);
      assertThat(r.json().getString("uri")).as(rest).isEqualTo(rest);
    }
  }

  @Test
  @DisplayName("\"/p/{id} answers 308 to /p/{id}/\" (query kept)")
  void redirectToSlash() throws Exception {
    Resp plain = get(appPort, "/p/" + id, MultiMap.caseInsensitiveMultiMap());
    assertThat(plain.status).isEqualTo(308);
    assertThat(plain.headers.get("Location")).isEqualTo("/p/" + id + "/");
    Resp query = get(appPort, "/p/" + id + "?a=1&b=%2F", MultiMap.caseInsensitiveMultiMap());
    assertThat(query.status).isEqualTo(308);
    assertThat(query.headers.get("Location")).isEqualTo("/p/" + id + "/?a=1&b=%2F");
  }

  // ---------------------------------------------------------------------------------------------
  // Response headers

  @Test
  @DisplayName("\"Location/Content-Location that are root-relative ... get the /p/{id} prefix\"")
  void rootRelativeLocations() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/loc-rel", MultiMap.caseInsensitiveMultiMap());
    assertThat(r.status).isEqualTo(302);
    assertThat(r.headers.get("Location")).isEqualTo("/p/" + id + "/login?next=%2Fhome");
    assertThat(r.headers.get("Content-Location")).isEqualTo("/p/" + id + "/doc/1");
  }

  @Test
  @DisplayName("\"Location/Content-Location that ... point at the target get the /p/{id} prefix\"; others stay")
  void targetAbsoluteLocations() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/loc-abs", MultiMap.caseInsensitiveMultiMap());
    assertThat(r.status).isEqualTo(301);
    assertThat(r.headers.get("Location")).isEqualTo("/p/" + id + "/x?y=1");
    assertThat(r.headers.get("Content-Location")).isEqualTo("/p/" + id + "/c");
    Resp foreign = get(appPort, "/p/" + id + "/loc-foreign", MultiMap.caseInsensitiveMultiMap());
    assertThat(foreign.headers.get("Location")).isEqualTo("https://example.com/x");
  }

  @Test
  @DisplayName("\"repeated headers kept (several Set-Cookie)\"; \"Set-Cookie Path=/ becomes Path=/p/{id}/\"")
  void setCookies() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/cookies", MultiMap.caseInsensitiveMultiMap());
    assertThat(r.status).isEqualTo(200);
    assertThat(r.headers.getAll("Set-Cookie")).containsExactlyInAnyOrder(
        "a=1; Path=/p/" + id + "/",
        "b=2; Path=/p/" + id + "/; HttpOnly",
        "c=3; Path=/app; Secure");
  }

  // ---------------------------------------------------------------------------------------------
  // Request headers

  @Test
  @DisplayName("\"hop-by-hop headers and the headers named in Connection removed\"")
  void hopByHopRemoved() throws Exception {
    Raw r = raw(appPort, "GET /p/" + id + "/headers HTTP/1.1\r\nHost: 127.0.0.1:" + appPort + "\r\n"
        + "Connection: keep-alive, X-Secret-Hop\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
        + "Upgrade: example/1\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nX-Secret-Hop: 1\r\n"
        + "X-Kept: yes\r\n\r\n");
    assertThat(r.status).isEqualTo(200);
    JsonObject seen = r.json().getJsonObject("headers");
    assertThat(seen.fieldNames()).doesNotContain("connection", "keep-alive", "te", "upgrade",
        "proxy-authorization", "x-secret-hop");
    assertThat(seen.getJsonArray("x-kept")).containsExactly("yes");
  }

  @Test
  @DisplayName("\"that cookie is stripped before forwarding. The app's own Cookie and Authorization headers pass through\"")
  void appCookiesKeptAccessCookieStripped() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/headers", headers("Cookie", "app=1; porthole_access=secret; other=2",
        "Authorization", "Basic YXBwOmFwcA=="));
    assertThat(r.status).isEqualTo(200);
    JsonObject seen = r.json().getJsonObject("headers");
    assertThat(String.join("; ", strings(seen.getJsonArray("cookie")))).isEqualTo("app=1; other=2");
    assertThat(strings(seen.getJsonArray("authorization"))).containsExactly("Basic YXBwOmFwcA==");
  }

  @Test
  @DisplayName("\"X-Forwarded-For appended\" to an existing value")
  void xForwardedForAppended() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/headers", headers("X-Forwarded-For", "203.0.113.7"));
    JsonObject seen = r.json().getJsonObject("headers");
    assertThat(strings(seen.getJsonArray("x-forwarded-for"))).containsExactly("203.0.113.7, 127.0.0.1");
  }

  @Test
  @DisplayName("\"X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix: /p/{id} set\"")
  void xForwardedProtoHostPrefix() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/headers", MultiMap.caseInsensitiveMultiMap());
    JsonObject seen = r.json().getJsonObject("headers");
    assertThat(strings(seen.getJsonArray("x-forwarded-proto"))).containsExactly("http");
    assertThat(strings(seen.getJsonArray("x-forwarded-host"))).containsExactly("127.0.0.1:" + appPort);
    assertThat(strings(seen.getJsonArray("x-forwarded-prefix"))).containsExactly("/p/" + id);
  }

  @Test
  @DisplayName("\"Host set to the target's host:port (dev servers check it)\"")
  void hostIsTarget() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/headers", MultiMap.caseInsensitiveMultiMap());
    assertThat(strings(r.json().getJsonObject("headers").getJsonArray("host")))
        .containsExactly("127.0.0.1:" + target.actualPort());
  }

  // ---------------------------------------------------------------------------------------------
  // Bodies and streaming

  @Test
  @DisplayName("\"Content-Encoding and bodies passed through untouched (no recompression)\"")
  void gzipUntouched() throws Exception {
    Resp r = get(appPort, "/p/" + id + "/gzip", headers("Accept-Encoding", "gzip"));
    assertThat(r.status).isEqualTo(200);
    assertThat(r.headers.get("Content-Encoding")).isEqualTo("gzip");
    assertThat(r.body.getBytes()).isEqualTo(GZIPPED);
  }

  @Test
  @DisplayName("\"Streaming both ways, no total-duration cap (server-sent events ... work)\": event by event")
  void serverSentEvents() throws Exception {
    sseGates.clear();
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    CompletableFuture<Integer> ended = new CompletableFuture<>();
    client.request(new RequestOptions().setAbsoluteURI("http://127.0.0.1:" + appPort + "/p/" + id + "/sse")
            .putHeader("Accept", "text/event-stream"))
        .compose(req -> req.send().onSuccess(resp -> {
          resp.handler(b -> received.add(b.toString(StandardCharsets.UTF_8)));
          resp.endHandler(v -> ended.complete(resp.statusCode()));
        }))
        .onFailure(ended::completeExceptionally);
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 3; i++) {
      String want = "data: event-" + i + "\n\n";
      long deadline = System.nanoTime() + Timeouts.scaled(Duration.ofSeconds(10)).toNanos();
      while (!text.toString().contains(want)) {
        String chunk = received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        assertThat(chunk).as("event %d before the target wrote the next one", i).isNotNull();
        text.append(chunk);
      }
      assertThat(text.toString()).doesNotContain("event-" + (i + 1));
      Runnable next = sseGates.poll(10, TimeUnit.SECONDS);
      assertThat(next).isNotNull();
      next.run();
    }
    assertThat(ended.get(10, TimeUnit.SECONDS)).isEqualTo(200);
    assertThat(text.toString()).isEqualTo("data: event-1\n\ndata: event-2\n\ndata: event-3\n\n");
  }

  @Test
  @DisplayName("\"Streaming ... (long downloads work)\": 200 MiB streamed, checksum kept, heap bounded")
  void bigDownloadStreamed() throws Exception {
    System.gc();
    Runtime rt = Runtime.getRuntime();
    long usedBefore = rt.totalMemory() - rt.freeMemory();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    AtomicLong count = new AtomicLong();
    AtomicLong writtenAtFirstMiB = new AtomicLong(-1);
    CompletableFuture<Integer> done = new CompletableFuture<>();
    long t0 = System.nanoTime();
    client.request(new RequestOptions().setAbsoluteURI("http://127.0.0.1:" + bigPort + "/p/" + id + "/big"))
        .compose(req -> req.send().onSuccess(resp -> {
          resp.handler(b -> {
            sha.update(b.getBytes());
            if (count.addAndGet(b.length()) >= 1024 * 1024) {
              writtenAtFirstMiB.compareAndSet(-1, bigWritten.get());
            }
          });
          resp.exceptionHandler(done::completeExceptionally);
          resp.endHandler(v -> done.complete(resp.statusCode()));
        }))
        .onFailure(done::completeExceptionally);
    assertThat(done.get(Timeouts.scaled(Duration.ofSeconds(60)).toSeconds(), TimeUnit.SECONDS)).isEqualTo(200);
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    assertThat(count.get()).isEqualTo(BIG);
    assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(bigDigest.get(5, TimeUnit.SECONDS));
    // Streaming, not store-and-forward: the first MiB arrived while most of the body was unwritten.
    assertThat(writtenAtFirstMiB.get()).isBetween(0L, BIG / 2);
    System.gc();
    long usedAfter = rt.totalMemory() - rt.freeMemory();
    assertThat(usedAfter - usedBefore).as("heap growth").isLessThan(100L * 1024 * 1024);
    assertThat(seconds).as("seconds for 200 MiB").isLessThan(40);
  }

  // ---------------------------------------------------------------------------------------------
  // Limits

  @Test
  @DisplayName("\"request body over access.max_body_bytes → 413 (up front when Content-Length says so)\"")
  void bodyOverLimitWithContentLength() throws Exception {
    Raw r = raw(limitedPort, "POST /p/" + id + "/body HTTP/1.1\r\nHost: 127.0.0.1:" + limitedPort
        + "\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048577\r\nConnection: close\r\n\r\n");
    assertThat(r.status).isEqualTo(413);
    assertThat(r.headers.get("X-Porthole-Error")).isNotBlank();
    assertThat(r.json().getString("message")).isNotBlank();
  }

  @Test
  @DisplayName("\"access.max_body_bytes\": a body of exactly the limit still goes through")
  void bodyAtLimitPasses() throws Exception {
    Buffer body = Buffer.buffer(new byte[1_048_576]);
    Resp r = client.request(new RequestOptions().setMethod(HttpMethod.POST)
            .setAbsoluteURI("http://127.0.0.1:" + limitedPort + "/p/" + id + "/body"))
        .compose(req -> req.send(body).compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(),
            resp.headers(), b))))
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(r.status).isEqualTo(200);
    assertThat(r.body.toString()).isEqualTo("got 1048576");
  }

  @Test
  @DisplayName("\"request body over access.max_body_bytes → 413 (... else when the count passes it)\": chunked")
  void chunkedBodyOverLimit() throws Exception {
    CompletableFuture<Resp> result = new CompletableFuture<>();
    client.request(new RequestOptions().setMethod(HttpMethod.POST)
            .setAbsoluteURI("http://127.0.0.1:" + limitedPort + "/p/" + id + "/body"))
        .onSuccess(req -> {
          req.setChunked(true);
          req.response().compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(), resp.headers(), b)))
              .onComplete(ar -> {
                if (ar.succeeded()) {
                  result.complete(ar.result());
                } else {
                  result.completeExceptionally(ar.cause());
                }
              });
          Buffer chunk = Buffer.buffer(new byte[64 * 1024]);
          for (int i = 0; i < 32; i++) {
            req.write(chunk);
          }
          req.end();
        })
        .onFailure(result::completeExceptionally);
    Resp r = result.get(20, TimeUnit.SECONDS);
    assertThat(r.status).as("answer to a 2 MiB chunked body, limit 1 MiB; body: %s", r.body).isEqualTo(413);
    assertThat(r.headers.get("X-Porthole-Error")).isNotBlank();
  }

  @Test
  @DisplayName("\"a response over the same limit is aborted\": 2 MiB answer, access.max_body_bytes 1 MiB")
  void responseOverLimitAborted() throws Exception {
    CompletableFuture<Long> received = new CompletableFuture<>();
    client.request(new RequestOptions().setAbsoluteURI("http://127.0.0.1:" + limitedPort + "/p/" + id + "/two-mib"))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> (long) b.length())))
        .onComplete(ar -> received.complete(ar.succeeded() ? ar.result() : -1L));
    assertThat(received.get(20, TimeUnit.SECONDS)).as("bytes of a complete answer (-1: aborted)")
        .isLessThan(2L * 1024 * 1024);
  }

  // ---------------------------------------------------------------------------------------------
  // Errors

  @Test
  @DisplayName("\"404 unknown tunnel\" with X-Porthole-Error, JSON or HTML from Accept")
  void unknownTunnel() throws Exception {
    assertProxyError(appPort, "/p/01NOSUCHTUNNEL0000000000000/", 404);
  }

  @Test
  @DisplayName("\"409 tunnel not running\": a stopped tunnel, with X-Porthole-Error, JSON or HTML from Accept")
  void stoppedTunnel() throws Exception {
    String stopped = tunnel(target.actualPort()).getString("id");
    assertThat(app.send("DELETE", "/api/v1/tunnels/" + stopped, null).statusCode()).isEqualTo(200);
    assertProxyError(appPort, "/p/" + stopped + "/", 409);
  }

  @Test
  @DisplayName("\"502 target refused or reset\": the target's port is closed")
  void targetDown() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String down = tunnel(closed).getString("id");
    assertProxyError(appPort, "/p/" + down + "/", 502);
  }

  @Test
  @DisplayName("\"504 target timeout\": the target accepts TCP but never answers (access.idle_timeout_seconds 1)")
  void targetTimeout() throws Exception {
    String mute = tunnel(silent.actualPort()).getString("id");
    assertProxyError(impatientPort, "/p/" + mute + "/", 504);
  }

  // ---------------------------------------------------------------------------------------------
  // Auth

  @Test
  @DisplayName("\"Same credentials as the API\": 401 without a token when one is configured")
  void noTokenRefused() throws Exception {
    Resp r = get(tokenPort, "/p/" + id + "/headers", MultiMap.caseInsensitiveMultiMap());
    assertThat(r.status).isEqualTo(401);
    Resp bearer = get(tokenPort, "/p/" + id + "/headers", headers("Authorization", "Bearer " + TOKEN));
    assertThat(bearer.status).isEqualTo(200);
  }

  @Test
  @DisplayName("\"?access_token=T with a valid T answers 303 to the same URL without the parameter and sets a cookie "
      + "scoped to Path=/p/{id}/, HttpOnly; SameSite=Strict\"; the cookie then works and is stripped")
  void accessTokenExchange() throws Exception {
    Resp r = get(tokenPort, "/p/" + id + "/page?a=1&access_token=" + TOKEN + "&b=%2F",
        MultiMap.caseInsensitiveMultiMap());
    assertThat(r.status).isEqualTo(303);
    assertThat(r.headers.get("Location")).isEqualTo("/p/" + id + "/page?a=1&b=%2F");
    assertThat(r.headers.getAll("Set-Cookie")).containsExactly(
        "porthole_access=" + TOKEN + "; Path=/p/" + id + "/; HttpOnly; SameSite=Strict");
    Resp again = get(tokenPort, "/p/" + id + "/page?a=1&b=%2F", headers("Cookie", "porthole_access=" + TOKEN));
    assertThat(again.status).isEqualTo(200);
    assertThat(again.json().getString("uri")).isEqualTo("/page?a=1&b=%2F");
    assertThat(again.json().getJsonObject("headers").fieldNames()).doesNotContain("cookie");
  }

  @Test
  @DisplayName("\"The app's own Cookie and Authorization headers pass through untouched\" with the access cookie "
      + "as credential")
  void appAuthorizationWithAccessCookie() throws Exception {
    Resp r = get(tokenPort, "/p/" + id + "/headers", headers("Cookie", "porthole_access=" + TOKEN + "; app=1",
        "Authorization", "Basic YXBwOmFwcA=="));
    assertThat(r.status).as("body: %s", r.body).isEqualTo(200);
    JsonObject seen = r.json().getJsonObject("headers");
    assertThat(strings(seen.getJsonArray("authorization"))).containsExactly("Basic YXBwOmFwcA==");
    assertThat(strings(seen.getJsonArray("cookie"))).containsExactly("app=1");
  }

  // ---------------------------------------------------------------------------------------------
  // The target

  private static void serve(HttpServerRequest req) {
    HttpServerResponse res = req.response();
    String base = "http://127.0.0.1:" + target.actualPort();
    switch (req.path()) {
      case "/loc-rel" -> res.setStatusCode(302).putHeader("Location", "/login?next=%2Fhome")
          .putHeader("Content-Location", "/doc/1").end();
      case "/loc-abs" -> res.setStatusCode(301).putHeader("Location", base + "/x?y=1")
          .putHeader("Content-Location", base + "/c").end();
      case "/loc-foreign" -> res.setStatusCode(302).putHeader("Location", "https://example.com/x").end();
      case "/cookies" -> {
        res.headers().add("Set-Cookie", "a=1; Path=/").add("Set-Cookie", "b=2; Path=/; HttpOnly")
            .add("Set-Cookie", "c=3; Path=/app; Secure");
        res.end("cookies");
      }
      case "/gzip" -> res.putHeader("Content-Encoding", "gzip").putHeader("Content-Type", "text/plain")
          .end(Buffer.buffer(GZIPPED));
      case "/sse" -> {
        res.setChunked(true).putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache");
        sse(res, 1);
      }
      case "/big" -> {
        res.putHeader("Content-Length", String.valueOf(BIG)).putHeader("Content-Type", "application/octet-stream");
        bigWritten.set(0);
        try {
          writeBig(res, MessageDigest.getInstance("SHA-256"), 0);
        } catch (Exception e) {
          res.reset();
        }
      }
      case "/two-mib" -> res.putHeader("Content-Type", "application/octet-stream")
          .end(Buffer.buffer(new byte[2 * 1024 * 1024]));
      case "/body" -> req.body().onSuccess(b -> res.end("got " + b.length()));
      default -> {
        JsonObject headers = new JsonObject();
        req.headers().forEach(e -> {
          String n = e.getKey().toLowerCase();
          if (!headers.containsKey(n)) {
            headers.put(n, new JsonArray());
          }
          headers.getJsonArray(n).add(e.getValue());
        });
        res.putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("uri", req.uri()).put("method", req.method().name()).put("headers", headers)
                .encode());
      }
    }
  }

  private static void sse(HttpServerResponse res, int n) {
    res.write("data: event-" + n + "\n\n");
    Context ctx = Vertx.currentContext();
    sseGates.add(() -> ctx.runOnContext(v -> {
      if (n == 3) {
        res.end();
      } else {
        sse(res, n + 1);
      }
    }));
  }

  private static void writeBig(HttpServerResponse res, MessageDigest sha, long sent) {
    res.drainHandler(null); // set again below while bytes are left; a stale one would write after the end
    long at = sent;
    byte[] block = new byte[64 * 1024];
    while (at < BIG && !res.writeQueueFull()) {
      long index = at / block.length;
      for (int i = 0; i < block.length; i += 64) {
        block[i] = (byte) (index * 31 + i);
        block[i + 1] = (byte) (index >>> 8);
        block[i + 2] = (byte) (i >>> 6);
      }
      sha.update(block);
      res.write(Buffer.buffer(block.clone()));
      at += block.length;
      bigWritten.set(at);
    }
    if (at < BIG) {
      long next = at;
      res.drainHandler(v -> writeBig(res, sha, next));
    } else {
      res.end();
      bigDigest.complete(HexFormat.of().formatHex(sha.digest()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static void assertProxyError(int port, String path, int status) throws Exception {
    Resp json = get(port, path, headers("Accept", "application/json"));
    assertThat(json.status).as("status for %s; body %s", path, json.body).isEqualTo(status);
    assertThat(json.headers.get("X-Porthole-Error")).as("X-Porthole-Error").isNotBlank();
    assertThat(json.headers.get("Content-Type")).startsWith("application/json");
    assertThat(json.json().getString("message")).isNotBlank();
    Resp html = get(port, path, headers("Accept", "text/html,application/xhtml+xml"));
    assertThat(html.status).isEqualTo(status);
    assertThat(html.headers.get("X-Porthole-Error")).isEqualTo(json.headers.get("X-Porthole-Error"));
    assertThat(html.headers.get("Content-Type")).startsWith("text/html");
    assertThat(html.body.toString().toLowerCase()).contains("<html");
  }

  private static JsonObject tunnel(int port) throws Exception {
    return app.create(new JsonObject().put("type", "tcp").put("host", "127.0.0.1").put("port", port)
        .put("pool_size", 1));
  }

  private static MultiMap headers(String... pairs) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      m.add(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  private static List<String> strings(JsonArray a) {
    return a == null ? List.of() : a.stream().map(String::valueOf).toList();
  }

  record Resp(int status, MultiMap headers, Buffer body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  private static Resp get(int port, String uri, MultiMap headers) throws Exception {
    Future<Resp> f = client.request(new RequestOptions().setHost("127.0.0.1").setPort(port).setURI(uri)
            .setHeaders(headers))
        .compose(req -> req.send().compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(),
            resp.headers(), b))));
    return f.toCompletionStage().toCompletableFuture().get(Timeouts.scaled(Duration.ofSeconds(20)).toSeconds(),
        TimeUnit.SECONDS);
  }

  record Raw(int status, MultiMap headers, byte[] body) {
    JsonObject json() {
      return new JsonObject(new String(body, StandardCharsets.UTF_8));
    }
  }

  /** Sends bytes exactly as given; reads one response (Content-Length, chunked, or to end of stream). */
  private static Raw raw(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(20)).toMillis());
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      InputStream in = new BufferedInputStream(s.getInputStream());
      String statusLine = line(in);
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      MultiMap headers = MultiMap.caseInsensitiveMultiMap();
      for (String l = line(in); !l.isEmpty(); l = line(in)) {
        int colon = l.indexOf(':');
        headers.add(l.substring(0, colon).strip(), l.substring(colon + 1).strip());
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
        for (int size = Integer.parseInt(line(in).split(";")[0].strip(), 16); size > 0;
            size = Integer.parseInt(line(in).split(";")[0].strip(), 16)) {
          body.write(in.readNBytes(size));
          line(in);
        }
      } else if (headers.get("Content-Length") != null) {
        body.write(in.readNBytes(Integer.parseInt(headers.get("Content-Length").strip())));
      } else {
        body.write(in.readAllBytes());
      }
      return new Raw(status, headers, body.toByteArray());
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private static byte[] gzip(String text) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream z = new GZIPOutputStream(out)) {
        z.write(text.getBytes(StandardCharsets.UTF_8));
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
