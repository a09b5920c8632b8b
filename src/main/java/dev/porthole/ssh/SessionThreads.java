package dev.porthole.ssh;

import dev.porthole.config.SshClientConfig.VirtualThreads;
import java.util.concurrent.ThreadFactory;

/**
 * The threads JSch runs a session on (its pluggable {@code Session.setThreadFactory}): the session's
 * reader ({@code Connect thread …}, which also writes the relay's bytes into the local sockets), one
 * per forwarded connection ({@code Channel forwarded-tcpip …}, which reads its local socket) and
 * one short-lived one per connection for {@link ForwardDaemon#run}. Virtual threads where the
 * runtime has them and the setting allows, else platform threads as JSch makes them itself.
 *
 * <p>Found by reflection ({@code Thread.ofVirtual()}), so the build stays at Java 17. Only these
 * threads: the forward and keepalive requests stay on {@link JschThreads}' platform threads, since
 * JSch sleeps up to ten seconds inside {@code synchronized} there and interrupts the caller.
 * Nothing else changes with the kind of thread: every blocking call keeps its time limit (socket
 * timeouts, the splice's liveness check), and closing the session or the socket still ends every
 * wait. Virtual threads are always daemon threads, as JSch is asked for ({@code setDaemonThread}).
 */
public final class SessionThreads {
  /** The first Java whose virtual threads do not pin their carrier inside {@code synchronized} (JEP 491). */
  static final int UNPINNED_SYNCHRONIZED = 24;
  static final int FIRST_VIRTUAL = 21;
  private static final ThreadFactory VIRTUAL = virtualFactory();
  private static final ThreadFactory PLATFORM = Thread::new;

  private final ThreadFactory factory;
  private final String description;

  private SessionThreads(ThreadFactory factory, String description) {
    this.factory = factory;
    this.description = description;
  }

  /** For this runtime. */
  public static SessionThreads of(VirtualThreads setting) {
    return choose(setting, Runtime.version().feature(), VIRTUAL);
  }

  /**
   * @param feature the Java feature release
   * @param virtual the runtime's virtual thread factory, null before Java 21
   */
  static SessionThreads choose(VirtualThreads setting, int feature, ThreadFactory virtual) {
    String java = "Java " + feature;
    return switch (setting) {
      case OFF -> new SessionThreads(PLATFORM, "platform threads (ssh.virtual_threads: off)");
      case ON -> virtual != null
          ? new SessionThreads(virtual, "virtual threads (" + java + ", ssh.virtual_threads: on)")
          : new SessionThreads(PLATFORM, "platform threads (" + java + " has no virtual threads; ssh.virtual_threads: on"
              + " needs Java " + FIRST_VIRTUAL + " or later)");
      case AUTO -> virtual != null && feature >= UNPINNED_SYNCHRONIZED
          ? new SessionThreads(virtual, "virtual threads (" + java + ")")
          : new SessionThreads(PLATFORM, "platform threads (" + java + "; virtual threads from Java "
              + UNPINNED_SYNCHRONIZED + ", or set ssh.virtual_threads: on from Java " + FIRST_VIRTUAL + ")");
    };
  }

  public ThreadFactory factory() {
    return factory;
  }

  public boolean virtual() {
    return factory != PLATFORM;
  }

  /** For the start-up log. */
  public String describe() {
    return description;
  }

  /** {@code Thread.ofVirtual().name("porthole-jsch-", 1).factory()}, or null when this Java has none. */
  static ThreadFactory virtualFactory() {
    try {
      Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
      Class<?> type = Class.forName("java.lang.Thread$Builder");
      builder = type.getMethod("name", String.class, long.class).invoke(builder, "porthole-jsch-", 1L);
      return (ThreadFactory) type.getMethod("factory").invoke(builder);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
