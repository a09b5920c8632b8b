package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/**
 * Where the app-server's embedded relay listens ({@code embedded_relay.*}): always on 127.0.0.1.
 * Its admin API and SSH server are internal, so by default they take any free port; its HTTP edge is
 * the port in every {@code tunnel_url}, so by default ({@value #AUTO}) it keeps {@value
 * #PREFERRED_HTTP_PORT} when that is free and takes any free port otherwise. A port set here is
 * required: when it is taken, start-up fails naming it. The relay's other settings ({@code
 * relay.*}: data_dir, secret_keys, domain, limits) apply to the embedded relay too; {@code
 * relay.bind_host} and the {@code relay.*_port} keys only to {@code porthole relay}.
 *
 * @param httpPort the edge port to try first; {@code 0} means any free port
 * @param anyHttpPortWhenTaken true for {@value #AUTO}: when {@code httpPort} is taken, take any free port
 */
public record EmbeddedRelayConfig(int adminPort, int sshPort, int httpPort, boolean anyHttpPortWhenTaken) {
  public static final String AUTO = "auto";
  public static final int PREFERRED_HTTP_PORT = 8001;

  public static EmbeddedRelayConfig from(JsonObject root) {
    JsonObject e = root.getJsonObject("embedded_relay", new JsonObject());
    Reader in = new Reader("embedded_relay", e);
    Object http = e.getValue("http_port", AUTO);
    if (http instanceof String s && s.strip().equalsIgnoreCase(AUTO)) {
      return new EmbeddedRelayConfig(in.port("admin_port"), in.port("ssh_port"), PREFERRED_HTTP_PORT, true);
    }
    if (http instanceof String s && s.strip().matches("\\d{1,5}")) {
      // From the environment, which types a value like its default (a string here).
      e = e.copy().put("http_port", Integer.parseInt(s.strip()));
      in = new Reader("embedded_relay", e);
    } else if (http instanceof String s) {
      throw new ConfigException(in.key("http_port"), "must be " + AUTO + " or a port number, got \"" + s + "\"");
    }
    return new EmbeddedRelayConfig(in.port("admin_port"), in.port("ssh_port"), in.port("http_port"), false);
  }
}
