package dev.porthole.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * {@code POST /api/v1/tunnels} after Portr's defaults and validation (portr-protocol §6.4): type
 * {@code http}, {@code tcp} or {@code stub}, host defaulted (not for stub), subdomain generated
 * and normalised for http, pool size defaulted (1 for stub), callback URLs deduplicated.
 *
 * @param basicAuth {@code user:password} (trimmed) or empty; a credential: never logged
 * @param responseFormat a stub's Content-Type, else empty
 * @param responseTmpl a stub's template, already read from {@code response_tmpl_file} when that
 *     was given (the file name never travels), else empty
 * @param ttlSeconds porthole's lease: the tunnel stops by itself this many seconds after it is
 *     registered ({@code 1 … }{@link #MAX_TTL_SECONDS}); 0 = no expiry
 * @param ownerPid porthole's lease: the tunnel stops when this local process exits; 0 = none
 */
public record TunnelRequest(String name, String type, String host, int port, String subdomain, int poolSize,
    String basicAuth, List<String> callbackUrls, String responseFormat, String responseTmpl, long ttlSeconds,
    long ownerPid) {

  public static final String HTTP = "http";
  public static final String TCP = "tcp";
  public static final String STUB = "stub";
  /** The longest lease, at POST and at renew: one week. */
  public static final long MAX_TTL_SECONDS = 604_800;

  public TunnelRequest {
    callbackUrls = List.copyOf(callbackUrls);
    responseFormat = responseFormat == null ? "" : responseFormat;
    responseTmpl = responseTmpl == null ? "" : responseTmpl;
  }

  /** No lease. */
  public TunnelRequest(String name, String type, String host, int port, String subdomain, int poolSize,
      String basicAuth, List<String> callbackUrls, String responseFormat, String responseTmpl) {
    this(name, type, host, port, subdomain, poolSize, basicAuth, callbackUrls, responseFormat, responseTmpl, 0, 0);
  }

  /** An http or tcp tunnel: no stub fields. */
  public TunnelRequest(String name, String type, String host, int port, String subdomain, int poolSize,
      String basicAuth, List<String> callbackUrls) {
    this(name, type, host, port, subdomain, poolSize, basicAuth, callbackUrls, "", "");
  }

  /** Portr's wire type is http: the tunnel goes through the relay's HTTP edge (http and stub). */
  public boolean isHttp() {
    return type.equals(HTTP) || type.equals(STUB);
  }

  public boolean isStub() {
    return type.equals(STUB);
  }

  /** The connection type sent to the server: stub → http (portr-protocol §1.3). */
  public String wireType() {
    return isHttp() ? HTTP : type;
  }

  /** Portr's DisplayName: the name, else (stub) the subdomain, else the port as a decimal string. */
  public String displayName() {
    if (!name.isEmpty()) {
      return name;
    }
    return isStub() && !subdomain.isEmpty() ? subdomain : String.valueOf(port);
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("name", name).put("type", type).put("host", host).put("port", port)
        .put("subdomain", subdomain).put("pool_size", poolSize).put("basic_auth", basicAuth)
        .put("callback_urls", new JsonArray(callbackUrls));
    if (isStub()) {
      j.put("response_format", responseFormat).put("response_tmpl", responseTmpl);
    }
    if (ttlSeconds > 0) {
      j.put("ttl_seconds", ttlSeconds);
    }
    if (ownerPid > 0) {
      j.put("owner_pid", ownerPid);
    }
    return j;
  }

  public static TunnelRequest fromJson(JsonObject j) {
    return new TunnelRequest(j.getString("name", ""), j.getString("type"), j.getString("host"),
        j.getInteger("port"), j.getString("subdomain", ""), j.getInteger("pool_size"),
        j.getString("basic_auth", ""), j.getJsonArray("callback_urls", new JsonArray()).getList(),
        j.getString("response_format", ""), j.getString("response_tmpl", ""), j.getLong("ttl_seconds", 0L),
        j.getLong("owner_pid", 0L));
  }

  @Override
  public String toString() {
    return "TunnelRequest[name=" + name + ", type=" + type + ", host=" + host + ", port=" + port
        + ", subdomain=" + subdomain + ", poolSize=" + poolSize + ", basicAuth=" + (basicAuth.isEmpty() ? "none" : "<redacted>")
        + ", callbackUrls=" + callbackUrls
        + (isStub() ? ", responseFormat=" + responseFormat + ", responseTmpl=<" + responseTmpl.length() + " chars>" : "")
        + (ttlSeconds > 0 ? ", ttlSeconds=" + ttlSeconds : "") + (ownerPid > 0 ? ", ownerPid=" + ownerPid : "") + "]";
  }
}
