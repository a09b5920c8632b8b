package dev.porthole.cluster;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.Times;
import dev.porthole.bus.TunnelEvent;
import dev.porthole.bus.TunnelList;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.config.ClusterConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeListener;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide view of one node ({@code app-server --cluster}). It serves the front addresses
 * the API and the bridge use ({@code porthole.tunnels.list|get|stop|start}) by asking the nodes'
 * managers on their clustered addresses: the list from every member at once, merged; get and stop
 * at the tunnel's owner; a start on the node it names. It relays this node's lifecycle events to
 * the other members and hands theirs to its own manager (deduplicated by sender and sequence), and
 * when a member leaves it marks that member's live tunnels {@code failed}, once, on this node.
 *
 * <p>Owns: the members (cluster node id → name, joined_at, reachable), the owner and last status of
 * the tunnels it has seen (≤ {@value #KNOWN_CAP}, least recently learnt forgotten first), the last
 * list each node answered (for {@code if_version}), and the last sequence relayed from each member.
 * The tunnels themselves stay with their node's manager.
 */
public final class ClusterVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(ClusterVerticle.class);
  static final int KNOWN_CAP = 10_000;
  /** One node's share of a merged list or of a search: a node that takes longer is left out. */
  static final long ASK_MS = 3_000;
  /** How often every other member is pinged on its info address (lost subscriptions, vert.x#4394). */
  static final long PING_MS = 5_000;
  /** A new member's metadata may reach the cluster map a little after it joined. */
  static final long RESOLVE_RETRY_MS = 200;
  static final int RESOLVE_ATTEMPTS = 50;

  private final ClusterConfig cfg;
  private final Membership membership;
  private final Supplier<String> apiUrl;
  private final String self;
  private String selfId;
  private final Instant joinedAt = Instant.now();
  private final Map<String, Member> members = new HashMap<>();
  private final LinkedHashMap<String, Known> known = new LinkedHashMap<>();
  private final Map<String, NodeList> lists = new HashMap<>();
  private final Map<String, Long> lastSeq = new HashMap<>();
  private long pingTimer = -1;
  /** Moves whenever a departed owner's tunnel (shown failed) is added, changed or forgotten. */
  private long goneVersion;
  /** The last merged list, what it was merged from (each node's list version, goneVersion), and its own version. */
  private JsonArray merged;
  private List<Object> mergedFrom = List.of();
  private long mergedVersion;

  /** A member: its node name, when this node saw it join, whether its bus addresses answer. */
  private static final class Member {
    final String name;
    final Instant joinedAt;
    boolean reachable = true;
    int misses;
    JsonObject info = new JsonObject();

    Member(String name, Instant joinedAt) {
      this.name = name;
      this.joinedAt = joinedAt;
    }
  }

  /** What this node knows of a tunnel: its owner, its last status; gone = its owner left (it is shown failed). */
  private static final class Known {
    final String node;
    JsonObject status;
    boolean gone;

    Known(String node, JsonObject status) {
      this.node = node;
      this.status = status;
    }
  }

  /** The last list a node answered, and its manager's version. */
  private record NodeList(long version, JsonArray tunnels) {
  }

  /**
   * @param apiUrl this node's API URL, known once HTTP has bound
   */
  public ClusterVerticle(ClusterConfig cfg, Membership membership, Supplier<String> apiUrl) {
    this.cfg = cfg;
    this.membership = membership;
    this.apiUrl = apiUrl;
    this.self = cfg.nodeName();
  }

  @Override
  public Future<?> start() {
    selfId = membership.nodeId();
    var ctx = vertx.getOrCreateContext();
    membership.listen(new NodeListener() {
      @Override
      public void nodeAdded(String nodeId) {
        ctx.runOnContext(v -> added(nodeId, RESOLVE_ATTEMPTS));
      }

      @Override
      public void nodeLeft(String nodeId) {
        ctx.runOnContext(v -> left(nodeId));
      }
    });
    members.put(selfId, new Member(self, joinedAt));
    var bus = vertx.eventBus();
    List<Future<?>> ready = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(cfg.maxNoHeartbeatSeconds()
        + cfg.heartbeatIntervalSeconds() + 5L);
    ready.add(others(deadline));
    ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_LIST, this::list).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_GET, m -> routed(m, Addresses.NODE_GET,
        Addresses.QUERY_TIMEOUT_MS)).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_STOP, m -> routed(m, Addresses.NODE_STOP,
        Addresses.STOP_TIMEOUT_MS - 1_000)).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_RENEW, m -> routed(m, Addresses.NODE_RENEW,
        Addresses.QUERY_TIMEOUT_MS)).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_START, this::start).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.CLUSTER_MEMBERS, this::members).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.CLUSTER_FLUSH, this::flush).completion());
    ready.add(bus.<JsonObject>localConsumer(Addresses.TUNNELS_LIFECYCLE, this::localEvent).completion());
    ready.add(bus.<JsonObject>consumer(Addresses.CLUSTER_LIFECYCLE, this::clusterEvent).completion());
    ready.add(bus.<JsonObject>consumer(Addresses.node(self, Addresses.NODE_INFO), this::info).completion());
    return Future.all(ready).onSuccess(v -> {
      pingTimer = vertx.setPeriodic(PING_MS, t -> ping());
      log.info("cluster: node {} joined cluster {} ({} member(s): {})", self, cfg.name(), members.size(), names());
    });
  }

  /**
   * The other members and their names. A member that still holds this node's name is usually this
   * node's previous run, killed and not yet detected: wait for it to be removed, until {@code
   * deadline} (failure detection and a little more); then refuse to start.
   */
  private Future<Void> others(long deadline) {
    List<Future<Void>> names = new ArrayList<>();
    List<String> taken = new ArrayList<>();
    for (String id : membership.nodes()) {
      if (!id.equals(selfId)) {
        names.add(membership.metadata(id).<Void>map(meta -> {
          String name = meta.getString("node", "");
          if (name.isEmpty()) {
            // Joined just before this node listened, its metadata not in the map yet: its
            // nodeAdded has passed, so resolve it as nodeAdded would (else it is never listed).
            added(id, RESOLVE_ATTEMPTS);
          } else if (name.equals(self)) {
            taken.add(id);
          } else {
            members.put(id, new Member(name, Instant.parse(meta.getString("joined_at", Instant.now().toString()))));
          }
          return null;
        }).recover(err -> {
          added(id, RESOLVE_ATTEMPTS);
          return Future.succeededFuture();
        }));
      }
    }
    return Future.join(names).transform(ar -> {
      if (taken.isEmpty()) {
        return Future.succeededFuture();
      }
      if (System.nanoTime() > deadline) {
        return Future.failedFuture(new IllegalStateException("cluster: node name \"" + self
            + "\" is already taken by another member; set cluster.node_name"));
      }
      log.info("cluster: another member still holds node name {} (a previous run?); waiting for it to be removed", self);
      Promise<Void> later = Promise.promise();
      vertx.setTimer(RESOLVE_RETRY_MS * 5, t -> others(deadline).onComplete(later));
      return later.future();
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(pingTimer);
    return Future.succeededFuture();
  }

  // ---- membership ----

  private void added(String nodeId, int attempts) {
    if (members.containsKey(nodeId)) {
      return;
    }
    membership.metadata(nodeId).onComplete(ar -> {
      if (members.containsKey(nodeId)) {
        return;
      }
      if (ar.failed() || !ar.result().containsKey("node")) {
        if (attempts > 1 && membership.nodes().contains(nodeId)) {
          vertx.setTimer(RESOLVE_RETRY_MS, t -> added(nodeId, attempts - 1));
        } else {
          log.warn("cluster: member {} joined but never said its node name", nodeId);
        }
        return;
      }
      String name = ar.result().getString("node");
      members.put(nodeId, new Member(name, Instant.now()));
      // A node that comes back starts with no tunnels: what this node kept of its old ones goes.
      if (known.values().removeIf(k -> k.gone && k.node.equals(name))) {
        goneVersion++;
      }
      log.info("cluster: node {} joined ({} member(s): {})", name, members.size(), names());
    });
  }

  private void left(String nodeId) {
    Member m = members.remove(nodeId);
    lastSeq.remove(nodeId);
    if (m == null) {
      return;
    }
    if (members.values().stream().anyMatch(other -> other.name.equals(m.name))) {
      // A second member under a live member's name (which refuses to start) has gone: the tunnels are the live one's.
      log.warn("cluster: a second member named {} left; the first one stays", m.name);
      return;
    }
    lists.remove(m.name);
    String error = "node " + m.name + " left the cluster";
    Instant now = Instant.now();
    int failed = 0;
    for (Known k : known.values()) {
      if (!k.node.equals(m.name) || k.gone) {
        continue;
      }
      k.gone = true;
      goneVersion++;
      String status = k.status.getString("status", "");
      if (status.equals(TunnelStatus.STOPPED) || status.equals(TunnelStatus.FAILED)) {
        continue;
      }
      failed++;
      k.status = failedStatus(k.status, error, now);
      // Each surviving node reports it once, to its own listeners: marked relayed, so no webhook fires.
      vertx.eventBus().send(Addresses.EVENTS_RELAYED, failedEvent(k.status, error, now, m.name).toJson(),
          new DeliveryOptions().setLocalOnly(true));
    }
    log.warn("cluster: node {} left the cluster; {} of its tunnel(s) marked failed ({} member(s) left: {})", m.name,
        failed, members.size(), names());
  }

  private static JsonObject failedStatus(JsonObject status, String error, Instant now) {
    JsonObject out = new JsonObject();
    String node = status.getString("node");
    for (Map.Entry<String, Object> e : status) {
      if (!e.getKey().equals("node") && !e.getKey().equals("last_error")) {
        out.put(e.getKey(), e.getValue());
      }
    }
    out.put("status", TunnelStatus.FAILED).put("updated_at", Times.format(now)).put("last_error", error);
    return node == null ? out : out.put("node", node);
  }

  private static TunnelEvent failedEvent(JsonObject s, String error, Instant now, String node) {
    return new TunnelEvent(UlidCreator.getMonotonicUlid().toString(), s.getString("id"), TunnelStatus.FAILED,
        s.getString("name", ""), s.getString("type", ""), s.getString("host", ""), s.getInteger("port", 0),
        s.getString("subdomain", ""), s.getInteger("remote_port", 0), s.getString("tunnel_url", ""), error, now, 0,
        "", node);
  }

  private String names() {
    return String.join(", ", new TreeSet<>(members.values().stream().map(m -> m.name).toList()));
  }

  private Set<String> liveNames() {
    Set<String> out = new TreeSet<>();
    members.values().forEach(m -> out.add(m.name));
    return out;
  }

  // ---- what this node learns of tunnels ----

  private void learn(JsonObject status) {
    String id = status.getString("id");
    String node = status.getString("node", "");
    if (id == null || node.isEmpty()) {
      return;
    }
    Known k = known.remove(id);
    if (k == null || !k.node.equals(node)) {
      k = new Known(node, status);
    }
    if (k.gone) {
      goneVersion++;
    }
    k.status = status;
    k.gone = false;
    known.put(id, k);
    trim();
  }

  /** An event moves what this node knows of the tunnel's status along (or makes a first, partial one). */
  private void learnEvent(JsonObject e) {
    String id = e.getString("tunnel_id");
    String node = e.getString("node", "");
    if (id == null || node.isEmpty()) {
      return;
    }
    Known k = known.remove(id);
    JsonObject status = k != null && k.node.equals(node) ? k.status.copy() : new JsonObject().put("id", id)
        .put("name", e.getString("name", "")).put("status", TunnelStatus.STARTING)
        .put("type", e.getString("connection_type", "")).put("host", e.getString("host", ""))
        .put("port", e.getInteger("port", 0)).put("started_at", e.getString("at")).put("node", node);
    String to = switch (e.getString("type", "")) {
      case "started", "reconnected" -> TunnelStatus.RUNNING;
      case "unhealthy" -> TunnelStatus.UNHEALTHY;
      case "failed" -> TunnelStatus.FAILED;
      case "stopped" -> TunnelStatus.STOPPED;
      default -> status.getString("status");
    };
    status.put("status", to).put("updated_at", e.getString("at"));
    boolean gone = k != null && k.node.equals(node) && k.gone;
    k = new Known(node, status);
    k.gone = gone; // the failed event this node made up when the owner left
    if (gone) {
      goneVersion++;
    }
    known.put(id, k);
    trim();
  }

  private void trim() {
    Iterator<String> oldest = known.keySet().iterator();
    while (known.size() > KNOWN_CAP && oldest.hasNext()) {
      if (known.get(oldest.next()).gone) {
        goneVersion++;
      }
      oldest.remove();
    }
  }

  // ---- events ----

  /** This node's own events go to every other member; relayed ones only teach this node. */
  private void localEvent(Message<JsonObject> m) {
    learnEvent(m.body());
    if (Addresses.isRelayed(m.headers())) {
      return;
    }
    vertx.eventBus().publish(Addresses.CLUSTER_LIFECYCLE, m.body(),
        new DeliveryOptions().addHeader(Addresses.ORIGIN_HEADER, selfId));
  }

  /** Another member's event: once per (member, seq), in the member's order, to this node's manager. */
  private void clusterEvent(Message<JsonObject> m) {
    String origin = m.headers().get(Addresses.ORIGIN_HEADER);
    if (origin == null || origin.equals(selfId)) {
      return;
    }
    long seq = m.body().getLong("seq", 0L);
    Long last = lastSeq.get(origin);
    if (last != null && seq <= last) {
      return;
    }
    lastSeq.put(origin, seq);
    JsonObject event = m.body().copy();
    event.remove("seq");
    vertx.eventBus().send(Addresses.EVENTS_RELAYED, event, new DeliveryOptions().setLocalOnly(true));
  }

  // ---- the front addresses ----

  /**
   * Every live member's list at once (bounded), merged newest first, plus the failed tunnels of
   * members that left. Each member answers "unchanged" to the version this node holds of its list;
   * when every part is as last time, the merge is not redone, and the asker that names the merged
   * version it holds ({@code if_version}, as with one node's manager) gets only that version back.
   */
  private void list(Message<JsonObject> m) {
    List<String> nodes = new ArrayList<>(liveNames());
    List<Future<JsonArray>> asks = new ArrayList<>();
    for (String node : nodes) {
      asks.add(listOf(node).onFailure(err -> log.debug("cluster: node {} left out of the list: {}", node,
          err.getMessage())));
    }
    Future.join(asks).onComplete(ar -> {
      // What this answer is made of: which nodes answered with which list, and the departed ones' tunnels.
      List<Object> from = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        NodeList held = lists.get(nodes.get(i));
        if (asks.get(i).succeeded() && held != null && held.version() >= 0) {
          from.add(nodes.get(i));
          from.add(held.version());
        } else if (asks.get(i).succeeded()) {
          from.add(null); // a list without a version: never the same as another
        }
      }
      from.add(goneVersion);
      if (merged == null || from.contains(null) || !from.equals(mergedFrom)) {
        merged = merge(asks);
        mergedFrom = from;
        mergedVersion++;
      }
      m.reply(TunnelList.ifVersion(m.body()) == mergedVersion ? TunnelList.unchanged(mergedVersion)
          : TunnelList.of(mergedVersion, merged));
    });
  }

  /**
   * One node's list: asked with the version held of it ({@code if_version}), so an unchanged list is
   * the one held, not built, copied and sent again; a changed one is held and learnt from.
   */
  private Future<JsonArray> listOf(String node) {
    NodeList held = lists.get(node);
    JsonObject query = held == null ? TunnelList.query() : TunnelList.query(held.version());
    return ask(node, Addresses.NODE_LIST, query, ASK_MS).map(reply -> {
      if (TunnelList.isUnchanged(reply) && held != null) {
        return held.tunnels();
      }
      JsonArray tunnels = reply.getJsonArray("tunnels", new JsonArray());
      lists.put(node, new NodeList(TunnelList.version(reply), tunnels));
      tunnels.forEach(t -> learn((JsonObject) t));
      return tunnels;
    });
  }

  private JsonArray merge(List<Future<JsonArray>> asks) {
    List<JsonObject> all = new ArrayList<>();
    for (Future<JsonArray> f : asks) {
      if (f.succeeded()) {
        f.result().forEach(t -> all.add((JsonObject) t));
      }
    }
    known.values().stream().filter(k -> k.gone).forEach(k -> all.add(k.status));
    // Newest first, as one node lists them; each time parsed once, not per comparison.
    List<Map.Entry<Instant, JsonObject>> keyed = new ArrayList<>(all.size());
    all.forEach(t -> keyed.add(Map.entry(Times.parse(t.getString("started_at")), t)));
    keyed.sort(Map.Entry.<Instant, JsonObject>comparingByKey().reversed()
        .thenComparing(e -> e.getValue().getString("id"), Comparator.reverseOrder()));
    JsonArray out = new JsonArray(new ArrayList<>(keyed.size()));
    keyed.forEach(e -> out.add(e.getValue()));
    return out;
  }

  /** Get or stop: at the owner when known (a gone owner's tunnel: get shows it failed, stop is 503), else every member. */
  private void routed(Message<JsonObject> m, String verb, long timeoutMs) {
    String id = m.body().getString("id", "");
    Known k = known.get(id);
    if (k != null && k.gone) {
      if (verb.equals(Addresses.NODE_GET)) {
        m.reply(k.status);
      } else {
        m.fail(FailureCode.NODE_UNAVAILABLE.code(), "node " + k.node + " has left the cluster: tunnel " + id
            + " is not running");
      }
      return;
    }
    if (k != null && liveNames().contains(k.node)) {
      ask(k.node, verb, m.body(), timeoutMs).onComplete(ar -> answer(m, ar.succeeded() ? ar.result() : null, ar.cause()));
      return;
    }
    // Not seen yet: whoever has it answers; all "not found" is a 404.
    List<Future<JsonObject>> asks = new ArrayList<>();
    for (String node : liveNames()) {
      asks.add(ask(node, verb, m.body(), timeoutMs));
    }
    Future.join(asks).onComplete(ar -> {
      Throwable unanswered = null;
      for (Future<JsonObject> f : asks) {
        if (f.succeeded()) {
          answer(m, f.result(), null);
          return;
        }
        if (!(f.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
            && re.failureCode() == FailureCode.TUNNEL_NOT_FOUND.code())) {
          unanswered = f.cause();
        }
      }
      if (unanswered != null) {
        answer(m, null, unanswered);
      } else {
        m.fail(FailureCode.TUNNEL_NOT_FOUND.code(), "tunnel not found");
      }
    });
  }

  /**
   * A start on the node the request names (header {@link Addresses#NODE_HEADER}; none = this node).
   * basic_auth never crosses a plain event bus.
   */
  private void start(Message<JsonObject> m) {
    // The API puts the node in a header; a bridged start keeps it in the body.
    String node = m.headers().contains(Addresses.NODE_HEADER) ? m.headers().get(Addresses.NODE_HEADER)
        : m.body().getString("node");
    String target = node == null || node.isEmpty() ? self : node;
    if (!liveNames().contains(target)) {
      m.fail(FailureCode.INVALID_REQUEST.code(), "unknown node \"" + target + "\"; known nodes: "
          + String.join(", ", liveNames()));
      return;
    }
    boolean remote = !target.equals(self);
    if (remote && !cfg.tls() && !m.body().getString("basic_auth", "").isEmpty()) {
      m.fail(FailureCode.INVALID_REQUEST.code(), "basic_auth is not sent to another node over a plain event bus:"
          + " set cluster.tls on every node, or start the tunnel on node " + target + "'s own API");
      return;
    }
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(Addresses.START_TIMEOUT_MS - 1_000)
        .setLocalOnly(!remote);
    String replyOn = m.headers().get(Addresses.REPLY_ON_HEADER);
    if (replyOn != null) {
      options.addHeader(Addresses.REPLY_ON_HEADER, replyOn);
    }
    vertx.eventBus().<JsonObject>request(Addresses.node(target, Addresses.NODE_START), m.body(), options)
        .map(Message::body)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            learn(ar.result());
          }
          answer(m, ar.succeeded() ? ar.result() : null, ar.cause(), target);
        });
  }

  private void answer(Message<JsonObject> m, JsonObject reply, Throwable err) {
    answer(m, reply, err, null);
  }

  /** A routed reply as the node gave it; a node that did not answer is 503 naming it. */
  private void answer(Message<JsonObject> m, JsonObject reply, Throwable err, String node) {
    if (err == null) {
      learn(reply);
      m.reply(reply);
    } else if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      m.fail(re.failureCode(), re.getMessage());
    } else if (err instanceof NodeUnavailable nu) {
      m.fail(FailureCode.NODE_UNAVAILABLE.code(), nu.getMessage());
    } else {
      m.fail(FailureCode.NODE_UNAVAILABLE.code(), "node " + (node == null ? "" : node + " ")
          + "did not answer: it may have left the cluster");
    }
  }

  /** A request to one node's manager; a timeout or no handler becomes {@link NodeUnavailable} naming it. */
  private Future<JsonObject> ask(String node, String verb, JsonObject body, long timeoutMs) {
    return vertx.eventBus().<JsonObject>request(Addresses.node(node, verb), body,
            new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(node.equals(self)))
        .map(Message::body)
        .recover(err -> Future.failedFuture(err instanceof ReplyException re
            && re.failureType() == ReplyFailure.RECIPIENT_FAILURE ? err
            : new NodeUnavailable("node " + node + " did not answer (" + (err instanceof ReplyException re2
                ? re2.failureType().name().toLowerCase(java.util.Locale.ROOT) : err.getMessage())
                + "): it may have left the cluster")));
  }

  /** A node that did not answer. */
  static final class NodeUnavailable extends RuntimeException {
    NodeUnavailable(String message) {
      super(message, null, false, false);
    }
  }

  // ---- members, ping, flush ----

  /**
   * This node's card: name, API URL, tunnels held, when it joined. Every other member asks for it
   * every {@link #PING_MS}: this node's list as {@link #listOf} holds it is counted.
   */
  private void info(Message<JsonObject> m) {
    listOf(self).onComplete(ar -> m.reply(new JsonObject().put("node", self).put("api_url", apiUrl.get())
        .put("tunnels", ar.succeeded() ? ar.result().size() : -1).put("joined_at", Times.format(joinedAt))));
  }

  private void members(Message<JsonObject> m) {
    List<Map.Entry<String, Member>> all = new ArrayList<>(members.entrySet());
    List<Future<JsonObject>> asks = new ArrayList<>();
    for (Map.Entry<String, Member> e : all) {
      asks.add(ask(e.getValue().name, Addresses.NODE_INFO, new JsonObject(), ASK_MS));
    }
    Future.join(asks).onComplete(ar -> {
      List<JsonObject> out = new ArrayList<>();
      for (int i = 0; i < all.size(); i++) {
        Member member = all.get(i).getValue();
        Future<JsonObject> f = asks.get(i);
        if (f.succeeded()) {
          member.info = f.result();
          member.reachable = true;
        }
        out.add(new JsonObject().put("node", member.name).put("api_url", member.info.getString("api_url", ""))
            .put("tunnels", member.info.getInteger("tunnels", 0))
            .put("joined_at", member.info.getString("joined_at", Times.format(member.joinedAt)))
            .put("self", all.get(i).getKey().equals(selfId)).put("reachable", f.succeeded()));
      }
      out.sort(Comparator.comparing(j -> j.getString("node")));
      m.reply(new JsonObject().put("clustered", true).put("cluster", cfg.name()).put("node", self)
          .put("members", new JsonArray(new ArrayList<>(out))));
    });
  }

  /**
   * Every other member's info address, every {@value #PING_MS} ms: a member that is listed but whose
   * addresses have no handler lost its subscriptions (eclipse-vertx/vert.x#4394, after a partition
   * heals); it is logged once and shown {@code "reachable":false} until it answers again.
   */
  private void ping() {
    for (Map.Entry<String, Member> e : new ArrayList<>(members.entrySet())) {
      if (e.getKey().equals(selfId)) {
        continue;
      }
      Member member = e.getValue();
      ask(member.name, Addresses.NODE_INFO, new JsonObject(), ASK_MS).onComplete(ar -> {
        if (ar.succeeded()) {
          member.info = ar.result();
          if (!member.reachable) {
            log.info("cluster: node {} answers again", member.name);
          }
          member.reachable = true;
          member.misses = 0;
        } else if (member.reachable && ++member.misses >= 2 && members.containsKey(e.getKey())) {
          // Twice in a row: a member that is leaving drops its handlers a moment before it is gone.
          member.reachable = false;
          log.warn("cluster: node {} is a member but does not answer on the event bus ({}); after a network"
              + " partition Vert.x may have lost its subscriptions (vert.x#4394): restart that node if it"
              + " persists", member.name, ar.cause().getMessage());
        }
      });
    }
  }

  /**
   * Shutdown: one request to every other member after the stopped events were published; the
   * events travel the same connection first, so once each answered they have arrived.
   */
  private void flush(Message<JsonObject> m) {
    List<Future<JsonObject>> asks = new ArrayList<>();
    for (Map.Entry<String, Member> e : members.entrySet()) {
      if (!e.getKey().equals(selfId)) {
        asks.add(ask(e.getValue().name, Addresses.NODE_INFO, new JsonObject(), ASK_MS));
      }
    }
    Promise<Void> done = Promise.promise();
    Future.join(asks).onComplete(ar -> done.complete());
    done.future().onComplete(v -> m.reply(new JsonObject()));
  }
}
