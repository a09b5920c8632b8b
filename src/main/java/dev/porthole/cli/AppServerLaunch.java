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
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code app-server}, {@code http} and {@code tcp} share: the configuration read once (porthole's
 * settings, the API token, the Portr client config or none), the composition ({@link MainVerticle})
 * deployed on it, and the bounded shutdown. The commands keep their flags, printing and exit codes.
 */
final class AppServerLaunch {
  private static final Logger log = LoggerFactory.getLogger(AppServerLaunch.class);
  static final long STOP_ALL_LIMIT_MS = 12_000;
  static final long WEBHOOK_DRAIN_LIMIT_MS = 5_000;
  static final long CLUSTER_FLUSH_LIMIT_MS = 4_000;

  /** The command cannot go on: print {@code porthole: <message>} and exit with {@link #code}. */
  static final class Failure extends Exception {
    final int code;

    Failure(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  /**
   * The configuration, read once.
   *
   * @param portr the Portr client config, or null for the embedded relay
   * @param portrPath where the Portr config is (or would be)
   */
  record Loaded(AppServerSettings settings, String apiToken, PortrConfig portr, Path portrPath) {
  }

  private AppServerLaunch() {
  }

  /**
   * Reads porthole's settings ({@code conf}, environment, {@code flags}), the API token ({@code
   * tokenFlag}, else {@code PORTR_APP_SERVER_TOKEN}) and the Portr config ({@code portrConfig}, else
   * {@code ~/.portr/config.yaml} when it exists); registers every secret with the log redactor.
   * Nothing is left running.
   *
   * @throws Failure with exit code 2 for a bad setting or Portr config
   */
  static Loaded load(Path conf, JsonObject flags, String tokenFlag, Path portrConfig) throws Exception {
    // The configuration decides how the app-server's Vert.x is built (metrics.enabled, later the
    // cluster), so it is read with a short-lived instance of its own.
    Vertx reader = Vertx.vertx();
    AppServerSettings settings;
    try {
      settings = AppServerSettings.parse(Service.await(ConfigLoader.load(reader, conf, System.getenv(), flags), 30,
          "reading the configuration"));
    } catch (ConfigException e) {
      throw new Failure(2, e.getMessage());
    } finally {
      reader.close();
    }
    AppServerConfig bind = settings.app();
    AuthConfig auth = settings.auth();
    String apiToken = tokenFlag != null ? tokenFlag.strip()
        : System.getenv().getOrDefault(AppServerCommand.TOKEN_ENV, "").strip();
    if (apiToken.isEmpty() && !auth.jwtEnabled() && !AppServerConfig.isLoopback(bind.host())) {
      throw new Failure(2, "--token or " + AppServerCommand.TOKEN_ENV + " is required when binding app-server to "
          + bind.host());
    }
    if (settings.cluster().enabled() && apiToken.isEmpty() && !auth.jwtEnabled()
        && !AppServerConfig.isLoopback(settings.cluster().host())) {
      throw new Failure(2, "--token or " + AppServerCommand.TOKEN_ENV + " is required when the cluster binds to "
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
      } catch (NoSuchFileException e) {
        throw new Failure(2, "failed to load config: open " + portrPath + ": no such file or directory");
      } catch (IOException e) {
        throw new Failure(2, "failed to load config: " + e.getMessage());
      }
      String problem = portr.validate();
      if (problem != null) {
        throw new Failure(2, "invalid Portr config " + portrPath + ": " + problem);
      }
    }
    return new Loaded(settings, apiToken, portr, portrPath);
  }

  /**
   * Deploys the composition and waits for it (bounded).
   *
   * @throws Failure with exit code 1 when a stage fails
   */
  static MainVerticle deploy(Vertx vertx, Loaded loaded) throws Exception {
    MainVerticle main = new MainVerticle(loaded.settings(), loaded.apiToken(), loaded.portr(), loaded.portrPath());
    try {
      // Each stage has its own limit inside; this one only keeps the command from waiting forever.
      Service.await(vertx.deployVerticle(main), 2 * MainVerticle.STAGE_LIMIT_S + 5, "starting the app-server");
    } catch (MainVerticle.StartFailure e) {
      throw new Failure(1, (e.stage() == MainVerticle.Stage.EMBEDDED_RELAY ? "the embedded relay could not start: "
          : "the app-server could not start: ") + RelayCommand.describe(e.getCause()));
    } catch (Exception e) {
      throw new Failure(1, "the app-server could not start: " + RelayCommand.describe(e));
    }
    return main;
  }

  /**
   * Stops every tunnel (in parallel, bounded), lets a cluster's members hear of it (bounded), then
   * lets their stopped callbacks go out (bounded).
   */
  static Future<?> shutdown(Vertx vertx) {
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
}
