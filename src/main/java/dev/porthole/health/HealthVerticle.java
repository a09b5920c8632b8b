package dev.porthole.health;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.WorkerSignal;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The health schedule (portr-protocol §3.3, §5): keeps the set of live tunnels from the published
 * lifecycle events, and every {@code interval_seconds} asks each one's worker for a keepalive on
 * every SSH session (5 s limit; the worker reports a failure as {@code unhealthy} and reconnects).
 * For an HTTP tunnel whose sessions answered, it then pings the public URL end to end; when the
 * relay says it lost the route (404 {@code unregistered-subdomain}) or cannot reach the tunnel (503
 * {@code connection-lost}) while SSH looked fine, it tells the worker to reconnect with that
 * reason. One check per tunnel at a time; a tunnel still connecting (worker busy) is skipped.
 */
public final class HealthVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HealthVerticle.class);
  static final long PROBE_TIMEOUT_MS = 5_000;
  static final int MAX_CONCURRENT = 64;

  private record Live(String type, String tunnelUrl) {
  }

  private final Map<String, Live> live = new HashMap<>();
  private final Set<String> checking = new HashSet<>();
  private HttpClient http;
  private Integer intervalSeconds;

  /** The interval from {@code config()}: {@code interval_seconds}, default 3. */
  public HealthVerticle() {
  }

  /** @param intervalSeconds Portr's effective {@code health_check_interval} */
  public HealthVerticle(int intervalSeconds) {
    this.intervalSeconds = intervalSeconds;
  }

  @Override
  public Future<?> start() {
    long intervalMs = (intervalSeconds != null ? intervalSeconds : config().getInteger("interval_seconds", 3)) * 1000L;
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) PROBE_TIMEOUT_MS)
        .setKeepAlive(false).setTrustAll(false));
    vertx.setPeriodic(intervalMs, id -> round());
    return vertx.eventBus().<JsonObject>localConsumer(Addresses.TUNNELS_LIFECYCLE, m -> {
      if (!Addresses.isRelayed(m.headers())) {
        track(m.body()); // only this node's workers can be checked
      }
    }).completion();
  }

  private void track(JsonObject e) {
    String id = e.getString("tunnel_id");
    switch (e.getString("type")) {
      case WorkerSignal.STARTED, WorkerSignal.RECONNECTED ->
          live.put(id, new Live(e.getString("connection_type"), e.getString("tunnel_url", "")));
      default -> live.remove(id);
    }
  }

  private void round() {
    for (Map.Entry<String, Live> t : Map.copyOf(live).entrySet()) {
      if (checking.size() >= MAX_CONCURRENT) {
        return;
      }
      if (checking.add(t.getKey())) {
        check(t.getKey(), t.getValue()).onComplete(ar -> checking.remove(t.getKey()));
      }
    }
  }

  private Future<Void> check(String tunnelId, Live tunnel) {
    String control = Addresses.workerControl(tunnelId);
    return vertx.eventBus().<JsonObject>request(control, new JsonObject().put("op", Addresses.OP_CHECK),
            new DeliveryOptions().setSendTimeout(Addresses.CHECK_TIMEOUT_MS).setLocalOnly(true))
        .compose(reply -> {
          if (reply.body().getInteger("failed", 0) > 0 || "tcp".equals(tunnel.type()) || tunnel.tunnelUrl().isEmpty()) {
            return Future.<Void>succeededFuture();
          }
          return Probes.http(http, tunnel.tunnelUrl(), PROBE_TIMEOUT_MS).compose(result -> {
            if (result.ok()) {
              return Future.<Void>succeededFuture();
            }
            if (!result.definitive()) {
              log.debug("health(tunnel={}) public probe inconclusive: {}", tunnelId, result.reason());
              return Future.<Void>succeededFuture();
            }
            if (!live.containsKey(tunnelId)) {
              return Future.<Void>succeededFuture();
            }
            log.warn("health(tunnel={}) {}: reconnecting", tunnelId, result.reason());
            return vertx.eventBus().request(control, new JsonObject().put("op", Addresses.OP_RECONNECT)
                    .put("reason", result.reason()), new DeliveryOptions().setLocalOnly(true)
                    .setSendTimeout(Addresses.CHECK_TIMEOUT_MS))
                .<Void>mapEmpty();
          });
        })
        .<Void>recover(err -> {
          // No answer: the worker is busy connecting, or gone; its own signals tell the truth.
          log.debug("health(tunnel={}) check skipped: {}", tunnelId, err.getMessage());
          return Future.succeededFuture();
        });
  }
}
