package dev.porthole.tunnel;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.WorkerSignal;
import dev.porthole.edge.DirectConnection;
import dev.porthole.edge.DirectEdge;
import dev.porthole.edge.TunnelEdgeVerticle;
import dev.porthole.ssh.Cancellation;
import dev.porthole.ssh.LinkSpec;
import dev.porthole.ssh.LocalEnd;
import dev.porthole.ssh.SessionWrites;
import dev.porthole.ssh.SshConnector;
import dev.porthole.ssh.SshFailure;
import dev.porthole.ssh.SshLink;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tunnel's SSH sessions (portr-protocol §3, §5), on a worker thread: JSch calls block, each with
 * a time limit. {@code start()} opens the client edge (HTTP tunnels) and every session of the pool,
 * signalling {@code started} as each comes up; a failure fails the deployment with {@code failed to
 * start tunnel '<name>': <cause>}. The health verticle asks it, on its control address, for a
 * keepalive per session every {@code health_check_interval}, or to reconnect when the public path
 * failed; a lost session is reported {@code unhealthy} and reconnected: first attempt at once, then
 * after 1, 2, 4, 8, 16, 16… s, up to {@code health_check_max_retries} attempts, after which it
 * reports {@code failed}. The only owner of its sessions; the manager stops it by undeploying it
 * (and aborts a blocked connect through the {@link Cancellation}).
 */
