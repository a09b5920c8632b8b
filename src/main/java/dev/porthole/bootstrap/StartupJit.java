package dev.porthole.bootstrap;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.management.JMException;

/**
 * Keeps C2 off the JDK code that is hot only while a JVM starts, so that a start on few cores is not
 * spent compiling it.
 *
 * <p>Measured on 2 cores (three clustered app-servers started together, {@code docs/performance.md},
 * C1): about half of a cold start's CPU was the JIT, and most of that was C2 compiling the JDK's
 * class loader, the ASM copy that spins lambda and method-handle classes, annotation parsing and
 * {@code MethodType} interning. Each of those runs hot while ten thousand classes load and two
 * thousand are spun, then hardly again. A HotSpot compiler directive (added at run time through the
 * {@code DiagnosticCommand} MBean, the operation behind {@code jcmd Compiler.directives_add}, so it
 * works for {@code java -jar} with no option) excludes exactly those classes from C2; HotSpot then
 * compiles them with C1 alone, which is quick to compile and fast enough for what they do later.
 * porthole's own code, Netty's, Vert.x's and the rest of the JDK are compiled as always.
 *
 * <p>{@code PORTHOLE_JIT_DIRECTIVES=off} leaves the JIT alone; so does a JVM that is not HotSpot or
 * refuses the directive. Runs before logging is configured, so it returns what it did instead of
 * logging it.
 */
public final class StartupJit {
  /** JDK classes hot only while classes load and lambdas are spun (HotSpot's pattern syntax). */
  static final List<String> START_ONLY = List.of(
      "jdk/internal/org/objectweb/asm/*.*",
      "jdk/internal/loader/*.*",
      "java/lang/ClassLoader.*",
      "java/security/SecureClassLoader.*",
      "java/util/zip/ZipFile*.*",
      "java/lang/reflect/Executable.*",
      "sun/reflect/annotation/*.*",
      "java/lang/invoke/MethodType*.*",
      "java/lang/invoke/InvokerBytecodeGenerator*.*",
      "java/lang/invoke/LambdaForm.*",
      "java/lang/invoke/LambdaFormEditor*.*",
      "java/lang/invoke/InnerClassLambdaMetafactory*.*");

  private StartupJit() {
  }

  /** @return what was done, for a debug line once logging runs */
  public static String apply() {
    if ("off".equalsIgnoreCase(System.getenv("PORTHOLE_JIT_DIRECTIVES"))) {
      return "start-up JIT directive: off (PORTHOLE_JIT_DIRECTIVES)";
    }
    Path file = null;
    try {
      file = Files.createTempFile("porthole-jit", ".json");
      Files.writeString(file, directive(), StandardCharsets.UTF_8);
      return "start-up JIT directive: " + HotSpotCommands.run("compilerDirectivesAdd", file.toString());
    } catch (JMException | java.io.IOException | RuntimeException e) {
      return "start-up JIT directive not applied: " + e;
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (java.io.IOException ignored) {
          // A file in the temporary directory; nothing else depends on it.
        }
      }
    }
  }

  /** The directive: {@link #START_ONLY} excluded from C2. */
  static String directive() {
    StringBuilder match = new StringBuilder();
    for (String pattern : START_ONLY) {
      match.append(match.length() == 0 ? "" : ", ").append('"').append(pattern).append('"');
    }
    return "[ { match: [" + match + "], c2: { Exclude: true } } ]\n";
  }
}
