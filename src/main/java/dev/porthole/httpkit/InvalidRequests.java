package dev.porthole.httpkit;

import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * What porthole's HTTP servers answer when a request cannot even be parsed (an overlong request
 * line, oversized headers, garbage): the status Netty's decoder implies, with a JSON {@code
 * message} like every other error, and the connection closed.
 */
public final class InvalidRequests {
  private InvalidRequests() {
  }

  public static final Handler<HttpServerRequest> JSON = req -> {
    Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
    int status = 400;
    String message = "malformed HTTP request";
    if (cause instanceof HttpVersionGate.UnsupportedVersion) {
      message = "unsupported HTTP version";
    } else if (cause instanceof TooLongFrameException) {
      String what = String.valueOf(cause.getMessage()).toLowerCase();
      if (what.contains("header")) {
        status = 431;
        message = "request headers too large";
      } else {
        status = 414;
        message = "request line too long";
      }
    }
    req.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Connection", "close")
        .end(new JsonObject().put("message", message).encode())
        .onComplete(ar -> req.connection().close());
  };

  /**
   * Vert.x answers a request with an unknown HTTP version ({@code HTTP/9.9}) with a bare 501 unless
   * the server handles WebSockets, in which case the request reaches the router. Servers install
   * this (refusing every handshake: they have no WebSocket endpoints) and {@link #unsupportedVersion}
   * in front of their routes.
   */
  public static final Handler<io.vertx.core.http.ServerWebSocketHandshake> NO_WEBSOCKETS = hs -> hs.reject(404);

  /** True when it answered: 400 JSON and the connection closed, for a request with an unknown HTTP version. */
  public static boolean unsupportedVersion(HttpServerRequest req) {
    if (req.version() != null) {
      return false;
    }
    req.response().setStatusCode(400)
        .putHeader("Content-Type", "application/json")
        .putHeader("Connection", "close")
        .end(new JsonObject().put("message", "unsupported HTTP version").encode())
        .onComplete(ar -> req.connection().close());
    return true;
  }

  /**
   * The routers' failure handler, terminal: a request whose body could not be decoded (broken
   * chunked framing) has lost its connection already, so there is nobody to answer; every other
   * failure is answered here as JSON with its status (500 for an unexpected exception, logged),
   * so nothing falls through to vertx-web's unhandled-failure path.
   */
  public static void routeFailure(io.vertx.ext.web.RoutingContext rc) {
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(InvalidRequests.class);
    Throwable failure = rc.failure();
    if (rc.response().ended() || rc.response().closed()) {
      log.debug("{} {}: request failed after its answer or connection ended: {}", rc.request().method(),
          rc.request().path(), String.valueOf(failure));
      return;
    }
    int status = rc.statusCode() > 0 ? rc.statusCode() : 500;
    String message;
    if (failure instanceof io.netty.handler.codec.DecoderException || failure instanceof NumberFormatException
        || failure instanceof TooLongFrameException) {
      status = 400;
      message = "malformed HTTP request";
    } else if (failure instanceof io.vertx.ext.web.handler.HttpException he) {
      status = he.getStatusCode();
      message = he.getPayload() != null ? he.getPayload() : defaultMessage(status);
    } else {
      message = defaultMessage(status);
    }
    if (status >= 500) {
      log.error("{} {} failed", rc.request().method(), rc.request().path(), failure);
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("message", message).encode());
  }

  private static String defaultMessage(int status) {
    return switch (status) {
      case 400 -> "bad request";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not found";
      case 405 -> "Method Not Allowed";
      case 413 -> "request body too large";
      default -> status >= 500 ? "internal error" : "request refused";
    };
  }

  /** RFC 9112: a request with more than one Host header gets 400. True when it answered. */
  public static boolean duplicateHost(HttpServerRequest req) {
    if (req.headers().getAll("Host").size() <= 1) {
      return false;
    }
    req.response().setStatusCode(400).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("message", "more than one Host header").encode());
    return true;
  }
}
