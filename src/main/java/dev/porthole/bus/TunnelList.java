package dev.porthole.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The messages of {@code porthole.tunnels.list}: a conditional query, like HTTP's
 * {@code If-None-Match}. The manager numbers every change of its registry; a caller that names the
 * version it already holds gets {@code {"version":n}} back when nothing changed, instead of every
 * tunnel's status again.
 */
public final class TunnelList {
  private static final String IF_VERSION = "if_version";
  private static final String VERSION = "version";
  private static final String TUNNELS = "tunnels";

  private TunnelList() {
  }

  /** {@code {}}: every status. */
  public static JsonObject query() {
    return new JsonObject();
  }

  /** {@code {"if_version":n}}: every status, or only the version when it is still {@code n}. */
  public static JsonObject query(long ifVersion) {
    return new JsonObject().put(IF_VERSION, ifVersion);
  }

  /** The version the query holds, or -1. */
  public static long ifVersion(JsonObject query) {
    return query.getLong(IF_VERSION, -1L);
  }

  /** {@code {"version":n,"tunnels":[…]}}, newest first. */
  public static JsonObject of(long version, JsonArray tunnels) {
    return new JsonObject().put(VERSION, version).put(TUNNELS, tunnels);
  }

  /** {@code {"version":n}}: nothing changed since the query's version. */
  public static JsonObject unchanged(long version) {
    return new JsonObject().put(VERSION, version);
  }

  public static boolean isUnchanged(JsonObject reply) {
    return !reply.containsKey(TUNNELS);
  }

  /** The reply's version, or -1 when it carries none. */
  public static long version(JsonObject reply) {
    return reply.getLong(VERSION, -1L);
  }

  /** The API's body, {@code {"tunnels":[…]}}, without the version. */
  public static JsonObject body(JsonObject reply) {
    return new JsonObject().put(TUNNELS, reply.getJsonArray(TUNNELS));
  }
}
