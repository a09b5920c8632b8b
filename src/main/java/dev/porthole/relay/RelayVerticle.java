package dev.porthole.relay;

import dev.porthole.config.RelayConfig;
import dev.porthole.config.RelayConfig.SecretKeyEntry;
import dev.porthole.httpkit.InvalidRequests;
import dev.porthole.logging.Redactor;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.NetClientOptions;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code porthole relay}: a Portr-compatible server — the admin API, the SSH server that grants
 * remote forwards, the HTTP edge that routes by subdomain, the public TCP listeners, and the
 * timers that expire unused reservations and reconcile records with routes.
 *
 * <p>Its settings come from {@code config()}: the whole configuration tree, of which it reads the
 * {@code relay} section. Ports may be 0; {@link #endpoints()} tells what was bound.
 */
public final class RelayVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RelayVerticle.class);
  /** Portr's scheduler runs every 10 s; a shorter reservation TTL gets a matching interval. */
  static final long SWEEP_INTERVAL_MS = 10_000;

  /** Where the relay listens, once started. */
  public record Endpoints(String bindHost, int adminPort, int sshPort, int httpPort, String domain,
      String publicHost, String hostKeyFingerprint, String hostKeyLine, Path generatedSecretFile) {
    /** A URL for the admin API that a client on this machine can use. */
    public String adminUrl() {
      return "http://" + dialable(bindHost) + ":" + adminPort;
    }
  }

  private final boolean anyEdgePortWhenTaken;
  private RelayConfig cfg;
  private ConnectionRegistry registry;
  private RelaySshServer ssh;
  private volatile Endpoints endpoints;
  private volatile List<String> secretKeys = List.of();

  /** A relay whose listeners bind exactly the configured ports, failing with a {@link ListenFailure}. */
  public RelayVerticle() {
    this(false);
  }

  /**
   * @param anyEdgePortWhenTaken when the configured HTTP edge port is taken, bind any free port
   *     instead (the embedded relay's default); the bound port is in {@link #endpoints()}
   */
  public RelayVerticle(boolean anyEdgePortWhenTaken) {
    this.anyEdgePortWhenTaken = anyEdgePortWhenTaken;
  }

  @Override
  public Future<?> start() {
    cfg = RelayConfig.from(config());
    return vertx.executeBlocking(this::prepareBlocking)
        .compose(keys -> {
          registry = new ConnectionRegistry(keys, Clock.systemUTC(), cfg.maxConnectionsPerKey(), cfg.maxReservedPerKey());
          ssh = new RelaySshServer(registry, cfg.bindHost(), cfg.sshPort(), cfg.hostKey(), cfg.publicHost(),
              cfg.authTimeout(), cfg.maxAuthFailuresPerMinute(), cfg.sshWindowBytes(), cfg.sshPacketBytes());
          return vertx.executeBlocking(() -> {
            try {
              ssh.start();
            } catch (Exception e) {
              throw new ListenFailure(ListenFailure.Listener.SSH, cfg.bindHost(), cfg.sshPort(), e);
            }
            return ssh.hostKey();
          });
        })
        .compose(hostKey -> listen().map(ports -> {
          endpoints = new Endpoints(cfg.bindHost(), ports[0], ssh.port(), ports[1],
              cfg.effectiveDomain(ports[1]), cfg.publicHost(), RelaySshServer.fingerprint(hostKey),
              RelaySshServer.publicKeyLine(hostKey), cfg.secretKeys().isEmpty() ? secretFile() : null);
          return ports;
        }))
        .onSuccess(v -> startTimers())
        .onFailure(err -> {
          if (ssh != null) {
            ssh.stop();
          }
        });
  }

  private Path secretFile() {
    return cfg.dataDir().resolve("secret_key");
  }

  /** Blocking: the generated secret key when none is configured. */
  private List<SecretKeyEntry> prepareBlocking() throws Exception {
    List<SecretKeyEntry> keys = new ArrayList<>(cfg.secretKeys());
    if (keys.isEmpty()) {
      keys.add(new SecretKeyEntry(RelayKeys.loadOrCreateSecret(secretFile()), List.of()));
    }
    RelayKeys.ensurePrivateDir(cfg.hostKey().toAbsolutePath().getParent());
    List<String> raw = new ArrayList<>();
    for (SecretKeyEntry k : keys) {
      Redactor.register(k.key());
      raw.add(k.key());
    }
    secretKeys = List.copyOf(raw);
    return keys;
  }

  private Future<int[]> listen() {
    HttpClient edgeClient = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout(5_000)
            .setKeepAlive(true)
            .setKeepAliveTimeout(90)
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(256));
    RelayEdge edge = new RelayEdge(registry, () -> endpoints == null ? cfg.effectiveDomain(0) : endpoints.domain());
    Future<HttpServer> admin = named(ListenFailure.Listener.ADMIN, cfg.adminPort(),
        vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false))
            .invalidRequestHandler(InvalidRequests.JSON)
            .webSocketHandshakeHandler(InvalidRequests.NO_WEBSOCKETS)
            .requestHandler(new AdminApi(registry).router(vertx, cfg.adminMaxBodyBytes()))
            .listen(cfg.adminPort(), cfg.bindHost()));
    Future<HttpServer> http = listenEdge(edge, edgeClient, cfg.httpPort())
        .recover(err -> {
          if (anyEdgePortWhenTaken && cfg.httpPort() != 0 && err instanceof ListenFailure f && f.inUse()) {
            log.info("{}: the HTTP edge takes a free port instead", f.getMessage());
            return listenEdge(edge, edgeClient, 0);
          }
          return Future.failedFuture(err);
        });
    return Future.all(admin, http).map(all -> new int[] {admin.result().actualPort(), http.result().actualPort()});
  }

  private Future<HttpServer> listenEdge(RelayEdge edge, HttpClient edgeClient, int port) {
    // The edge answers Expect: 100-continue itself, as Go's server does once the proxy reads the
    // body: the proxy writes the tunnel's request head only with the first body bytes, so waiting
    // for the tunnel's own 100 would wait forever.
    return named(ListenFailure.Listener.EDGE, port, vertx.createHttpServer(new HttpServerOptions()
            .setHandle100ContinueAutomatically(true)
            .setCompressionSupported(false))
        .requestHandler(edge.handler(edgeClient))
        .listen(port, cfg.bindHost()));
  }

  /** A failed listen, reworded to name the address and the listener. */
  private Future<HttpServer> named(ListenFailure.Listener listener, int port, Future<HttpServer> listening) {
    return listening.recover(err -> Future.failedFuture(new ListenFailure(listener, cfg.bindHost(), port, err)));
  }

  private void startTimers() {
    long sweepEvery = Math.min(SWEEP_INTERVAL_MS, cfg.reservedConnectionTtl().toMillis());
    vertx.setPeriodic(sweepEvery, id -> {
      int removed = registry.sweep(cfg.reservedConnectionTtl(), cfg.closedConnectionTtl(), cfg.closedConnectionsKept());
      if (removed > 0) {
        log.debug("sweep removed {} expired connection record(s)", removed);
      }
    });
    RelayPinger pinger = new RelayPinger(vertx, registry,
        vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) RelayPinger.TIMEOUT_MS)),
        vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) RelayPinger.TIMEOUT_MS)),
        dialable(cfg.bindHost()), () -> endpoints.httpPort(), () -> endpoints.domain(), cfg.publicHost());
    vertx.setPeriodic(cfg.pingInterval().toMillis(), id -> pinger.round());
  }

  @Override
  public Future<?> stop() {
    // Servers, clients and timers created from this context are closed by Vert.x on undeploy.
    return ssh == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      ssh.stop();
      return null;
    });
  }

  public Endpoints endpoints() {
    return endpoints;
  }

  /** The keys clients may use, configured or generated. For the embedded relay of the app-server. */
  public List<String> secretKeys() {
    return secretKeys;
  }

  /** Visible to tests and the app-server: the record store. */
  public ConnectionRegistry registry() {
    return registry;
  }

  /** An address to dial for a listener bound to {@code host} (a wildcard bind is dialled on loopback). */
  public static String dialable(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") || host.isBlank() ? "127.0.0.1" : host;
  }
}
