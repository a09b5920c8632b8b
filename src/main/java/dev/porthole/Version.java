package dev.porthole;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** porthole's own version, taken from the Maven build (resource filtering). */
public final class Version {
  private static final String VERSION = load();

  private Version() {
  }

  public static String get() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("/porthole-version.properties")) {
      if (in == null) {
        throw new IllegalStateException("porthole-version.properties is missing from the classpath");
      }
      Properties props = new Properties();
      props.load(in);
      return props.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
