package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/**
 * {@code edge.*}: how an HTTP tunnel's forwarded connections reach its local service.
 *
 * @param direct {@code data_path: direct} (the default): parsed straight off the SSH channel and
 *     relayed over pooled keep-alive connections; {@code loopback}: piped into a loopback Vert.x
 *     HTTP server and vertx-http-proxy, the path before issue 19
 */
public record EdgeConfig(boolean direct) {
  public static final String DIRECT = "direct";
  public static final String LOOPBACK = "loopback";
  public static final EdgeConfig DEFAULT = new EdgeConfig(true);

  public static EdgeConfig from(JsonObject root) {
    Reader in = new Reader("edge", root.getJsonObject("edge", ConfigDefaults.tree().getJsonObject("edge")));
    String path = in.string("data_path", false);
    if (!path.equals(DIRECT) && !path.equals(LOOPBACK)) {
      throw new ConfigException(in.key("data_path"), "must be " + DIRECT + " or " + LOOPBACK + ", got " + path);
    }
    return new EdgeConfig(path.equals(DIRECT));
  }
}
