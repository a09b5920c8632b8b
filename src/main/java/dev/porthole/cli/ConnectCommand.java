package dev.porthole.cli;

import dev.porthole.connect.AppServerClient;
import dev.porthole.connect.ConnectFailure;
import dev.porthole.connect.Listener;
import dev.porthole.connect.PortForwardProtocol;
import dev.porthole.connect.StdioSession;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

@Command(name = "connect", mixinStandardHelpOptions = true,
    description = "Reach a tunnel's local target from this machine through the app-server's WebSocket "
        + "tunnel: listens on a local port (printing `listening HOST:PORT`) and carries each connection "
        + "over its own WebSocket, or carries one connection over stdin/stdout (--stdio, e.g. as an SSH "
        + "ProxyCommand). Exit codes: 0 stopped by a signal or stdio done, 2 usage, 3 unauthorized, "
        + "4 unknown tunnel, 5 the app-server or the tunnel is not reachable.")
public final class ConnectCommand implements Callable<Integer> {
  static final int USAGE = 2;
  static final int UNAUTHORIZED = 3;
  static final int NOT_FOUND = 4;
  static final int UNREACHABLE = 5;

  @Parameters(index = "0", paramLabel = "ID-OR-NAME", description = "the tunnel's id, or its name")
  String tunnel;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
      description = "where to accept local connections (default 127.0.0.1:0, a free port)")
  String listen;

  @Option(names = "--stdio", description = "carry one connection over stdin/stdout instead of listening")
  boolean stdio;

  @Mixin
  AppServerAccess server = new AppServerAccess();

  @Override
  public Integer call() throws Exception {
    String credential = server.credential();
    Vertx vertx = Vertx.vertx();
    try {
      String wsUrl = Service.await(new AppServerClient(vertx, server.api(), credential).websocketUrl(tunnel), 30,
          "looking the tunnel up");
      return stdio ? runStdio(vertx, wsUrl, credential) : runListener(vertx, wsUrl, credential);
    } catch (ConnectFailure f) {
      System.err.println("porthole: " + f.getMessage());
      return exitCode(f.kind());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static int exitCode(ConnectFailure.Kind kind) {
    return switch (kind) {
      case UNAUTHORIZED -> UNAUTHORIZED;
      case NOT_FOUND -> NOT_FOUND;
      case UNREACHABLE -> UNREACHABLE;
    };
  }

  private int runListener(Vertx vertx, String wsUrl, String credential) throws Exception {
    int colon = listen.lastIndexOf(':');
    Integer port = null;
    if (colon >= 0) {
      try {
        port = Integer.parseInt(listen.substring(colon + 1));
      } catch (NumberFormatException e) {
        // Answered below.
      }
    }
    if (port == null) {
      System.err.println("porthole: --listen must be HOST:PORT, got \"" + listen + "\"");
      return USAGE;
    }
    String host = listen.substring(0, colon);
    // Before anything is announced: whoever saw the "listening" line may signal at once.
    CountDownLatch stop = new CountDownLatch(1);
    onSignal(stop, () -> { });
    Listener listener = new Listener(vertx, wsUrl, credential);
    int actual = Service.await(listener.listen(host, port), 10, "listening");
    System.out.println("listening " + host + ":" + actual);
    System.out.flush();
    listener.fatal().thenRun(stop::countDown);
    stop.await();
    awaitQuietly(listener.closeAll(PortForwardProtocol.GOING_AWAY, "client stopped"), CLOSE_LIMIT_SECONDS);
    ConnectFailure reason = listener.fatal().getNow(null);
    if (reason != null) {
      throw reason;
    }
    return 0;
  }

  /** How long a stopping client waits for its close frames to go out. */
  static final long CLOSE_LIMIT_SECONDS = 5;

  /** SIGINT and SIGTERM run {@code first}, then count {@code stop} down (instead of ending the JVM at once). */
  private static void onSignal(CountDownLatch stop, Runnable first) {
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), sig -> {
        first.run();
        stop.countDown();
      });
    }
  }

  private static void awaitQuietly(Future<?> future, long seconds) {
    try {
      Service.await(future, seconds, "closing");
    } catch (Exception e) {
      // Stopping anyway.
    }
  }

  /**
   * One connection over stdin/stdout (see {@link StdioSession}); SIGINT/SIGTERM closes the
   * WebSocket with 1001 first.
   */
  private int runStdio(Vertx vertx, String wsUrl, String credential) throws Exception {
    // Before the tunnel opens: a signal from then on ends the session with 1001.
    CountDownLatch stop = new CountDownLatch(1);
    AtomicBoolean signalled = new AtomicBoolean();
    onSignal(stop, () -> signalled.set(true));
    StdioSession session = Service.await(StdioSession.open(vertx, wsUrl, credential), 30, "opening the tunnel");
    session.start(System.in, System.out, signalled::get, stop::countDown);
    stop.await();
    if (signalled.get()) {
      awaitQuietly(session.close(PortForwardProtocol.GOING_AWAY, "client stopped"), CLOSE_LIMIT_SECONDS);
    }
    return 0;
  }
}
