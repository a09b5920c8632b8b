package dev.porthole.relay;

import dev.porthole.Version;
import dev.porthole.config.Subdomains;
import dev.porthole.json.GoJson;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.InvalidRequests;
import dev.porthole.relay.ConnectionRegistry.Reservation;
import dev.porthole.relay.ConnectionRegistry.Type;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's admin API, the part of Portr's that its clients use (portr-protocol §2.1, §2.2):
 * {@code POST /api/v1/connections/} and {@code GET /api/v1/version}, with Portr's statuses and
 * bodies. Other paths and methods get JSON errors.
 */
final class AdminApi {
  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);

  private final ConnectionRegistry registry;

  AdminApi(ConnectionRegistry registry) {
    this.registry = registry;
  }

  Router router(Vertx vertx, int maxBodyBytes) {
    Router router = Router.router(vertx);
    router.route().handler(rc -> {
      if (!InvalidRequests.unsupportedVersion(rc.request()) && !InvalidRequests.duplicateHost(rc.request())) {
        rc.next();
      }
    });
    router.route("/api/v1/connections*").handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes));
    for (String path : new String[] {"/api/v1/connections", "/api/v1/connections/"}) {
      router.post(path).handler(this::createConnection);
      router.route(path).handler(rc -> ApiResponses.methodNotAllowed(rc, "POST"));
    }
    for (String path : new String[] {"/api/v1/version", "/api/v1/version/"}) {
      router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD)
          .handler(rc -> ApiResponses.json(rc, 200, new JsonObject().put("version", Version.get())));
      router.route(path).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, HEAD"));
    }
    router.route().failureHandler(InvalidRequests::routeFailure);
    ApiResponses.routerErrors(router, "admin API");
    return router;
  }

  private void createConnection(RoutingContext rc) {
    GoJson.Body in;
    String secret;
    String type;
    Object rawSubdomain;
    try {
      in = GoJson.object(rc.request().getHeader("Content-Type"), rc.body().buffer());
      secret = GoJson.string(in, "secret_key", "");
      type = GoJson.string(in, "connection_type", "");
      rawSubdomain = GoJson.field(in, "subdomain");
      if (rawSubdomain != null && !(rawSubdomain instanceof String)) {
        throw new GoJson.InvalidBody("subdomain must be a string");
      }
    } catch (GoJson.InvalidBody e) {
      ApiResponses.json(rc, 400, new JsonObject().put("error", "Invalid input"));
      return;
    }
    if (secret.isBlank()) {
      ApiResponses.message(rc, 400, "Secret key is required");
      return;
    }
    if (!type.equals("http") && !type.equals("tcp")) {
      ApiResponses.message(rc, 400, "Connection type must be either 'http' or 'tcp'");
      return;
    }
    String subdomain = null;
    if (type.equals("http")) {
      String raw = (String) rawSubdomain;
      if (raw == null || raw.isBlank()) {
        ApiResponses.message(rc, 400, "Subdomain is required for HTTP connections");
        return;
      }
      subdomain = Subdomains.normalize(raw);
      if (!Subdomains.isValid(subdomain)) {
        ApiResponses.message(rc, 400, "Invalid subdomain");
        return;
      }
    }
    Reservation r = registry.reserve(secret, type.equals("http") ? Type.HTTP : Type.TCP, subdomain);
    switch (r.outcome()) {
      case CREATED -> {
        log.info("reserve(connection={}, type={}, subdomain={}) from {}", r.connectionId(), type,
            subdomain == null ? "-" : subdomain, rc.request().remoteAddress());
        ApiResponses.json(rc, 200, new JsonObject().put("connection_id", r.connectionId()));
      }
      case INVALID_SECRET -> {
        log.info("reserve(type={}, subdomain={}) from {} refused: invalid secret key", type,
            subdomain == null ? "-" : subdomain, rc.request().remoteAddress());
        ApiResponses.message(rc, 401, "Invalid secret key");
      }
      case RESERVED_SUBDOMAIN -> ApiResponses.json(rc, 409,
          new JsonObject().put("code", "reserved_subdomain").put("message", "This is a reserved subdomain"));
      case SUBDOMAIN_IN_USE -> ApiResponses.json(rc, 409,
          new JsonObject().put("code", "subdomain_in_use").put("message", "Subdomain already in use"));
      case TOO_MANY_RESERVED -> {
        log.warn("reserve(type={}) from {} refused: the key has relay.max_reserved_per_key unused reservations",
            type, rc.request().remoteAddress());
        rc.response().putHeader("Retry-After", "60");
        ApiResponses.message(rc, 429, "Too many reserved connections; use or let them expire first");
      }
      default -> throw new IllegalStateException("unexpected outcome " + r.outcome());
    }
  }
}
