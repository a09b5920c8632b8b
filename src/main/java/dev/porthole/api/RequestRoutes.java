package dev.porthole.api;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.HttpTokens;
import dev.porthole.httpkit.ApiResponses.Route;
import dev.porthole.json.GoJson;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;

/**
 * The request log over HTTP ({@code docs/api.md#request-log}): list, one request, replay, delete,
 * and the live feed as Server-Sent Events. Each handler checks its parameters, makes one bus
 * request to the request log and renders the answer; bad parameters are 400 with a message naming
 * the parameter and nothing is asked.
 */
final class RequestRoutes {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 500;
  /** SSE backlog pages. */
  static final int STREAM_PAGE = 500;
  static final int MAX_PARAM = 256;

  /** Headers the replay sets itself (framing, routing, the replay markers). */
  static final Set<String> FIXED_HEADERS = Set.of("host", "connection", "keep-alive", "proxy-connection",
      "transfer-encoding", "content-length", "te", "trailer", "upgrade", "expect", "x-portr-replayed-request-id",
      "x-porthole-replay-key");

  private final Vertx vertx;

  RequestRoutes(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Thrown by the parameter checks: answered 400 with its message. */
  static final class BadParam extends Exception {
    BadParam(String message) {
      super(message, null, false, false);
    }
  }

  void mount(Router router) {
    HttpVerticle.get(router, "/api/v1/requests", this::list);
    router.routeWithRegex(HttpMethod.DELETE, HttpVerticle.path("/api/v1/requests")).handler(this::delete);
    notAllowed(router, "/api/v1/requests", "GET, DELETE");
    HttpVerticle.get(router, "/api/v1/requests/stream", this::stream);
    notAllowed(router, "/api/v1/requests/stream", "GET");
    String one = "/api/v1/requests/([^/]+)";
    HttpVerticle.get(router, one, rc -> ask(rc, Addresses.REQUESTS_GET,
        new JsonObject().put("id", rc.pathParam("param0")), 200, Addresses.QUERY_TIMEOUT_MS));
    notAllowed(router, one, "GET");
    router.routeWithRegex(HttpMethod.POST, HttpVerticle.path(one + "/replay")).handler(this::replay);
    notAllowed(router, one + "/replay", "POST");
  }

  private static void notAllowed(Router router, String path, String allow) {
    router.routeWithRegex(HttpVerticle.path(path)).handler(rc -> ApiResponses.methodNotAllowed(rc, allow));
  }

  private void list(RoutingContext rc) {
    JsonObject q;
    try {
      q = filters(rc, false);
      q.put("limit", limit(rc.queryParams().get("limit")));
      String before = param(rc, "before");
      if (!before.isEmpty()) {
        q.put("before", before);
      }
    } catch (BadParam e) {
      ApiResponses.message(rc, 400, e.getMessage());
      return;
    }
    ask(rc, Addresses.REQUESTS_LIST, q, 200, Addresses.QUERY_TIMEOUT_MS);
  }

  private void delete(RoutingContext rc) {
    JsonObject q;
    try {
      q = filters(rc, true);
    } catch (BadParam e) {
      ApiResponses.message(rc, 400, e.getMessage());
      return;
    }
    ask(rc, Addresses.REQUESTS_DELETE, q, 200, Addresses.DELETE_TIMEOUT_MS);
  }

  private void stream(RoutingContext rc) {
    JsonObject q;
    Long since;
    try {
      q = filters(rc, false);
      String resume = rc.request().getHeader("Last-Event-ID");
      since = seq(resume != null ? resume : rc.queryParams().get("since"));
    } catch (BadParam e) {
      ApiResponses.message(rc, 400, e.getMessage());
      return;
    }
    String tunnelId = q.getString("tunnel_id", "");
    String subdomain = q.getString("subdomain", "");
    String filter = q.getString("filter", "").toLowerCase(Locale.ROOT);
    EventStream.Feed feed = new EventStream.Feed("request", Addresses.REQUESTS_CAPTURED,
        item -> (tunnelId.isEmpty() || tunnelId.equals(item.getString("tunnel_id")))
            && (subdomain.isEmpty() || subdomain.equals(item.getString("subdomain")))
            && (filter.isEmpty() || item.getString("url", "").toLowerCase(Locale.ROOT).contains(filter)),
        null, "request", STREAM_PAGE,
        after -> vertx.eventBus().<JsonObject>request(Addresses.REQUESTS_LIST,
                new JsonObject().put("after_seq", after).put("limit", STREAM_PAGE),
                new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
            .map(m -> m.body().getJsonArray("requests", new JsonArray())));
    new EventStream(vertx, rc, feed, since).start();
  }

  private void replay(RoutingContext rc) {
    JsonObject q;
    try {
      q = replayBody(rc.request().getHeader("Content-Type"), rc.body().buffer() == null ? null
          : rc.body().buffer().getBytes());
    } catch (BadParam e) {
      ApiResponses.message(rc, 400, e.getMessage());
      return;
    }
    q.put("id", rc.pathParam("param0"));
    ask(rc, Addresses.REQUESTS_REPLAY, q, 201, Addresses.REPLAY_TIMEOUT_MS);
  }

  /**
   * The optional edits of a replay: {@code method}, {@code url} (path and query, starting with
   * {@code /}), {@code headers} (name → value, list of values, or null to drop the stored header),
   * and {@code body} (text) or {@code body_base64}, not both. An empty body replays as stored.
   */
  static JsonObject replayBody(String contentType, byte[] raw) throws BadParam {
    JsonObject out = new JsonObject();
    if (raw == null || raw.length == 0) {
      return out;
    }
    GoJson.Body b;
    try {
      b = GoJson.object(contentType, io.vertx.core.buffer.Buffer.buffer(raw));
    } catch (GoJson.InvalidBody e) {
      throw new BadParam(GoJson.isJsonContentType(contentType) ? "invalid JSON body"
          : "the replay body must be JSON (Content-Type: application/json)");
    }
    JsonObject o = b.json();
    for (String key : o.fieldNames()) {
      if (!Set.of("method", "url", "headers", "body", "body_base64").contains(key)) {
        throw new BadParam("unknown replay field \"" + key + "\": use method, url, headers, body or body_base64");
      }
    }
    Object method = o.getValue("method");
    if (method != null) {
      String m = method instanceof String s ? s.strip().toUpperCase(Locale.ROOT) : "";
      if (!Capture.REPLAY_METHODS.contains(m)) {
        throw new BadParam("method must be one of: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE");
      }
      out.put("method", m);
    }
    Object url = o.getValue("url");
    if (url != null) {
      if (!(url instanceof String u) || !u.startsWith("/") || u.length() > 8192 || hasControl(u)) {
        throw new BadParam("url must be a path starting with / (at most 8192 characters, no control characters)");
      }
      out.put("url", u);
    }
    Object headers = o.getValue("headers");
    if (headers != null) {
      if (!(headers instanceof JsonObject h)) {
        throw new BadParam("headers must be an object of header name to a string, a list of strings, or null");
      }
      JsonObject edits = new JsonObject();
      for (String name : h.fieldNames()) {
        if (!HttpTokens.isToken(name)) {
          throw new BadParam("invalid header name \"" + name + "\"");
        }
        if (FIXED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
          throw new BadParam("header \"" + name + "\" is set by the replay itself and cannot be edited");
        }
        Object v = h.getValue(name);
        JsonArray values = new JsonArray();
        if (v instanceof String s) {
          values.add(s);
        } else if (v instanceof JsonArray arr) {
          for (Object item : arr) {
            if (!(item instanceof String s)) {
              throw new BadParam("header \"" + name + "\" must be a string, a list of strings, or null");
            }
            values.add(s);
          }
        } else if (v != null) {
          throw new BadParam("header \"" + name + "\" must be a string, a list of strings, or null");
        }
        for (Object value : values) {
          if (hasControl((String) value)) {
            throw new BadParam("header \"" + name + "\" must not contain control characters");
          }
        }
        edits.put(name, v == null ? null : values);
      }
      out.put("headers", edits);
    }
    Object text = o.getValue("body");
    Object base64 = o.getValue("body_base64");
    if (text != null && base64 != null) {
      throw new BadParam("give body or body_base64, not both");
    }
    if (text != null) {
      if (!(text instanceof String s)) {
        throw new BadParam("body must be a string (use body_base64 for bytes)");
      }
      out.put("body", Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)));
    } else if (base64 != null) {
      if (!(base64 instanceof String s)) {
        throw new BadParam("body_base64 must be a base64 string");
      }
      try {
        Base64.getDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        throw new BadParam("body_base64 must be a base64 string");
      }
      out.put("body", s);
    }
    return out;
  }

