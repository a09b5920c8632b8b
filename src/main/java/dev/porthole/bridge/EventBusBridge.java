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
import dev.porthole.metrics.Metrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.AuthenticationHandler;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.ext.web.handler.SimpleAuthenticationHandler;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
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
 * <p>Every transport goes through the app-server's router, the WebSocket upgrades too (the server
 * has no WebSocket handler, see {@code HttpVersionGate}): SockJS upgrades its own paths after
 * {@link #authentication}, and writes each event straight to its socket.
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

  /**
   * Bridge sockets open at once, every transport; one more is told why and closed. Each holds its
   * registrations' consumers and a ping timer.
   */
  static final int MAX_SOCKETS = 1024;

  private final Vertx vertx;
  private final Guard guard;
  private final Function<Buffer, Future<JsonObject>> validateStart;
  /** Sockets open now ({@code porthole_bridge_clients}). */
  private final AtomicInteger clients;

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
        if (clients.get() >= MAX_SOCKETS) {
          // Declined, vertx-web closes it (and reports no close for it): the client hears why first.
          be.socket().write(new JsonObject().put("type", "err")
              .put("body", "too many bridge clients: at most " + MAX_SOCKETS + " at once").toBuffer());
          be.complete(false);
        } else {
          clients.incrementAndGet();
          be.complete(true);
        }
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
