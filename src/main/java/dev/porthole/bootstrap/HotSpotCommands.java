package dev.porthole.bootstrap;

import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * HotSpot's diagnostic commands (what {@code jcmd} runs) from inside the process, through the
 * {@code DiagnosticCommand} MBean: what porthole tunes without a JVM option. An operation is the
 * command's name in camel case ({@code Compiler.directives_add} → {@code compilerDirectivesAdd}).
 */
public final class HotSpotCommands {
  private HotSpotCommands() {
  }

  /**
   * @param args the command's arguments; none for a command that takes none
   * @return what the command printed, stripped
   * @throws JMException no such command in this JVM, or it failed
   */
  public static String run(String operation, String... args) throws JMException {
    Object[] params = args.length == 0 ? new Object[0] : new Object[] {args};
    String[] signature = args.length == 0 ? new String[0] : new String[] {String[].class.getName()};
    return String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
        new ObjectName("com.sun.management:type=DiagnosticCommand"), operation, params, signature)).strip();
  }
}
