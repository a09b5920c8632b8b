package dev.porthole.httpkit;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.ProxyContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The origin request of a vertx-http-proxy hop, shaped like Go's {@code httputil.ReverseProxy}:
 * the caller's {@code Host} kept (vertx-http-proxy would send the origin's address), the caller's
 * address appended to {@code X-Forwarded-For}, and transport errors handled quietly (the caller
 * decides what a failure means).
 */
public final class ProxyOrigins {
  private static final Logger log = LoggerFactory.getLogger(ProxyOrigins.class);

  private ProxyOrigins() {
  }

  public static Future<HttpClientRequest> request(ProxyContext ctx, SocketAddress origin) {
    HttpServerRequest in = ctx.request().proxiedRequest();
    return ctx.client().request(new RequestOptions().setServer(origin)).map(req -> {
      String host = in.headers().get(HttpHeaders.HOST);
      if (host != null) {
        req.putHeader(HttpHeaders.HOST, host);
      }
      String forwardedFor = in.headers().get("X-Forwarded-For");
      String client = in.remoteAddress() == null ? null : in.remoteAddress().hostAddress();
      if (client != null) {
        req.putHeader("X-Forwarded-For", forwardedFor == null ? client : forwardedFor + ", " + client);
      }
      // The proxy's WebSocket path sets no handler, so an origin closing after a normal WebSocket
      // end would be logged by Vert.x as an unhandled error; the proxy's own handler replaces this.
      req.exceptionHandler(err -> log.debug("origin {} request ended: {}", origin, err.toString()));
      // Without a handler Vert.x logs every reset connection at ERROR; here it is an expected
      // transport failure that the caller's retry or error page deals with.
      req.connection().exceptionHandler(err -> log.debug("origin {} connection: {}", origin, err.toString()));
      return req;
    });
  }
}
