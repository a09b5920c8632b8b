package dev.porthole.tunnel;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.LeaseRenewal;
import dev.porthole.bus.StubRoute;
import dev.porthole.bus.TunnelEvent;
import dev.porthole.bus.TunnelList;
import dev.porthole.bus.TunnelRequest;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.bus.TunnelTarget;
import dev.porthole.bus.WorkerSignal;
import dev.porthole.config.EdgeConfig;
import dev.porthole.config.LimitsConfig;
import dev.porthole.config.PortrConfig;
import dev.porthole.metrics.Metrics;
import dev.porthole.ssh.Cancellation;
import dev.porthole.ssh.SshConnector;
import dev.porthole.ssh.Traffic;
import dev.porthole.stub.StubResponderVerticle;
import dev.porthole.tunnel.TunnelRegistry.Tunnel;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only owner of tunnel status and the event log (portr-protocol §6.3–§6.6). Starts a tunnel by
 * deploying its {@link TunnelWorkerVerticle}, answers the start request on the first of the
 * tunnel's {@code started}, its start failure, or 7 s; applies worker signals by Portr's rules and
 * publishes each recorded event on {@link Addresses#TUNNELS_LIFECYCLE}. Also the owner of leases
 * ({@code ttl_seconds}, {@code owner_pid}): one timer armed to the earliest expiry and, while any
 * tunnel has an owner, one periodic check of the owner processes, whatever the number of tunnels.
 */
public final class TunnelManagerVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TunnelManagerVerticle.class);
  static final long START_WAIT_MS = 7_000;
  static final long STOP_LIMIT_MS = 10_000;
  static final String WORKER_POOL = "porthole-tunnels";
  static final int WORKER_POOL_SIZE = 32;
  /** How often the owner processes are looked at: an exit stops its tunnels within this and the stop. */
  static final long OWNER_CHECK_MS = 1_000;
  /** A check of the owner processes that takes longer than this is reported (it is a stat per process). */
  static final long OWNER_CHECK_LIMIT_MS = 5_000;

  private final PortrConfig config;
  private final SshConnector connector;
  private final Path knownHosts;
  private final Clock clock;
  private final int maxTunnels;
  private final TunnelRegistry registry;
  /** Clustered: this node's name (statuses and events carry it); "" for a single app-server. */
  private final String node;
  /** How HTTP tunnels reach their local service ({@code edge.data_path}). */
  private final EdgeConfig edge;
  private final Map<String, Runtime> runtimes = new HashMap<>();
  private PortrServerApi api;
  private TunnelMeters meters;
  private boolean shuttingDown;
  /** Start requests between the limit check and their registration (the asynchronous pool step). */
  private int pendingStarts;
  /** The shared stub responder's deployment, made on the first stub tunnel; null until then or after it failed. */
  private Future<String> stubResponder;
  private final LeaseSchedule leases = new LeaseSchedule();
  /** The one expiry timer (-1: none) and the expiry it is armed for. */
  private long expiryTimer = -1;
  private Instant expiryArmedFor;
  /** The periodic owner check (-1: none, when no tunnel has an owner), and whether a check is running. */
  private long ownerTimer = -1;
  private boolean ownerCheckRunning;

  /** A live tunnel's moving parts: its worker deployment, start waiter and stop progress. */
  private static final class Runtime {
    final Cancellation cancellation = new Cancellation();
    Future<String> deployment = Future.failedFuture("not deployed");
    Message<JsonObject> waiter;
    long waitTimer = -1;
    Future<Void> stopping;
    /** A stub's route on the stub responder while it is registered, else null. */
    String stubSubdomain;
    boolean everStarted;
    /** Where its forwarded connections go, and the Host the stub responder routes by ("" unless a stub). */
    String targetHost;
    int targetPort;
    String hostHeader = "";
    /** Its bytes, counted by its sessions' connections; their meters live until it stops. */
    final Traffic traffic = new Traffic();
    Runnable trafficMeters;

    void closeMeters() {
      if (trafficMeters != null) {
        trafficMeters.run();
        trafficMeters = null;
      }
    }
  }

  /** What a start needs before its tunnel is registered: workers, the pool's connection, a stub's responder port. */
  private record Prepared(int workers, String sharedConnectionId, int stubPort) {
  }

  /**
   * @param config the Portr client settings, secret key included (never put on the bus)
   * @param knownHosts Portr's known_hosts file for trust on first use, or null when host keys are
   *     not verified
   */
  public TunnelManagerVerticle(PortrConfig config, SshConnector connector, Path knownHosts, Clock clock) {
    this(config, connector, knownHosts, clock, LimitsConfig.UNBOUNDED);
  }

  /**
   * @param limits live (not stopped) tunnels allowed at once, and stopped tunnels kept for the list
   *     ({@code limits.*})
   */
  public TunnelManagerVerticle(PortrConfig config, SshConnector connector, Path knownHosts, Clock clock,
      LimitsConfig limits) {
    this(config, connector, knownHosts, clock, limits, "");
  }

  /**
   * @param node clustered: this node's name. The manager then answers on its node's clustered
   *     addresses ({@link Addresses#node}) instead of the front ones (the cluster verticle serves
   *     those), keeps {@link Addresses#EVENTS_LIST} (its list holds the relayed events too), and
   *     records the events relayed to it; "" for a single app-server
   */
  public TunnelManagerVerticle(PortrConfig config, SshConnector connector, Path knownHosts, Clock clock,
      LimitsConfig limits, String node) {
    this(config, connector, knownHosts, clock, limits, node, EdgeConfig.DEFAULT);
  }

  /** @param edge how HTTP tunnels' forwarded connections reach the local service ({@code edge.*}) */
  public TunnelManagerVerticle(PortrConfig config, SshConnector connector, Path knownHosts, Clock clock,
      LimitsConfig limits, String node, EdgeConfig edge) {
    this.edge = edge;
    this.node = node == null ? "" : node;
    this.maxTunnels = limits.maxTunnels();
    this.registry = new TunnelRegistry(limits.stoppedTunnelsKept(), this.node);
    this.config = config;
    this.connector = connector;
    this.knownHosts = knownHosts;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    api = new PortrServerApi(WebClient.create(vertx, new WebClientOptions().setUserAgentEnabled(false)), config);
    meters = new TunnelMeters(Metrics.of(vertx), registry.counts());
    var bus = vertx.eventBus();
    List<Future<Void>> ready = new ArrayList<>(List.of(
        bus.<JsonObject>localConsumer(Addresses.TUNNELS_TARGET, this::target).completion(),
        bus.<JsonObject>localConsumer(Addresses.TUNNELS_STOP_ALL, this::stopAll).completion(),
        bus.<JsonObject>localConsumer(Addresses.EVENTS_LIST, this::events).completion(),
        bus.<JsonObject>localConsumer(Addresses.WORKER_SIGNAL, m -> onSignal(WorkerSignal.fromJson(m.body())))
            .completion()));
    if (node.isEmpty()) {
      ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_START, this::start).completion());
      ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_LIST, this::list).completion());
      ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_GET, this::get).completion());
      ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_STOP, this::stop).completion());
      ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_RENEW, this::renew).completion());
    } else {
      // Clustered: the cluster verticle serves the front addresses and routes to these.
      ready.add(bus.<JsonObject>consumer(Addresses.node(node, Addresses.NODE_START), this::start).completion());
      ready.add(bus.<JsonObject>consumer(Addresses.node(node, Addresses.NODE_LIST), this::list).completion());
      ready.add(bus.<JsonObject>consumer(Addresses.node(node, Addresses.NODE_GET), this::get).completion());
      ready.add(bus.<JsonObject>consumer(Addresses.node(node, Addresses.NODE_STOP), this::stop).completion());
      ready.add(bus.<JsonObject>consumer(Addresses.node(node, Addresses.NODE_RENEW), this::renew).completion());
      ready.add(bus.<JsonObject>consumer(Addresses.node(node, Addresses.NODE_EVENTS), this::ownEvents).completion());
      ready.add(bus.<JsonObject>localConsumer(Addresses.EVENTS_RELAYED, m -> relayed(TunnelEvent.fromJson(m.body())))
          .completion());
    }
    return Future.all(ready);
  }

  /** A status as this node answers it: clustered, with its node after Portr's keys. */
  private JsonObject view(Tunnel t) {
    return withNode(t.view().toJson());
  }

  private JsonObject withNode(JsonObject status) {
    return node.isEmpty() ? status : status.put("node", node);
  }

  /** Clustered: another node's event joins this node's list and this node's lifecycle listeners, marked relayed. */
  private void relayed(TunnelEvent foreign) {
    TunnelEvent e = registry.recordRelayed(foreign);
    vertx.eventBus().publish(Addresses.TUNNELS_LIFECYCLE, e.toJson(),
        new DeliveryOptions().setLocalOnly(true).addHeader(Addresses.RELAYED_HEADER, "true"));
  }

  /** Clustered: only this node's own events, in its order (the per-node address). */
  private void ownEvents(Message<JsonObject> m) {
    JsonArray out = new JsonArray();
    registry.events(m.body().getString("tunnel_id"), m.body().getLong("since", 0L)).stream()
        .filter(e -> e.node().equals(node)).forEach(e -> out.add(e.toJson()));
    m.reply(new JsonObject().put("events", out));
  }

  @Override
  public Future<?> stop() {
    runtimes.values().forEach(Runtime::closeMeters);
    meters.close();
    return Future.succeededFuture();
  }

  /**
   * Every status, or only the version when the caller already holds it: with a thousand tunnels
   * the list is asked for far more often than it changes. The caller keeps what it built from the
   * last answer (the HTTP verticle keeps the encoded body), so nothing is cached here.
   */
  private void list(Message<JsonObject> m) {
    long version = registry.version();
    if (TunnelList.ifVersion(m.body()) == version) {
      m.reply(TunnelList.unchanged(version));
      return;
    }
    JsonArray out = new JsonArray();
    registry.list().forEach(s -> out.add(withNode(s.toJson())));
    m.reply(TunnelList.of(version, out));
  }

  private void events(Message<JsonObject> m) {
    JsonArray out = new JsonArray();
    registry.events(m.body().getString("tunnel_id"), m.body().getLong("since", 0L)).forEach(e -> out.add(e.toJson()));
    m.reply(new JsonObject().put("events", out));
  }

  private void get(Message<JsonObject> m) {
    Tunnel t = registry.get(m.body().getString("id", ""));
    if (t == null) {
      m.fail(FailureCode.TUNNEL_NOT_FOUND.code(), "tunnel not found");
    } else {
      m.reply(view(t));
    }
  }

  /** The access room's view: the status and where the data path really goes. */
  private void target(Message<JsonObject> m) {
    Tunnel t = registry.get(m.body().getString("id", ""));
    Runtime rt = t == null ? null : runtimes.get(t.id);
    if (t == null || rt == null) {
      m.fail(FailureCode.TUNNEL_NOT_FOUND.code(), "tunnel not found");
    } else {
      m.reply(new TunnelTarget(t.status, rt.targetHost, rt.targetPort, rt.hostHeader).toJson());
    }
  }

  private void start(Message<JsonObject> m) {
    if (shuttingDown) {
      m.fail(FailureCode.SHUTTING_DOWN.code(), "app-server is shutting down");
      return;
    }
    TunnelRequest req = TunnelRequest.fromJson(m.body());
    // The handle is taken now: it tells the owner apart from a later process that gets its pid.
    Optional<ProcessHandle> owner = req.ownerPid() > 0 ? ProcessHandle.of(req.ownerPid()) : Optional.empty();
    if (req.ownerPid() > 0 && owner.isEmpty()) {
      m.fail(FailureCode.START_FAILED.code(), "owner_pid " + req.ownerPid() + " is not a running process");
      return;
    }
    // Starts still in their pool step are not in the registry yet but will be: they count, or
    // concurrent POSTs would all pass the check before any of them registers.
    if (registry.liveCount() + pendingStarts >= maxTunnels) {
      m.fail(FailureCode.LIMIT_REACHED.code(), "tunnel limit reached (" + maxTunnels + ")");
      return;
    }
    pendingStarts++;
    // portr-protocol §6.4 step 7 (a stub's route), then step 8 (the pool; a stub never pools).
    Future<Prepared> prepared = req.isStub() ? registerStub(req).map(port -> new Prepared(1, null, port))
        : pool(req).map(p -> new Prepared(Integer.parseInt(p[0]), p[1], 0));
    prepared.onComplete(ar -> {
      pendingStarts--;
      if (ar.failed()) {
        m.fail(FailureCode.START_FAILED.code(), ar.cause().getMessage());
        return;
      }
      if (shuttingDown) {
        if (req.isStub()) {
          unregisterStub(req.subdomain());
        }
        m.fail(FailureCode.SHUTTING_DOWN.code(), "app-server is shutting down");
        return;
      }
      Tunnel t = registry.create(req, clock.instant());
      lease(t, req, owner);
      Runtime rt = new Runtime();
      rt.stubSubdomain = req.isStub() ? req.subdomain() : null;
      // A stub's worker targets the shared responder (which routes by Host); its status keeps what
      // the caller sent.
      Prepared p = ar.result();
      rt.targetHost = req.isStub() ? "127.0.0.1" : req.host();
      rt.targetPort = req.isStub() ? p.stubPort() : req.port();
      rt.hostHeader = req.isStub() ? req.subdomain() : "";
      runtimes.put(t.id, rt);
      rt.trafficMeters = meters.traffic(t.id, rt.traffic);
      if (Addresses.REPLY_ON_REGISTERED.equals(m.headers().get(Addresses.REPLY_ON_HEADER))) {
        m.reply(view(t));
      } else {
        rt.waiter = m;
        rt.waitTimer = vertx.setTimer(START_WAIT_MS, id -> release(t, null));
      }
      String targetHost = rt.targetHost;
      int targetPort = rt.targetPort;
      log.info("start(tunnel={}, type={}, subdomain={}, local={}:{}, workers={})", t.id, req.type(),
          req.subdomain().isEmpty() ? "-" : req.subdomain(), targetHost, targetPort, p.workers());
      WorkerSpec spec = new WorkerSpec(t.id, req, p.workers(), p.sharedConnectionId(), config, knownHosts, targetHost,
          targetPort, rt.traffic, edge.direct());
      rt.deployment = vertx.deployVerticle(new TunnelWorkerVerticle(spec, connector, api, rt.cancellation),
          new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
              .setWorkerPoolName(WORKER_POOL).setWorkerPoolSize(WORKER_POOL_SIZE)
              .setMaxWorkerExecuteTime(60).setMaxWorkerExecuteTimeUnit(TimeUnit.SECONDS));
      rt.deployment.onFailure(err -> {
        if (t.stopping) {
          return;
        }
        log.warn("start(tunnel={}) failed: {}", t.id, err.getMessage());
        releaseStub(rt);
        onSignal(new WorkerSignal(t.id, 0, WorkerSignal.FAILED, 0, "", err.getMessage(), clock.instant()));
        release(t, err.getMessage());
      });
    });
  }

  /**
   * portr-protocol §2.2: an http tunnel asking for more than one worker probes the server's version;
   * when pooling is supported one connection is reserved up front for every worker. Returns
   * {workers, shared connection id or null}.
   */
  private Future<String[]> pool(TunnelRequest req) {
    if (!req.isHttp() || req.poolSize() <= 1) {
      return Future.succeededFuture(new String[] {"1", null});
    }
    return api.probePooling().compose(supported -> {
      if (!supported) {
        return Future.succeededFuture(new String[] {"1", null});
      }
      return api.createConnection("http", req.subdomain())
          .map(id -> new String[] {String.valueOf(req.poolSize()), id})
          .recover(err -> Future.failedFuture(
              new IllegalStateException("failed to create shared connection for pool: " + err.getMessage())));
    });
  }

  /**
   * portr-protocol §6.4 step 7: the stub's route on the shared responder (deployed on first use);
   * the responder's port, or the failure whose message is the 400's.
   */
  private Future<Integer> registerStub(TunnelRequest req) {
    if (stubResponder == null) {
      stubResponder = vertx.deployVerticle(new StubResponderVerticle());
      stubResponder.onFailure(err -> {
        log.warn("stub responder did not start: {}", err.getMessage());
        stubResponder = null; // the next stub tries again
      });
    }
    StubRoute route = new StubRoute(req.subdomain(), req.responseFormat(), req.responseTmpl());
    return stubResponder
        .recover(err -> Future.failedFuture(new IllegalStateException("start stub responder: " + err.getMessage())))
        .compose(id -> vertx.eventBus().<JsonObject>request(Addresses.STUB_REGISTER, route.toJson(),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS).setLocalOnly(true)))
        .map(reply -> reply.body().getInteger("port"));
  }

  /** The tunnel's stub route, if it still has one, is taken off the responder (once). */
  private Future<Void> releaseStub(Runtime rt) {
    if (rt == null || rt.stubSubdomain == null) {
      return Future.succeededFuture();
    }
    String subdomain = rt.stubSubdomain;
    rt.stubSubdomain = null;
    return unregisterStub(subdomain);
  }

  private Future<Void> unregisterStub(String subdomain) {
    return vertx.eventBus().<JsonObject>request(Addresses.STUB_UNREGISTER, StubRoute.unregister(subdomain),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS).setLocalOnly(true))
        .<Void>mapEmpty()
        .recover(err -> {
          log.warn("stub route {} not unregistered: {}", subdomain, err.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Answers a pending start request: its status, or its start failure (400). */
  private void release(Tunnel t, String failure) {
    Runtime rt = runtimes.get(t.id);
    if (rt == null || rt.waiter == null) {
      return;
    }
    Message<JsonObject> waiter = rt.waiter;
    rt.waiter = null;
    vertx.cancelTimer(rt.waitTimer);
    if (failure != null) {
      waiter.fail(FailureCode.START_FAILED.code(), failure);
    } else {
      waiter.reply(view(t));
    }
  }

  private void onSignal(WorkerSignal s) {
    registry.apply(s).ifPresent(this::publish);
    Tunnel t = registry.get(s.tunnelId());
    if (t == null || t.stopping) {
      return;
    }
    Runtime rt = runtimes.get(t.id);
    if (rt != null && (s.type().equals(WorkerSignal.STARTED) || s.type().equals(WorkerSignal.RECONNECTED))) {
      rt.everStarted = true;
    } else if (rt != null && s.type().equals(WorkerSignal.FAILED) && !rt.everStarted) {
      releaseStub(rt); // Portr's handleStartFailure: a stub that never started gives its subdomain back
    }
    if (s.type().equals(WorkerSignal.STARTED) && t.status.equals(TunnelStatus.RUNNING)) {
      release(t, null);
    } else if (s.type().equals(WorkerSignal.FAILED)) {
      release(t, s.error()); // a start that failed: the waiting POST gets its 400
    }
  }

  private void publish(TunnelEvent e) {
    EventLog.record(e);
    meters.recorded(e);
    Tunnel t = registry.get(e.tunnelId());
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(true);
    for (String url : t.request.callbackUrls()) {
      options.addHeader(Addresses.CALLBACK_URL_HEADER, url);
    }
    vertx.eventBus().publish(Addresses.TUNNELS_LIFECYCLE, e.toJson(), options);
  }

  private void stop(Message<JsonObject> m) {
    Tunnel t = registry.get(m.body().getString("id", ""));
    if (t == null) {
      m.fail(FailureCode.TUNNEL_NOT_FOUND.code(), "tunnel not found");
      return;
    }
    stopTunnel(t).onComplete(ar -> m.reply(view(t)));
  }

  /**
   * portr-protocol §6.6: mark stopping (later worker signals are ignored), abort a connect in
   * progress, undeploy the worker (bounded), record {@code stopped}, then stopped_at = updated_at =
   * now. Stopping a stopped tunnel refreshes those times and records nothing.
   */
  private Future<Void> stopTunnel(Tunnel t) {
    forgetLease(t.id);
    Runtime rt = runtimes.get(t.id);
    if (rt.stopping != null && !rt.stopping.isComplete()) {
      return rt.stopping;
    }
    if (t.status.equals(TunnelStatus.STOPPED)) {
      finishStop(t);
      return Future.succeededFuture();
    }
    t.stopping = true;
    rt.cancellation.cancel();
    rt.stopping = rt.deployment
        // A worker whose start failed has undeployed itself already.
        .transform(ar -> ar.succeeded() && vertx.deploymentIDs().contains(ar.result()) ? vertx.undeploy(ar.result())
            : Future.<Void>succeededFuture())
        .timeout(STOP_LIMIT_MS, TimeUnit.MILLISECONDS)
        .recover(err -> {
          log.warn("stop(tunnel={}) worker did not stop cleanly: {}", t.id, err.getMessage());
          return Future.succeededFuture();
        })
        .compose(v -> releaseStub(rt))
        .map(v -> {
          onSignal(new WorkerSignal(t.id, 0, WorkerSignal.STOPPED, 0, "", "", clock.instant()));
          rt.closeMeters(); // a stopped tunnel's byte series go: they stay bounded by the live tunnels
          finishStop(t);
          log.info("stop(tunnel={}) stopped", t.id);
          return (Void) null;
        });
    return rt.stopping;
  }

  /** Stopped for good; the runtimes of tunnels that history no longer keeps go with them. */
  private void finishStop(Tunnel t) {
    for (String forgotten : registry.finishStop(t, clock.instant())) {
      runtimes.remove(forgotten);
    }
  }

  // --- leases -------------------------------------------------------------------------------------

  /** A new tunnel's lease, from its request: expires_at = registration + ttl, and its owner. */
  private void lease(Tunnel t, TunnelRequest req, Optional<ProcessHandle> owner) {
    if (req.ttlSeconds() <= 0 && owner.isEmpty()) {
      return;
    }
    registry.lease(t, req.ttlSeconds() > 0 ? t.startedAt.plusSeconds(req.ttlSeconds()) : null, req.ownerPid());
    if (t.expiresAt != null) {
      leases.expireAt(t.id, t.expiresAt);
      armExpiry();
    }
    owner.ifPresent(h -> {
      leases.own(t.id, h);
      armOwnerCheck();
    });
  }

  /** expires_at = now + ttl for a live tunnel that has not failed; a tunnel without a ttl gets one. */
  private void renew(Message<JsonObject> m) {
    LeaseRenewal r = LeaseRenewal.fromJson(m.body());
    Tunnel t = registry.get(r.id());
    if (t == null) {
      m.fail(FailureCode.TUNNEL_NOT_FOUND.code(), "tunnel not found");
      return;
    }
    if (!LeaseRenewal.validTtl(r.ttlSeconds())) {
      m.fail(FailureCode.INVALID_REQUEST.code(), LeaseRenewal.TTL_PROBLEM);
      return;
    }
    if (!t.isLive() || t.status.equals(TunnelStatus.FAILED)) {
      String state = t.stopping && !t.status.equals(TunnelStatus.STOPPED) ? "stopping" : t.status;
      m.fail(FailureCode.TUNNEL_NOT_RUNNING.code(),
          "tunnel is " + state + ": only a starting, running or unhealthy tunnel can be renewed");
      return;
    }
    registry.lease(t, clock.instant().plusSeconds(r.ttlSeconds()), t.ownerPid);
    leases.expireAt(t.id, t.expiresAt);
    armExpiry();
    m.reply(view(t));
  }

  private void forgetLease(String id) {
    leases.forget(id);
    armExpiry();
    armOwnerCheck();
  }

  /** The one expiry timer, armed to the earliest expiry (none when no tunnel has a ttl). */
  private void armExpiry() {
    Instant next = leases.earliest();
    if (next == null ? expiryArmedFor == null : next.equals(expiryArmedFor)) {
      return;
    }
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
      expiryTimer = -1;
    }
    expiryArmedFor = next;
    if (next != null) {
      long nanos = Duration.between(clock.instant(), next).toNanos();
      long delay = Math.max(1, (nanos + 999_999) / 1_000_000);
      expiryTimer = vertx.setTimer(delay, id -> {
        expiryTimer = -1;
        expiryArmedFor = null;
        for (String due : leases.due(clock.instant())) {
          endLease(due, TunnelEvent.EXPIRED);
        }
        armExpiry();
      });
    }
  }

  /** A periodic check while any tunnel has an owner; none otherwise. */
  private void armOwnerCheck() {
    if (leases.hasOwners() && ownerTimer < 0) {
      ownerTimer = vertx.setPeriodic(OWNER_CHECK_MS, id -> checkOwners());
    } else if (!leases.hasOwners() && ownerTimer >= 0) {
      vertx.cancelTimer(ownerTimer);
      ownerTimer = -1;
    }
  }

  /**
   * Each distinct owner process looked at once, on a worker thread (a thousand owners take a few
   * milliseconds); the tunnels of those that exited stop. One check at a time.
   */
  private void checkOwners() {
    if (ownerCheckRunning) {
      return;
    }
    ownerCheckRunning = true;
    List<ProcessHandle> owners = leases.owners();
    Future<List<Long>> check = vertx.executeBlocking(() -> LeaseSchedule.exited(owners), false);
    check.onComplete(ar -> ownerCheckRunning = false);
    check.timeout(OWNER_CHECK_LIMIT_MS, TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (ar.failed()) {
        log.warn("lease: checking {} owner processes failed: {}", owners.size(), ar.cause().toString());
        return;
      }
      for (long pid : ar.result()) {
        for (String id : leases.ownedBy(pid)) {
          endLease(id, TunnelEvent.OWNER_EXITED);
        }
      }
    });
  }

  /** The lease ended: the tunnel stops, its stopped event carrying the reason; a POST still waiting gets its answer. */
  private void endLease(String id, String reason) {
    Tunnel t = registry.get(id);
    if (t == null || !t.isLive()) {
      forgetLease(id);
      return;
    }
    t.stopReason = reason;
    log.info("lease(tunnel={}) ended: {}", id, reason);
    stopTunnel(t).onComplete(ar -> release(t, null));
  }

  /** Shutdown: no new tunnels; every live one stopped in parallel. */
  private void stopAll(Message<JsonObject> m) {
    if (!shuttingDown) {
      // Before any stop: a tunnel's stopped event would close its WebSocket tunnels with 4404.
      vertx.eventBus().publish(Addresses.SHUTTING_DOWN, new JsonObject(), new DeliveryOptions().setLocalOnly(true));
    }
    shuttingDown = true;
    List<Future<Void>> stops = new ArrayList<>();
    for (Tunnel t : registry.all()) {
      if (t.isLive()) {
        stops.add(stopTunnel(t));
      }
    }
    Future.join(stops).onComplete(ar -> m.reply(new JsonObject().put("stopped", stops.size())));
  }
}
