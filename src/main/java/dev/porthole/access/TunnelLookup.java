package dev.porthole.access;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.ApiResponses.Route;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * Asks the tunnel manager for a tunnel that {@code /p/} and {@code /ws/port-forward/} are to reach:
 * one place for the status each access path answers when it cannot.
 */
final class TunnelLookup {

  /** Why the tunnel cannot carry traffic: the HTTP status, the error type and the message. */
  static final class Refused extends RuntimeException {
    final int status;
    final String type;

    Refused(int status, String type, String message) {
      super(message, null, false, false);
      this.status = status;
      this.type = type;
    }
  }

  private TunnelLookup() {
  }

  /**
   * The tunnel's status when it is running or unhealthy (both still carry traffic); otherwise a
   * {@link Refused}: 404 unknown tunnel, 409 not running, 503 the manager did not answer.
   */
  static Future<JsonObject> reachable(Vertx vertx, String id) {
    return vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_GET, new JsonObject().put("id", id),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
        .transform(ar -> {
          if (ar.failed()) {
            return Future.failedFuture(ApiResponses.status(ar.cause(), Route.TUNNEL) == 404
                ? new Refused(404, "tunnel-not-found", "unknown tunnel " + id)
                : new Refused(503, "manager-unavailable", "the tunnel manager did not answer"));
          }
          JsonObject status = ar.result().body();
          String state = status.getString("status");
          if (!state.equals(TunnelStatus.RUNNING) && !state.equals(TunnelStatus.UNHEALTHY)) {
            return Future.failedFuture(new Refused(409, "tunnel-not-running", "tunnel " + id + " is " + state));
          }
          return Future.succeededFuture(status);
        });
  }
}
