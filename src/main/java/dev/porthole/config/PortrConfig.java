package dev.porthole.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Portr's client configuration ({@code ~/.portr/config.yaml}, portr-protocol §1): where the Portr
 * server is and how to talk to it. Read non-strictly (unknown keys ignored) with Portr's defaults;
 * {@link #validate()} gives Portr's messages.
 */
public final class PortrConfig {
  public String serverUrl = "";
  public String sshUrl = "";
  public String tunnelUrl = "";
  public String secretKey = "";
  public boolean useLocalhost;
  public int dashboardPort;
  public boolean disableDashboard;
  public int connectionLogRetentionDays;
  public int healthCheckInterval;
  public int healthCheckMaxRetries;
  public Boolean insecureSkipHostKeyVerification;
  /** Portr's {@code enable_request_logging}: true unless the file says {@code false}. */
  public boolean enableRequestLogging = true;
  /** Portr's {@code redact_headers}; empty (absent or an explicit empty list) → {@link #DEFAULT_REDACT_HEADERS}. */
  public List<String> redactHeaders = new ArrayList<>();
  public static final List<String> DEFAULT_REDACT_HEADERS =
      List.of("Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization");
  public final List<PortrTunnel> tunnels = new ArrayList<>();
  public final Map<String, List<String>> groups = new LinkedHashMap<>();

  /** Portr's default location: {@code ~/.portr/config.yaml}. */
  public static Path defaultPath() {
    return Paths.home().resolve(".portr").resolve("config.yaml");
  }

  /** Reads and defaults a config file; blocking file I/O. */
  public static PortrConfig load(Path file) throws IOException {
    String text = Files.readString(file);
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (RuntimeException e) {
      throw new IOException("invalid YAML in " + file + ": " + firstLine(e.getMessage()));
    }
    JsonObject j = root == null ? new JsonObject() : toJson(root, file);
    PortrConfig c = fromJson(j, file);
    c.setDefaults();
    Path dir = file.toAbsolutePath().getParent();
    for (PortrTunnel t : c.tunnels) {
      if (!t.responseTmplFile.isEmpty() && !Path.of(t.responseTmplFile).isAbsolute()) {
        t.responseTmplFile = dir.resolve(t.responseTmplFile).toString();
      }
      if (!t.dir.isEmpty() && !Path.of(t.dir).isAbsolute()) {
        t.dir = dir.resolve(t.dir).toString();
      }
    }
    return c;
  }

  /** A config pointing at a server directly (the embedded relay). */
  public static PortrConfig of(String serverUrl, String sshUrl, String tunnelUrl, String secretKey, boolean useLocalhost) {
    PortrConfig c = new PortrConfig();
    c.serverUrl = serverUrl;
    c.sshUrl = sshUrl;
    c.tunnelUrl = tunnelUrl;
    c.secretKey = secretKey;
    c.useLocalhost = useLocalhost;
    c.setDefaults();
    return c;
  }

  private static JsonObject toJson(Object root, Path file) throws IOException {
    if (!(root instanceof Map<?, ?>)) {
      throw new IOException("invalid config " + file + ": the top level must be a map of settings");
    }
    Object json = jsonValue(root);
    return (JsonObject) json;
  }

  private static Object jsonValue(Object v) {
    if (v instanceof Map<?, ?> m) {
      JsonObject o = new JsonObject();
      m.forEach((k, val) -> o.put(String.valueOf(k), jsonValue(val)));
      return o;
    }
    if (v instanceof List<?> l) {
      JsonArray a = new JsonArray();
      l.forEach(item -> a.add(jsonValue(item)));
      return a;
    }
    if (v instanceof java.util.Date || v instanceof byte[]) {
      return String.valueOf(v);
    }
    return v;
  }

  static PortrConfig fromJson(JsonObject j, Path file) throws IOException {
    Fields f = new Fields(j, file, "");
    PortrConfig c = new PortrConfig();
    c.serverUrl = f.string("server_url");
    c.sshUrl = f.string("ssh_url");
    c.tunnelUrl = f.string("tunnel_url");
    c.secretKey = f.string("secret_key");
    c.useLocalhost = f.bool("use_localhost", false);
    c.dashboardPort = f.integer("dashboard_port");
    c.disableDashboard = f.bool("disable_dashboard", false);
    c.connectionLogRetentionDays = f.integer("connection_log_retention_days");
    c.enableRequestLogging = f.bool("enable_request_logging", true);
    Object redact = j.getValue("redact_headers");
    if (redact != null) {
      if (!(redact instanceof JsonArray names)) {
        throw new IOException("invalid config " + file + ": redact_headers must be a list of strings");
      }
      for (int i = 0; i < names.size(); i++) {
        if (!(names.getValue(i) instanceof String name)) {
          throw new IOException("invalid config " + file + ": redact_headers[" + i + "] must be a string");
        }
        c.redactHeaders.add(name);
      }
    }
    c.healthCheckInterval = f.integer("health_check_interval");
    c.healthCheckMaxRetries = f.integer("health_check_max_retries");
    c.insecureSkipHostKeyVerification = j.getValue("insecure_skip_host_key_verification") == null ? null
        : f.bool("insecure_skip_host_key_verification", true);
    Object tunnels = j.getValue("tunnels");
    if (tunnels != null) {
      if (!(tunnels instanceof JsonArray arr)) {
        throw new IOException("invalid config " + file + ": tunnels must be a list");
      }
      for (int i = 0; i < arr.size(); i++) {
        if (!(arr.getValue(i) instanceof JsonObject tj)) {
          throw new IOException("invalid config " + file + ": tunnels[" + i + "] must be a map");
        }
        Fields tf = new Fields(tj, file, "tunnels[" + i + "].");
        PortrTunnel t = new PortrTunnel();
        t.name = tf.string("name");
        t.subdomain = tf.string("subdomain");
        t.port = tf.integer("port");
        t.host = tf.string("host");
        t.dir = tf.string("dir");
        t.type = PortrTunnel.yamlType(tf.string("type"));
        t.responseFormat = tf.string("response_format");
        t.responseTmpl = tf.string("response_tmpl");
        t.responseTmplFile = tf.string("response_tmpl_file");
        t.poolSize = tf.integer("pool_size");
        t.hostHeader = tf.string("host_header");
        t.basicAuth = tf.string("basic_auth");
        c.tunnels.add(t);
      }
    }
    Object groups = j.getValue("groups");
    if (groups instanceof JsonObject g) {
      for (String name : g.fieldNames()) {
        List<String> members = new ArrayList<>();
        if (g.getValue(name) instanceof JsonArray arr) {
          arr.forEach(m -> members.add(String.valueOf(m)));
        }
        c.groups.put(name, members);
      }
    }
    return c;
  }

  /** Portr's Config.SetDefaults (and each tunnel's). */
  public void setDefaults() {
    if (serverUrl.isEmpty()) {
      serverUrl = "localhost:8000";
    }
    if (sshUrl.isEmpty()) {
      sshUrl = serverUrl;
    }
    if (tunnelUrl.isEmpty()) {
      tunnelUrl = serverUrl;
    }
    if (dashboardPort == 0) {
      dashboardPort = 7777;
    }
    if (healthCheckInterval == 0) {
      healthCheckInterval = 3;
    }
    if (healthCheckMaxRetries == 0) {
      healthCheckMaxRetries = 10;
    }
    if (insecureSkipHostKeyVerification == null) {
      insecureSkipHostKeyVerification = true;
    }
    if (redactHeaders.isEmpty()) {
      redactHeaders = new ArrayList<>(DEFAULT_REDACT_HEADERS);
    }
    for (PortrTunnel t : tunnels) {
      t.setDefaults();
    }
  }

  /** Portr's Config.Validate: the first problem's exact message, or null. */
  public String validate() {
    if (!disableDashboard && (dashboardPort < 1 || dashboardPort > 65535)) {
      return "dashboard_port must be between 1 and 65535";
    }
    if (connectionLogRetentionDays < 0) {
      return "connection_log_retention_days must be greater than or equal to 0";
    }
    for (Map.Entry<String, List<String>> g : groups.entrySet()) {
      for (PortrTunnel t : tunnels) {
        if (t.name.equals(g.getKey())) {
          return "group " + GoQuote.q(g.getKey()) + " conflicts with a tunnel of the same name";
        }
      }
      if (g.getValue().isEmpty()) {
        return "group " + GoQuote.q(g.getKey()) + " must reference at least one tunnel";
      }
      for (String member : g.getValue()) {
        if (tunnels.stream().noneMatch(t -> t.name.equals(member))) {
          return "group " + GoQuote.q(g.getKey()) + " references unknown tunnel " + GoQuote.q(member);
        }
      }
    }
    for (PortrTunnel t : tunnels) {
      String problem = t.validate();
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  /** {@code http} with use_localhost, else {@code https} (portr-protocol §1.4). */
  public String proto() {
    return useLocalhost ? "http" : "https";
  }

  /** Base of the admin API for connection creation: proto + "://" + server_url, verbatim. */
  public String serverAddr() {
    return proto() + "://" + serverUrl;
  }

  /** Base for the version probe: server_url as is when it has a scheme, trailing slash trimmed. */
  public String serverBaseUrl() {
    String base = serverUrl.startsWith("http://") || serverUrl.startsWith("https://") ? serverUrl : proto() + "://" + serverUrl;
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return base;
  }

  public String httpTunnelUrl(String subdomain) {
    return proto() + "://" + subdomain + "." + tunnelUrl;
  }

  public String tcpTunnelAddr(int remotePort) {
    return tunnelUrl.split(":", -1)[0] + ":" + remotePort;
  }

  /** Runtime interval: ≤ 0 means 3 s. */
  /**
   * The header names a tunnel's captures redact (portr-protocol §1.3): the configured list, plus
   * {@code Authorization} for a tunnel with basic auth when the list lacks it.
   */
  public List<String> redactHeadersFor(boolean basicAuth) {
    List<String> names = new ArrayList<>(redactHeaders.isEmpty() ? DEFAULT_REDACT_HEADERS : redactHeaders);
    if (basicAuth && names.stream().noneMatch(n -> n.equalsIgnoreCase("Authorization"))) {
      names.add("Authorization");
    }
    return List.copyOf(names);
  }

  public int effectiveHealthCheckInterval() {
    return healthCheckInterval <= 0 ? 3 : healthCheckInterval;
  }

  /** Runtime retries: < 1 means 1. */
  public int effectiveMaxRetries() {
    return Math.max(1, healthCheckMaxRetries);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** Typed reads of YAML fields, failing like Go's decoder does on a type mismatch. */
  private record Fields(JsonObject j, Path file, String prefix) {
    String string(String key) throws IOException {
      Object v = j.getValue(key);
      if (v == null) {
        return "";
      }
      if (v instanceof String s) {
        return s;
      }
      if (v instanceof Number || v instanceof Boolean) {
        return String.valueOf(v);
      }
      throw new IOException("invalid config " + file + ": " + prefix + key + " must be a string");
    }

    int integer(String key) throws IOException {
      Object v = j.getValue(key);
      if (v == null) {
        return 0;
      }
      if (v instanceof Integer || v instanceof Long) {
        return ((Number) v).intValue();
      }
      throw new IOException("invalid config " + file + ": " + prefix + key + " must be an integer");
    }

    boolean bool(String key, boolean fallback) throws IOException {
      Object v = j.getValue(key);
      if (v == null) {
        return fallback;
      }
      if (v instanceof Boolean b) {
        return b;
      }
      throw new IOException("invalid config " + file + ": " + prefix + key + " must be true or false");
    }
  }
}
