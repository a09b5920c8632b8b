package dev.porthole.bus;

import io.vertx.core.json.JsonObject;

/**
 * {@code POST /api/v1/tunnels/{id}/renew} on the bus ({@link Addresses#TUNNELS_RENEW}): {@code
 * {"id","ttl_seconds"}}; the tunnel's lease then ends {@code ttl_seconds} from now.
 */
public record LeaseRenewal(String id, long ttlSeconds) {

  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("ttl_seconds", ttlSeconds);
  }

  public static LeaseRenewal fromJson(JsonObject j) {
    return new LeaseRenewal(j.getString("id", ""), j.getLong("ttl_seconds", 0L));
  }

  /** True for a ttl a lease may have ({@code 1 … }{@link TunnelRequest#MAX_TTL_SECONDS}). */
  public static boolean validTtl(long ttlSeconds) {
    return ttlSeconds >= 1 && ttlSeconds <= TunnelRequest.MAX_TTL_SECONDS;
  }

  /** The 400 message for a ttl that is missing, of the wrong type or out of range. */
  public static final String TTL_PROBLEM = "ttl_seconds must be an integer between 1 and "
      + TunnelRequest.MAX_TTL_SECONDS;
}
