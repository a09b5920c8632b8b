package dev.porthole.testsupport;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counts this JVM's live threads by name, virtual threads included: {@code Thread.getAllStackTraces}
 * knows only platform threads, so from Java 21 the count comes from a thread dump
 * ({@code HotSpotDiagnosticMXBean.dumpThreads}, JSON, found by reflection so the tests build on 17).
 */
public final class JvmThreads {
  private static final Pattern NAME = Pattern.compile("\"name\": \"((?:[^\"\\\\]|\\\\.)*)\"");

  private JvmThreads() {
  }

  /** Live threads whose name starts with {@code prefix}. */
  public static long named(String prefix) {
    if (Runtime.version().feature() < 21) {
      return Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }
    Path dump = null;
    try {
      dump = Files.createTempFile("porthole-threads", ".json");
      Files.delete(dump); // dumpThreads refuses an existing file
      Class<?> bean = Class.forName("com.sun.management.HotSpotDiagnosticMXBean");
      @SuppressWarnings({"unchecked", "rawtypes"})
      Object json = Enum.valueOf((Class) Class.forName("com.sun.management.HotSpotDiagnosticMXBean$ThreadDumpFormat"), "JSON");
      Object mx = ManagementFactory.getPlatformMXBean((Class) bean);
      bean.getMethod("dumpThreads", String.class, json.getClass()).invoke(mx, dump.toString(), json);
      Matcher m = NAME.matcher(Files.readString(dump));
      long n = 0;
      while (m.find()) {
        if (m.group(1).startsWith(prefix)) {
          n++;
        }
      }
      return n;
    } catch (ReflectiveOperationException | IOException e) {
      throw new AssertionError("cannot dump this JVM's threads", e);
    } finally {
      if (dump != null) {
        try {
          Files.deleteIfExists(dump);
        } catch (IOException ignored) {
          // A temporary file.
        }
      }
    }
  }
}
