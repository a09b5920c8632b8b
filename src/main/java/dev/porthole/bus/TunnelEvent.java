package dev.porthole.bus;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A recorded lifecycle event (portr-protocol §6.5), as {@code /api/v1/events}, webhooks and the
 * lifecycle address carry it. Values are copied from the tunnel's status after the event applied.
 *
 * @param seq porthole's extension: a monotonic sequence number from 1, written after Portr's keys
 *     (0 = none, omitted); the order of this node's event list (a relayed event gets this node's)
 * @param reason porthole's extension, on a {@code stopped} event the tunnel's lease ended:
 *     {@link #EXPIRED} or {@link #OWNER_EXITED}; empty (omitted) otherwise
 * @param node clustered only: the node that owns the tunnel, written last ({@code ""} = omitted, so a
 *     single app-server's events keep Portr's shape)
 */
public record TunnelEvent(String id, String tunnelId, String type, String name, String connectionType, String host,
    int port, String subdomain, int remotePort, String tunnelUrl, String error, Instant at, long seq, String reason,
    String node) {

  /** The tunnel's ttl ran out ({@code expires_at}). */
  public static final String EXPIRED = "expired";
  /** The tunnel's {@code owner_pid} exited. */
  public static final String OWNER_EXITED = "owner_exited";

  public TunnelEvent {
    reason = reason == null ? "" : reason;
    node = node == null ? "" : node;
  }

  /** An event of a single app-server (no node), with its reason. */
  public TunnelEvent(String id, String tunnelId, String type, String name, String connectionType, String host,
      int port, String subdomain, int remotePort, String tunnelUrl, String error, Instant at, long seq, String reason) {
    this(id, tunnelId, type, name, connectionType, host, port, subdomain, remotePort, tunnelUrl, error, at, seq, reason,
        "");
  }

  /** An event of a single app-server (no node), without a reason. */
  public TunnelEvent(String id, String tunnelId, String type, String name, String connectionType, String host,
      int port, String subdomain, int remotePort, String tunnelUrl, String error, Instant at, long seq) {
    this(id, tunnelId, type, name, connectionType, host, port, subdomain, remotePort, tunnelUrl, error, at, seq, "");
  }

  /** An event without a sequence number. */
  public TunnelEvent(String id, String tunnelId, String type, String name, String connectionType, String host,
      int port, String subdomain, int remotePort, String tunnelUrl, String error, Instant at) {
    this(id, tunnelId, type, name, connectionType, host, port, subdomain, remotePort, tunnelUrl, error, at, 0, "");
  }

  /** The same event numbered in this node's list. */
  public TunnelEvent withSeq(long newSeq) {
    return new TunnelEvent(id, tunnelId, type, name, connectionType, host, port, subdomain, remotePort, tunnelUrl,
        error, at, newSeq, reason, node);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("id", id).put("tunnel_id", tunnelId).put("type", type);
    TunnelStatus.putIfNotEmpty(j, "name", name);
    j.put("connection_type", connectionType).put("host", host).put("port", port);
    TunnelStatus.putIfNotEmpty(j, "subdomain", subdomain);
    if (remotePort != 0) {
      j.put("remote_port", remotePort);
    }
    TunnelStatus.putIfNotEmpty(j, "tunnel_url", tunnelUrl);
    TunnelStatus.putIfNotEmpty(j, "error", error);
    j.put("at", Times.format(at));
    if (seq > 0) {
      j.put("seq", seq);
    }
    TunnelStatus.putIfNotEmpty(j, "reason", reason);
    TunnelStatus.putIfNotEmpty(j, "node", node);
    return j;
  }

  public static TunnelEvent fromJson(JsonObject j) {
    return new TunnelEvent(j.getString("id"), j.getString("tunnel_id"), j.getString("type"), j.getString("name", ""),
        j.getString("connection_type"), j.getString("host"), j.getInteger("port"), j.getString("subdomain", ""),
        j.getInteger("remote_port", 0), j.getString("tunnel_url", ""), j.getString("error", ""),
        Times.parse(j.getString("at")), j.getLong("seq", 0L), j.getString("reason", ""), j.getString("node", ""));
  }
}
