package dev.porthole.cli;

import dev.porthole.bootstrap.IdleMemory;
import dev.porthole.bootstrap.MainVerticle;
import dev.porthole.ssh.JschConnector;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "app-server", mixinStandardHelpOptions = true,
    description = "Run Portr's app-server API: create, inspect and stop HTTP and TCP tunnels over HTTP. "
        + "With no Portr config (~/.portr/config.yaml, or --config) it starts an embedded relay on "
        + "loopback and tunnels through it.")
public final class AppServerCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(AppServerCommand.class);
  static final String TOKEN_ENV = "PORTR_APP_SERVER_TOKEN";

  @Option(names = "--host", paramLabel = "HOST", description = "address to listen on (app_server.host, default 127.0.0.1)")
  String host;

  @Option(names = "--port", paramLabel = "PORT", description = "port to listen on (app_server.port, default 7778)")
  Integer port;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "require Authorization: Bearer TOKEN on every request (also " + TOKEN_ENV + ")")
  String token;

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "Portr client config (default ~/.portr/config.yaml; without one, an embedded relay is used)")
  Path portrConfig;

  @Option(names = "--metrics", negatable = true, paramLabel = "BOOLEAN",
      description = "serve Prometheus metrics at /metrics (metrics.enabled, default true); --no-metrics builds "
          + "Vert.x without them")
  Boolean metrics;

  @Option(names = "--cluster", description = "join the cluster of app-servers set in the cluster section"
      + " (cluster.enabled; docs/cluster.md)")
  boolean cluster;

  @Mixin
  SettingsFile conf = new SettingsFile();

  /** The JSch self-check; a test replaces it to simulate a JSch without the fields porthole reads. */
  Runnable jschCheck = JschConnector::selfCheck;

  @Override
  public Integer call() throws Exception {
    try {
      jschCheck.run();
    } catch (IllegalStateException e) {
      System.err.println("porthole: the app-server cannot start: " + e.getMessage());
      return 1;
    }
    JsonObject flags = new JsonObject();
    JsonObject app = new JsonObject();
    if (host != null) {
      app.put("host", host);
    }
    if (port != null) {
      app.put("port", port);
    }
    flags.put("app_server", app);
    if (metrics != null) {
      flags.put("metrics", new JsonObject().put("enabled", metrics));
    }
    if (cluster) {
      flags.put("cluster", new JsonObject().put("enabled", true));
    }
    AppServerLaunch.Loaded loaded;
    try {
      loaded = AppServerLaunch.load(conf.path, flags, token, portrConfig);
    } catch (AppServerLaunch.Failure f) {
      System.err.println("porthole: " + f.getMessage());
      return f.code;
    }
    IdleMemory.apply();
    Vertx vertx;
    try {
      vertx = Service.await(MainVerticle.vertx(loaded.settings()), MainVerticle.STAGE_LIMIT_S,
          loaded.settings().cluster().enabled() ? "joining the cluster" : "starting Vert.x");
    } catch (Exception e) {
      System.err.println("porthole: the app-server could not " + (loaded.settings().cluster().enabled()
          ? "join the cluster: " : "start: ") + RelayCommand.describe(e));
      return 1;
    }
    MainVerticle main;
    try {
      main = AppServerLaunch.deploy(vertx, loaded);
    } catch (AppServerLaunch.Failure f) {
      return fail(vertx, f.code, f.getMessage());
    }
    String listening = "Portr app server listening on http://" + loaded.settings().app().host() + ":" + main.httpPort();
    System.out.println(listening);
    log.info(listening);
    return Service.awaitSignalThenStop(vertx, () -> AppServerLaunch.shutdown(vertx));
  }

  private static int fail(Vertx vertx, int code, String message) {
    System.err.println("porthole: " + message);
    vertx.close();
    return code;
  }
}