final class TunnelWorkerVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TunnelWorkerVerticle.class);
  static final long ESTABLISH_TIMEOUT_MS = 20_000;

  private final WorkerSpec spec;
  private final SshConnector connector;
  private final PortrServerApi api;
  private final Cancellation cancellation;
  private final List<Link> links = new ArrayList<>();
  private String targetHost;
  private int targetPort;
  /** HTTP tunnels with the direct edge: opens each forwarded connection's end in the edge. */
  private LocalEnd.Opener localEnd;
  private boolean stopping;
  /** The pool's connection id (null for single-session tunnels); replaced when the relay forgot it. */
  private Future<String> sharedId;

  private static final class Link {
    final int index;
    SshLink ssh;
    boolean reconnecting;
    boolean dead;

    Link(int index) {
      this.index = index;
    }
  }

  TunnelWorkerVerticle(WorkerSpec spec, SshConnector connector, PortrServerApi api, Cancellation cancellation) {
    this.spec = spec;
    this.connector = connector;
    this.api = api;
    this.cancellation = cancellation;
  }

  @Override
  public Future<?> start() {
    sharedId = spec.sharedConnectionId() == null ? null : Future.succeededFuture(spec.sharedConnectionId());
    vertx.eventBus().<JsonObject>localConsumer(Addresses.workerControl(spec.tunnelId()), this::control);
    Future<Void> target;
    if (spec.request().isHttp()) {
      TunnelEdgeVerticle edge = new TunnelEdgeVerticle(spec.tunnelId(), spec.targetHost(), spec.targetPort(),
          spec.request().basicAuth(), spec.captureSettings());
      target = vertx.deployVerticle(edge).map(id -> {
        targetHost = "127.0.0.1";
        targetPort = edge.port();
        if (spec.directEdge()) {
          DirectEdge direct = edge.direct();
          direct.runRoundsWith(SessionWrites::batched); // a round's answers leave in one write per session
          localEnd = out -> localEnd(direct.open(out::offer));
        }
        return null;
      });
    } else {
      targetHost = spec.targetHost();
      targetPort = spec.targetPort();
      target = Future.succeededFuture();
    }
    // The deployment itself always succeeds: a failed start is reported as a FAILED signal and the
    // worker then undeploys itself (its edge with it). Vert.x never forgets a failed deployment (it
    // stays in its deployment manager's "deploying" map, verticle and all), which leaked one worker
    // and its SSH sessions per start that failed or was stopped half-way.
    target.compose(v -> startLink(0)).onFailure(err -> {
      closeAll();
      if (halted()) {
        return; // stopped while starting: the manager records the stop
      }
      String why = err instanceof SshFailure || err instanceof IllegalStateException ? err.getMessage() : String.valueOf(err);
      vertx.eventBus().send(Addresses.WORKER_SIGNAL, new WorkerSignal(spec.tunnelId(), 0, WorkerSignal.FAILED, 0, "",
          "failed to start tunnel '" + spec.request().displayName() + "': " + why, Instant.now()).toJson());
      vertx.undeploy(deploymentID());
    });
    return Future.succeededFuture();
  }

  private Future<Void> startLink(int index) {
    Link link = new Link(index);
    return establish(index).compose(ssh -> {
      if (halted()) {
        ssh.close(); // the stop came while this session was being opened
        return Future.failedFuture(Cancellation.SHUTTING_DOWN);
      }
      link.ssh = ssh;
      links.add(link);
      log.info("start(tunnel={}, worker={}) remote_port={}", spec.tunnelId(), index, ssh.remotePort());
      signal(link, WorkerSignal.STARTED, "");
      if (index + 1 < spec.workers()) {
        return startLink(index + 1);
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Reserves a connection unless the pool shares one, then opens the SSH session and its forward.
   * The blocking part runs here, on this worker's thread.
   */
  private Future<SshLink> establish(int index) {
    long begin = System.nanoTime();
    Future<String> connectionId = sharedId != null ? sharedId
        : api.createConnection(spec.wireType(), spec.request().isHttp() ? spec.request().subdomain() : null);
    return connectionId.compose(id -> {
      long left = ESTABLISH_TIMEOUT_MS - (System.nanoTime() - begin) / 1_000_000L;
      LinkSpec linkSpec = new LinkSpec(spec.config().sshUrl, id, spec.config().secretKey, spec.request().isHttp(),
          targetHost, targetPort, spec.knownHosts(), Math.max(1, left), spec.traffic(), localEnd);
      try {
        return Future.succeededFuture(connector.open(linkSpec, cancellation));
      } catch (SshFailure e) {
        log.debug("connect(tunnel={}, worker={}) failed: {}", spec.tunnelId(), index, e.getMessage());
        if (sharedId != null && e.getMessage().contains("unable to authenticate")) {
          forgetSharedId(id);
        }
        return Future.failedFuture(e);
      }
    });
  }

  /**
   * The relay refused the pool's connection id: it no longer knows it (a restarted relay, or one
   * that expired the reservation, portr-protocol §11.18). The next attempt of any session reserves a
   * fresh shared connection for the whole pool, once; Portr's client would fail forever here.
   */
  private void forgetSharedId(String refused) {
    if (sharedId.succeeded() && refused.equals(sharedId.result())) {
      log.info("pool(tunnel={}) the relay refused connection {}: reserving a new one for the pool", spec.tunnelId(),
          refused);
      sharedId = api.createConnection("http", spec.request().subdomain())
          .onFailure(err -> sharedId = Future.succeededFuture(refused));
    }
  }

  /** A direct edge connection as the SSH splice sees it (edge/ knows nothing of ssh/). */
  private static LocalEnd localEnd(DirectConnection c) {
    return new LocalEnd() {
      @Override
      public java.io.InputStream in() {
        return c.in();
      }

      @Override
      public java.io.OutputStream out() {
        return c.out();
      }

      @Override
      public void shutdownOutput() {
        c.shutdownOutput();
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  private void control(Message<JsonObject> m) {
    String op = m.body().getString("op", "");
    if (op.equals(Addresses.OP_RECONNECT)) {
      String reason = m.body().getString("reason", "reconnect requested");
      for (Link link : links) {
        if (!halted() && !link.reconnecting && !link.dead) {
          lost(link, reason);
        }
      }
      m.reply(new JsonObject());
      return;
    }
    int checked = 0;
    int failed = 0;
    for (Link link : links) {
      if (halted() || link.reconnecting || link.dead) {
        continue;
      }
      checked++;
      try {
        link.ssh.keepalive();
      } catch (SshFailure e) {
        if (halted()) {
          break; // the stop closed the session under the check
        }
        failed++;
        log.warn("keepalive(tunnel={}, worker={}) failed: {}", spec.tunnelId(), link.index, e.getMessage());
        lost(link, e.getMessage());
      }
    }
    m.reply(new JsonObject().put("checked", checked).put("failed", failed));
  }

  /** Reports the session unhealthy, closes it and starts its reconnect loop. */
  private void lost(Link link, String reason) {
    if (halted()) {
      link.ssh.close(); // the stop closed it: nothing was lost
      return;
    }
    signal(link, WorkerSignal.UNHEALTHY, reason);
    link.ssh.close();
    link.reconnecting = true;
    reconnect(link, 1);
  }

  private void reconnect(Link link, int attempt) {
    if (halted()) {
      return;
    }
    establish(link.index).onComplete(ar -> {
      if (halted()) {
        if (ar.succeeded()) {
          ar.result().close();
        }
        return;
      }
      if (ar.succeeded()) {
        link.ssh = ar.result();
        link.reconnecting = false;
        log.info("reconnect(tunnel={}, worker={}) attempt {} ok, remote_port={}", spec.tunnelId(), link.index,
            attempt, link.ssh.remotePort());
        signal(link, WorkerSignal.RECONNECTED, "");
        return;
      }
      String cause = ar.cause().getMessage();
      int max = spec.config().effectiveMaxRetries();
      if (attempt >= max) {
        link.dead = true;
        link.reconnecting = false;
        signal(link, WorkerSignal.FAILED, "failed to reconnect tunnel '" + spec.request().displayName() + "' after "
            + attempt + " attempts: " + cause);
        return;
      }
      long delay = Backoff.delay(attempt).toMillis();
      log.info("reconnect(tunnel={}, worker={}) attempt {} failed: {}; next in {} ms", spec.tunnelId(), link.index,
          attempt, cause, delay);
      vertx.setTimer(delay, id -> reconnect(link, attempt + 1));
    });
  }

  private void signal(Link link, String type, String error) {
    int port = link.ssh == null ? 0 : link.ssh.remotePort();
    boolean up = type.equals(WorkerSignal.STARTED) || type.equals(WorkerSignal.RECONNECTED);
    WorkerSignal s = new WorkerSignal(spec.tunnelId(), link.index, type, up ? port : 0,
        up ? spec.tunnelUrl(port) : "", error, Instant.now());
    vertx.eventBus().send(Addresses.WORKER_SIGNAL, s.toJson());
  }

  /**
   * Stopping: the manager cancels first (from its event loop, at once) and undeploys this verticle
   * next, which runs {@link #stop} on this worker's thread once it is free.
   */
  private boolean halted() {
    return stopping || cancellation.isCancelled();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    cancellation.cancel();
    closeAll();
    return Future.succeededFuture();
  }

  private void closeAll() {
    for (Link link : links) {
      if (link.ssh != null) {
        link.ssh.close();
      }
    }
  }
}
