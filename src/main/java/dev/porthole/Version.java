package dev.porthole;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** porthole's own version, taken from the Maven build (resource filtering). */
public final class Version {
  private static final Properties PROPS = load();
  private static final String VERSION = PROPS.getProperty("version");

  private Version() {
  }

  public static String get() {
    return VERSION;
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
