package dev.porthole.bus;

/**
 * Every event-bus address of the app-server, with the delivery limits that go with them. Nothing
 * else in the code base spells an address (verticles.md documents each one).
 */
public final class Addresses {
  private Addresses() {
    throw new UnsupportedOperationException("constants");
  }

  /**
   * HTTP → manager: {@link TunnelRequest} → {@link TunnelStatus}. Local only: it carries basic_auth.
   * With header {@link #REPLY_ON_HEADER} = {@link #REPLY_ON_REGISTERED} the reply comes as soon as
   * the tunnel is registered ({@code starting}) instead of on its first {@code started}.
   */
  public static final String TUNNELS_START = "porthole.tunnels.start";
  public static final String REPLY_ON_HEADER = "reply_on";
  public static final String REPLY_ON_REGISTERED = "registered";
  /** HTTP → manager: {@code {}} → {@code {"tunnels":[TunnelStatus…]}}, newest first. */
  public static final String TUNNELS_LIST = "porthole.tunnels.list";
  /** HTTP → manager: {@code {"id"}} → {@link TunnelStatus}. */
  public static final String TUNNELS_GET = "porthole.tunnels.get";
  /**
   * Access room → manager (request, local): {@code {"id"}} → {@link TunnelTarget}, the tunnel's
   * status and the data path's target (a stub's is the stub responder, with the Host it routes by);
   * fails {@code TUNNEL_NOT_FOUND}. Internal: it names loopback ports the API never shows.
   */
  public static final String TUNNELS_TARGET = "porthole.internal.tunnels.target";
  /** HTTP, shutdown → manager: {@code {"id"}} → {@link TunnelStatus} (stopped). */
  public static final String TUNNELS_STOP = "porthole.tunnels.stop";
  /**
   * HTTP → manager (request, local): {@link LeaseRenewal} → {@link TunnelStatus} with {@code
   * expires_at} = now + ttl; fails {@code TUNNEL_NOT_FOUND}, {@code TUNNEL_NOT_RUNNING} (stopped,
   * stopping or failed), {@code INVALID_REQUEST} (ttl out of range).
   */
  public static final String TUNNELS_RENEW = "porthole.tunnels.renew";
  /** Shutdown → manager: {@code {}} → {@code {"stopped":n}} once every tunnel has stopped. */
  public static final String TUNNELS_STOP_ALL = "porthole.tunnels.stop-all";
  /**
   * Manager → everyone (publish, local): {@code {}} when a stop-all begins, before any tunnel
   * stops, so that the WebSocket tunnels close with 1001 (server shutdown) rather than 4404.
   */
  public static final String SHUTTING_DOWN = "porthole.internal.shutting-down";
  /**
   * HTTP → manager: {@code {"tunnel_id"?, "since"?}} → {@code {"events":[TunnelEvent…]}}, oldest
   * first, only events whose {@code seq} is above {@code since}.
   */
  public static final String EVENTS_LIST = "porthole.events.list";
  /**
   * Manager → everyone (publish): every recorded {@link TunnelEvent}. Header {@link
   * #CALLBACK_URL_HEADER} repeats once per callback URL of the tunnel.
   */
  public static final String TUNNELS_LIFECYCLE = "porthole.tunnels.lifecycle";
  public static final String CALLBACK_URL_HEADER = "callback_url";

  /**
   * Health → one tunnel's worker (request, local): {@code {"op":"check"}} → {@code
   * {"checked":n,"failed":m}} after a keepalive on each of its sessions (a failed one is reported
   * {@code unhealthy} and reconnected by the worker); {@code {"op":"reconnect","reason":…}} → {@code
   * {}} after reporting {@code unhealthy} with the reason and starting to reconnect every session.
   */
  public static String workerControl(String tunnelId) {
    return "porthole.internal.worker." + tunnelId;
  }

  public static final String OP_CHECK = "check";
  public static final String OP_RECONNECT = "reconnect";
  /** A check waits for each session's keepalive (5 s) and a little more. */
  public static final long CHECK_TIMEOUT_MS = 8_000;

  /** Worker → manager (send, local): {@link WorkerSignal}. */
  public static final String WORKER_SIGNAL = "porthole.internal.worker-signal";

