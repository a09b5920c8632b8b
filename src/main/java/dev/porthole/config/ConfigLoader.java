package dev.porthole.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Loads porthole's own settings, each layer overriding the one before: the defaults
 * ({@link ConfigDefaults}), the YAML file, {@code PORTHOLE_*} environment variables (the key path
 * upper-cased, dots and dashes as underscores: {@code relay.ssh_port} is {@code
 * PORTHOLE_RELAY_SSH_PORT}), then command-line flags.
 */
public final class ConfigLoader {
  public static final String ENV_PREFIX = "PORTHOLE_";
  /** Used when no file is named and {@code conf/porthole.yaml} exists in the working directory. */
  public static final Path DEFAULT_FILE = Path.of("conf", "porthole.yaml");

  private ConfigLoader() {
  }

  /**
   * @param file the YAML file named by the user (must exist), or null to use {@link #DEFAULT_FILE}
   *     when present
   * @param env the environment to read {@code PORTHOLE_*} variables from
   * @param flags overrides from the command line, as a tree shaped like the defaults
   */
  public static Future<JsonObject> load(Vertx vertx, Path file, Map<String, String> env, JsonObject flags) {
    Path path = file != null ? file : (Files.isRegularFile(DEFAULT_FILE) ? DEFAULT_FILE : null);
    if (file != null && !Files.isRegularFile(file)) {
      return Future.failedFuture(new ConfigException("config file " + file + " does not exist"));
    }
    JsonObject defaults = ConfigDefaults.tree();
    JsonObject envOverlay;
    try {
      envOverlay = fromEnv(defaults, env);
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setScanPeriod(0)
        .setIncludeDefaultStores(false)
        .addStore(json(defaults));
    if (path != null) {
      options.addStore(new ConfigStoreOptions().setType("file").setFormat("yaml")
          .setConfig(new JsonObject().put("path", path.toString())));
    }
    options.addStore(json(envOverlay)).addStore(json(flags == null ? new JsonObject() : flags));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    String source = path == null ? "defaults" : path.toString();
    return retriever.getConfig()
        .eventually(retriever::close)
        .recover(err -> Future.failedFuture(new ConfigException("cannot read " + source + ": " + rootMessage(err))))
        .compose(merged -> {
          try {
            checkKeys("", defaults, merged);
            return Future.succeededFuture(merged);
          } catch (ConfigException e) {
            return Future.failedFuture(e);
          }
        });
  }

  private static ConfigStoreOptions json(JsonObject tree) {
    return new ConfigStoreOptions().setType("json").setConfig(tree);
  }

  /** Rejects keys the defaults do not know and sections that are not maps: typos must not pass silently. */
  static void checkKeys(String prefix, JsonObject defaults, JsonObject actual) {
    for (Map.Entry<String, Object> e : actual) {
      String key = prefix + e.getKey();
      if (!defaults.containsKey(e.getKey())) {
        throw new ConfigException(key, "unknown key");
      }
      Object def = defaults.getValue(e.getKey());
      if (def instanceof JsonObject section) {
        if (!(e.getValue() instanceof JsonObject sub)) {
          throw new ConfigException(key, "must be a map of settings");
        }
        checkKeys(key + ".", section, sub);
      }
    }
  }

  /** The {@code PORTHOLE_*} variables that name a known key, typed like that key's default. */
  static JsonObject fromEnv(JsonObject defaults, Map<String, String> env) {
    JsonObject overlay = new JsonObject();
    collectEnv("", defaults, env, overlay);
    return overlay;
  }

  private static void collectEnv(String prefix, JsonObject defaults, Map<String, String> env, JsonObject out) {
    for (Map.Entry<String, Object> e : defaults) {
      String key = prefix + e.getKey();
      if (e.getValue() instanceof JsonObject section) {
        JsonObject sub = new JsonObject();
        collectEnv(key + ".", section, env, sub);
        if (!sub.isEmpty()) {
          out.put(e.getKey(), sub);
        }
        continue;
      }
      String name = envName(key);
      String raw = env.get(name);
      if (raw != null) {
        out.put(e.getKey(), typed(name, raw, e.getValue()));
      }
    }
  }

  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private static Object typed(String name, String raw, Object def) {
    String v = raw.trim();
    if (def instanceof Integer || def instanceof Long) {
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw new ConfigException(name, "must be a whole number, got \"" + raw + "\"");
      }
    }
    if (def instanceof Boolean) {
      if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(v);
      }
      throw new ConfigException(name, "must be true or false, got \"" + raw + "\"");
    }
    if (def instanceof JsonArray) {
      JsonArray list = new JsonArray();
      for (String item : v.split(",")) {
        if (!item.isBlank()) {
          list.add(item.trim());
        }
      }
      return list;
    }
    return raw;
  }

  private static String rootMessage(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String msg = t.getMessage();
    return msg == null ? t.getClass().getSimpleName() : msg.replaceAll("\\s+", " ").trim();
  }
}
