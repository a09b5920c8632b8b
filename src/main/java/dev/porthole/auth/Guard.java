package dev.porthole.auth;

import dev.porthole.config.AppServerConfig;
import dev.porthole.config.AuthConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The one credential check of the app-server, whatever carries the request: an API call, a {@code
 * /p/} request, a WebSocket handshake, later a SockJS bridge connection. Each caller finds the
 * credential where its transport puts it and names the scope its route needs; the rules are here.
 *
 * <ul>
 *   <li>{@link #place}: on a loopback bind, a {@code Host} that names this machine (DNS-rebinding
 *       guard); no foreign browser {@code Origin} (same origin, or listed in {@code
 *       http.cors.allowed_origins}).
 *   <li>{@link #check}: the static token exactly (Portr's rule, every scope), or a JWT with an
 *       {@code exp} and the scope asked for ({@code tunnels:read}, {@code tunnels:write}, {@code
 *       access}). 401 without a valid credential, 403 for a missing scope.
 * </ul>
 */
public final class Guard {
  private final byte[] staticToken;
  private final JWTAuth jwt;
  private final boolean loopbackBind;
  private final List<String> allowedHosts;
  private final List<String> allowedOrigins;

  /**
   * @param token the static API token, empty for none
   * @param bindHost the address the server listens on: the Host guard applies to loopback binds
   */
  public Guard(Vertx vertx, String token, AuthConfig auth, String bindHost) {
    this.staticToken = token.isEmpty() ? null : bearer(token).getBytes(StandardCharsets.UTF_8);
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

  /** {@code "Bearer " + token}, or null for a missing or empty token. */
  public static String bearer(String token) {
    return token == null || token.isEmpty() ? null : "Bearer " + token;
  }

  /** False when neither a static token nor JWTs are configured: then every credential check passes. */
  public boolean authRequired() {
    return staticToken != null || jwt != null;
  }

  /**
   * Where the request comes from: null when its {@code Host} and {@code Origin} headers may reach
   * this server, else {@link Denied#HOST} or {@link Denied#ORIGIN}.
   */
  public Denied place(String host, String origin) {
    if (loopbackBind && !hostAllowed(host)) {
      return Denied.HOST;
    }
    if (origin != null && !originListed(origin) && !sameOrigin(origin.toLowerCase(Locale.ROOT), host)) {
      return Denied.ORIGIN;
    }
    return null;
  }

  /** The origin is listed in {@code http.cors.allowed_origins} (then CORS answers it). */
  public boolean originListed(String origin) {
    return origin != null && allowedOrigins.contains(origin.toLowerCase(Locale.ROOT));
  }

  /**
   * The credential: {@code authorization} is an {@code Authorization} header value ({@code Bearer
   * <T>}, see {@link #bearer}), or null. Completes with who it is, or fails with {@link Denied}
   * (401, or 403 when {@code scope} is non-null and the JWT lacks it).
   */
  public Future<Principal> check(String authorization, String scope) {
    if (!authRequired()) {
      return Future.succeededFuture(Principal.ANYONE);
    }
    if (staticToken != null && authorization != null
        && MessageDigest.isEqual(staticToken, authorization.getBytes(StandardCharsets.UTF_8))) {
      return Future.succeededFuture(Principal.STATIC_TOKEN);
    }
    if (jwt == null || authorization == null || !authorization.startsWith("Bearer ") || authorization.length() <= 7) {
      return Future.failedFuture(Denied.UNAUTHORIZED);
    }
    return jwt.authenticate(new TokenCredentials(authorization.substring(7))).transform(ar -> {
      if (ar.failed() || !hasExpiry(ar.result())) {
        return Future.failedFuture(Denied.UNAUTHORIZED);
      }
      Set<String> scopes = scopes(ar.result());
      if (scope != null && !scopes.contains(scope)) {
        return Future.failedFuture(Denied.FORBIDDEN);
      }
      return Future.succeededFuture(new Principal(Principal.Kind.JWT, scopes));
    });
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
    return AppServerConfig.isLoopback(host) || allowedHosts.contains(host)
        || allowedHosts.contains(hostHeader.strip().toLowerCase(Locale.ROOT));
  }

  private static boolean sameOrigin(String origin, String host) {
    return host != null && (origin.equals("http://" + host.toLowerCase(Locale.ROOT)));
  }
}
