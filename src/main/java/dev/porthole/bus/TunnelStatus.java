package dev.porthole.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * A tunnel as the API shows it (portr-protocol §6.5): Portr's keys in Portr's order, empty values
 * omitted where Portr omits them. A stub shows the host and port its caller sent (normally
 * {@code ""} and 0), never its responder's address, and its {@code response_format}. porthole's
 * lease fields come after Portr's keys.
 *
 * @param expiresAt when the tunnel's lease ends (it stops by itself then), or null without a ttl
 * @param ownerPid the local process whose exit stops the tunnel, 0 for none
 */
public record TunnelStatus(String id, String name, String status, String type, String host, int port,
    String subdomain, int remotePort, String tunnelUrl, String responseFormat, List<String> callbackUrls,
    Instant startedAt, Instant updatedAt, Instant stoppedAt, String lastError, Instant expiresAt, long ownerPid) {

  public static final String STARTING = "starting";
  public static final String RUNNING = "running";
  public static final String UNHEALTHY = "unhealthy";
  public static final String FAILED = "failed";
  public static final String STOPPED = "stopped";

  public TunnelStatus {
    callbackUrls = List.copyOf(callbackUrls);
  }

  /** Without a lease. */
  public TunnelStatus(String id, String name, String status, String type, String host, int port, String subdomain,
      int remotePort, String tunnelUrl, String responseFormat, List<String> callbackUrls, Instant startedAt,
      Instant updatedAt, Instant stoppedAt, String lastError) {
    this(id, name, status, type, host, port, subdomain, remotePort, tunnelUrl, responseFormat, callbackUrls,
        startedAt, updatedAt, stoppedAt, lastError, null, 0);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("id", id);
    putIfNotEmpty(j, "name", name);
    j.put("status", status).put("type", type).put("host", host).put("port", port);
    putIfNotEmpty(j, "subdomain", subdomain);
    if (remotePort != 0) {
      j.put("remote_port", remotePort);
    }
    putIfNotEmpty(j, "tunnel_url", tunnelUrl);
    putIfNotEmpty(j, "response_format", responseFormat);
    if (!callbackUrls.isEmpty()) {
      j.put("callback_urls", new JsonArray(callbackUrls));
    }
    j.put("started_at", Times.format(startedAt)).put("updated_at", Times.format(updatedAt));
    if (stoppedAt != null) {
      j.put("stopped_at", Times.format(stoppedAt));
    }
    putIfNotEmpty(j, "last_error", lastError);
    if (expiresAt != null) {
      j.put("expires_at", Times.format(expiresAt));
    }
    if (ownerPid > 0) {
      j.put("owner_pid", ownerPid);
    }
    return j;
  }

  public static TunnelStatus fromJson(JsonObject j) {
    return new TunnelStatus(j.getString("id"), j.getString("name", ""), j.getString("status"), j.getString("type"),
        j.getString("host"), j.getInteger("port"), j.getString("subdomain", ""), j.getInteger("remote_port", 0),
        j.getString("tunnel_url", ""), j.getString("response_format", ""), j.getJsonArray("callback_urls", new JsonArray()).getList(),
        Times.parse(j.getString("started_at")), Times.parse(j.getString("updated_at")),
        j.containsKey("stopped_at") ? Times.parse(j.getString("stopped_at")) : null, j.getString("last_error", ""),
        j.containsKey("expires_at") ? Times.parse(j.getString("expires_at")) : null, j.getLong("owner_pid", 0L));
  }

  static void putIfNotEmpty(JsonObject j, String key, String value) {
    if (value != null && !value.isEmpty()) {
      j.put(key, value);
    }
  }
}
