package dev.porthole.bus;

import io.vertx.core.json.JsonObject;

/**
 * Where a tunnel's traffic really goes, for the access room ({@code /p/{id}/}, {@code
 * /ws/port-forward/{id}}): the answer of {@link Addresses#TUNNELS_TARGET}. For http and tcp tunnels
 * it is the status's own host and port; a stub's status keeps what its caller sent (Portr's shape),
 * while its data path is the shared stub responder on loopback, which routes by Host.
 *
 * @param status the tunnel's status ({@link TunnelStatus#RUNNING}, …)
 * @param hostHeader the Host a request must carry to reach this tunnel on {@code host:port}, or
 *     {@code ""} when any Host does (then {@code host:port} is the one to send)
 */
public record TunnelTarget(String status, String host, int port, String hostHeader) {

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("status", status).put("host", host).put("port", port);
    if (!hostHeader.isEmpty()) {
      j.put("host_header", hostHeader);
    }
    return j;
  }

  public static TunnelTarget fromJson(JsonObject j) {
    return new TunnelTarget(j.getString("status", ""), j.getString("host", ""), j.getInteger("port", 0),
        j.getString("host_header", ""));
  }
}
