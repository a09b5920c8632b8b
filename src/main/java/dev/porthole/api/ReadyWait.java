package dev.porthole.api;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.health.Probes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.util.concurrent.TimeUnit;

/**
 * {@code ?wait=ready}: after a start, completes once the tunnel is running and answers end to end
 * (HTTP: porthole's own answer to a ping through the public URL; TCP: the public port accepts a
 * connection), or fails when the deadline passes or the tunnel fails or stops.
 *
 * <p>It does not poll the manager: it listens to {@code porthole.tunnels.lifecycle} for the
 * tunnel, and reads its status ({@code porthole.tunnels.get}) once when it starts listening (what
 * happened before), once per event, and once to confirm after a probe succeeded. Only the probe
 * repeats on a timer, while the tunnel is running but its public side does not answer yet (the
 * relay may still be setting up the route). One consumer and two timers per wait, all gone when it
 * ends.
 */
final class ReadyWait {
  static final long PROBE_RETRY_MS = 200;
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
    return new Wait(tunnelId).start(deadlineNanos);
  }

  /** One wait. Every step runs on the verticle's event loop; {@code round} makes stale steps no-ops. */
  private final class Wait {
    final String id;
    final Promise<JsonObject> done = Promise.promise();
    MessageConsumer<JsonObject> consumer;
    long deadlineTimer = -1;
    long retryTimer = -1;
    /** Bumped by every event: a status read or probe of an earlier round is no longer acted on. */
    int round;

    Wait(String id) {
      this.id = id;
    }

    Future<JsonObject> start(long deadlineNanos) {
      long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (remainingMs <= 0) {
        return Future.failedFuture(new ReadyTimeout());
      }
      deadlineTimer = vertx.setTimer(remainingMs, t -> finish(null, new ReadyTimeout()));
      consumer = vertx.eventBus().localConsumer(Addresses.TUNNELS_LIFECYCLE, m -> {
        if (id.equals(m.body().getString("tunnel_id"))) {
          wake();
        }
      });
      // Registered first, then read: an event between the two only causes one more read.
      consumer.completion().onSuccess(v -> wake()).onFailure(err -> finish(null, err));
      return done.future();
    }

    private boolean stale(int r) {
      return done.future().isComplete() || r != round;
    }

    private void wake() {
      int r = ++round;
      vertx.cancelTimer(retryTimer);
      status().onComplete(ar -> {
        if (!stale(r)) {
          if (ar.failed()) {
            finish(null, ar.cause());
          } else {
            decide(r, ar.result());
          }
        }
      });
    }

    private void decide(int r, JsonObject status) {
      String s = status.getString("status");
      if (s.equals(TunnelStatus.STOPPED) || s.equals(TunnelStatus.FAILED)) {
        finish(null, new IllegalStateException("tunnel " + id + " is " + s
            + (status.containsKey("last_error") ? ": " + status.getString("last_error") : "")));
      } else if (working(status)) {
        probe(r, status);
      }
      // Otherwise (starting, unhealthy): the next lifecycle event wakes this wait up.
    }

    private void probe(int r, JsonObject status) {
      Future<Probes.Result> probe = !"tcp".equals(status.getString("type"))
          ? Probes.http(http, status.getString("tunnel_url"), PROBE_TIMEOUT_MS)
          : Probes.tcp(tcp, status.getString("tunnel_url"));
      probe.onComplete(ar -> {
        if (stale(r)) {
          return;
        }
        if (ar.succeeded() && ar.result().ok()) {
          confirm(r);
        } else {
          retryTimer = vertx.setTimer(PROBE_RETRY_MS, t -> {
            if (!stale(r)) {
              probe(r, status);
            }
          });
        }
      });
    }

    /** The answer is the status after the probe, and the tunnel must still be running then. */
    private void confirm(int r) {
      status().onComplete(ar -> {
        if (stale(r)) {
          return;
        }
        if (ar.failed()) {
          finish(null, ar.cause());
        } else if (working(ar.result())) {
          finish(ar.result(), null);
        } else {
          decide(r, ar.result());
        }
      });
    }

    private Future<JsonObject> status() {
      return vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_GET, new JsonObject().put("id", id),
          new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS)).map(Message::body);
    }

    private void finish(JsonObject status, Throwable failure) {
      if (done.future().isComplete()) {
        return;
      }
      vertx.cancelTimer(deadlineTimer);
      vertx.cancelTimer(retryTimer);
      consumer.unregister();
      if (failure != null) {
        done.fail(failure);
      } else {
        done.complete(status);
      }
    }
  }

  private static boolean working(JsonObject status) {
    return TunnelStatus.RUNNING.equals(status.getString("status")) && status.containsKey("tunnel_url");
  }

  /** The deadline passed before the tunnel answered. */
  static final class ReadyTimeout extends Exception {
    ReadyTimeout() {
      super("not ready", null, false, false);
    }
  }
}
