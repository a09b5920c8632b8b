package dev.porthole.api;

import dev.porthole.auth.Denied;
import dev.porthole.auth.Guard;
import dev.porthole.auth.Principal;
import dev.porthole.config.AuthConfig;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.InvalidRequests;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's steps of the {@link Guard}. {@link #frontDoor} runs before any routing, for every HTTP
 * request (the API's and {@code /p/}'s): a known method, the Host and Origin rules, CORS for listed
 * origins. {@link #credential} then runs for whatever the access room did not take: the credential
 * from {@code Authorization}, with the route's scope ({@code tunnels:read}, {@code tunnels:write},
 * {@code access}, {@code metrics}).
 */
final class ApiGuard {
  private static final Logger log = LoggerFactory.getLogger(ApiGuard.class);
  private static final Set<HttpMethod> KNOWN = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
      HttpMethod.DELETE, HttpMethod.CONNECT, HttpMethod.OPTIONS, HttpMethod.TRACE, HttpMethod.PATCH);
  private static final Pattern READ_PATHS = Pattern.compile("(?i)^/api/v1/(tunnels|events|webhooks|requests)(/.*)?$");
  private static final Pattern ACCESS_PATHS = Pattern.compile("(?i)^/(p|ws)/.*");
  private static final Pattern METRICS_PATH = Pattern.compile("(?i)^/metrics/?$");

  private final Guard guard;

  ApiGuard(Guard guard) {
    this.guard = guard;
  }

  void frontDoor(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    if (InvalidRequests.unsupportedVersion(req) || InvalidRequests.duplicateHost(req)) {
      return;
    }
    if (!KNOWN.contains(req.method())) {
      ApiResponses.message(rc, 400, "Invalid http method");
      return;
    }
    String origin = req.getHeader("Origin");
    Denied refused = guard.place(req.getHeader("Host"), origin);
    if (refused == Denied.HOST) {
      log.warn("refused {} {}: Host is not a name of this machine (allowed: loopback, http.allowed_hosts)",
          req.method(), req.path());
    }
    if (refused != null) {
      ApiResponses.message(rc, refused.status(), refused.getMessage());
      return;
    }
    if (guard.originListed(origin)) {
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
    rc.next();
  }

  void credential(RoutingContext rc) {
    if (!guard.authRequired()) {
      rc.next();
      return;
    }
    HttpServerRequest req = rc.request();
    Future<Principal> verdict = guard.check(req.getHeader("Authorization"), scopeFor(req.method(), req.path()));
    if (verdict.isComplete()) {
      answer(rc, verdict);
      return;
    }
    // A JWT is verified asynchronously: the body must not flow before the route reads it.
    req.pause();
    verdict.onComplete(ar -> {
      req.resume();
      answer(rc, verdict);
    });
  }

  private static void answer(RoutingContext rc, Future<Principal> verdict) {
    if (verdict.succeeded()) {
      rc.next();
    } else {
      Denied d = verdict.cause() instanceof Denied x ? x : Denied.UNAUTHORIZED;
      ApiResponses.message(rc, d.status(), d.getMessage());
    }
  }

  /** The scope a route needs, or null (health and unknown paths need only a valid credential). */
  static String scopeFor(HttpMethod method, String path) {
    if (ACCESS_PATHS.matcher(path).matches()) {
      return AuthConfig.ACCESS;
    }
    if (METRICS_PATH.matcher(path).matches()) {
      return AuthConfig.METRICS;
    }
    if (READ_PATHS.matcher(path).matches()) {
      return method == HttpMethod.GET || method == HttpMethod.HEAD ? AuthConfig.READ : AuthConfig.WRITE;
    }
    return null;
  }
}
