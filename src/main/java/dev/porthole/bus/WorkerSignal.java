package dev.porthole.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * What a tunnel worker tells the manager (portr-protocol §5): {@code started}, {@code unhealthy},
 * {@code reconnected}, {@code failed}, {@code stopped}. The manager applies §6.6 to decide what is
 * recorded.
 *
 * @param worker index of the SSH session within the tunnel's pool (0 for single-worker tunnels)
 * @param tunnelUrl the public address after a start or reconnect, else empty
 */
public record WorkerSignal(String tunnelId, int worker, String type, int remotePort, String tunnelUrl, String error,
    Instant at) {

  public static final String STARTED = "started";
  public static final String UNHEALTHY = "unhealthy";
  public static final String RECONNECTED = "reconnected";
  public static final String FAILED = "failed";
  public static final String STOPPED = "stopped";

  public JsonObject toJson() {
    return new JsonObject().put("tunnel_id", tunnelId).put("worker", worker).put("type", type)
        .put("remote_port", remotePort).put("tunnel_url", tunnelUrl).put("error", error).put("at", Times.format(at));
  }

  public static WorkerSignal fromJson(JsonObject j) {
    return new WorkerSignal(j.getString("tunnel_id"), j.getInteger("worker", 0), j.getString("type"),
        j.getInteger("remote_port", 0), j.getString("tunnel_url", ""), j.getString("error", ""),
        Times.parse(j.getString("at")));
  }
}
