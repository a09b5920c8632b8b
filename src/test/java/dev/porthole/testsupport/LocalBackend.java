package dev.porthole.testsupport;

import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A local Vert.x HTTP service on port 0, the "local service" behind a tunnel:
 * {@code /} answers {@code hello from <name>}, {@code /stream} sends {@code first-chunk}, waits
 * for {@link #release()}, then {@code second-chunk} and trailer {@code X-Tunnel-Trailer:
 * complete}; {@code /body} reads the body (answering {@code Expect: 100-continue}) and says how
 * many bytes it got; {@code /echo} upgrades to a WebSocket that echoes {@code echo:<text>}. Every request
 * is recorded.
 */
public final class LocalBackend implements AutoCloseable {
  private final Vertx vertx;
  private final String name;
  private final HttpServer server;
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private final List<String> hosts = new CopyOnWriteArrayList<>();
  private final List<String> pings = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private volatile Promise<Void> release = Promise.promise();

  private LocalBackend(Vertx vertx, String name) throws Exception {
    this.vertx = vertx;
    this.name = name;
    this.server = vertx.createHttpServer()
        .webSocketHandler(this::webSocket)
        .requestHandler(this::request)
        .listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  public static LocalBackend start(Vertx vertx, String name) throws Exception {
    return new LocalBackend(vertx, name);
  }

  public int port() {
    return server.actualPort();
  }

  /** "METHOD path" of every request served, in order. */
  public List<String> seen() {
    return seen;
  }

  /** The Host of every {@code X-Portr-Ping-Request: true} request (answered 200, not in {@link #seen()}). */
  public List<String> pings() {
    return pings;
  }

  /** The Authorization header of every request served ("null" when absent). */
  public List<String> authorizations() {
    return authorizations;
  }

  /** The Host header of every request served. */
  public List<String> hosts() {
    return hosts;
  }

  public void release() {
    vertx.runOnContext(v -> release.tryComplete());
  }

  private void request(HttpServerRequest req) {
    if (req.path().equals("/echo") && "websocket".equalsIgnoreCase(req.getHeader("Upgrade"))) {
      return;
    }
    if ("true".equals(req.getHeader("X-Portr-Ping-Request"))) {
      pings.add(String.valueOf(req.getHeader("Host")));
      req.response().end();
      return;
    }
    seen.add(req.method() + " " + req.uri());
    hosts.add(String.valueOf(req.getHeader("Host")));
    authorizations.add(String.valueOf(req.getHeader("Authorization")));
    Handler<Void> respond;
    switch (req.path()) {
      case "/stream" -> respond = v -> {
        var res = req.response().setChunked(true).putHeader("Content-Type", "text/plain");
        res.setStatusCode(201);
        res.write("first-chunk\n");
        Promise<Void> gate = release;
        gate.future().onComplete(done -> {
          release = Promise.promise();
          res.write("second-chunk\n");
          res.trailers().add("X-Tunnel-Trailer", "complete");
          res.end();
        });
      };
      case "/body" -> respond = v -> {
        if ("100-continue".equalsIgnoreCase(req.getHeader("Expect"))) {
          req.response().writeContinue();
        }
        req.body().onSuccess(b ->
            req.response().putHeader("Content-Type", "text/plain").end(name + " got " + b.length() + " bytes"));
      };
      default -> respond = v -> req.response().putHeader("Content-Type", "text/plain").end("hello from " + name);
    }
    respond.handle(null);
  }

  private void webSocket(ServerWebSocket ws) {
    if (!ws.path().equals("/echo")) {
      ws.close((short) 1008, "no such endpoint");
      return;
    }
    ws.textMessageHandler(text -> ws.writeTextMessage("echo:" + text));
  }

  @Override
  public void close() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(Duration.ofSeconds(10).toSeconds(), TimeUnit.SECONDS);
  }
}
