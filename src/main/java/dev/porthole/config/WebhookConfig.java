package dev.porthole.config;

import io.vertx.core.json.JsonObject;
import java.time.Duration;

/** Callback delivery settings ({@code webhooks.*}). The secret never appears in messages. */
public record WebhookConfig(int maxAttempts, Duration timeout, Duration retryBase, String secret, int maxConcurrency,
    int deliveriesKept) {

  public static WebhookConfig from(JsonObject root) {
    Reader in = new Reader("webhooks", root.getJsonObject("webhooks", ConfigDefaults.tree().getJsonObject("webhooks")));
    return new WebhookConfig(
        in.integer("max_attempts", 1, 20),
        Duration.ofSeconds(in.integer("timeout_seconds", 1, 300)),
        Duration.ofMillis(in.integer("retry_base_ms", 1, 600_000)),
        in.string("secret", true),
        in.integer("max_concurrency", 1, 10_000),
        in.integer("deliveries_kept", 0, 1_000_000));
  }

  @Override
  public String toString() {
    return "WebhookConfig[maxAttempts=" + maxAttempts + ", timeout=" + timeout + ", retryBase=" + retryBase
        + ", signed=" + !secret.isEmpty() + ", maxConcurrency=" + maxConcurrency + "]";
  }
}
