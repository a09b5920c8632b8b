package dev.porthole.bootstrap;

import dev.porthole.api.HttpVerticle;
import dev.porthole.cluster.ClusterBoot;
import dev.porthole.cluster.ClusterVerticle;
import dev.porthole.config.AppServerSettings;
import dev.porthole.config.ClusterConfig;
import dev.porthole.config.Paths;
import dev.porthole.config.PortrConfig;
import dev.porthole.health.HealthVerticle;
import dev.porthole.logging.Redactor;
import dev.porthole.metrics.Metrics;
import dev.porthole.relay.EmbeddedRelay;
import dev.porthole.requestlog.RequestLogVerticle;
import dev.porthole.ssh.JschConnector;
import dev.porthole.tunnel.TunnelManagerVerticle;
import dev.porthole.webhook.WebhookVerticle;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app-server's composition root: given the settings parsed once ({@link AppServerSettings})
 * and the Portr client config (or none), it deploys the verticles in dependency order, each with
 * its own slice, so that HTTP never answers before the bus has handlers: [the embedded {@link
 * EmbeddedRelay}, only without a Portr config] → {@link RequestLogVerticle} → {@link TunnelManagerVerticle} → {@link
 * HealthVerticle} → {@link WebhookVerticle} → {@link HttpVerticle}. They are its children: undeploying
 * it undeploys them. Process concerns (flags, signals, exit codes, printing) stay in the command.
 */
public final class MainVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(MainVerticle.class);
  public static final long STAGE_LIMIT_S = 60;

  /** Which start-up stage failed, for the command's message. */
  public enum Stage { EMBEDDED_RELAY, APP_SERVER }

  /** A start-up stage failed (or did not finish within {@value #STAGE_LIMIT_S} s). */
  public static final class StartFailure extends Exception {
    private final Stage stage;

    StartFailure(Stage stage, Throwable cause) {
      super(cause.getMessage(), cause, false, false);
      this.stage = stage;
    }

    public Stage stage() {
      return stage;
    }
  }

  private final AppServerSettings settings;
  private final String apiToken;
  private final PortrConfig configured;
  private final Path portrPath;
  private HttpVerticle http;

  /**
   * @param apiToken the static API token, empty for none
   * @param portr the Portr client config, or null to start the embedded relay
   * @param portrPath where the Portr config is (or would be), for the log
   */
  public MainVerticle(AppServerSettings settings, String apiToken, PortrConfig portr, Path portrPath) {
    this.settings = settings;
    this.apiToken = apiToken;
    this.configured = portr;
    this.portrPath = portrPath;
  }

  /**
   * The Vert.x instance the app-server runs on, chosen here and nowhere else: plain, or, with
   * {@code cluster.enabled}, clustered ({@link ClusterBoot}; Hazelcast's classes are loaded only
   * then). With {@code metrics.enabled} it is built with Micrometer metrics, whose registry every
   * verticle finds with {@link Metrics#of}.
   */
  public static Future<Vertx> vertx(AppServerSettings settings) {
    Metrics metrics = Metrics.create(settings.metrics().enabled());
    if (settings.cluster().enabled()) {
      return ClusterBoot.start(settings.cluster(), metrics);
    }
    return Future.succeededFuture(metrics.install(metrics.configure(Vertx.builder()).build()));
  }

  @Override
  public Future<?> start() {
    return stage(Stage.EMBEDDED_RELAY, "starting the embedded relay",
            configured != null ? Future.succeededFuture(configured) : embeddedRelay())
        .compose(portr -> stage(Stage.APP_SERVER, "starting the app-server", deploy(portr)))
        .onSuccess(v -> IdleMemory.trimPeriodically(vertx));
  }

  /** The port HTTP actually bound (the configured one may be 0). */
  public int httpPort() {
    return http.actualPort();
  }

  private Future<PortrConfig> embeddedRelay() {
    log.info("app-server: no Portr config at {}: starting the embedded relay on loopback", portrPath);
    return EmbeddedRelay.start(vertx, settings.embeddedRelay()).map(relay -> {
      log.info("app-server: embedded relay ready: {}", relay.describe());
      return relay.portrConfig();
    });
  }

  private Future<String> deploy(PortrConfig portr) {
    if (configured != null) {
      log.info("app-server: using the Portr server {} (SSH {}, tunnels at {}) from {}", portr.serverUrl, portr.sshUrl,
          portr.tunnelUrl, portrPath);
    }
    Redactor.register(portr.secretKey);
    Path knownHosts = portr.insecureSkipHostKeyVerification
        ? null : Paths.home().resolve(".portr").resolve("known_hosts");
    http = new HttpVerticle(new HttpVerticle.Slice(settings.app().bindHost(), settings.app().port(), apiToken,
        configured != null ? "configured" : "embedded", settings.auth(), settings.access()));
    if (!settings.requestLog().enabled()) {
      // request_log.enabled: false turns capture off whatever the Portr config says (with the
      // embedded relay there is no Portr config to say it).
      portr.enableRequestLogging = false;
    }
    ClusterConfig cluster = settings.cluster();
    String node = cluster.enabled() ? cluster.nodeName() : "";
    return vertx.deployVerticle(new RequestLogVerticle(settings.requestLog().withPortr(portr)))
        .compose(id -> vertx.deployVerticle(new TunnelManagerVerticle(portr, new JschConnector(settings.ssh()), knownHosts,
            Clock.systemUTC(), settings.limits(), node, settings.edge())))
        .compose(id -> cluster.enabled() ? vertx.deployVerticle(new ClusterVerticle(cluster,
            ClusterBoot.membership(vertx), () -> apiUrl(cluster))) : Future.succeededFuture(id))
        .compose(id -> vertx.deployVerticle(new HealthVerticle(portr.effectiveHealthCheckInterval())))
        .compose(id -> vertx.deployVerticle(new WebhookVerticle(settings.webhooks())))
        .compose(id -> vertx.deployVerticle(http));
  }

  /**
   * This node's API as other members should call it: the bound host, or for a wildcard bind the
   * cluster's public host (else its interface); "" until HTTP is up.
   */
  private String apiUrl(ClusterConfig cluster) {
    if (http == null || !http.isListening()) {
      return "";
    }
    String bind = settings.app().bindHost();
    String host = bind.equals("0.0.0.0") || bind.equals("::") || bind.equals("[::]")
        ? (cluster.publicHost().isEmpty() ? cluster.host() : cluster.publicHost()) : bind;
    return "http://" + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + http.actualPort();
  }

  /** A stage bounded in time, its failure labelled with the stage. */
  private static <T> Future<T> stage(Stage stage, String what, Future<T> work) {
    return work.timeout(STAGE_LIMIT_S, TimeUnit.SECONDS).recover(err -> Future.failedFuture(new StartFailure(stage,
        err instanceof TimeoutException ? new IllegalStateException(what + " did not finish within " + STAGE_LIMIT_S
            + " s") : err)));
  }
}
