package dev.porthole.config;

import java.nio.file.Path;

/** Path helpers for settings. */
public final class Paths {
  private Paths() {
  }

  /** {@code ~} and {@code ~/x} mean the user's home directory, as in a shell. */
  public static Path expandHome(String value) {
    String home = System.getProperty("user.home");
    if (value.equals("~")) {
      return Path.of(home);
    }
    if (value.startsWith("~/")) {
      return Path.of(home, value.substring(2));
    }
    return Path.of(value);
  }
}
