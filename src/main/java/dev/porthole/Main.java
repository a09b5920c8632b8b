package dev.porthole;

import dev.porthole.bootstrap.StartupJit;
import dev.porthole.cli.PortholeCommand;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;

/** Entry point of the fat jar: {@code java -jar porthole.jar <command> …}. */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    // First: the JDK's class loading starts at once, and logging's own start is a good part of it.
    String jit = StartupJit.apply();
    configureLogging();
    LoggerFactory.getLogger(Main.class).debug("{}", jit);
    int exit = new CommandLine(new PortholeCommand()).execute(args);
    // Long-running commands (relay, app-server) block inside call() until they are stopped, so
    // reaching this line means the command is finished.
    System.exit(exit);
  }

  /** Vert.x, Netty and MINA all log through SLF4J to Logback; java.util.logging is bridged too. */
  static void configureLogging() {
    System.setProperty("vertx.logger-delegate-factory-class-name",
        "io.vertx.core.logging.SLF4JLogDelegateFactory");
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }
}
