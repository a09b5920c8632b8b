package dev.porthole.httpkit;

import dev.porthole.bus.FailureCode;
import dev.porthole.json.GoJson;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every response of the API: compact JSON encoded as Go does (HTML characters escaped), errors as
 * {@code {"message": …}}, and the one mapping from bus failures to HTTP statuses.
 */
public final class ApiResponses {
  private static final Logger log = LoggerFactory.getLogger(ApiResponses.class);

  /** The routes whose failures map differently (portr-compat §6.3). */
  public enum Route { START, TUNNEL, QUERY }

  private ApiResponses() {
  }

  public static void json(RoutingContext rc, int status, JsonObject body) {
    if (rc.response().ended() || rc.response().closed()) {
      return;
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(goEncode(body));
  }

  /** An already encoded body. */
  public static void json(RoutingContext rc, int status, Buffer body) {
    if (rc.response().ended() || rc.response().closed()) {
      return;
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }

  public static void message(RoutingContext rc, int status, String message) {
    json(rc, status, new JsonObject().put("message", message));
  }

  /** The body as Go's encoding/json writes it (see {@link GoJson#encode}). */
  public static String goEncode(JsonObject body) {
    return GoJson.encode(body);
  }

  /** A failed bus request → status and message, by route. */
  public static void failure(RoutingContext rc, Throwable err, Route route) {
    if (!(err instanceof ReplyException re)) {
      log.error("{} {} failed", rc.request().method(), rc.request().path(), err);
      message(rc, 500, "internal error");
      return;
    }
    switch (re.failureType()) {
      case TIMEOUT, NO_HANDLERS -> {
        log.warn("{} {}: the tunnel manager did not answer ({})", rc.request().method(), rc.request().path(),
            re.failureType());
        message(rc, 503, "tunnel manager unavailable");
        return;
      }
      default -> {
      }
    }
    FailureCode code = FailureCode.of(re.failureCode());
    int status = switch (code) {
      case INVALID_REQUEST, START_FAILED -> route == Route.START ? 400 : 500;
      case TUNNEL_NOT_FOUND -> 404;
      case SHUTTING_DOWN -> 503;
      case LIMIT_REACHED -> 429;
      case INTERNAL -> 500;
    };
    if (status == 429) {
      rc.response().putHeader("Retry-After", "5");
    }
    message(rc, status, re.getMessage());
  }
}
