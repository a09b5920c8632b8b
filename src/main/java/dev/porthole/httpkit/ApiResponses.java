package dev.porthole.httpkit;

import dev.porthole.bus.FailureCode;
import dev.porthole.json.GoJson;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every JSON response of porthole's HTTP APIs, the app-server's and the relay's admin API: compact
 * JSON encoded as Go does (HTML characters escaped), a HEAD request answered with the length and no
 * body, errors as {@code {"message": …}}, and the one mapping from bus failures to HTTP statuses.
 */
public final class ApiResponses {
  private static final Logger log = LoggerFactory.getLogger(ApiResponses.class);

  /** The routes whose failures map differently (portr-protocol §6.3). */
  public enum Route { START, TUNNEL, QUERY, REQUESTS, RENEW }

  private ApiResponses() {
  }

  public static void json(RoutingContext rc, int status, JsonObject body) {
    json(rc, status, Buffer.buffer(goEncode(body)));
  }

  /** An already encoded body. */
  public static void json(RoutingContext rc, int status, Buffer body) {
    if (rc.response().ended() || rc.response().closed()) {
      return;
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json");
    if (rc.request().method() == HttpMethod.HEAD) {
      rc.response().putHeader("Content-Length", String.valueOf(body.length())).end();
    } else {
      rc.response().end(body);
    }
  }

  public static void message(RoutingContext rc, int status, String message) {
    json(rc, status, new JsonObject().put("message", message));
  }

  /** 405 with {@code Allow}. */
  public static void methodNotAllowed(RoutingContext rc, String allow) {
    rc.response().putHeader("Allow", allow);
    message(rc, 405, "method must be one of: " + allow);
  }

  /** The body as Go's encoding/json writes it (see {@link GoJson#encode}). */
  public static String goEncode(JsonObject body) {
    return GoJson.encode(body);
  }

  /** JSON bodies for the statuses a router produces by itself; {@code what} names the API in the log. */
  public static void routerErrors(Router router, String what) {
    router.errorHandler(404, rc -> message(rc, 404,
        "Cannot " + rc.request().method().name() + " " + rc.request().path()));
    router.errorHandler(405, rc -> message(rc, 405, "Method Not Allowed"));
    router.errorHandler(413, rc -> message(rc, 413, "request body too large"));
    router.errorHandler(400, rc -> message(rc, 400, "bad request"));
    router.errorHandler(500, rc -> {
      log.error("{} {} {} failed", what, rc.request().method(), rc.request().path(), rc.failure());
      message(rc, 500, "internal error");
    });
  }

  /**
   * The HTTP status of a failed bus request, by route: the one place where {@link FailureCode}s
   * become statuses. A request nobody answered (timeout, no handler) is 503; anything that is not
   * a bus failure, 500.
   */
  public static int status(Throwable err, Route route) {
    if (!(err instanceof ReplyException re)) {
      return 500;
    }
    if (unanswered(re)) {
      return 503;
    }
    return switch (FailureCode.of(re.failureCode())) {
      case INVALID_REQUEST -> route == Route.START || route == Route.REQUESTS || route == Route.RENEW ? 400 : 500;
      case START_FAILED -> route == Route.START ? 400 : 500;
      case TUNNEL_NOT_FOUND, REQUEST_NOT_FOUND -> 404;
      case TUNNEL_NOT_RUNNING -> 409;
      case LOG_UNAVAILABLE -> 503;
      case SHUTTING_DOWN, NODE_UNAVAILABLE -> 503;
      case LIMIT_REACHED -> 429;
      case INTERNAL -> 500;
    };
  }

  private static boolean unanswered(ReplyException re) {
    return re.failureType() == ReplyFailure.TIMEOUT || re.failureType() == ReplyFailure.NO_HANDLERS;
  }

  /** A failed bus request → status ({@link #status}) and message. */
  public static void failure(RoutingContext rc, Throwable err, Route route) {
    if (!(err instanceof ReplyException re)) {
      log.error("{} {} failed", rc.request().method(), rc.request().path(), err);
      message(rc, 500, "internal error");
      return;
    }
    if (unanswered(re)) {
      String who = route == Route.REQUESTS ? "request log" : "tunnel manager";
      log.warn("{} {}: the {} did not answer ({})", rc.request().method(), rc.request().path(), who,
          re.failureType());
      message(rc, 503, who + " unavailable");
      return;
    }
    int status = status(err, route);
    if (status == 429) {
      rc.response().putHeader("Retry-After", "5");
    }
    message(rc, status, re.getMessage());
  }
}
