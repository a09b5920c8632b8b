package dev.porthole.bridge;

import dev.porthole.auth.Denied;
import dev.porthole.auth.Guard;
import dev.porthole.auth.Principal;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.config.AuthConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import dev.porthole.httpkit.WebSocketSplice;
import dev.porthole.metrics.Metrics;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.handler.SimpleAuthenticationHandler;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The SockJS event-bus bridge at {@code /eventbus}: the public bus API of {@link
 * Addresses#BRIDGED_INBOUND} (request/reply) and {@link Addresses#BRIDGED_OUTBOUND} (register), for
 * browser tooling. Deny by default: nothing else passes, no publish comes in.
 *
 * <p>Its guard step ({@link #authentication}) finds the credential where a browser can put it: the
 * {@code ?access_token=} query (a browser WebSocket cannot send headers; sockjs-client keeps the
 * query on every transport URL), else {@code Authorization}. Any valid credential opens a socket;
 * each send and registration then needs the scope the HTTP API would ask for ({@code tunnels:read},
 * {@code tunnels:write} for start, stop and replay). A refusal is answered, never dropped: a send
 * with a reply address gets a failed reply (failure code 403 or the validation's, with the reason
 * as its message), anything else an {@code err} frame whose body is the reason.
 *
 * <p>A start goes through the same validation as {@code POST /api/v1/tunnels} and reaches the
 * manager as the validated request.
 *
 * <p>WebSocket upgrades never reach the app-server's router: its server has a handshake handler
 * (without one, Vert.x 5.0 answers a request with an unknown HTTP version with a bare 501 before
 * porthole sees it), so SockJS cannot upgrade there. {@link #handshake} therefore guards the
 * upgrade itself, then joins it to the same SockJS bridge on a back-room server: loopback, an
 * ephemeral port, and a per-process random key that the front hands over with the caller's
 * scopes. Nothing reaches the back room without that key. Polling transports (XHR, EventSource)
 * go through the router as usual.
 */
public final class EventBusBridge {
  /** Where {@code HttpVerticle} mounts {@link #authentication} and {@link #router}. */
  public static final String MOUNT = "/eventbus/*";
  /**
   * sockjs-client's iframe transports load this script; the default is a CDN, which porthole never
   * names. The dashboard serves it from the jar.
   */
  public static final String LIBRARY_URL = "/ui/sockjs.min.js";
  private static final String SCOPES = "scopes";
  /** The most one XHR send may carry: as much as an API request body may. */
  private static final int FRAME_LIMIT = 4 * 1024 * 1024;

  /** The front's proof to the back room, and the caller's scopes it vouches for. */
  private static final String KEY_HEADER = "X-Porthole-Bridge-Key";
  private static final String SCOPES_HEADER = "X-Porthole-Bridge-Scopes";
  private static final String KIND_HEADER = "X-Porthole-Bridge-Kind";
  /** How long the back room may take to answer an upgrade (it is in-process, on loopback). */
  private static final int BACK_ROOM_TIMEOUT_MS = 10_000;
  /**
   * Bridge WebSockets open at once (each is one back-room connection); one more waits for a free
   * one, at most {@link #BACK_ROOM_TIMEOUT_MS}, then gets 503. Vert.x's default is 50.
   */
  static final int MAX_SOCKETS = 1024;

  private final Vertx vertx;
  private final Guard guard;
  private final Function<Buffer, Future<JsonObject>> validateStart;
  private final String key = newKey();
  /** Sockets open now ({@code porthole_bridge_clients}). */
  private final AtomicInteger clients;
  private HttpServer backRoom;
  private WebSocketClient client;

  /**
   * @param validateStart a start body (JSON) → the validated {@code TunnelRequest} JSON, or a
   *     failure whose message is the HTTP API's 400 text
   */
  public EventBusBridge(Vertx vertx, Guard guard, Function<Buffer, Future<JsonObject>> validateStart) {
    this.vertx = vertx;
    this.guard = guard;
    this.validateStart = validateStart;
    this.clients = Metrics.of(vertx).bridgeClients();
  }

  /** Starts the back room that takes the upgrades {@link #handshake} lets through. */
  public Future<Void> start() {
    client = vertx.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(BACK_ROOM_TIMEOUT_MS)
        .setMaxConnections(MAX_SOCKETS)
        .setMaxFrameSize(16 * 1024 * 1024).setMaxMessageSize(64 * 1024 * 1024));
    Router back = Router.router(vertx);
    back.route(MOUNT).handler(SimpleAuthenticationHandler.create().authenticate(rc -> {
      String offered = rc.request().getHeader(KEY_HEADER);
      if (offered == null || !MessageDigest.isEqual(offered.getBytes(StandardCharsets.US_ASCII),
          key.getBytes(StandardCharsets.US_ASCII))) {
        return Future.failedFuture(new HttpException(403, "forbidden"));
      }
      String scopes = rc.request().getHeader(SCOPES_HEADER);
      return Future.succeededFuture(user(rc.request().getHeader(KIND_HEADER),
          scopes == null || scopes.isEmpty() ? List.of() : List.of(scopes.split(","))));
    }));
    back.route(MOUNT).subRouter(router());
    return vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false))
        .requestHandler(back)
        .listen(0, "127.0.0.1")
        .onSuccess(s -> backRoom = s)
        .mapEmpty();
  }

  /** The back room's port (for tests: nothing gets in without the key). */
  int backRoomPort() {
    return backRoom.actualPort();
  }

  public Future<Void> stop() {
    Future<Void> closing = backRoom == null ? Future.succeededFuture() : backRoom.close();
    return client == null ? closing : closing.eventually(() -> client.close());
  }

  /**
   * A WebSocket upgrade: false when its path is not the bridge's (the caller refuses it), else the
   * bridge guards it as {@link #authentication} guards a request (Host and Origin, then the
   * credential; refusals are bare statuses, all a handshake can carry) and joins it to the back
   * room, which answers as SockJS would (404 for a path SockJS does not serve).
   */
  public boolean handshake(ServerWebSocketHandshake hs) {
    if (!owns(hs.path())) {
      return false;
    }
    Denied misplaced = guard.place(hs.headers().get("Host"), hs.headers().get("Origin"));
    if (misplaced != null) {
      hs.reject(misplaced.status());
      return true;
    }
    guard.check(credential(queryParam(hs.query(), "access_token"), hs.headers().get(HttpHeaders.AUTHORIZATION)), null)
        .onFailure(err -> hs.reject(err instanceof Denied d ? d.status() : 500))
        .onSuccess(p -> client.connect(new WebSocketConnectOptions().setHost("127.0.0.1")
                .setPort(backRoom.actualPort()).setURI(hs.uri()).setTimeout(BACK_ROOM_TIMEOUT_MS)
                .addHeader(KEY_HEADER, key).addHeader(KIND_HEADER, p.kind().name())
                .addHeader(SCOPES_HEADER, String.join(",", p.scopes().stream().sorted().toList())))
            .onFailure(err -> hs.reject(err instanceof UpgradeRejectedException r ? r.getStatus() : 503))
            .onSuccess(inner -> {
              // SockJS speaks first ("o"): hold it until the caller's side is joined.
              inner.pause();
              hs.accept()
                  .onSuccess(outer -> WebSocketSplice.join(outer, inner))
                  .onFailure(err -> inner.close());
            }));
    return true;
  }

  /**
   * The guard step before any SockJS handling: 401/403 with the API's {@code {"message"}} body
   * before a handshake, else the caller's scopes on the request's user (the bridge reads them back
   * as {@code socket().webUser()}; the socket hook must complete synchronously, so nothing is
   * checked asynchronously there).
   */
  public AuthenticationHandler authentication() {
    return SimpleAuthenticationHandler.create().authenticate(rc -> {
      String header = credential(rc.request().getParam("access_token"),
          rc.request().getHeader(HttpHeaders.AUTHORIZATION));
      return guard.check(header, null).transform(ar -> {
        if (ar.failed()) {
          Denied d = ar.cause() instanceof Denied x ? x : Denied.UNAUTHORIZED;
          return Future.failedFuture(new HttpException(d.status(), d.getMessage()));
        }
        Principal p = ar.result();
        return Future.succeededFuture(user(p.kind().name(), p.scopes().stream().sorted().toList()));
      });
    });
  }

  /** Where a browser can put it: {@code ?access_token=} first (a browser WebSocket cannot send headers). */
  private static String credential(String queryToken, String authorization) {
    return queryToken != null ? Guard.bearer(queryToken) : authorization;
  }

  private static User user(String kind, List<String> scopes) {
    return User.create(new JsonObject().put("kind", kind).put(SCOPES, new JsonArray(scopes)));
  }

  private static String queryParam(String query, String name) {
    if (query == null) {
      return null;
    }
    List<String> values = new QueryStringDecoder(query, false).parameters().get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static String newKey() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /** The SockJS sub-router to mount at {@link #MOUNT}, after {@link #authentication}. */
  public Router router() {
    SockJSBridgeOptions options = new SockJSBridgeOptions();
    Addresses.BRIDGED_INBOUND.forEach(a -> options.addInboundPermitted(new PermittedOptions().setAddress(a)));
    Addresses.BRIDGED_OUTBOUND.forEach(a -> options.addOutboundPermitted(new PermittedOptions().setAddress(a)));
    Router sockJs = SockJSHandler.create(vertx, new SockJSHandlerOptions().setLibraryURL(LIBRARY_URL))
        .bridge(options, this::onEvent);
    // The polling transports POST their frames (xhr_send, jsonp_send); SockJS reads them from the
    // routing context's body, so without this every send over XHR failed with 500. Only those
    // paths: a POST route on every path would turn the router's 404s into 405s.
    sockJs.postWithRegex("^/[^/.]+/[^/.]+/(?:xhr|jsonp)_send$").order(-1)
        .handler(BodyHandler.create(false).setBodyLimit(FRAME_LIMIT));
    return sockJs;
  }

  /** The path is the bridge's ({@code /eventbus} or below). */
  public static boolean owns(String path) {
    return path != null && (path.equals("/eventbus") || path.startsWith("/eventbus/"));
  }

  private void onEvent(BridgeEvent be) {
    switch (be.type()) {
      case SEND -> send(be);
      case PUBLISH -> refuse(be, 403, "forbidden: " + address(be) + " takes request/reply sends, not publish");
      case REGISTER -> register(be);
      case SOCKET_CREATED -> {
        clients.incrementAndGet();
        be.complete(true);
      }
      case SOCKET_CLOSED -> {
        clients.decrementAndGet();
        be.complete(true);
      }
      // Receive, ping and the rest need nothing of porthole.
      default -> be.complete(true);
    }
  }

  private void send(BridgeEvent be) {
    String address = address(be);
    if (!Addresses.BRIDGED_INBOUND.contains(address)) {
      refuse(be, 403, "forbidden: " + address + " is not part of the bridged bus API");
      return;
    }
    String scope = Addresses.BRIDGED_WRITES.contains(address) ? AuthConfig.WRITE : AuthConfig.READ;
    if (!scopes(be).contains(scope)) {
      refuse(be, 403, "forbidden: " + address + " needs " + scope);
      return;
    }
    if (!Addresses.TUNNELS_START.equals(address)) {
      be.complete(true);
      return;
    }
    JsonObject raw = be.getRawMessage();
    Object body = raw.getValue("body");
    Buffer bytes = body == null ? Buffer.buffer() : Buffer.buffer(io.vertx.core.json.Json.encode(body));
    Future<JsonObject> validated;
    try {
      validated = validateStart.apply(bytes);
    } catch (RuntimeException e) {
      validated = Future.failedFuture(e);
    }
    validated.onComplete(ar -> {
      if (ar.failed()) {
        refuse(be, FailureCode.INVALID_REQUEST.code(), ar.cause().getMessage());
      } else {
        be.setRawMessage(raw.copy().put("body", ar.result()));
        be.complete(true);
      }
    });
  }

  private void register(BridgeEvent be) {
    String address = address(be);
    if (!Addresses.BRIDGED_OUTBOUND.contains(address)) {
      refuse(be, 403, "forbidden: " + address + " is not part of the bridged bus API");
    } else if (!scopes(be).contains(AuthConfig.READ)) {
      refuse(be, 403, "forbidden: " + address + " needs " + AuthConfig.READ);
    } else {
      be.complete(true);
    }
  }

  /**
   * Answers the client with the reason, then declines the event (the bridge adds its own {@code
   * {"type":"err","body":"rejected"}} after it).
   */
  private static void refuse(BridgeEvent be, int code, String message) {
    String replyAddress = be.getRawMessage() == null ? null : be.getRawMessage().getString("replyAddress");
    JsonObject frame = replyAddress != null
        ? new JsonObject().put("type", "err").put("address", replyAddress).put("failureCode", code)
            .put("failureType", "RECIPIENT_FAILURE").put("message", message)
        : new JsonObject().put("type", "err").put("body", message);
    be.socket().write(frame.toBuffer());
    be.complete(false);
  }

  private static String address(BridgeEvent be) {
    JsonObject raw = be.getRawMessage();
    return raw == null ? "" : String.valueOf(raw.getValue("address", ""));
  }

  private static java.util.Set<String> scopes(BridgeEvent be) {
    User user = be.socket().webUser();
    JsonArray scopes = user == null ? null : user.principal().getJsonArray(SCOPES);
    return scopes == null ? java.util.Set.of() : java.util.Set.copyOf(scopes.stream().map(String::valueOf).toList());
  }
}
