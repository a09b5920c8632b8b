package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/**
 * {@code metrics.*}: whether Vert.x is built with Micrometer metrics and the app-server serves
 * {@code /metrics}. Decided before the Vert.x instance exists, so it cannot change at run time.
 */
public record MetricsConfig(boolean enabled) {
  public static MetricsConfig from(JsonObject root) {
    Reader in = new Reader("metrics", root.getJsonObject("metrics", ConfigDefaults.tree().getJsonObject("metrics")));
    return new MetricsConfig(in.bool("enabled"));
  }
}
