package dev.porthole.config;

import io.vertx.core.json.JsonObject;
import java.time.Duration;

/** Per-tunnel access through the app-server ({@code access.*}). */
public record AccessConfig(long maxBodyBytes, Duration dialTimeout, Duration idleTimeout, Duration wsIdleTimeout,
    Duration wsPingInterval, int wsMaxMessageBytes, int wsMaxConnectionsPerTunnel, long wsMaxBytesPerSecond) {

  public static AccessConfig from(JsonObject root) {
    JsonObject defaults = ConfigDefaults.tree();
    Reader in = new Reader("access", root.getJsonObject("access", defaults.getJsonObject("access")));
    return new AccessConfig(
        in.number("max_body_bytes", 0, Long.MAX_VALUE),
        Duration.ofSeconds(in.integer("dial_timeout_seconds", 1, 300)),
        Duration.ofSeconds(in.integer("idle_timeout_seconds", 1, 86_400)),
        Duration.ofSeconds(in.integer("ws_idle_timeout_seconds", 1, 86_400)),
        Duration.ofSeconds(in.integer("ws_ping_interval_seconds", 1, 86_400)),
        in.integer("ws_max_message_bytes", 1, 64 * 1024 * 1024),
        in.integer("ws_max_connections_per_tunnel", 1, 100_000),
        in.number("ws_max_bytes_per_second", 0, Long.MAX_VALUE));
  }
}
