package dev.porthole.config;

import java.nio.file.Path;
import java.util.Map;

/** Path helpers for settings. */
public final class Paths {
  private Paths() {
  }

  /**
   * The user's home directory as Portr's Go client finds it ({@code os.UserHomeDir}): {@code $HOME},
   * or Java's {@code user.home} only when {@code $HOME} is unset or empty. Java's {@code user.home}
   * alone comes from the password database and ignores {@code $HOME}, so {@code HOME=/tmp/x porthole
   * …} would otherwise read and write the real home.
   */
  public static Path home() {
    return home(System.getenv(), System.getProperty("user.home"));
  }

  static Path home(Map<String, String> env, String userHome) {
    String home = env.get("HOME");
    return Path.of(home == null || home.isEmpty() ? userHome : home);
  }

  /** {@code ~} and {@code ~/x} mean the user's home directory ({@link #home()}), as in a shell. */
  public static Path expandHome(String value) {
    if (value.equals("~")) {
      return home();
    }
    if (value.startsWith("~/")) {
      return home().resolve(value.substring(2));
    }
    return Path.of(value);
  }
}
