package dev.porthole.webhook;

import dev.porthole.Version;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.Times;
import dev.porthole.config.WebhookConfig;
import dev.porthole.json.GoJson;
import dev.porthole.metrics.MeterGroup;
import dev.porthole.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Callback delivery (portr-protocol §6.7, made dependable): every recorded lifecycle event is POSTed
 * as the same JSON {@code /api/v1/events} shows to each callback URL of its tunnel. Per tunnel and
 * URL the events go out in order, one at a time (a lane); lanes never wait for each other, and at
 * most {@code webhooks.max_concurrency} requests are in flight. Connection errors, timeouts and 5xx
 * are retried up to {@code webhooks.max_attempts} with exponential backoff and jitter; any other
 * answer is final. Each request carries {@code X-Porthole-Event-Id} and, with {@code
 * webhooks.secret}, {@code X-Porthole-Signature: sha256=<hex HMAC-SHA256 of the body>}. Recent
 * attempts are kept for {@code GET /api/v1/webhooks/deliveries}. Nothing here can slow a tunnel or
 * the API: it only consumes published events.
 */
public final class WebhookVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(WebhookVerticle.class);
  /** Events waiting per lane before the oldest are dropped (a receiver down for a long time). */
  static final int LANE_LIMIT = 1_000;

  private WebhookConfig cfg;
  private WebClient client;
  private Mac mac;
  private final Map<String, Lane> lanes = new HashMap<>();
  private final Deque<Lane> waiting = new ArrayDeque<>();
  private final Deque<JsonObject> deliveries = new ArrayDeque<>();
  private final List<Promise<Void>> drains = new ArrayList<>();
  private int active;
  /** Deliveries (one per event and URL) by outcome: success, rejected, failed, dropped. */
  private MeterGroup meters;
  private Counter success;
  private Counter rejected;
  private Counter failed;
  private Counter dropped;

  /** One tunnel's events for one URL, delivered strictly in order. */
  private static final class Lane {
    final String key;
    final String url;
    final Deque<JsonObject> events = new ArrayDeque<>();
    boolean busy;
    int attempt;

    Lane(String key, String url) {
      this.key = key;
      this.url = url;
    }
  }

  /** Settings from {@code config()}: the configuration tree, of which it reads {@code webhooks}. */
  public WebhookVerticle() {
  }

  public WebhookVerticle(WebhookConfig cfg) {
    this.cfg = cfg;
  }

  @Override
  public Future<?> start() {
    if (cfg == null) {
      cfg = WebhookConfig.from(config());
    }
    if (!cfg.secret().isEmpty()) {
      try {
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(cfg.secret().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      } catch (GeneralSecurityException e) {
        return Future.failedFuture(e);
      }
    }
    meters = Metrics.of(vertx).group();
    success = outcome("success"); // a 2xx answer
    rejected = outcome("rejected"); // another answer that is final (3xx after redirects, 4xx)
    failed = outcome("failed"); // every attempt failed (connection error, timeout, 5xx)
    dropped = outcome("dropped"); // never sent: its lane's backlog was over the bound
    client = WebClient.create(vertx, new WebClientOptions()
        .setUserAgent("porthole/" + Version.get())
        .setFollowRedirects(true)
        .setConnectTimeout((int) cfg.timeout().toMillis()));
    var bus = vertx.eventBus();
    return Future.all(
        bus.<JsonObject>localConsumer(Addresses.TUNNELS_LIFECYCLE, this::enqueue).completion(),
        bus.<JsonObject>localConsumer(Addresses.WEBHOOKS_DELIVERIES, this::listDeliveries).completion(),
        bus.<JsonObject>localConsumer(Addresses.WEBHOOKS_DRAIN, this::drain).completion());
  }

  private void enqueue(Message<JsonObject> m) {
    if (Addresses.isRelayed(m.headers())) {
      return; // another node's tunnel: its owner calls back, once
    }
    for (String url : m.headers().getAll(Addresses.CALLBACK_URL_HEADER)) {
      String key = m.body().getString("tunnel_id") + "\n" + url;
      Lane lane = lanes.computeIfAbsent(key, k -> new Lane(k, url));
      if (lane.events.size() >= LANE_LIMIT) {
        // Drop the oldest event that is not in flight (the head is, while the lane is busy).
        Iterator<JsonObject> it = lane.events.iterator();
        it.next();
        if (lane.busy) {
          it.next();
        }
        it.remove();
        dropped.increment();
        log.warn("callback(url={}, tunnel_id={}) backlog over {}: dropped the oldest waiting event", url,
            m.body().getString("tunnel_id"), LANE_LIMIT);
      }
      lane.events.addLast(m.body());
      schedule(lane);
    }
  }

  private void schedule(Lane lane) {
    if (lane.busy || lane.events.isEmpty()) {
      return;
    }
    if (active >= cfg.maxConcurrency()) {
      if (!waiting.contains(lane)) {
        waiting.addLast(lane);
      }
      return;
    }
    lane.busy = true;
    lane.attempt = 0;
    active++;
    send(lane);
  }

  /** One attempt for the lane's head event. The lane holds a concurrency slot while it runs. */
  private void send(Lane lane) {
    JsonObject event = lane.events.peekFirst();
    lane.attempt++;
    // Byte for byte what /api/v1/events shows (Go's escaping), as portr-protocol §6.7 requires.
    Buffer body = Buffer.buffer(GoJson.encode(event));
    var request = client.postAbs(lane.url)
        .timeout(cfg.timeout().toMillis())
        .putHeader("Content-Type", "application/json")
        .putHeader("X-Porthole-Event-Id", event.getString("id"));
    if (mac != null) {
      request.putHeader("X-Porthole-Signature", "sha256=" + sign(body));
    }
    request.sendBuffer(body).onComplete(ar -> {
      HttpResponse<Buffer> resp = ar.succeeded() ? ar.result() : null;
      boolean retryable = resp == null || resp.statusCode() >= 500;
      record(lane, event, resp, ar.cause());
      if (retryable && lane.attempt < cfg.maxAttempts()) {
        long base = cfg.retryBase().toMillis();
        long delay = base * (1L << Math.min(lane.attempt - 1, 20)) + ThreadLocalRandom.current().nextLong(base / 2 + 1);
        // Free the slot while waiting; the lane stays busy so its order holds.
        active--;
        pumpWaiting();
        vertx.setTimer(delay, id -> {
          active++;
          send(lane);
        });
        return;
      }
      if (retryable) {
        failed.increment();
      } else if (resp.statusCode() / 100 == 2) {
        success.increment();
      } else {
        rejected.increment();
      }
      if (retryable) {
        log.warn("Failed to dispatch app-server callback url={} event={} tunnel_id={} after {} attempt(s): {}",
            lane.url, event.getString("type"), event.getString("tunnel_id"), lane.attempt,
            resp == null ? ar.cause().getMessage() : "HTTP " + resp.statusCode());
      }
      lane.events.pollFirst();
      lane.busy = false;
      active--;
      if (lane.events.isEmpty()) {
        lanes.remove(lane.key);
      } else {
        schedule(lane);
      }
      pumpWaiting();
      if (active == 0 && lanes.isEmpty()) {
        drains.forEach(Promise::tryComplete);
        drains.clear();
      }
    });
  }

  private Counter outcome(String outcome) {
    return meters.counter("porthole.webhook.deliveries", "Callback deliveries, one per event and URL, by outcome "
        + "(success, rejected, failed, dropped)", "outcome", outcome);
  }

  @Override
  public Future<?> stop() {
    if (meters != null) {
      meters.close();
    }
    return Future.succeededFuture();
  }

  private void pumpWaiting() {
    while (active < cfg.maxConcurrency() && !waiting.isEmpty()) {
      schedule(waiting.pollFirst());
    }
  }

  private String sign(Buffer body) {
    return HexFormat.of().formatHex(mac.doFinal(body.getBytes()));
  }

  private void record(Lane lane, JsonObject event, HttpResponse<Buffer> resp, Throwable err) {
    if (cfg.deliveriesKept() == 0) {
      return;
    }
    JsonObject d = new JsonObject()
        .put("url", lane.url)
        .put("tunnel_id", event.getString("tunnel_id"))
        .put("event_id", event.getString("id"))
        .put("event", event.getString("type"))
        .put("attempt", lane.attempt);
    if (resp != null) {
      d.put("status", resp.statusCode());
    } else {
      d.put("error", err == null ? "failed" : String.valueOf(err.getMessage()));
    }
    d.put("at", Times.format(Instant.now()));
    deliveries.addLast(d);
    while (deliveries.size() > cfg.deliveriesKept()) {
      deliveries.removeFirst();
    }
  }

  private void listDeliveries(Message<JsonObject> m) {
    String tunnelId = m.body().getString("tunnel_id", "");
    JsonArray out = new JsonArray();
    for (JsonObject d : deliveries) {
      if (tunnelId.isEmpty() || tunnelId.equals(d.getString("tunnel_id"))) {
        out.add(d);
      }
    }
    m.reply(new JsonObject().put("deliveries", out));
  }

  /** Replies when every lane is empty (the caller bounds the wait). */
  private void drain(Message<JsonObject> m) {
    if (active == 0 && lanes.isEmpty()) {
      m.reply(new JsonObject().put("pending", 0));
      return;
    }
    Promise<Void> p = Promise.promise();
    drains.add(p);
    p.future().onComplete(ar -> m.reply(new JsonObject().put("pending", lanes.size())));
  }
}
