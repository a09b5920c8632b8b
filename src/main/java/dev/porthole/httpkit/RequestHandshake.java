package dev.porthole.httpkit;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.security.cert.Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A WebSocket upgrade request seen as a {@link ServerWebSocketHandshake}. The server has no
 * handshake handler (with one, Vert.x would take every upgrade away from the router, and the SockJS
 * bridge upgrades inside the router), so the request handler hands the access room's upgrades over
 * in this shape. The request is paused at once, so that its end is still to come when {@link
 * #accept} (which may be called later) asks Vert.x for the WebSocket.
 */
public final class RequestHandshake implements ServerWebSocketHandshake {
  private final HttpServerRequest req;

  public RequestHandshake(HttpServerRequest req) {
    this.req = req;
    req.pause();
  }

  /** The request asks for a WebSocket (the test Vert.x itself makes before calling a handshake handler). */
  public static boolean isUpgrade(HttpServerRequest req) {
    return req.headers().contains(HttpHeaders.UPGRADE, HttpHeaders.WEBSOCKET, true);
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

  /** As Vert.x's own: the status with its reason phrase, then the connection closes. */
  @Override
  public Future<Void> reject(int status) {
    req.resume();
    return req.response().setStatusCode(status).end(HttpResponseStatus.valueOf(status).reasonPhrase())
        .eventually(() -> req.connection().close());
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
