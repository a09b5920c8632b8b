package dev.porthole.cli;

import dev.porthole.bootstrap.MainVerticle;
import dev.porthole.bus.Addresses;
import dev.porthole.config.AppServerConfig;
import dev.porthole.config.AppServerSettings;
import dev.porthole.config.AuthConfig;
import dev.porthole.config.ConfigException;
import dev.porthole.config.ConfigLoader;
import dev.porthole.config.PortrConfig;
import dev.porthole.logging.Redactor;
import dev.porthole.ssh.JschConnector;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
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
  static final long STOP_ALL_LIMIT_MS = 12_000;
  static final long WEBHOOK_DRAIN_LIMIT_MS = 5_000;
  static final long CLUSTER_FLUSH_LIMIT_MS = 4_000;

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
    if (cluster) {
      flags.put("cluster", new JsonObject().put("enabled", true));
    }
    Vertx vertx = MainVerticle.vertx();
    AppServerSettings settings;
    try {
      settings = AppServerSettings.parse(Service.await(ConfigLoader.load(vertx, conf.path, System.getenv(), flags), 30,
          "reading the configuration"));
    } catch (ConfigException e) {
      return fail(vertx, 2, e.getMessage());
    }
    AppServerConfig bind = settings.app();
    AuthConfig auth = settings.auth();
    String apiToken = token != null ? token.strip() : System.getenv().getOrDefault(TOKEN_ENV, "").strip();
    if (apiToken.isEmpty() && !auth.jwtEnabled() && !AppServerConfig.isLoopback(bind.host())) {
      return fail(vertx, 2, "--token or " + TOKEN_ENV + " is required when binding app-server to " + bind.host());
    }
    if (settings.cluster().enabled() && apiToken.isEmpty() && !auth.jwtEnabled()
        && !AppServerConfig.isLoopback(settings.cluster().host())) {
      return fail(vertx, 2, "--token or " + TOKEN_ENV + " is required when the cluster binds to "
          + settings.cluster().host());
    }
    Redactor.register(apiToken);
    if (auth.canMint()) {
      Redactor.register(auth.jwtKey());
    }
    Redactor.register(settings.webhooks().secret());

    Path portrPath = portrConfig != null ? portrConfig : PortrConfig.defaultPath();
    PortrConfig portr = null;
    if (portrConfig != null || Files.exists(portrPath)) {
      try {
        portr = PortrConfig.load(portrPath);
      } catch (java.nio.file.NoSuchFileException e) {
        return fail(vertx, 2, "failed to load config: open " + portrPath + ": no such file or directory");
      } catch (IOException e) {
        return fail(vertx, 2, "failed to load config: " + e.getMessage());
      }
      String problem = portr.validate();
      if (problem != null) {
        return fail(vertx, 2, "invalid Portr config " + portrPath + ": " + problem);
      }
    }

    if (settings.cluster().enabled()) {
      try {
        vertx = Service.await(MainVerticle.vertx(vertx, settings.cluster()), MainVerticle.STAGE_LIMIT_S,
            "joining the cluster");
      } catch (Exception e) {
        System.err.println("porthole: the app-server could not join the cluster: " + RelayCommand.describe(e));
        return 1;
      }
    }
    Vertx running = vertx;
    MainVerticle main = new MainVerticle(settings, apiToken, portr, portrPath);
    try {
      // Each stage has its own limit inside; this one only keeps the command from waiting forever.
      Service.await(vertx.deployVerticle(main), 2 * MainVerticle.STAGE_LIMIT_S + 5, "starting the app-server");
    } catch (MainVerticle.StartFailure e) {
      return fail(vertx, 1, (e.stage() == MainVerticle.Stage.EMBEDDED_RELAY ? "the embedded relay could not start: "
          : "the app-server could not start: ") + RelayCommand.describe(e.getCause()));
    } catch (Exception e) {
      return fail(vertx, 1, "the app-server could not start: " + RelayCommand.describe(e));
    }
    String listening = "Portr app server listening on http://" + bind.host() + ":" + main.httpPort();
    System.out.println(listening);
    log.info(listening);
    return Service.awaitSignalThenStop(running, () -> shutdown(running));
  }

  /** Stops every tunnel (in parallel, bounded), then lets their stopped callbacks go out (bounded). */
  private static Future<?> shutdown(Vertx vertx) {
    var bus = vertx.eventBus();
    return bus.request(Addresses.TUNNELS_STOP_ALL, new JsonObject(), new DeliveryOptions().setSendTimeout(STOP_ALL_LIMIT_MS))
        .onSuccess(m -> log.info("stopped {} tunnel(s)", ((JsonObject) m.body()).getInteger("stopped")))
        // Clustered: the stopped events reach the other members before this one leaves (no handler otherwise).
        .transform(ar -> bus.request(Addresses.CLUSTER_FLUSH, new JsonObject(),
            new DeliveryOptions().setSendTimeout(CLUSTER_FLUSH_LIMIT_MS)))
        .transform(ar -> bus.request(Addresses.WEBHOOKS_DRAIN, new JsonObject(),
            new DeliveryOptions().setSendTimeout(WEBHOOK_DRAIN_LIMIT_MS)))
        .transform(ar -> Future.succeededFuture());
  }

  private static int fail(Vertx vertx, int code, String message) {
    System.err.println("porthole: " + message);
    vertx.close();
    return code;
  }
}
