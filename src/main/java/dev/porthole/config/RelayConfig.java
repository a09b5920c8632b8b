package dev.porthole.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The relay's settings ({@code relay.*} in {@code conf/porthole.yaml}), validated. Ports may be 0
 * (bind any free port, read back after start).
 *
 * @param domain public domain of HTTP tunnels ({@code <subdomain>.<domain>}); empty means
 *     {@code localhost:<bound http port>}
 * @param hostKey where the SSH host key lives; generated there on first start
 * @param sshWindowBytes the receive window the relay's SSH side advertises on each channel: what a
 *     client may send on one forwarded connection before the relay acknowledges it, so at most
 *     this much per round trip (downloads through a tunnel, local service → public)
 * @param sshPacketBytes the largest channel data packet the relay accepts
 */
public record RelayConfig(
    String bindHost,
    int adminPort,
    int sshPort,
    int httpPort,
    String domain,
    String publicHost,
    Path dataDir,
    Path hostKey,
    List<SecretKeyEntry> secretKeys,
    Duration reservedConnectionTtl,
    Duration closedConnectionTtl,
    Duration pingInterval,
    int adminMaxBodyBytes,
    Duration authTimeout,
    int maxAuthFailuresPerMinute,
    int maxConnectionsPerKey,
    int maxReservedPerKey,
    int closedConnectionsKept,
    long sshWindowBytes,
    int sshPacketBytes) {

  /** The SSH channel window's bounds: 64 KiB (2 packets of 32 KiB) to 1 GiB. */
  public static final long MIN_WINDOW = 64 * 1024;
  public static final long MAX_WINDOW = 1L << 30;
  /**
   * The channel packet's bounds. Clients size their send buffer by it (JSch holds one of this size
   * per forwarded connection). SSH implementations take whole packets of at most 256 KiB, headers,
   * padding and MAC included: with 256 KiB of data OpenSSH's session was closed (bench P2), 128 KiB
   * works with OpenSSH 9.2 and JSch.
   */
  public static final int MIN_PACKET = 1024;
  public static final int MAX_PACKET = 128 * 1024;

  public RelayConfig {
    secretKeys = List.copyOf(secretKeys);
  }

  /**
   * A team member's secret key and the subdomains reserved for it (another key asking for one gets
   * 409 {@code reserved_subdomain}).
   */
  public record SecretKeyEntry(String key, List<String> reservedSubdomains) {
    public SecretKeyEntry {
      reservedSubdomains = List.copyOf(reservedSubdomains);
    }

    @Override
    public String toString() {
      return "SecretKeyEntry[key=<redacted>, reservedSubdomains=" + reservedSubdomains + "]";
    }
  }

  /** Reads the {@code relay} section of a loaded configuration tree. */
  public static RelayConfig from(JsonObject root) {
    JsonObject r = root.getJsonObject("relay", new JsonObject());
    Reader in = new Reader("relay", r);
    Path dataDir = Paths.expandHome(in.string("data_dir", false));
    String hostKey = in.string("host_key", true);
    return new RelayConfig(
        in.string("bind_host", false),
        in.port("admin_port"),
        in.port("ssh_port"),
        in.port("http_port"),
        domain(in.string("domain", true)),
        in.string("public_host", false),
        dataDir,
        hostKey.isBlank() ? dataDir.resolve("host_key") : Paths.expandHome(hostKey),
        secretKeys(r.getValue("secret_keys")),
        Duration.ofSeconds(in.integer("reserved_connection_ttl_seconds", 1, 86_400)),
        Duration.ofSeconds(in.integer("closed_connection_ttl_seconds", 1, 30 * 86_400)),
        Duration.ofSeconds(in.integer("ping_interval_seconds", 1, 3600)),
        in.integer("admin_max_body_bytes", 1024, 16 * 1024 * 1024),
        Duration.ofSeconds(in.integer("auth_timeout_seconds", 1, 600)),
        in.integer("max_auth_failures_per_minute", 1, 1_000_000),
        in.integer("max_connections_per_key", 1, 1_000_000),
        in.integer("max_reserved_per_key", 1, 1_000_000),
        in.integer("closed_connections_kept", 0, 10_000_000),
        in.number("ssh_window_bytes", MIN_WINDOW, MAX_WINDOW),
        packet(in));
  }

  /** The packet size, which must also fit in the window twice (a sender waits for a whole packet's room). */
  private static int packet(Reader in) {
    int packet = in.integer("ssh_packet_bytes", MIN_PACKET, MAX_PACKET);
    long window = in.number("ssh_window_bytes", MIN_WINDOW, MAX_WINDOW);
    if (packet > window / 2) {
      throw new ConfigException(in.key("ssh_packet_bytes"), "must be at most half of relay.ssh_window_bytes ("
          + window + "), got " + packet);
    }
    return packet;
  }

  /** The public domain, from config or derived from the edge's bound port. */
  public String effectiveDomain(int boundHttpPort) {
    return domain.isBlank() ? "localhost:" + boundHttpPort : domain;
  }

  private static String domain(String value) {
    String d = value.strip();
    if (d.contains("://") || d.contains("/")) {
      throw new ConfigException("relay.domain",
          "must be a host name with an optional port (like tunnels.example.com), without scheme or path; got \"" + value + "\"");
    }
    return d.startsWith(".") ? d.substring(1) : d;
  }

  private static List<SecretKeyEntry> secretKeys(Object value) {
    String key = "relay.secret_keys";
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray list)) {
      throw new ConfigException(key, "must be a list");
    }
    List<SecretKeyEntry> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Object item = list.getValue(i);
      String at = key + "[" + i + "]";
      if (item instanceof String s) {
        out.add(new SecretKeyEntry(requireKey(at, s), List.of()));
      } else if (item instanceof JsonObject o) {
        for (String k : o.fieldNames()) {
          if (!k.equals("key") && !k.equals("reserved_subdomains")) {
            throw new ConfigException(at + "." + k, "unknown key (expected key, reserved_subdomains)");
          }
        }
        if (!(o.getValue("key") instanceof String s)) {
          throw new ConfigException(at + ".key", "is required and must be a string");
        }
        List<String> reserved = new ArrayList<>();
        Object subs = o.getValue("reserved_subdomains");
        if (subs != null && !(subs instanceof JsonArray)) {
          throw new ConfigException(at + ".reserved_subdomains", "must be a list of subdomains");
        }
        JsonArray arr = subs == null ? new JsonArray() : (JsonArray) subs;
        for (int j = 0; j < arr.size(); j++) {
          String sub = Subdomains.normalize(String.valueOf(arr.getValue(j)));
          if (!Subdomains.isValid(sub)) {
            throw new ConfigException(at + ".reserved_subdomains[" + j + "]", "invalid subdomain \"" + sub
                + "\": use 1-63 lowercase letters, numbers, or internal hyphens");
          }
          reserved.add(sub);
        }
        out.add(new SecretKeyEntry(requireKey(at + ".key", s), reserved));
      } else {
        throw new ConfigException(at, "must be a secret key string or a map with key and reserved_subdomains");
      }
    }
    return out;
  }

  private static String requireKey(String at, String s) {
    if (s.isBlank()) {
      throw new ConfigException(at, "must not be blank");
    }
    if (s.strip().length() < 16) {
      throw new ConfigException(at, "is too short: use at least 16 characters");
    }
    return s.strip();
  }

  @Override
  public String toString() {
    return "RelayConfig[bindHost=" + bindHost + ", adminPort=" + adminPort + ", sshPort=" + sshPort
        + ", httpPort=" + httpPort + ", domain=" + domain + ", publicHost=" + publicHost
        + ", secretKeys=" + secretKeys.size() + ", sshWindowBytes=" + sshWindowBytes
        + ", sshPacketBytes=" + sshPacketBytes + "]";
  }
}
