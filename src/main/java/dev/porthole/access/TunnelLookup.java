package dev.porthole.access;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.bus.TunnelTarget;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.ApiResponses.Route;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

/**
 * Asks the tunnel manager for a tunnel that {@code /p/} and {@code /ws/port-forward/} are to reach
 * ({@link Addresses#TUNNELS_TARGET}: the data path's target, which for a stub is the stub responder
 * and not the status's host/port): one place for the status each access path answers when it cannot.
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
   * The tunnel's target when it is running or unhealthy (both still carry traffic); otherwise a
   * {@link Refused}: 404 unknown tunnel, 409 not running, 503 the manager did not answer.
   */
  static Future<TunnelTarget> reachable(Vertx vertx, String id) {
    return vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_TARGET, new JsonObject().put("id", id),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
        .transform(ar -> {
          if (ar.failed()) {
            return Future.failedFuture(ApiResponses.status(ar.cause(), Route.TUNNEL) == 404
                ? new Refused(404, "tunnel-not-found", "unknown tunnel " + id)
                : new Refused(503, "manager-unavailable", "the tunnel manager did not answer"));
          }
          TunnelTarget target = TunnelTarget.fromJson(ar.result().body());
          String state = target.status();
          if (!state.equals(TunnelStatus.RUNNING) && !state.equals(TunnelStatus.UNHEALTHY)) {
            return Future.failedFuture(new Refused(409, "tunnel-not-running", "tunnel " + id + " is " + state));
          }
          return Future.succeededFuture(target);
        });
  }
}
