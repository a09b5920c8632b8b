package dev.porthole.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * {@code POST /api/v1/tunnels} after Portr's defaults and validation (portr-protocol §6.4): type
 * {@code http} or {@code tcp}, host defaulted, subdomain generated and normalised for http, pool
 * size defaulted, callback URLs deduplicated.
 *
 * @param basicAuth {@code user:password} (trimmed) or empty; a credential: never logged
 */
public record TunnelRequest(String name, String type, String host, int port, String subdomain, int poolSize,
    String basicAuth, List<String> callbackUrls) {

  public TunnelRequest {
    callbackUrls = List.copyOf(callbackUrls);
  }

  public boolean isHttp() {
    return type.equals("http");
  }

  /** Portr's DisplayName: the name, else the port as a decimal string. */
  public String displayName() {
    return name.isEmpty() ? String.valueOf(port) : name;
  }

  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("type", type).put("host", host).put("port", port)
        .put("subdomain", subdomain).put("pool_size", poolSize).put("basic_auth", basicAuth)
        .put("callback_urls", new JsonArray(callbackUrls));
  }

  public static TunnelRequest fromJson(JsonObject j) {
    return new TunnelRequest(j.getString("name", ""), j.getString("type"), j.getString("host"),
        j.getInteger("port"), j.getString("subdomain", ""), j.getInteger("pool_size"),
        j.getString("basic_auth", ""), j.getJsonArray("callback_urls", new JsonArray()).getList());
  }

  @Override
  public String toString() {
    return "TunnelRequest[name=" + name + ", type=" + type + ", host=" + host + ", port=" + port
        + ", subdomain=" + subdomain + ", poolSize=" + poolSize + ", basicAuth=" + (basicAuth.isEmpty() ? "none" : "<redacted>")
        + ", callbackUrls=" + callbackUrls + "]";
  }
}
