package dev.porthole.config;

/** A configuration problem, worded as the one line a user sees: {@code <key>: <what is wrong>}. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String key, String problem) {
    super(key + ": " + problem);
  }

  public ConfigException(String message) {
    super(message);
  }
}
