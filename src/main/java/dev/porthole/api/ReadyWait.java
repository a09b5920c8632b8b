package dev.porthole.api;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.health.Probes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;

/**
 * {@code ?wait=ready}: after a start, polls until the tunnel is running and answers end to end
 * (HTTP: porthole's own answer to a ping through the public URL; TCP: the public port accepts a
 * connection), or the deadline passes.
 */
final class ReadyWait {
  static final long POLL_MS = 200;
  static final long PROBE_TIMEOUT_MS = 2_000;

  private final Vertx vertx;
  private final HttpClient http;
  private final NetClient tcp;

  ReadyWait(Vertx vertx, HttpClient http, NetClient tcp) {
    this.vertx = vertx;
    this.http = http;
    this.tcp = tcp;
  }

  /** Completes with the tunnel's latest status when ready, or fails when {@code deadlineNanos} passes. */
  Future<JsonObject> await(String tunnelId, long deadlineNanos) {
    Promise<JsonObject> done = Promise.promise();
    poll(tunnelId, deadlineNanos, done);
    return done.future();
  }

  private void poll(String id, long deadline, Promise<JsonObject> done) {
    vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_GET, new JsonObject().put("id", id),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
        .map(Message::body)
        .compose(status -> {
          String s = status.getString("status");
          if (s.equals(TunnelStatus.STOPPED) || s.equals(TunnelStatus.FAILED)) {
            return Future.failedFuture(new IllegalStateException("tunnel " + id + " is " + s
                + (status.containsKey("last_error") ? ": " + status.getString("last_error") : "")));
          }
          if (!s.equals(TunnelStatus.RUNNING) || !status.containsKey("tunnel_url")) {
            return Future.succeededFuture((JsonObject) null);
          }
          Future<Probes.Result> probe = "http".equals(status.getString("type"))
              ? Probes.http(http, status.getString("tunnel_url"), PROBE_TIMEOUT_MS)
              : Probes.tcp(tcp, status.getString("tunnel_url"));
          return probe.map(r -> r.ok() ? status : null);
        })
        .onComplete(ar -> {
          if (ar.failed()) {
            done.tryFail(ar.cause());
          } else if (ar.result() != null) {
            done.tryComplete(ar.result());
          } else if (System.nanoTime() >= deadline) {
            done.tryFail(new ReadyTimeout());
          } else {
            vertx.setTimer(POLL_MS, t -> poll(id, deadline, done));
          }
        });
  }

  /** The deadline passed before the tunnel answered. */
  static final class ReadyTimeout extends Exception {
    ReadyTimeout() {
      super("not ready", null, false, false);
    }
  }
}
