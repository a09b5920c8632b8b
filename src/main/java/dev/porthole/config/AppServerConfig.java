package dev.porthole.config;

import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/** The app-server's own settings ({@code app_server.*}). */
public record AppServerConfig(String host, int port) {
  private static final Pattern IP_LITERAL = Pattern.compile("^[0-9.]+$|^[0-9a-fA-F:]+$");

  public static AppServerConfig from(JsonObject root) {
    Reader in = new Reader("app_server", root.getJsonObject("app_server", new JsonObject()));
    return new AppServerConfig(in.string("host", true).strip(), in.port("port"));
  }

  /**
   * Whether {@code host} is loopback: {@code localhost} (any case) or a loopback IP literal
   * (brackets allowed). Unlike Portr, the empty host (every interface) is not.
   */
  public static boolean isLoopback(String host) {
    String h = host == null ? "" : host.strip();
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.isEmpty()) {
      return false;
    }
    if (h.toLowerCase(Locale.ROOT).equals("localhost")) {
      return true;
    }
    if (!IP_LITERAL.matcher(h).matches()) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** What to bind: the empty host means every IPv4 interface, as in Portr. */
  public String bindHost() {
    return host.isEmpty() ? "0.0.0.0" : host;
  }
}
