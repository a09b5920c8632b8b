package dev.porthole.edge;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WebSocket upgrades through the edge (portr-protocol §4.5), relayed here rather than by
 * vertx-http-proxy so that the frames can be recorded: the upgrade goes to the local service (5 s
 * dial); its 101 goes back to the caller with the same head and then the raw bytes flow both ways,
 * unchanged and with backpressure, bytes already read past either handshake included. Frames are
 * parsed from copies only to record them. Any other answer is relayed as a normal response.
 */
final class UpgradeRelay {
  private static final Logger log = LoggerFactory.getLogger(UpgradeRelay.class);

  private final HttpClient client;
  private final SocketAddress local;
  private final CaptureSink capture;
  private final BiConsumer<HttpServerRequest, Recording> notOnline;

  /**
   * @param capture null when capture is off
   * @param notOnline answers 503 {@code local-server-not-online} (and records it)
   */
  UpgradeRelay(HttpClient client, SocketAddress local, CaptureSink capture,
      BiConsumer<HttpServerRequest, Recording> notOnline) {
    this.client = client;
    this.local = local;
    this.capture = capture;
    this.notOnline = notOnline;
  }

  /** Portr's test: {@code Upgrade: websocket} and a {@code Connection} that mentions upgrade. */
  static boolean isUpgrade(HttpServerRequest in) {
    String upgrade = in.getHeader(HttpHeaders.UPGRADE);
    if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
      return false;
    }
    String connection = in.getHeader(HttpHeaders.CONNECTION);
    return connection != null && connection.toLowerCase(Locale.ROOT).contains("upgrade");
  }

  /** @param r the exchange being recorded, or null */
  void relay(HttpServerRequest in, Recording r) {
    in.pause();
    client.request(new RequestOptions().setServer(local).setMethod(in.method()).setURI(in.uri()))
        .compose(req -> {
          copyHeaders(in, req);
          req.exceptionHandler(err -> log.debug("upgrade to {} ended: {}", local, err.toString()));
          req.connection().exceptionHandler(err -> log.debug("upgrade connection to {}: {}", local, err.toString()));
          return req.connect();
        })
        .onComplete(ar -> {
          if (ar.failed()) {
            log.debug("upgrade: local service {} unreachable: {}", local, ar.cause().toString());
            in.resume();
            notOnline.accept(in, r);
          } else if (ar.result().statusCode() == 101) {
            switchProtocols(in, ar.result(), r);
          } else {
            relayResponse(in, ar.result(), r);
          }
        });
  }

  /**
   * The caller's headers, as the proxied path sends them: its Host kept, {@code Connection:
   * Upgrade} (what Vert.x's client needs to switch), the caller's address appended to {@code
   * X-Forwarded-For}, the replay key never.
   */
  private static void copyHeaders(HttpServerRequest in, HttpClientRequest req) {
    MultiMap out = req.headers();
    for (Map.Entry<String, String> h : in.headers()) {
      String name = h.getKey();
      if (name.equalsIgnoreCase("Connection") || name.equalsIgnoreCase(TunnelEdgeVerticle.REPLAY_KEY_HEADER)
          || name.equalsIgnoreCase("X-Forwarded-For")) {
        continue;
      }
      out.add(name, h.getValue());
    }
    out.set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE);
    String forwardedFor = in.getHeader("X-Forwarded-For");
    String caller = in.remoteAddress() == null ? null : in.remoteAddress().hostAddress();
    if (caller != null) {
      out.set("X-Forwarded-For", forwardedFor == null ? caller : forwardedFor + ", " + caller);
    } else if (forwardedFor != null) {
      out.set("X-Forwarded-For", forwardedFor);
    }
  }

  private void switchProtocols(HttpServerRequest in, HttpClientResponse resp, Recording r) {
    NetSocket toLocal = resp.netSocket();
    toLocal.pause();
    HttpServerResponse out = in.response();
    out.setStatusCode(101);
    out.headers().addAll(resp.headers());
    in.resume();
    in.toNetSocket().onComplete(ar -> {
      if (ar.failed()) {
        log.debug("upgrade: caller connection lost before the switch: {}", ar.cause().toString());
        toLocal.close();
        if (r != null) {
          r.release();
        }
        return;
      }
      String session = null;
      if (r != null) {
        r.status = 101;
        r.responseHeaders = capture.headers.response(resp.headers(), false);
        session = capture.open(r);
      }
      splice(ar.result(), toLocal, session);
    });
  }

  /** Both directions piped, recorded when {@code session} is set; the session closes once both sockets have. */
  private void splice(NetSocket caller, NetSocket toLocal, String session) {
    ReadStream<Buffer> fromCaller = caller;
    ReadStream<Buffer> fromLocal = toLocal;
    WsFrameParser clientFrames = session == null ? null : capture.frames(session, "client");
    WsFrameParser serverFrames = session == null ? null : capture.frames(session, "server");
    if (session != null) {
      fromCaller = new Tap(caller, clientFrames);
      fromLocal = new Tap(toLocal, serverFrames);
    }
    Session s = new Session(session);
    fromCaller.pipeTo(toLocal).onFailure(s::failed);
    fromLocal.pipeTo(caller).onFailure(s::failed);
    caller.closeHandler(v -> {
      if (clientFrames != null) {
        clientFrames.close();
      }
      toLocal.close();
      s.closed();
    });
    toLocal.closeHandler(v -> {
      if (serverFrames != null) {
        serverFrames.close();
      }
      caller.close();
      s.closed();
    });
  }

  private final class Session {
    private final String id;
    private int closed;
    private String reason = "";

    Session(String id) {
      this.id = id;
    }

    void failed(Throwable err) {
      if (reason.isEmpty() && !(err instanceof ClosedChannelException) && err.getMessage() != null
          && !err.getMessage().toLowerCase(Locale.ROOT).contains("closed")) {
        reason = err.getMessage();
      }
    }

    void closed() {
      if (++closed == 2 && id != null) {
        capture.close(id, reason);
      }
    }
  }

  /** A non-101 answer to an upgrade: relayed and recorded like any response. */
  private void relayResponse(HttpServerRequest in, HttpClientResponse resp, Recording r) {
    HttpServerResponse out = in.response();
    out.setStatusCode(resp.statusCode());
    if (resp.statusMessage() != null) {
      out.setStatusMessage(resp.statusMessage());
    }
    for (Map.Entry<String, String> h : resp.headers()) {
      String name = h.getKey();
      if (!name.equalsIgnoreCase("Transfer-Encoding") && !name.equalsIgnoreCase("Connection")
          && !name.equalsIgnoreCase("Keep-Alive")) {
        out.headers().add(name, h.getValue());
      }
    }
    if (!out.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      out.setChunked(true);
    }
    ReadStream<Buffer> body = resp;
    if (r != null) {
      r.status = resp.statusCode();
      r.responseHeaders = capture.headers.response(resp.headers(), false);
      body = new Tap(resp, r.responseBody);
      out.endHandler(v -> capture.finish(r));
    }
    in.resume();
    Future<Void> sent = body.pipeTo(out);
    sent.onFailure(err -> log.debug("upgrade answer {} not relayed: {}", resp.statusCode(), err.toString()));
  }
}
