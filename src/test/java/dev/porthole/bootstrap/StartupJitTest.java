package dev.porthole.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.ChildJvm;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link StartupJit} in JVMs of its own (it changes how the JVM it runs in compiles): the directive
 * HotSpot holds afterwards, as {@code jcmd Compiler.directives_print} shows it, and the switch that
 * leaves the JIT alone.
 */
class StartupJitTest {
  /** Prints what {@link StartupJit#apply()} said, then the JVM's compiler directives. */
  public static void main(String[] args) throws Exception {
    System.out.println("apply: " + StartupJit.apply());
    System.out.println(HotSpotCommands.run("compilerDirectivesPrint"));
  }

  private static String run(Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("PORTHOLE_JIT_DIRECTIVES", "");
    return ChildJvm.run(StartupJitTest.class, all, List.of());
  }

  @Test
  @DisplayName("by default, HotSpot holds a directive that keeps C2 off exactly the start-only JDK classes")
  void directiveAdded() throws Exception {
    String out = run(Map.of());
    assertThat(out).contains("apply: start-up JIT directive: 1 compiler directives added");
    // The directive: every pattern, with C2 excluded and nothing said of C1 (not enabled for it).
    String directive = out.substring(out.indexOf("Directive:"), out.indexOf("Directive: (default)"));
    for (String pattern : StartupJit.START_ONLY) {
      assertThat(directive).contains(pattern);
    }
    String c1 = directive.substring(directive.indexOf("c1 directives:"), directive.indexOf("c2 directives:"));
    String c2 = directive.substring(directive.indexOf("c2 directives:"));
    assertThat(c1).contains("Enable:false Exclude:false");
    assertThat(c2).contains("Enable:true Exclude:true");
    // The default directive, for everything else, still compiles with both.
    assertThat(out.substring(out.indexOf("Directive: (default)"))).doesNotContain("Exclude:true");
  }

  @Test
  @DisplayName("PORTHOLE_JIT_DIRECTIVES=off leaves the JIT as the JVM starts it")
  void off() throws Exception {
    String out = run(Map.of("PORTHOLE_JIT_DIRECTIVES", "off"));
    assertThat(out).contains("apply: start-up JIT directive: off (PORTHOLE_JIT_DIRECTIVES)");
    assertThat(out).doesNotContain("objectweb").doesNotContain("Exclude:true");
  }
}
