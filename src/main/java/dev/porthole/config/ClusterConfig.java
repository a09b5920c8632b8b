package dev.porthole.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code cluster.*}: whether the app-server joins a cluster of app-servers, and how (docs/cluster.md).
 *
 * @param nodeName this node's name, never empty once parsed (default {@code <host name>-<api port>})
 * @param members the TCP-IP join list ({@code host} or {@code host:port})
 * @param tlsCert PEM certificate of the event-bus link; empty (with key and ca) for plain TCP
 */
public record ClusterConfig(boolean enabled, String nodeName, String name, String host, int port, List<String> members,
    String publicHost, int publicPort, String hazelcastConfig, int heartbeatIntervalSeconds, int maxNoHeartbeatSeconds,
    String tlsCert, String tlsKey, String tlsCa) {

  /** A node name is part of bus addresses and of the API's JSON: keep it plain. */
  public static final Pattern NODE_NAME = Pattern.compile("^[A-Za-z0-9._-]{1,64}$");
  private static final Pattern MEMBER = Pattern.compile("^[A-Za-z0-9._:\\[\\]-]{1,255}$");

  public ClusterConfig {
    members = List.copyOf(members);
  }

  /** @param apiPort the app-server's configured port, part of the default node name */
  public static ClusterConfig from(JsonObject root, int apiPort) {
    JsonObject section = root.getJsonObject("cluster", ConfigDefaults.tree().getJsonObject("cluster"));
    Reader in = new Reader("cluster", section);
    String nodeName = in.string("node_name", true).strip();
    if (nodeName.isEmpty()) {
      nodeName = defaultNodeName(apiPort);
    } else if (!NODE_NAME.matcher(nodeName).matches()) {
      throw new ConfigException(in.key("node_name"), "must be 1 to 64 letters, digits, '.', '_' or '-', got \""
          + nodeName + "\"");
    }
    String name = in.string("name", false).strip();
    if (!NODE_NAME.matcher(name).matches()) {
      throw new ConfigException(in.key("name"), "must be 1 to 64 letters, digits, '.', '_' or '-', got \"" + name + "\"");
    }
    String host = in.string("host", false).strip();
    List<String> members = new ArrayList<>();
    Object raw = section.getValue("members");
    if (!(raw instanceof JsonArray list)) {
      throw new ConfigException(in.key("members"), "must be a list of host or host:port");
    }
    for (Object m : list) {
      String member = m instanceof String s ? s.strip() : "";
      if (!MEMBER.matcher(member).matches()) {
        throw new ConfigException(in.key("members"), "must be a list of host or host:port, got " + m);
      }
      members.add(member);
    }
    int heartbeat = in.integer("heartbeat_interval_seconds", 1, 60);
    int maxNoHeartbeat = in.integer("max_no_heartbeat_seconds", 2, 600);
    if (maxNoHeartbeat <= heartbeat) {
      throw new ConfigException(in.key("max_no_heartbeat_seconds"), "must be more than heartbeat_interval_seconds ("
          + heartbeat + "), got " + maxNoHeartbeat);
    }
    Reader tls = new Reader("cluster.tls", section.getJsonObject("tls", new JsonObject()));
    String cert = tls.string("cert", true).strip();
    String key = tls.string("key", true).strip();
    String ca = tls.string("ca", true).strip();
    int given = (cert.isEmpty() ? 0 : 1) + (key.isEmpty() ? 0 : 1) + (ca.isEmpty() ? 0 : 1);
    if (given != 0 && given != 3) {
      throw new ConfigException("cluster.tls", "needs cert, key and ca together (PEM files), or none of them");
    }
    return new ClusterConfig(in.bool("enabled"), nodeName, name, host, in.port("port"), members,
        in.string("public_host", true).strip(), in.port("public_port"), in.string("hazelcast_config", true).strip(),
        heartbeat, maxNoHeartbeat, expand(cert), expand(key), expand(ca));
  }

  private static String expand(String file) {
    return file.isEmpty() ? "" : Paths.expandHome(file).toString();
  }

  /** Whether the event-bus link between members runs TLS. */
  public boolean tls() {
    return !tlsCert.isEmpty();
  }

  /** {@code <host name>-<api port>}, the host name cut to what a node name allows. */
  static String defaultNodeName(int apiPort) {
    String hostName;
    try {
      hostName = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      hostName = "node";
    }
    String clean = hostName.replaceAll("[^A-Za-z0-9._-]", "-");
    if (clean.isEmpty()) {
      clean = "node";
    }
    String suffix = "-" + apiPort;
    return clean.substring(0, Math.min(clean.length(), 64 - suffix.length())) + suffix;
  }
}
