package dev.porthole.config;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * The request log's slice: {@code request_log.*} from porthole's config, and Portr's {@code
 * enable_request_logging} and {@code connection_log_retention_days} (portr-protocol §7) from the
 * Portr client config once it is known ({@link #withPortr}).
 *
 * @param path the SQLite file ({@code ~/.portr/db.sqlite}, where Portr keeps it)
 * @param maxRows requests kept at most, the oldest pruned first; 0 = no cap
 * @param queueSize captures waiting for the writer at most (and 64 MiB of them); more are dropped
 * @param enabled {@code request_log.enabled} and Portr's {@code enable_request_logging}
 * @param retentionDays Portr's {@code connection_log_retention_days}; 0 = keep
 * @param retrySeconds while the database cannot be used, how often the writer tries again
 */
public record RequestLogConfig(Path path, long maxRows, int queueSize, boolean enabled, int retentionDays,
    int retrySeconds) {

  public static final int DEFAULT_RETRY_SECONDS = 30;

  /** With the default retry interval. */
  public RequestLogConfig(Path path, long maxRows, int queueSize, boolean enabled, int retentionDays) {
    this(path, maxRows, queueSize, enabled, retentionDays, DEFAULT_RETRY_SECONDS);
  }

  public static RequestLogConfig from(JsonObject root) {
    Reader in = new Reader("request_log",
        root.getJsonObject("request_log", ConfigDefaults.tree().getJsonObject("request_log")));
    return new RequestLogConfig(Paths.expandHome(in.string("path", false)), in.number("max_rows", 0, 100_000_000L),
        in.integer("queue_size", 1, 1_000_000), in.bool("enabled"), 0, in.integer("retry_seconds", 1, 3600));
  }

  public RequestLogConfig withPortr(PortrConfig portr) {
    return new RequestLogConfig(path, maxRows, queueSize, enabled && portr.enableRequestLogging,
        Math.max(0, portr.connectionLogRetentionDays), retrySeconds);
  }
}
