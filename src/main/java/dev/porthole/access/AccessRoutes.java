package dev.porthole.access;

import dev.porthole.auth.Denied;
import dev.porthole.auth.Guard;
import dev.porthole.auth.Principal;
import dev.porthole.config.AccessConfig;
import dev.porthole.config.AuthConfig;
import dev.porthole.connect.PortForwardProtocol;
import dev.porthole.json.GoJson;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The access room as the HTTP server sees it (docs/api.md): a sub-router for {@code
 * /p/{id}/…} (mounted at {@code /p/*}), the WebSocket handshakes of {@code /p/} and {@code
 * /ws/port-forward/{id}}, each behind its own step of the {@link Guard} with scope {@code access},
 * and the {@code proxy_url} / {@code websocket_url} every tunnel status names.
 *
 * <p>Its guard step finds porthole's credential where a browser can put it: on {@code /p/}, the
 * {@code ?access_token=} query (exchanged for a cookie scoped to {@code /p/{id}/} by a 303), then
 * that cookie, then {@code Authorization}; on a handshake, the cookie ({@code /p/} only), the {@code
 * bearer.<T>} subprotocol, then {@code Authorization}. When porthole's credential came in {@code
 * Authorization} it is removed before the target sees the request; otherwise that header is the
 * app's own and passes untouched.
 */
public final class AccessRoutes {
  /** The mount point of {@link #router()}. */
  public static final String MOUNT = "/p/*";
  private static final Pattern VIEW = Pattern.compile("^(/p/[^/?]+)(/.*)?$");

  private final Vertx vertx;
  private final AccessConfig cfg;
  private final Guard guard;
  private final AccessProxy proxy;
  private final WebSocketTunnels tunnels;
  private final WebSocketPassthrough passthrough;

  public AccessRoutes(Vertx vertx, AccessConfig cfg, Guard guard) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.guard = guard;
    this.proxy = new AccessProxy(vertx, cfg);
    this.tunnels = new WebSocketTunnels(vertx, cfg);
    this.passthrough = new WebSocketPassthrough(vertx, cfg);
  }

  /** The server's WebSocket settings the access room needs. */
  public HttpServerOptions configure(HttpServerOptions options) {
    return options.setWebSocketSubProtocols(Subprotocols.SERVER_LIST)
        // Frames may be larger than the message limit, so that an oversized message reaches the
        // message check (close 1009) instead of the frame decoder (connection dropped).
        .setMaxWebSocketFrameSize((int) Math.min(Integer.MAX_VALUE, 4L * cfg.wsMaxMessageBytes()))
        .setMaxWebSocketMessageSize(cfg.wsMaxMessageBytes());
  }

  /**
   * The sub-router to mount at {@link #MOUNT}: {@code /p/{id}} → 308 to {@code /p/{id}/}, {@code
   * /p/{id}/…} → the tunnel's target, both behind the guard step. Other paths under {@code /p/}
   * are not its own: they go on to the parent router.
   */
  public Router router() {
    Router router = Router.router(vertx);
    // Paths here are relative to the mount point: /{id}, /{id}/….
    router.routeWithRegex("^/[^/?]+(/.*)?$").handler(this::guardStep);
    router.routeWithRegex("^/[^/?]+$").handler(proxy::redirectToSlash);
    router.routeWithRegex("^/[^/?]+/.*").handler(proxy::handle);
    return router;
  }

  /**
   * A WebSocket handshake, which never reaches the router: false when its path is not the access
   * room's (the caller refuses it), else the room guards it and accepts or refuses it.
   */
  public boolean handshake(ServerWebSocketHandshake hs) {
    String tunnelId = WebSocketTunnels.tunnelId(hs.path());
    String viewId = tunnelId == null ? WebSocketPassthrough.tunnelId(hs.path()) : null;
    if (tunnelId == null && viewId == null) {
      return false;
    }
    guard(hs, viewId != null).onComplete(ar -> {
      if (ar.failed()) {
        hs.reject(ar.cause() instanceof Denied d ? d.status() : 500);
      } else if (tunnelId != null) {
        tunnels.open(hs, tunnelId);
      } else {
        passthrough.relay(hs, viewId);
      }
    });
    return true;
  }

  /**
   * Adds porthole's {@code proxy_url} and {@code websocket_url} after Portr's keys to a tunnel
   * status, or to each status of a list; other bodies pass unchanged.
   *
   * @param advertised host:port of the app-server as URLs name it
   */
  public static JsonObject withUrls(JsonObject body, String advertised) {
    if (body.getValue("tunnels") instanceof JsonArray list) {
      for (int i = 0; i < list.size(); i++) {
        withUrls(list.getJsonObject(i), advertised);
      }
      return body;
    }
    if (body.getValue("id") instanceof String id && body.containsKey("status")) {
      body.put("proxy_url", "http://" + advertised + "/p/" + id + "/")
          .put("websocket_url", "ws://" + advertised + "/ws/port-forward/" + id);
    }
    return body;
  }

  /** Server shutdown: every WebSocket tunnel closes with 1001 and new ones are refused. */
  public void close() {
    tunnels.closeEverything();
  }

  private void guardStep(RoutingContext rc) {
    if (!guard.authRequired()) {
      rc.next();
      return;
    }
    HttpServerRequest req = rc.request();
    String queryToken = req.getParam("access_token");
    String cookie = req.getCookie(AccessProxy.ACCESS_COOKIE) == null ? null
        : req.getCookie(AccessProxy.ACCESS_COOKIE).getValue();
    String header;
    boolean stripAuthorization = false;
    if (queryToken != null) {
      header = Guard.bearer(queryToken);
    } else if (cookie != null) {
      header = Guard.bearer(cookie);
    } else {
      header = req.getHeader(HttpHeaders.AUTHORIZATION);
      stripAuthorization = header != null;
    }
    boolean strip = stripAuthorization;
    Future<Principal> verdict = guard.check(header, AuthConfig.ACCESS);
    // A JWT is verified asynchronously: nothing of the body may flow before the proxy takes it.
    boolean paused = !verdict.isComplete();
    if (paused) {
      req.pause();
    }
    verdict.onComplete(ar -> {
      if (paused) {
        req.resume();
      }
      if (ar.failed()) {
        refuse(rc.response(), ar.cause() instanceof Denied d ? d : Denied.UNAUTHORIZED);
      } else if (queryToken != null) {
        exchange(rc, queryToken);
      } else {
        if (strip) {
          // porthole's token is for porthole, never for the app behind it.
          req.headers().remove(HttpHeaders.AUTHORIZATION);
        }
        rc.next();
      }
    });
  }

  /**
   * A request that authenticated with {@code ?access_token=}: 303 to the same URL without it, and
   * the token as a cookie scoped to {@code /p/{id}/} (browsers cannot send headers when navigating).
   */
  private static void exchange(RoutingContext rc, String token) {
    Matcher view = VIEW.matcher(rc.request().path());
    String prefix = view.matches() ? view.group(1) : "/p";
    String uri = rc.request().uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    List<String> kept = new ArrayList<>();
    if (q >= 0) {
      for (String param : uri.substring(q + 1).split("&")) {
        if (!param.isEmpty() && !param.startsWith("access_token=") && !param.equals("access_token")) {
          kept.add(param);
        }
      }
    }
    rc.response().setStatusCode(303)
        .putHeader("Location", path + (kept.isEmpty() ? "" : "?" + String.join("&", kept)))
        .putHeader("Set-Cookie", AccessProxy.ACCESS_COOKIE + "=" + token + "; Path=" + prefix
            + "/; HttpOnly; SameSite=Strict")
        .putHeader("Cache-Control", "no-store")
        .end();
  }

  /** The API's error shape, {@code {"message":…}}: a refusal here reads like one of the API's. */
  private static void refuse(HttpServerResponse res, Denied denied) {
    if (res.ended() || res.closed()) {
      return;
    }
    res.setStatusCode(denied.status()).putHeader("Content-Type", "application/json")
        .end(GoJson.encode(new JsonObject().put("message", denied.getMessage())));
  }

  /** The guard for a handshake: Host, Origin, then the credential with scope {@code access}. */
  private Future<Principal> guard(ServerWebSocketHandshake hs, boolean view) {
    MultiMap headers = hs.headers();
    Denied misplaced = guard.place(headers.get("Host"), headers.get("Origin"));
    if (misplaced != null) {
      return Future.failedFuture(misplaced);
    }
    if (!guard.authRequired()) {
      return guard.check(null, AuthConfig.ACCESS);
    }
    // porthole's own credentials first: the access cookie of a /p/ page (browsers send it with the
    // page's WebSocket), then the bearer.<T> subprotocol.
    String header = view ? Guard.bearer(AccessProxy.accessCookie(headers)) : null;
    if (header == null) {
      for (String proto : Subprotocols.offered(headers)) {
        if (proto.startsWith(PortForwardProtocol.CREDENTIAL_PREFIX) && proto.length() > PortForwardProtocol.CREDENTIAL_PREFIX.length()) {
          header = Guard.bearer(proto.substring(PortForwardProtocol.CREDENTIAL_PREFIX.length()));
        }
      }
    }
    boolean stripAuthorization = false;
    if (header == null) {
      header = headers.get("Authorization");
      stripAuthorization = view && header != null;
    }
    Future<Principal> verdict = guard.check(header, AuthConfig.ACCESS);
    return stripAuthorization ? verdict.onSuccess(p -> headers.remove("Authorization")) : verdict;
  }
}