  /** {@code tunnel_id}, {@code subdomain}, {@code filter}; a delete needs exactly one of the first two. */
  private static JsonObject filters(RoutingContext rc, boolean forDelete) throws BadParam {
    JsonObject q = new JsonObject();
    String tunnelId = param(rc, "tunnel_id");
    String subdomain = param(rc, "subdomain");
    if (forDelete) {
      if (tunnelId.isEmpty() == subdomain.isEmpty()) {
        throw new BadParam(tunnelId.isEmpty() ? "tunnel_id or subdomain is required"
            : "give tunnel_id or subdomain, not both");
      }
    } else {
      String filter = param(rc, "filter");
      if (!filter.isEmpty()) {
        q.put("filter", filter);
      }
    }
    if (!tunnelId.isEmpty()) {
      q.put("tunnel_id", tunnelId);
    }
    if (!subdomain.isEmpty()) {
      q.put("subdomain", subdomain.toLowerCase(Locale.ROOT));
    }
    return q;
  }

  private static String param(RoutingContext rc, String name) throws BadParam {
    String v = rc.queryParams().get(name);
    if (v == null) {
      return "";
    }
    v = v.strip();
    if (v.length() > MAX_PARAM || hasControl(v)) {
      throw new BadParam(name + " must be at most " + MAX_PARAM + " characters, without control characters");
    }
    return v;
  }

