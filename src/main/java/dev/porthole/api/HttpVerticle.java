package dev.porthole.api;

import dev.porthole.Version;
import dev.porthole.httpkit.ApiResponses.Route;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.LeaseRenewal;
import dev.porthole.bus.TunnelList;
import dev.porthole.bus.TunnelRequest;
import dev.porthole.access.AccessRoutes;
import dev.porthole.auth.Guard;
import dev.porthole.bridge.EventBusBridge;
import dev.porthole.config.AccessConfig;
import dev.porthole.config.AuthConfig;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.FlushBatching;
import dev.porthole.httpkit.HtmlPages;
import dev.porthole.httpkit.HttpVersionGate;
import dev.porthole.httpkit.InvalidRequests;
import dev.porthole.httpkit.RequestHandshake;
import dev.porthole.ui.Dashboard;
import dev.porthole.ui.Warmup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app-server's HTTP API, Portr's {@code app-server} byte for byte where it can be
 * (portr-protocol §6.2, §6.3): each handler parses, makes one bus request to the manager, renders.
 * Its settings are a {@link Slice} from the composition root, or, deployed with no constructor
 * argument, {@code config()}: {@code host}, {@code port}, {@code token} (empty: none), {@code relay}
 * ({@code embedded} or {@code configured}), and {@code settings}: the porthole configuration tree,
 * whose {@code auth}, {@code http} and {@code access} sections it reads.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HttpVerticle.class);
  static final int BODY_LIMIT = 4 * 1024 * 1024;

  static final long DEFAULT_READY_TIMEOUT_S = 30;
  /** Health asks the request log for its state, briefly: health must answer even when it cannot. */
  static final long HEALTH_ASK_MS = 1_000;
  static final long MAX_READY_TIMEOUT_S = 600;

  private HttpServer server;
  private Router router;
  private ReadyWait readyWait;
  private AccessRoutes access;
  /** host:port of this server as URLs name it. */
  private String advertised;
  /** The last list answer, encoded, and the manager's version it shows. */
  private Buffer listBody;
  private long listVersion = -1;
  private Slice slice;
  /** The app-server's own first dashboard load ({@link Warmup}), once listening. */
  private Future<Integer> warmedUp;


  /**
   * What the HTTP verticle is given.
   *
   * @param bindHost the address to listen on
   * @param token the static API token, empty for none
   * @param relayMode {@code embedded} or {@code configured}, as {@code /api/v1/health} says
   */
  public record Slice(String bindHost, int port, String token, String relayMode, AuthConfig auth,
      AccessConfig access) {

    /** From {@code config()}; reads the PEM file a {@code auth.jwt.public_key} may name (blocking). */
    static Slice from(JsonObject cfg) {
      JsonObject settings = cfg.getJsonObject("settings", new JsonObject());
      return new Slice(cfg.getString("host", "127.0.0.1"), cfg.getInteger("port", 7778), cfg.getString("token", ""),
          cfg.getString("relay", "configured"), AuthConfig.from(settings), AccessConfig.from(settings));
    }
  }

  /** Settings from {@code config()} (see the class comment). */
  public HttpVerticle() {
  }

  public HttpVerticle(Slice slice) {
    this.slice = slice;
  }

  @Override
  public Future<?> start() {
    Slice cfg = slice != null ? slice : Slice.from(config());
    return serve(cfg);
  }

  private Future<HttpServer> serve(Slice cfg) {
    Guard guard = new Guard(vertx, cfg.token(), cfg.auth(), cfg.bindHost());
    ApiGuard apiGuard = new ApiGuard(guard);
    access = new AccessRoutes(vertx, cfg.access(), guard);
    JsonObject health = new JsonObject().put("status", "ok").put("relay", cfg.relayMode())
        .put("version", Version.get());

    readyWait = new ReadyWait(vertx, vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false)
        .setConnectTimeout((int) ReadyWait.PROBE_TIMEOUT_MS)),
        vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) ReadyWait.PROBE_TIMEOUT_MS)));
    Router router = Router.router(vertx);
    this.router = router;
    router.route().handler(apiGuard::frontDoor);
    // WebSocket upgrades come through the router like any request (the server has no WebSocket
    // handler): SockJS takes the bridge's, the access room guards and answers its own, and any
    // other is not found.
    router.route().handler(rc -> {
      HttpServerRequest req = rc.request();
      if (!RequestHandshake.isUpgrade(req) || EventBusBridge.owns(req.path())) {
        rc.next();
      } else if (!access.handshake(new RequestHandshake(req))) {
        req.resume();
        ApiResponses.message(rc, 404, "Cannot upgrade " + HtmlPages.escape(req.path()) + " to a WebSocket");
      }
    });
    // The access room guards its own paths (its credential can come in a cookie or the query).
    router.route(AccessRoutes.MOUNT).subRouter(access.router());
    // The event-bus bridge: its own credential step (a browser puts the token in the query), then SockJS.
    EventBusBridge bridge = new EventBusBridge(vertx, guard,
        body -> TunnelRequests.parse(vertx, "application/json", body).map(req -> withNode(req.toJson(), body)));
    router.route(EventBusBridge.MOUNT).handler(bridge.authentication());
    router.route(EventBusBridge.MOUNT).subRouter(bridge.router());
    // What SockJS does not serve under its mount is nobody's: the API's credential step must not answer it.
    router.route(EventBusBridge.MOUNT).handler(HttpVerticle::notFound);
    // The API's description needs no credential (docs/api.md#openapi).
    OpenApiSpec.mount(vertx, router);
    // The dashboard's static page: no credential (the browser brings it to the bridge).
    Dashboard.mount(vertx, router);
    router.route().handler(apiGuard::credential);
    // Only the API's own bodies are read here; /p/ streams them to the tunnel's target.
    router.routeWithRegex("(?i)^/api/.*").handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));

    get(router, "/api/v1/health", rc -> vertx.eventBus().<JsonObject>request(Addresses.REQUESTS_STATE,
            new JsonObject(), new DeliveryOptions().setSendTimeout(HEALTH_ASK_MS))
        .onComplete(ar -> ApiResponses.json(rc, 200, health.copy().put("request_log",
            ar.succeeded() ? ar.result().body() : new JsonObject().put("state", "unknown")
                .put("reason", "the request log did not answer")))));
    router.routeWithRegex(path("/api/v1/health")).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, HEAD"));

    get(router, "/api/v1/tunnels", this::list);
    router.routeWithRegex(HttpMethod.POST, path("/api/v1/tunnels")).handler(this::create);
    router.routeWithRegex(path("/api/v1/tunnels")).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, POST"));

    String one = "/api/v1/tunnels/([^/]+)";
    get(router, one, rc -> ask(rc, Addresses.TUNNELS_GET, id(rc), 200, Route.TUNNEL));
    router.routeWithRegex(HttpMethod.DELETE, path(one)).handler(this::stop);
    router.routeWithRegex(path(one)).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, DELETE"));

    router.routeWithRegex(HttpMethod.POST, path(one + "/shutdown")).handler(this::stop);
    router.routeWithRegex(path(one + "/shutdown")).handler(rc -> ApiResponses.methodNotAllowed(rc, "POST"));
    router.routeWithRegex(HttpMethod.POST, path(one + "/renew")).handler(this::renew);
    router.routeWithRegex(path(one + "/renew")).handler(rc -> ApiResponses.methodNotAllowed(rc, "POST"));

    get(router, "/api/v1/events", rc -> {
      String tunnelId = rc.queryParams().get("tunnel_id");
      Long since = since(rc, rc.queryParams().get("since"));
      if (since == null) {
        return;
      }
      ask(rc, Addresses.EVENTS_LIST, new JsonObject().put("tunnel_id", tunnelId == null ? "" : tunnelId)
          .put("since", since), 200, Route.QUERY);
    });
    get(router, "/api/v1/events/stream", rc -> {
      String resume = rc.request().getHeader("Last-Event-ID");
      Long since = since(rc, resume != null ? resume : rc.queryParams().get("since"));
      if (since != null) {
        new EventStream(vertx, rc, lifecycleFeed(rc.queryParams().get("tunnel_id")), since).start();
      }
    });
    router.routeWithRegex(path("/api/v1/events/stream")).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET"));

    get(router, "/api/v1/webhooks/deliveries", rc -> {
      String tunnelId = rc.queryParams().get("tunnel_id");
      ask(rc, Addresses.WEBHOOKS_DELIVERIES, new JsonObject().put("tunnel_id", tunnelId == null ? "" : tunnelId), 200,
          Route.QUERY);
    });
    router.routeWithRegex(path("/api/v1/webhooks/deliveries")).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET"));
    router.routeWithRegex(path("/api/v1/events")).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET"));

    // Clustered: the members; otherwise this app-server alone (docs/cluster.md).
    get(router, "/api/v1/cluster", rc -> vertx.eventBus().<JsonObject>request(Addresses.CLUSTER_MEMBERS,
            new JsonObject(), new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            ApiResponses.json(rc, 200, ar.result().body());
          } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            ApiResponses.json(rc, 200, new JsonObject().put("clustered", false).put("members", new JsonArray()));
          } else {
            ApiResponses.failure(rc, ar.cause(), Route.QUERY);
          }
        }));
    router.routeWithRegex(path("/api/v1/cluster")).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, HEAD"));

    new RequestRoutes(vertx).mount(router);
    new MetricsRoute(vertx).mount(router);

    router.route().failureHandler(InvalidRequests::routeFailure);
    router.errorHandler(404, HttpVerticle::notFound);
    router.errorHandler(413, rc -> ApiResponses.message(rc, 413, "request body too large"));
    router.errorHandler(400, rc -> ApiResponses.message(rc, 400, "bad request"));
    router.errorHandler(500, rc -> {
      log.error("{} {} failed", rc.request().method(), rc.request().path(), rc.failure());
      ApiResponses.message(rc, 500, "internal error");
    });

    return vertx.createHttpServer(access.configure(new HttpServerOptions().setHttp2ClearTextEnabled(false)))
        .invalidRequestHandler(InvalidRequests.JSON)
        .connectionHandler(conn -> {
          HttpVersionGate.install(conn);
          FlushBatching.install(conn);
        })
        .requestHandler(router)
        .listen(cfg.port(), cfg.bindHost())
        .onSuccess(s -> {
          server = s;
          String self = hostForUrls(cfg.bindHost());
          advertised = self + ":" + s.actualPort();
          // Not awaited: the app-server is ready now; this only spares the user's first dashboard load,
          // a little later, so that it does not take the CPU from what the user starts first.
          Promise<Integer> warm = Promise.promise();
          warmedUp = warm.future();
          Warmup.whenQuiet(vertx).compose(v -> Warmup.run(vertx,
              self.startsWith("[") ? self.substring(1, self.length() - 1) : self, s.actualPort(), cfg.token()))
              .onComplete(warm);
        });
  }

  private static void notFound(RoutingContext rc) {
    ApiResponses.message(rc, 404, "Cannot " + rc.request().method().name() + " " + HtmlPages.escape(rc.request().path()));
  }

  /** Recorded lifecycle events, of one tunnel or all. */
  private EventStream.Feed lifecycleFeed(String tunnelId) {
    String only = tunnelId == null ? "" : tunnelId;
    return new EventStream.Feed("event", Addresses.TUNNELS_LIFECYCLE,
        e -> only.isEmpty() || only.equals(e.getString("tunnel_id")), "type", null, Integer.MAX_VALUE,
        since -> vertx.eventBus().<JsonObject>request(Addresses.EVENTS_LIST,
                new JsonObject().put("tunnel_id", only).put("since", since),
                new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
            .map(m -> m.body().getJsonArray("events", new JsonArray())));
  }

  /** A tunnel status, or each of a list, with the access room's URLs added. */
  JsonObject withAccessUrls(JsonObject body) {
    return AccessRoutes.withUrls(body, advertised);
  }

  @Override
  public Future<?> stop() {
    if (access != null) {
      access.close();
    }
    return Future.succeededFuture();
  }

  /** The router, once started: the OpenAPI contract test reads its routes. */
  Router router() {
    return router;
  }

  /** Whether the server is bound. */
  public boolean isListening() {
    return server != null;
  }

  /** The dashboard warm-up made when the server started listening (tests). */
  public Future<Integer> warmedUp() {
    return warmedUp;
  }

  /** The port actually bound (the configured one may be 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The listen address as a URL host: a wildcard bind is reached on loopback; IPv6 in brackets. */
  static String hostForUrls(String bindHost) {
    String h = bindHost == null ? "" : bindHost.strip();
    if (h.isEmpty() || h.equals("0.0.0.0")) {
      return "127.0.0.1";
    }
    if (h.equals("::") || h.equals("[::]")) {
      return "[::1]";
    }
    return h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h;
  }

  /** Portr routes: case-insensitive, trailing slash optional. */
  static String path(String p) {
    return "(?i)" + p + "/?";
  }

  static void get(Router router, String p, io.vertx.core.Handler<RoutingContext> h) {
    router.routeWithRegex(path(p)).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(h);
  }

  private static JsonObject id(RoutingContext rc) {
    return new JsonObject().put("id", rc.pathParam("param0"));
  }

  /** A {@code since} / {@code Last-Event-ID} value; null after answering 400 for a bad one. */
  private static Long since(RoutingContext rc, String value) {
    if (value == null || value.isBlank()) {
      return 0L;
    }
    try {
      long n = Long.parseLong(value.strip());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // Answered below.
    }
    ApiResponses.message(rc, 400, "since must be a non-negative integer");
    return null;
  }

  private void create(RoutingContext rc) {
    String wait = rc.queryParams().get("wait");
    String timeoutParam = rc.queryParams().get("timeout");
    long timeoutSeconds = DEFAULT_READY_TIMEOUT_S;
    if (wait != null && !wait.equals("ready")) {
      ApiResponses.message(rc, 400, "wait must be ready");
      return;
    }
    if (timeoutParam != null) {
      try {
        timeoutSeconds = Long.parseLong(timeoutParam.strip());
      } catch (NumberFormatException e) {
        timeoutSeconds = -1;
      }
      if (timeoutSeconds < 1 || timeoutSeconds > MAX_READY_TIMEOUT_S) {
        ApiResponses.message(rc, 400, "timeout must be between 1 and " + MAX_READY_TIMEOUT_S + " seconds");
        return;
      }
    }
    long waitSeconds = timeoutSeconds;
    TunnelRequests.parse(vertx, rc.request().getHeader("Content-Type"), rc.body().buffer()).onComplete(ar -> {
      if (ar.failed()) {
        ApiResponses.message(rc, 400, ar.cause().getMessage());
      } else {
        start(rc, ar.result(), node(rc), wait, waitSeconds);
      }
    });
  }

  /** A bridged start keeps its {@code "node"} (clustered placement); the cluster verticle reads it from the body. */
  private static JsonObject withNode(JsonObject validated, Buffer raw) {
    try {
      Object node = raw.toJsonObject().getValue("node");
      return node instanceof String s && !s.isBlank() ? validated.put("node", s.strip()) : validated;
    } catch (RuntimeException e) {
      return validated;
    }
  }

  /** Clustered: the body's {@code "node"} (a JSON body's only; Portr ignores the key), else null. */
  private static String node(RoutingContext rc) {
    try {
      Object node = rc.body().asJsonObject().getValue("node");
      return node instanceof String s && !s.isBlank() ? s.strip() : null;
    } catch (RuntimeException e) {
      return null; // not JSON (a form): no node
    }
  }

  private void start(RoutingContext rc, TunnelRequest req, String node, String wait, long timeoutSeconds) {
    if (wait == null) {
      DeliveryOptions options = new DeliveryOptions().setSendTimeout(Addresses.START_TIMEOUT_MS);
      if (node != null) {
        options.addHeader(Addresses.NODE_HEADER, node);
      }
      vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_START, req.toJson(), options)
          .map(Message::body)
          .onSuccess(reply -> ApiResponses.json(rc, 201, withAccessUrls(reply)))
          .onFailure(err -> ApiResponses.failure(rc, err, Route.START));
      return;
    }
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    long limit = timeoutSeconds;
    // Registered, then wait on its lifecycle events: the caller's deadline bounds everything, including the pool set-up.
    DeliveryOptions options = new DeliveryOptions()
        .setSendTimeout(Math.min(Addresses.START_TIMEOUT_MS, timeoutSeconds * 1000))
        .addHeader(Addresses.REPLY_ON_HEADER, Addresses.REPLY_ON_REGISTERED);
    if (node != null) {
      options.addHeader(Addresses.NODE_HEADER, node);
    }
    vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_START, req.toJson(), options)
        .map(Message::body)
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT) {
            ApiResponses.message(rc, 504, "tunnel not ready after " + limit + " s");
          } else {
            ApiResponses.failure(rc, err, Route.START);
          }
        })
        .onSuccess(started -> readyWait.await(started.getString("id"), deadline).onComplete(ar -> {
          if (ar.succeeded()) {
            ApiResponses.json(rc, 201, withAccessUrls(ar.result()));
          } else if (ar.cause() instanceof ReadyWait.ReadyTimeout) {
            ApiResponses.message(rc, 504, "tunnel " + started.getString("id") + " not ready after " + limit + " s");
          } else {
            ApiResponses.message(rc, 504, ar.cause().getMessage());
          }
        }));
  }

  /** A lease renewal: the body checked here, the rest is the manager's. */
  private void renew(RoutingContext rc) {
    long ttl;
    try {
      ttl = TunnelRequests.renewal(rc.request().getHeader("Content-Type"), rc.body().buffer());
    } catch (TunnelRequests.BadRequest e) {
      ApiResponses.message(rc, 400, e.getMessage());
      return;
    }
    ask(rc, Addresses.TUNNELS_RENEW, new LeaseRenewal(rc.pathParam("param0"), ttl).toJson(), 200, Route.RENEW);
  }

  private void stop(RoutingContext rc) {
    ask(rc, Addresses.TUNNELS_STOP, id(rc), 200, Route.TUNNEL, Addresses.STOP_TIMEOUT_MS);
  }

  /**
   * The list, encoded once per manager version: the manager answers "unchanged" to the version
   * this verticle holds, and the bytes of the last answer are sent again.
   */
  private void list(RoutingContext rc) {
    JsonObject query = listBody == null ? TunnelList.query() : TunnelList.query(listVersion);
    vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_LIST, query,
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
        .map(Message::body)
        .onSuccess(reply -> {
          long version = TunnelList.version(reply);
          if (TunnelList.isUnchanged(reply)) {
            if (listBody != null && version == listVersion) {
              ApiResponses.json(rc, 200, listBody);
            } else {
              // The cache moved on while this request was asking: ask again for the whole list.
              listBody = null;
              list(rc);
            }
            return;
          }
          Buffer body = Buffer.buffer(ApiResponses.goEncode(withAccessUrls(TunnelList.body(reply))));
          if (version >= 0) {
            listBody = body;
            listVersion = version;
          }
          ApiResponses.json(rc, 200, body);
        })
        .onFailure(err -> ApiResponses.failure(rc, err, Route.QUERY));
  }

  private void ask(RoutingContext rc, String address, JsonObject body, int status, Route route) {
    ask(rc, address, body, status, route, Addresses.QUERY_TIMEOUT_MS);
  }

  private void ask(RoutingContext rc, String address, JsonObject body, int status, Route route, long timeoutMs) {
    vertx.eventBus().<JsonObject>request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs))
        .map(Message::body)
        .onSuccess(reply -> ApiResponses.json(rc, status, withAccessUrls(reply)))
        .onFailure(err -> ApiResponses.failure(rc, err, route));
  }
}
