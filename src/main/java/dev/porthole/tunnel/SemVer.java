package dev.porthole.tunnel;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a Portr server's version supports pooled HTTP workers (portr-protocol §2.2): a leading
 * {@code v} is dropped, {@code 1} and {@code 1.2} are accepted, and the version must be at least
 * 1.0.0, where a pre-release sorts below its release.
 */
final class SemVer {
  private static final Pattern VERSION = Pattern.compile(
      "^(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:-([0-9A-Za-z.-]+))?(?:\\+[0-9A-Za-z.-]+)?$");

  private SemVer() {
  }

  static boolean supportsPooling(String version) {
    if (version == null) {
      return false;
    }
    String v = version.startsWith("v") ? version.substring(1) : version;
    Matcher m = VERSION.matcher(v);
    if (!m.matches()) {
      return false;
    }
    long major;
    long minor;
    long patch;
    try {
      major = Long.parseLong(m.group(1));
      minor = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
      patch = m.group(3) == null ? 0 : Long.parseLong(m.group(3));
    } catch (NumberFormatException tooBig) {
      return false;
    }
    boolean preRelease = m.group(4) != null;
    if (major != 1 || minor != 0 || patch != 0) {
      return major >= 1;
    }
    return !preRelease;
  }
}
