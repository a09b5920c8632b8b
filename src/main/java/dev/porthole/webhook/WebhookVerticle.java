package dev.porthole.webhook;

import dev.porthole.Version;
import dev.porthole.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Callback delivery (portr-compat §6.7): every recorded lifecycle event is POSTed, as the same
 * JSON {@code /api/v1/events} shows, to each callback URL of its tunnel, with a 3 s limit; a
 * failure is logged and changes nothing else. Subscribes to {@link Addresses#TUNNELS_LIFECYCLE}.
 */
public final class WebhookVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(WebhookVerticle.class);
  static final long TIMEOUT_MS = 3_000;

  private WebClient client;
  private int inFlight;
  private final List<Promise<Void>> drains = new ArrayList<>();

  @Override
  public Future<?> start() {
    client = WebClient.create(vertx, new WebClientOptions()
        .setUserAgent("porthole/" + Version.get())
        .setFollowRedirects(true)
        .setConnectTimeout((int) TIMEOUT_MS));
    return Future.all(
        vertx.eventBus().<JsonObject>localConsumer(Addresses.TUNNELS_LIFECYCLE, this::deliver).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.WEBHOOKS_DRAIN, this::drain).completion());
  }

  private void deliver(Message<JsonObject> m) {
    List<String> urls = m.headers().getAll(Addresses.CALLBACK_URL_HEADER);
    for (String url : urls) {
      inFlight++;
      client.postAbs(url)
          .timeout(TIMEOUT_MS)
          .putHeader("Content-Type", "application/json")
          .sendBuffer(m.body().toBuffer())
          .onComplete(ar -> {
            if (ar.failed()) {
              log.warn("Failed to dispatch app-server callback url={} event={} tunnel_id={} error={}", url,
                  m.body().getString("type"), m.body().getString("tunnel_id"), ar.cause().getMessage());
            } else {
              log.debug("callback(url={}, event={}) answered {}", url, m.body().getString("id"), ar.result().statusCode());
            }
            inFlight--;
            if (inFlight == 0) {
              drains.forEach(p -> p.tryComplete());
              drains.clear();
            }
          });
    }
  }

  /** Replies when no delivery is in flight (each is bounded by its 3 s limit). */
  private void drain(Message<JsonObject> m) {
    if (inFlight == 0) {
      m.reply(new JsonObject().put("pending", 0));
      return;
    }
    Promise<Void> p = Promise.promise();
    drains.add(p);
    p.future().onComplete(ar -> m.reply(new JsonObject().put("pending", inFlight)));
  }
}
