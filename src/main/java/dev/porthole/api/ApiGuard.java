package dev.porthole.api;

import dev.porthole.access.AccessProxy;
import dev.porthole.access.Subprotocols;
import dev.porthole.config.AppServerConfig;
import dev.porthole.config.AuthConfig;
import dev.porthole.connect.PortForwardProtocol;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.InvalidRequests;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every request passes before routing: a known method; on a loopback bind, a {@code Host}
 * that names this machine (DNS-rebinding guard); no foreign browser {@code Origin} (CORS for listed
 * origins only); then the credential — the static token exactly (Portr's rule, every scope) or a JWT
 * with an {@code exp} and the route's scope ({@code tunnels:read}, {@code tunnels:write}, {@code
 * access}). 401 without a valid credential, 403 for a missing scope or a refused host/origin.
 */
final class ApiGuard {
  private static final Logger log = LoggerFactory.getLogger(ApiGuard.class);
  private static final Set<HttpMethod> KNOWN = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
      HttpMethod.DELETE, HttpMethod.CONNECT, HttpMethod.OPTIONS, HttpMethod.TRACE, HttpMethod.PATCH);
  private static final Pattern READ_PATHS = Pattern.compile("(?i)^/api/v1/(tunnels|events|webhooks)(/.*)?$");
  private static final Pattern ACCESS_PATHS = Pattern.compile("(?i)^/(p|ws)/.*");
  private static final Pattern ACCESS_VIEW = Pattern.compile("^(/p/[^/?]+)(/.*)?$");

  private final byte[] staticToken;
  private final JWTAuth jwt;
  private final boolean loopbackBind;
  private final List<String> allowedHosts;
  private final List<String> allowedOrigins;

  ApiGuard(Vertx vertx, String token, AuthConfig auth, String bindHost) {
    this.staticToken = token.isEmpty() ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    this.jwt = auth.jwtEnabled() ? jwt(vertx, auth) : null;
    this.loopbackBind = AppServerConfig.isLoopback(bindHost);
    this.allowedHosts = auth.allowedHosts();
    this.allowedOrigins = auth.allowedOrigins();
  }

  private static JWTAuth jwt(Vertx vertx, AuthConfig auth) {
    JWTOptions options = new JWTOptions();
    if (!auth.audience().isEmpty()) {
      options.setAudience(List.of(auth.audience()));
    }
    return JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(auth.jwtAlgorithm()).setBuffer(auth.jwtKey()))
        .setJWTOptions(options));
  }

  boolean authRequired() {
    return staticToken != null || jwt != null;
  }

  void handle(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    if (InvalidRequests.unsupportedVersion(req) || InvalidRequests.duplicateHost(req)) {
      return;
    }
    if (!KNOWN.contains(req.method())) {
      ApiResponses.message(rc, 400, "Invalid http method");
      return;
    }
    if (loopbackBind && !hostAllowed(req.getHeader("Host"))) {
      log.warn("refused {} {}: Host is not a name of this machine (allowed: loopback, http.allowed_hosts)",
          req.method(), req.path());
      ApiResponses.message(rc, 403, "host not allowed");
      return;
    }
    String origin = req.getHeader("Origin");
    if (origin != null) {
      String o = origin.toLowerCase(Locale.ROOT);
      boolean listed = allowedOrigins.contains(o);
      if (!listed && !sameOrigin(o, req.getHeader("Host"))) {
        ApiResponses.message(rc, 403, "origin not allowed");
        return;
      }
      if (listed) {
        rc.response().putHeader("Access-Control-Allow-Origin", origin).putHeader("Vary", "Origin");
        if (req.method() == HttpMethod.OPTIONS && req.getHeader("Access-Control-Request-Method") != null) {
          rc.response().setStatusCode(204)
              .putHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE")
              .putHeader("Access-Control-Allow-Headers", "Authorization, Content-Type")
              .putHeader("Access-Control-Max-Age", "600")
              .end();
          return;
        }
      }
    }
    if (!authRequired()) {
      rc.next();
      return;
    }
    String header = req.getHeader("Authorization");
    String queryToken = null;
    Matcher access = ACCESS_VIEW.matcher(req.path());
    if (access.matches()) {
      // Browsers cannot send headers when navigating: /p/{id}/ also takes ?access_token=T (then a
      // cookie scoped to the tunnel's prefix).
      queryToken = req.getParam("access_token");
      String cookie = rc.request().getCookie(AccessProxy.ACCESS_COOKIE) == null ? null
          : rc.request().getCookie(AccessProxy.ACCESS_COOKIE).getValue();
      // The access cookie (or the token in the query) comes first: then an Authorization header
      // is the app's own and passes through untouched. Otherwise it is porthole's credential and is
      // removed before proxying.
      if (queryToken != null) {
        header = "Bearer " + queryToken;
      } else if (cookie != null) {
        header = "Bearer " + cookie;
      } else if (header != null) {
        rc.put(AccessProxy.STRIP_AUTHORIZATION, Boolean.TRUE);
      }
    }
    String exchange = queryToken;
    String prefix = access.matches() ? access.group(1) : null;
    if (staticToken != null && header != null
        && MessageDigest.isEqual(staticToken, header.getBytes(StandardCharsets.UTF_8))) {
      pass(rc, exchange, prefix);
      return;
    }
    if (jwt == null || header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
      ApiResponses.message(rc, 401, "unauthorized");
      return;
    }
    String needed = scopeFor(req.method(), req.path());
    req.pause();
    jwt.authenticate(new TokenCredentials(header.substring(7))).onComplete(ar -> {
      req.resume();
      if (ar.failed() || !hasExpiry(ar.result())) {
        ApiResponses.message(rc, 401, "unauthorized");
      } else if (needed != null && !scopes(ar.result()).contains(needed)) {
        ApiResponses.message(rc, 403, "forbidden");
      } else {
        pass(rc, exchange, prefix);
      }
    });
  }

  /**
   * Lets the request on, or, when it authenticated with {@code ?access_token=}, answers 303 to the
   * same URL without it and sets the token as a cookie scoped to {@code /p/{id}/}.
   */
  private static void pass(RoutingContext rc, String exchangedToken, String prefix) {
    if (exchangedToken == null) {
      rc.next();
      return;
    }
    String uri = rc.request().uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    List<String> kept = new java.util.ArrayList<>();
    if (q >= 0) {
      for (String param : uri.substring(q + 1).split("&")) {
        if (!param.isEmpty() && !param.startsWith("access_token=") && !param.equals("access_token")) {
          kept.add(param);
        }
      }
    }
    rc.response().setStatusCode(303)
        .putHeader("Location", path + (kept.isEmpty() ? "" : "?" + String.join("&", kept)))
        .putHeader("Set-Cookie", AccessProxy.ACCESS_COOKIE + "=" + exchangedToken + "; Path=" + prefix
            + "/; HttpOnly; SameSite=Strict")
        .putHeader("Cache-Control", "no-store")
        .end();
  }

  /**
   * The same rules for a WebSocket handshake, which never reaches the router: Host, Origin, then a
   * credential from {@code Authorization} or the {@code bearer.<T>} subprotocol, with the path's
   * scope. Completes with 0 when allowed, else the status to refuse with (401, 403).
   */
  Future<Integer> webSocket(ServerWebSocketHandshake hs) {
    MultiMap headers = hs.headers();
    if (loopbackBind && !hostAllowed(headers.get("Host"))) {
      return Future.succeededFuture(403);
    }
    String origin = headers.get("Origin");
    if (origin != null) {
      String o = origin.toLowerCase(Locale.ROOT);
      if (!allowedOrigins.contains(o) && !sameOrigin(o, headers.get("Host"))) {
        return Future.succeededFuture(403);
      }
    }
    if (!authRequired()) {
      return Future.succeededFuture(0);
    }
    // porthole's own credentials first: the access cookie of a /p/ page (browsers send it with the
    // page's WebSocket), then the bearer.<T> subprotocol. An Authorization header is then the
    // app's own and passes through; only when it is porthole's credential is it removed.
    boolean view = ACCESS_VIEW.matcher(hs.path()).matches();
    String header = view ? bearer(AccessProxy.accessCookie(headers)) : null;
    if (header == null) {
      for (String proto : Subprotocols.offered(headers)) {
        if (proto.startsWith(PortForwardProtocol.CREDENTIAL_PREFIX) && proto.length() > PortForwardProtocol.CREDENTIAL_PREFIX.length()) {
          header = "Bearer " + proto.substring(PortForwardProtocol.CREDENTIAL_PREFIX.length());
        }
      }
    }
    boolean stripAuthorization = false;
    if (header == null) {
      header = headers.get("Authorization");
      stripAuthorization = view && header != null;
    }
    Future<Integer> verdict;
    if (staticToken != null && header != null && MessageDigest.isEqual(staticToken, header.getBytes(StandardCharsets.UTF_8))) {
      verdict = Future.succeededFuture(0);
    } else if (jwt == null || header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
      return Future.succeededFuture(401);
    } else {
      String needed = scopeFor(HttpMethod.GET, hs.path());
      verdict = jwt.authenticate(new TokenCredentials(header.substring(7)))
          .map(user -> !hasExpiry(user) ? 401 : needed != null && !scopes(user).contains(needed) ? 403 : 0)
          .otherwise(401);
    }
    if (!stripAuthorization) {
      return verdict;
    }
    return verdict.map(code -> {
      if (code == 0) {
        headers.remove("Authorization");
      }
      return code;
    });
  }

  private static String bearer(String token) {
    return token == null || token.isEmpty() ? null : "Bearer " + token;
  }

  /** The scope a route needs, or null (health and unknown paths need only a valid credential). */
  static String scopeFor(HttpMethod method, String path) {
    if (ACCESS_PATHS.matcher(path).matches()) {
      return AuthConfig.ACCESS;
    }
    if (READ_PATHS.matcher(path).matches()) {
      return method == HttpMethod.GET || method == HttpMethod.HEAD ? AuthConfig.READ : AuthConfig.WRITE;
    }
    return null;
  }

  private static JsonObject claims(User user) {
    JsonObject token = user.attributes().getJsonObject("accessToken");
    return token == null ? new JsonObject() : token;
  }

  private static boolean hasExpiry(User user) {
    return claims(user).getValue("exp") instanceof Number;
  }

  /** The {@code scope} claim: a space-separated string (RFC 8693) or an array of strings. */
  static Set<String> scopes(User user) {
    Object scope = claims(user).getValue("scope");
    if (scope instanceof String s) {
      return Set.of(s.strip().split("\\s+"));
    }
    if (scope instanceof JsonArray arr) {
      return Set.copyOf(arr.stream().filter(String.class::isInstance).map(String.class::cast).toList());
    }
    return Set.of();
  }

  /** Host (port stripped) is a loopback name or address, or listed in http.allowed_hosts. */
  boolean hostAllowed(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return false;
    }
    String host = hostHeader.strip().toLowerCase(Locale.ROOT);
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      host = end < 0 ? host : host.substring(0, end + 1);
    } else if (host.indexOf(':') >= 0) {
      host = host.substring(0, host.indexOf(':'));
    }
    return AppServerConfig.isLoopback(host) || allowedHosts.contains(host) || allowedHosts.contains(hostHeader.strip().toLowerCase(Locale.ROOT));
  }

  private static boolean sameOrigin(String origin, String host) {
    return host != null && (origin.equals("http://" + host.toLowerCase(Locale.ROOT)));
  }
}
