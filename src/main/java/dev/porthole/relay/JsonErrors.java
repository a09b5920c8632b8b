package dev.porthole.relay;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** JSON responses and the JSON error pages of the relay's admin API. */
final class JsonErrors {
  private static final Logger log = LoggerFactory.getLogger(JsonErrors.class);

  private JsonErrors() {
  }

  static void json(RoutingContext rc, int status, JsonObject body) {
    if (rc.response().ended() || rc.response().closed()) {
      return;
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json");
    if (rc.request().method() == HttpMethod.HEAD) {
      rc.response().putHeader("Content-Length", String.valueOf(body.toBuffer().length())).end();
    } else {
      rc.response().end(body.toBuffer());
    }
  }

  static void message(RoutingContext rc, int status, String message) {
    json(rc, status, new JsonObject().put("message", message));
  }

  static void methodNotAllowed(RoutingContext rc, String allow) {
    rc.response().putHeader("Allow", allow);
    message(rc, 405, "method must be one of: " + allow);
  }

  /** JSON bodies for the statuses the router produces by itself. */
  static void install(Router router) {
    router.errorHandler(404, rc -> message(rc, 404,
        "Cannot " + rc.request().method().name() + " " + rc.request().path()));
    router.errorHandler(405, rc -> message(rc, 405, "Method Not Allowed"));
    router.errorHandler(413, rc -> message(rc, 413, "request body too large"));
    router.errorHandler(400, rc -> message(rc, 400, "bad request"));
    router.errorHandler(500, rc -> {
      log.error("admin API {} {} failed", rc.request().method(), rc.request().path(), rc.failure());
      message(rc, 500, "internal error");
    });
  }
}
