package dev.porthole.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Every setting porthole reads from {@code conf/porthole.yaml}, with its default. This tree is the
 * single source of defaults; the shipped YAML documents the same values (a test keeps them equal),
 * and it also defines which keys exist: an unknown key is a configuration error.
 */
public final class ConfigDefaults {
  private ConfigDefaults() {
  }

  public static JsonObject tree() {
    return new JsonObject()
        .put("app_server", new JsonObject()
            .put("host", "127.0.0.1")
            .put("port", 7778))
        .put("auth", new JsonObject()
            .put("jwt", new JsonObject()
                .put("algorithm", "")
                .put("secret", "")
                .put("public_key", "")
                .put("audience", "")))
        .put("limits", new JsonObject()
            .put("max_tunnels", 256)
            .put("stopped_tunnels_kept", 1000))
        .put("access", new JsonObject()
            .put("max_body_bytes", 104_857_600L)
            .put("dial_timeout_seconds", 10)
            .put("idle_timeout_seconds", 300)
            .put("ws_idle_timeout_seconds", 300)
            .put("ws_ping_interval_seconds", 30)
            .put("ws_max_message_bytes", 1_048_576)
            .put("ws_max_connections_per_tunnel", 100)
            .put("ws_max_bytes_per_second", 0L))
        .put("webhooks", new JsonObject()
            .put("max_attempts", 3)
            .put("timeout_seconds", 3)
            .put("retry_base_ms", 1000)
            .put("secret", "")
            .put("max_concurrency", 32)
            .put("deliveries_kept", 500))
        .put("request_log", new JsonObject()
            .put("enabled", true)
            .put("path", "~/.portr/db.sqlite")
            .put("max_rows", 100_000)
            .put("queue_size", 10_000)
            .put("retry_seconds", 30))
        .put("metrics", new JsonObject()
            .put("enabled", true))
        .put("http", new JsonObject()
            .put("allowed_hosts", new JsonArray())
            .put("cors", new JsonObject()
                .put("allowed_origins", new JsonArray())))
        .put("embedded_relay", new JsonObject()
            .put("admin_port", 0)
            .put("ssh_port", 0)
            .put("http_port", EmbeddedRelayConfig.AUTO))
        .put("relay", new JsonObject()
            .put("bind_host", "127.0.0.1")
            .put("admin_port", 8000)
            .put("ssh_port", 2222)
            .put("http_port", 8001)
            .put("domain", "")
            .put("public_host", "127.0.0.1")
            .put("data_dir", "~/.porthole/relay")
            .put("host_key", "")
            .put("secret_keys", new JsonArray())
            .put("reserved_connection_ttl_seconds", 300)
            .put("closed_connection_ttl_seconds", 86400)
            .put("ping_interval_seconds", 10)
            .put("admin_max_body_bytes", 65536)
            .put("auth_timeout_seconds", 10)
            .put("max_auth_failures_per_minute", 10)
            .put("max_connections_per_key", 4096)
            .put("max_reserved_per_key", 256)
            .put("closed_connections_kept", 10_000));
  }
}