  /**
   * Manager → stub responder (request, local): {@link StubRoute} → {@code {"port":n}}, the
   * responder's loopback port, once the route is in its table; fails {@code START_FAILED} with
   * {@code stub responder route for subdomain "<sub>" already exists}.
   */
  public static final String STUB_REGISTER = "porthole.internal.stub.register";
  /** Manager → stub responder (request, local): {@code {"subdomain"}} → {@code {}} once the route is gone. */
  public static final String STUB_UNREGISTER = "porthole.internal.stub.unregister";

  /** HTTP → webhook: {@code {"tunnel_id"?}} → {@code {"deliveries":[…]}}, oldest first. */
  public static final String WEBHOOKS_DELIVERIES = "porthole.webhooks.deliveries";

  /** Shutdown → webhook (request, local): {@code {}} → {@code {"pending":n}} once deliveries in flight are done. */
  public static final String WEBHOOKS_DRAIN = "porthole.internal.webhooks.drain";

  /**
   * Edge → request log (send, local): one {@link Capture} per HTTP exchange and per WebSocket
   * session event, with {@link Capture#DELIVERY}. The request log queues it for its writer or, past
   * its bound, drops and counts it; there is no reply.
   */
  public static final String REQUESTS_CAPTURE = "porthole.internal.requests.capture";
  /**
   * Request log → everyone (publish): the summary item of each request once it is committed to the
   * database ({@code RequestItem} shape, plus {@code seq}, porthole's commit order: from 1 per
   * process, not stored).
   */
  public static final String REQUESTS_CAPTURED = "porthole.requests.captured";
  /**
   * HTTP → request log: {@code {"tunnel_id"?, "subdomain"?, "filter"?, "limit", "before"?}} →
   * {@code {"requests":[item…],"next":cursor|null}}, newest first; or {@code {"after_seq":n,
   * "limit"}} → {@code {"requests":[item+seq…]}} in commit order, from the last 1 000 committed (the
   * SSE backlog). Fails {@code
   * INVALID_REQUEST} (bad cursor), {@code LOG_UNAVAILABLE}.
   */
  public static final String REQUESTS_LIST = "porthole.requests.list";
  /** HTTP → request log: {@code {"id"}} → the detail item; fails {@code REQUEST_NOT_FOUND}. */
  public static final String REQUESTS_GET = "porthole.requests.get";
  /** HTTP → request log: {@code {"tunnel_id"?|"subdomain"?}} → {@code {"deleted":n}}. */
  public static final String REQUESTS_DELETE = "porthole.requests.delete";
  /**
   * HTTP → request log: {@code {"id", "method"?, "url"?, "headers"?:{name:[v…]}, "body"?:base64}}
   * → the new detail item once committed; fails {@code REQUEST_NOT_FOUND}, {@code
   * TUNNEL_NOT_RUNNING}, {@code INVALID_REQUEST}.
   */
  public static final String REQUESTS_REPLAY = "porthole.requests.replay";
  /**
   * HTTP (health) → request log: {@code {}} → {@code {"enabled","state":"on"|"off"|"disabled",
   * "reason"?,"path","queued","dropped","written"}}.
   */
  public static final String REQUESTS_STATE = "porthole.requests.state";
  /**
   * Request log → one HTTP tunnel's edge (request, local): {@code {}} → {@code {"port":n,
   * "replay_key":k}}, the loopback port to send a replay to and the key that lets it past the
   * tunnel's basic-auth gate (header {@code X-Porthole-Replay-Key}). No handler: the tunnel has no
   * running edge.
   */
  public static String edgeControl(String tunnelId) {
    return "porthole.internal.edge." + tunnelId;
  }

  // ---- Clustered app-servers (cluster/ClusterVerticle; docs/cluster.md) ----

  /**
   * One node's tunnel manager, clustered (request): {@code porthole.node.<node>.tunnels.<verb>} for
   * {@link #NODE_START}, {@link #NODE_LIST}, {@link #NODE_GET}, {@link #NODE_STOP}, {@link #NODE_RENEW}, and {@code
   * porthole.node.<node>.events.list} ({@link #NODE_EVENTS}): the bodies and replies of the front
   * addresses, with {@code node} added to each status and event. Only the node's own cluster
   * verticle sends to its start address with basic_auth in it, unless the event bus runs TLS.
   */
  public static String node(String node, String verb) {
    return "porthole.node." + node + "." + verb;
  }

