package dev.porthole.tunnel;

import dev.porthole.config.PortrConfig;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

/**
 * The two calls a Portr client makes to the server's admin API (portr-protocol §2.1, §2.2), with the
 * Go client's error texts.
 */
final class PortrServerApi {
  static final long CREATE_TIMEOUT_MS = 10_000;
  static final long PROBE_TIMEOUT_MS = 3_000;
  static final String RESERVED = "This is a reserved subdomain";

  private final WebClient client;
  private final PortrConfig config;

  PortrServerApi(WebClient client, PortrConfig config) {
    this.client = client;
    this.config = config;
  }

  /**
   * Reserves a connection; {@code subdomain} is null for tcp. Fails with {@code This is a
   * reserved subdomain}, {@code server error: <message>}, or the transport error.
   */
  Future<String> createConnection(String wireType, String subdomain) {
    // Keys in Go's map order (alphabetical).
    JsonObject body = new JsonObject().put("connection_type", wireType).put("secret_key", config.secretKey)
        .put("subdomain", subdomain);
    return client.postAbs(config.serverAddr() + "/api/v1/connections/")
        .timeout(CREATE_TIMEOUT_MS)
        .putHeader("Content-Type", "application/json")
        .sendBuffer(body.toBuffer())
        .recover(err -> Future.failedFuture(new IllegalStateException(transportMessage(err))))
        .compose(resp -> {
          JsonObject json = json(resp);
          if (resp.statusCode() == 200 && json != null && json.getValue("connection_id") instanceof String id) {
            return Future.succeededFuture(id);
          }
          if (json != null && "reserved_subdomain".equals(json.getValue("code"))) {
            return Future.failedFuture(new IllegalStateException(RESERVED));
          }
          String message = json == null || !(json.getValue("message") instanceof String m) || m.isEmpty()
              ? resp.statusCode() + " " + resp.statusMessage()
              : m;
          return Future.failedFuture(new IllegalStateException("server error: " + message));
        });
  }

  /** Whether the server supports pooled workers; any failure means no. */
  Future<Boolean> probePooling() {
    return client.getAbs(config.serverBaseUrl() + "/api/v1/version")
        .timeout(PROBE_TIMEOUT_MS)
        .send()
        .map(resp -> {
          JsonObject json = json(resp);
          return resp.statusCode() == 200 && json != null && json.getValue("version") instanceof String v
              && SemVer.supportsPooling(v);
        })
        .otherwise(false);
  }

  private static JsonObject json(HttpResponse<?> resp) {
    try {
      return resp.bodyAsJsonObject();
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private static String transportMessage(Throwable err) {
    String m = err.getMessage();
    return m == null ? err.getClass().getSimpleName() : m;
  }
}
