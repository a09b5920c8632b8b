package dev.porthole.httpkit;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.util.Locale;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A WebSocket upgrade that reached a router as a plain request, seen as the handshake it asks for:
 * {@link #accept} upgrades it ({@link HttpServerRequest#toWebSocket}), {@link #reject} answers it as
 * a request, with the API's {@code {"message"}} body. The request is paused from the start, so a
 * guard may decide asynchronously before either; headers set on {@link #headers} before {@link
 * #accept} are what the handshake reads (the chosen subprotocol).
 */
public final class RequestHandshake implements ServerWebSocketHandshake {
  private final HttpServerRequest req;

  public RequestHandshake(HttpServerRequest req) {
    this.req = req;
    req.pause();
  }

  /** A WebSocket upgrade as Vert.x tells one ({@code Upgrade: websocket}, HTTP/1.x). */
  public static boolean isUpgrade(HttpServerRequest req) {
    return req.version() != HttpVersion.HTTP_2 && req.headers().contains(HttpHeaders.UPGRADE, HttpHeaders.WEBSOCKET, true);
  }

  @Override
  public MultiMap headers() {
    return req.headers();
  }

  @Override
  public String scheme() {
    return req.scheme();
  }

  @Override
  public HostAndPort authority() {
    return req.authority();
  }

  @Override
  public String uri() {
    return req.uri();
  }

  @Override
  public String path() {
    return req.path();
  }

  @Override
  public String query() {
    return req.query();
  }

  @Override
  public Future<ServerWebSocket> accept() {
    return req.toWebSocket();
  }

  @Override
  public Future<Void> reject(int status) {
    if (req.response().ended() || req.response().closed()) {
      return Future.succeededFuture();
    }
    String reason = HttpResponseStatus.valueOf(status).reasonPhrase().toLowerCase(Locale.ROOT);
    Future<Void> sent = req.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("message", reason).encode());
    // Whatever the request still holds (nothing, for a GET) is read and dropped, so the
    // connection can go on to its next request.
    req.resume();
    return sent;
  }

  @Override
  public SocketAddress remoteAddress() {
    return req.remoteAddress();
  }

  @Override
  public SocketAddress localAddress() {
    return req.localAddress();
  }

  @Override
  public boolean isSsl() {
    return req.isSSL();
  }

  @Override
  public SSLSession sslSession() {
    return req.sslSession();
  }

  @Override
  public List<Certificate> peerCertificates() throws SSLPeerUnverifiedException {
    return req.connection().peerCertificates();
  }
}
