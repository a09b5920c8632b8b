package dev.porthole.testsupport;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The bridge answers with the manager's statuses; the HTTP API adds only its own URLs ({@code
 * proxy_url}, {@code websocket_url}). These drop them, so the two answers compare equal.
 */
public final class StatusUrls {
  private StatusUrls() {
  }

  public static JsonArray withoutUrls(JsonArray tunnels) {
    JsonArray out = new JsonArray();
    tunnels.forEach(t -> out.add(withoutUrls((JsonObject) t)));
    return out;
  }

  public static JsonObject withoutUrls(JsonObject status) {
    JsonObject copy = status.copy();
    copy.remove("proxy_url");
    copy.remove("websocket_url");
    return copy;
  }
}
