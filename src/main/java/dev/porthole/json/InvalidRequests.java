package dev.porthole.json;

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
    if (cause instanceof TooLongFrameException) {
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
}
