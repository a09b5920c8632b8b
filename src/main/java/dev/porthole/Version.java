package dev.porthole;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** porthole's own version and its bundled libraries', taken from the Maven build (resource filtering). */
public final class Version {
  private static final Properties PROPS = load();
  private static final String VERSION = PROPS.getProperty("version");

  private Version() {
  }

  public static String get() {
    return VERSION;
  }

  /** The pinned version of a library the build bundles ({@code sockjs-client}), or null. */
  public static String library(String name) {
    return PROPS.getProperty(name);
  }

  private static Properties load() {
    try (InputStream in = Version.class.getResourceAsStream("/porthole-version.properties")) {
      if (in == null) {
        throw new IllegalStateException("porthole-version.properties is missing from the classpath");
      }
      Properties props = new Properties();
      props.load(in);
      return props;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
