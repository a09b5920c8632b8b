package dev.porthole.cli;

import ch.qos.logback.classic.Level;
import dev.porthole.bootstrap.MainVerticle;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelRequest;
import dev.porthole.config.PortrTunnel;
import dev.porthole.logging.Redactor;
import dev.porthole.ssh.JschConnector;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code porthole http <port>} and {@code porthole tcp <port>}: Portr's one-line commands. One
 * tunnel in the foreground, through the configured Portr server or, with none, the embedded relay
 * (the app-server's own composition, {@link AppServerLaunch}); the public URL first, a
 * machine-readable line, then the live view ({@link ForegroundTunnel}). The app-server API is served
 * on loopback meanwhile ({@code --api-port}, any free port by default). Exit codes: 0 stopped by
 * SIGINT/SIGTERM (or the tunnel stopped through the API), 1 the tunnel or the relay could not
 * start, 2 bad flags or configuration.
 */
abstract class TunnelCommand implements Callable<Integer> {
  /** Not in Portr, which would start that many SSH sessions: the API's bound too. */
  static final int MAX_POOL_SIZE = 64;
  static final String LOG_LEVEL_ENV = "PORTHOLE_LOG_LEVEL";

  @Parameters(index = "0", paramLabel = "PORT", description = "the local port to expose")
  int port;

  @Option(names = "--host", paramLabel = "HOST", defaultValue = "localhost",
      description = "the local host the tunnel forwards to (default localhost)")
  String host;

  @Option(names = "--pool-size", paramLabel = "N",
      description = "SSH sessions sharing the tunnel, round robin, against a Portr server >= 1.0.0 "
          + "(default 2, http only; at most " + MAX_POOL_SIZE + ")")
  Integer poolSize;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "Portr client config (default ~/.portr/config.yaml; without one, an embedded relay is used)")
  Path portrConfig;

  @Option(names = "--api-port", paramLabel = "PORT", defaultValue = "0",
      description = "serve the app-server API on 127.0.0.1:PORT meanwhile (default 0, any free port; the "
          + "machine-readable line names it)")
  int apiPort;

  @Mixin
  SettingsFile conf = new SettingsFile();

  /** {@code http} or {@code tcp}. */
  abstract String type();

  /** The http-only fields; tcp has none. */
  void fill(PortrTunnel t) {
  }

  @Override
  public Integer call() throws Exception {
    quietLogs();
    TunnelRequest request;
    try {
      request = request();
    } catch (AppServerLaunch.Failure f) {
      System.err.println("porthole: " + f.getMessage());
      return f.code;
    }
    Redactor.register(request.basicAuth());
    try {
      JschConnector.selfCheck();
    } catch (IllegalStateException e) {
      System.err.println("porthole: the tunnel cannot start: " + e.getMessage());
      return 1;
    }
    JsonObject flags = new JsonObject().put("app_server", new JsonObject().put("host", "127.0.0.1").put("port", apiPort));
    AppServerLaunch.Loaded loaded;
    try {
      loaded = AppServerLaunch.load(conf.path, flags, null, portrConfig);
    } catch (AppServerLaunch.Failure f) {
      System.err.println("porthole: " + f.getMessage());
      return f.code;
    }
    Vertx vertx;
    try {
      vertx = Service.await(MainVerticle.vertx(loaded.settings()), MainVerticle.STAGE_LIMIT_S, "starting Vert.x");
    } catch (Exception e) {
      System.err.println("porthole: the tunnel could not start: " + RelayCommand.describe(e));
      return 1;
    }
    LiveView view = new LiveView(System.out, Ansi.AUTO.enabled(), ZoneId.systemDefault());
    try {
      MainVerticle main;
      try {
        main = AppServerLaunch.deploy(vertx, loaded);
      } catch (AppServerLaunch.Failure f) {
        return fail(vertx, f.code, f.getMessage());
      }
      ForegroundTunnel tunnel = new ForegroundTunnel(request, "http://127.0.0.1:" + main.httpPort(), view);
      try {
        Service.await(vertx.deployVerticle(tunnel).compose(id -> tunnel.ready()),
            TimeUnit.MILLISECONDS.toSeconds(Addresses.START_TIMEOUT_MS) * 2 + 5, "starting the tunnel");
      } catch (Exception e) {
        try {
          // A start that failed leaves its tunnel listed as failed, its worker idle: stop it.
          Service.await(AppServerLaunch.shutdown(vertx), 20, "stopping the tunnel");
        } catch (IllegalStateException late) {
          // Closing Vert.x below ends it anyway.
        }
        return fail(vertx, 1, "the tunnel could not start: " + RelayCommand.describe(e));
      }
      return Service.awaitSignalThenStop(vertx, tunnel.ended(), () -> AppServerLaunch.shutdown(vertx));
    } finally {
      view.close();
    }
  }

  /** Portr's SetDefaults and Validate on the flags, and the API's bounds. */
  TunnelRequest request() throws AppServerLaunch.Failure {
    if (port <= 0 || port > 65535) {
      throw new AppServerLaunch.Failure(2, "port must be between 1 and 65535");
    }
    PortrTunnel t = new PortrTunnel();
    t.type = type();
    t.port = port;
    t.host = host == null ? "" : host.strip();
    t.poolSize = poolSize == null ? 0 : poolSize;
    fill(t);
    t.setDefaults();
    String problem = t.validate();
    if (problem != null) {
      throw new AppServerLaunch.Failure(2, problem);
    }
    if (poolSize != null && (poolSize < 1 || poolSize > MAX_POOL_SIZE)) {
      throw new AppServerLaunch.Failure(2, "--pool-size must be between 1 and " + MAX_POOL_SIZE);
    }
    return new TunnelRequest("", t.type, t.host, t.port, t.subdomain, t.poolSize, t.trimmedBasicAuth(), List.of());
  }

  /**
   * The foreground view is the user's output, so porthole's own INFO lines (stderr) and the event
   * log's lines are left out unless {@code PORTHOLE_LOG_LEVEL} asks for them; warnings and errors
   * still show.
   */
  private static void quietLogs() {
    if (System.getenv(LOG_LEVEL_ENV) != null || System.getProperty(LOG_LEVEL_ENV) != null) {
      return;
    }
    if (LoggerFactory.getLogger("dev.porthole") instanceof ch.qos.logback.classic.Logger logger) {
      logger.setLevel(Level.WARN);
    }
    // "app-server" is the event log's logger (Portr's log lines): the live view shows those events,
    // and the command prints a failed start itself.
    if (LoggerFactory.getLogger("app-server") instanceof ch.qos.logback.classic.Logger logger) {
      logger.setLevel(Level.OFF);
    }
  }

  private static int fail(Vertx vertx, int code, String message) throws Exception {
    System.err.println("porthole: " + message);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return code;
  }
}
