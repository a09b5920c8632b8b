package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/**
 * What the app-server holds at most ({@code limits.*}): live tunnels, and stopped tunnels kept for
 * the list (the most recently stopped; 0 keeps every one, as Portr does).
 */
public record LimitsConfig(int maxTunnels, int stoppedTunnelsKept) {
  /** No bound on either: for tests that deploy the manager directly. */
  public static final LimitsConfig UNBOUNDED = new LimitsConfig(Integer.MAX_VALUE, 0);

  public static LimitsConfig from(JsonObject root) {
    Reader limits = new Reader("limits", root.getJsonObject("limits", ConfigDefaults.tree().getJsonObject("limits")));
    return new LimitsConfig(
        limits.integer("max_tunnels", 1, 1_000_000),
        limits.integer("stopped_tunnels_kept", 0, 10_000_000));
  }
}