  public static final String NODE_START = "tunnels.start";
  public static final String NODE_LIST = "tunnels.list";
  public static final String NODE_GET = "tunnels.get";
  public static final String NODE_STOP = "tunnels.stop";
  /** A lease renewal ({@link #TUNNELS_RENEW}'s body and reply), on the node that owns the tunnel. */
  public static final String NODE_RENEW = "tunnels.renew";
  public static final String NODE_EVENTS = "events.list";
  /**
   * Cluster verticle → another node's cluster verticle (request, clustered): {@code {}} → {@code
   * {"node","api_url","tunnels","joined_at"}}; also the liveness ping that finds lost subscriptions.
   */
  public static final String NODE_INFO = "info";
  /**
   * Cluster verticle → every node's cluster verticle (publish, clustered): each event the node's
   * manager recorded for its own tunnels, with header {@link #ORIGIN_HEADER} (the sender's cluster
   * node id) and the body's {@code seq} being the owner's.
   */
  public static final String CLUSTER_LIFECYCLE = "porthole.cluster.lifecycle";
  public static final String ORIGIN_HEADER = "origin";
  /**
   * Cluster verticle → manager (send, local): an event of another node's tunnel ({@link TunnelEvent}
   * with {@code node}), to record in this node's event list (numbered in its order) and publish on
   * {@link #TUNNELS_LIFECYCLE} with header {@link #RELAYED_HEADER}.
   */
  public static final String EVENTS_RELAYED = "porthole.internal.events.relayed";
  /**
   * On a {@link #TUNNELS_LIFECYCLE} event: {@code "true"} when it is another node's (relayed or made
   * up by this node when the owner left). Consumers that act for their own node's tunnels only
   * (webhooks, health, the access room) skip such events.
   */
  public static final String RELAYED_HEADER = "relayed";
  /** On a start: the node to start it on (the POST body's {@code node}); none = this node. */
  public static final String NODE_HEADER = "node";
  /**
   * HTTP → cluster verticle (request, local): {@code {}} → {@code {"clustered":true,"node","members":
   * [{"node","api_url","tunnels","joined_at","self","reachable"}…]}}. No handler: not clustered.
   */
  public static final String CLUSTER_MEMBERS = "porthole.cluster.members";
  /** Shutdown → cluster verticle (request, local): {@code {}} → {@code {}} once the events it relayed have reached every member. */
  public static final String CLUSTER_FLUSH = "porthole.internal.cluster.flush";

  /** Whether a lifecycle message is another node's event. */
  public static boolean isRelayed(io.vertx.core.MultiMap headers) {
    return "true".equals(headers.get(RELAYED_HEADER));
  }

  /**
   * The public bus API a browser reaches through the SockJS bridge at {@code /eventbus}: request/reply
   * sends to these addresses (no publish), nothing else inbound.
   */
  public static final java.util.List<String> BRIDGED_INBOUND = java.util.List.of(TUNNELS_START, TUNNELS_LIST,
      TUNNELS_GET, TUNNELS_STOP, EVENTS_LIST, REQUESTS_LIST, REQUESTS_GET, REQUESTS_REPLAY);
  /** What a bridge client may register for: the lifecycle events and the captured-request feed. */
  public static final java.util.List<String> BRIDGED_OUTBOUND = java.util.List.of(TUNNELS_LIFECYCLE,
      REQUESTS_CAPTURED);
  /** The bridged sends that change something: they need {@code tunnels:write}, the rest {@code tunnels:read}. */
  public static final java.util.List<String> BRIDGED_WRITES = java.util.List.of(TUNNELS_START, TUNNELS_STOP,
      REQUESTS_REPLAY);

  /**
   * A replay reads the stored request (≤ 5 s), the running tunnels (≤ 5 s) and the edge (≤ 5 s),
   * sends the request and reads the answer (≤ 30 s in all), then waits for its capture (≤ 8 s).
   */
  public static final long REPLAY_TIMEOUT_MS = 60_000;
  /** A delete runs on the request log's writer thread, behind the batch it is writing. */
  public static final long DELETE_TIMEOUT_MS = 30_000;

  /**
   * A start waits at most for the version probe (3 s), the shared connection (10 s) and the start
   * wait (7 s) of portr-protocol §6.4, plus slack.
   */
  public static final long START_TIMEOUT_MS = 25_000;
  /** Stopping a tunnel closes its SSH sessions (bounded by 10 s) and waits for its stopped signal. */
  public static final long STOP_TIMEOUT_MS = 15_000;
  public static final long QUERY_TIMEOUT_MS = 5_000;
}
