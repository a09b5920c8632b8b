package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/** Typed reads from one config section, failing with the full key name. */
final class Reader {
  private final String section;
  private final JsonObject json;

  Reader(String section, JsonObject json) {
    this.section = section;
    this.json = json;
  }

  String key(String name) {
    return section + "." + name;
  }

  String string(String name, boolean blankAllowed) {
    Object v = json.getValue(name);
    if (v == null) {
      if (blankAllowed) {
        return "";
      }
      throw new ConfigException(key(name), "is required");
    }
    if (!(v instanceof String s)) {
      throw new ConfigException(key(name), "must be a string, got " + v);
    }
    if (!blankAllowed && s.isBlank()) {
      throw new ConfigException(key(name), "must not be blank");
    }
    return s;
  }

  long number(String name, long min, long max) {
    Object v = json.getValue(name);
    if (!(v instanceof Number n) || v instanceof Double || v instanceof Float) {
      throw new ConfigException(key(name), "must be a whole number, got " + (v == null ? "nothing" : v));
    }
    long value = n.longValue();
    if (value < min || value > max) {
      throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  int integer(String name, int min, int max) {
    return (int) number(name, min, max);
  }

  int port(String name) {
    return integer(name, 0, 65535);
  }

  boolean bool(String name) {
    Object v = json.getValue(name);
    if (!(v instanceof Boolean b)) {
      throw new ConfigException(key(name), "must be true or false, got " + v);
    }
    return b;
  }
}