  static int limit(String value) throws BadParam {
    if (value == null || value.isBlank()) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(value.strip());
      if (n >= 1 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException e) {
      // Answered below.
    }
    throw new BadParam("limit must be an integer between 1 and " + MAX_LIMIT);
  }

  /** A {@code Last-Event-ID} / {@code since} seq, or null for none (live items only). */
  static Long seq(String value) throws BadParam {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      long n = Long.parseLong(value.strip());
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // Answered below.
    }
    throw new BadParam("since must be a non-negative integer");
  }

  private static boolean hasControl(String s) {
    return s.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
  }


  private void ask(RoutingContext rc, String address, JsonObject body, int status, long timeoutMs) {
    Future<Message<JsonObject>> reply = vertx.eventBus().request(address, body,
        new DeliveryOptions().setSendTimeout(timeoutMs).setLocalOnly(true));
    reply.onSuccess(m -> ApiResponses.json(rc, status, m.body()))
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
              && !address.equals(Addresses.REQUESTS_LIST) && !address.equals(Addresses.REQUESTS_GET)) {
            // A replay or a delete may have happened: say so rather than "unavailable".
            ApiResponses.message(rc, 504, address.equals(Addresses.REQUESTS_REPLAY)
                ? "the replay was sent, but its result did not come back in time: look for it in the list"
                : "the delete did not finish in time; it may still complete");
            return;
          }
          ApiResponses.failure(rc, err, Route.REQUESTS);
        });
  }
}
