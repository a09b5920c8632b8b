package dev.porthole.relay;

import dev.porthole.config.EmbeddedRelayConfig;
import dev.porthole.config.PortrConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * The relay the app-server runs on loopback when there is no Portr config, and the Portr client
 * config that points at it. Its ports come from {@code embedded_relay.*} ({@link
 * EmbeddedRelayConfig}): internal listeners on free ports, the HTTP edge on 8001 when free; a port
 * set there that is taken fails the start with a {@link ListenFailure} naming it and its setting.
 * Its other settings come from the {@code relay} section.
 */
public final class EmbeddedRelay {
  public static final String BIND_HOST = "127.0.0.1";

  private final RelayVerticle verticle;
  private final PortrConfig portr;

  private EmbeddedRelay(RelayVerticle verticle, PortrConfig portr) {
    this.verticle = verticle;
    this.portr = portr;
  }

  /**
   * Deploys the relay on {@code vertx} with the configuration tree {@code tree} (not modified).
   *
   * @return the started relay; fails with a message naming the port when a listener cannot bind
   */
  public static Future<EmbeddedRelay> start(Vertx vertx, JsonObject tree) {
    EmbeddedRelayConfig ports;
    try {
      ports = EmbeddedRelayConfig.from(tree);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    JsonObject config = tree.copy();
    config.getJsonObject("relay")
        .put("bind_host", BIND_HOST)
        .put("admin_port", ports.adminPort())
        .put("ssh_port", ports.sshPort())
        .put("http_port", ports.httpPort());
    RelayVerticle relay = new RelayVerticle(ports.anyHttpPortWhenTaken());
    return vertx.deployVerticle(relay, new DeploymentOptions().setConfig(config))
        .recover(err -> Future.failedFuture(err instanceof ListenFailure f
            ? new IllegalStateException(f.getMessage() + ": set embedded_relay." + f.listener().key()
                + " to a free port, or to 0 for any free port", f)
            : err))
        .map(id -> {
          RelayVerticle.Endpoints ep = relay.endpoints();
          return new EmbeddedRelay(relay, PortrConfig.of(BIND_HOST + ":" + ep.adminPort(), BIND_HOST + ":" + ep.sshPort(),
              ep.domain(), relay.secretKeys().get(0), true));
        });
  }

  /** Where it listens. */
  public RelayVerticle.Endpoints endpoints() {
    return verticle.endpoints();
  }

  /** A Portr client config for this relay: its admin API, SSH server, tunnel domain and first secret key. */
  public PortrConfig portrConfig() {
    return portr;
  }

  /** One line for the log: where each listener is. */
  public String describe() {
    RelayVerticle.Endpoints ep = endpoints();
    return "admin " + ep.adminUrl() + ", SSH " + BIND_HOST + ":" + ep.sshPort() + ", tunnels at http://<subdomain>."
        + ep.domain();
  }
}
