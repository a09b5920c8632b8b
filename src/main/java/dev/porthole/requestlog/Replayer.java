package dev.porthole.requestlog;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.TunnelList;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.httpkit.HttpTokens;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code porthole.requests.replay}: sends a stored request again through its tunnel's edge, so it
 * reaches the local service the way the original did and is captured like any request, as a new
 * entry with {@code is_replayed} and {@code parent_id} (the edge reads Portr's {@code
 * X-Portr-Replayed-Request-Id}). The edge is the one of a running tunnel of this process: the
 * stored {@code tunnel_id} when that tunnel still runs, else a running HTTP tunnel with the stored
 * subdomain. Its replay key lets the request past the tunnel's basic-auth gate (the stored {@code
 * Authorization} is redacted). The answer is the new entry, once it is written.
 *
 * <p>Headers: the stored ones minus those whose values were redacted, minus hop-by-hop and framing
 * headers, with the caller's edits applied (a value list replaces the header, null drops it).
 * A stored body cut at 1 MiB is not replayed as if it were whole: the caller must send a body.
 */
final class Replayer {
  private static final Logger log = LoggerFactory.getLogger(Replayer.class);
  static final String REPLAYED_HEADER = Capture.REPLAYED_HEADER;
  static final String REPLAY_KEY_HEADER = Capture.REPLAY_KEY_HEADER;
  static final String NEW_ID_HEADER = Capture.REQUEST_ID_HEADER;
  /** Connecting to the edge, sending, and reading the whole answer. */
  static final long SEND_TIMEOUT_MS = 30_000;
  static final long COMMIT_TIMEOUT_MS = 8_000;
  private static final Set<String> NOT_REPLAYED = Set.of("host", "connection", "keep-alive", "proxy-connection",
      "transfer-encoding", "content-length", "te", "trailer", "upgrade", "expect",
      REPLAYED_HEADER.toLowerCase(Locale.ROOT), REPLAY_KEY_HEADER.toLowerCase(Locale.ROOT));
  private static final String REDACTED = "[redacted]";

  private final Vertx vertx;
  private final HttpClient client;
  private final Function<String, Future<JsonObject>> detail;
  private final BiFunction<String, Long, Future<JsonObject>> awaitCommitted;

  /**
   * @param detail a stored request's detail item by id (fails {@code REQUEST_NOT_FOUND})
   * @param awaitCommitted the detail item of a new capture once it is written
   */
  Replayer(Vertx vertx, Function<String, Future<JsonObject>> detail,
      BiFunction<String, Long, Future<JsonObject>> awaitCommitted) {
    this.vertx = vertx;
    this.detail = detail;
    this.awaitCommitted = awaitCommitted;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setConnectTimeout(5_000)
        .setDecompressionSupported(false));
  }

  void close() {
    client.close();
  }

  void handle(Message<JsonObject> msg) {
    JsonObject ask = msg.body();
    String id = ask.getString("id", "");
    detail.apply(id)
        .compose(stored -> edgeOf(stored).compose(edge -> send(stored, ask, edge)))
        .compose(newId -> awaitCommitted.apply(newId, COMMIT_TIMEOUT_MS))
        .onSuccess(msg::reply)
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            msg.fail(re.failureCode(), re.getMessage());
          } else if (err instanceof java.util.concurrent.TimeoutException) {
            msg.fail(FailureCode.LOG_UNAVAILABLE.code(), "the request was replayed, but " + err.getMessage());
          } else {
            log.warn("replay of request {} failed: {}", id, err.getMessage());
            msg.fail(FailureCode.INTERNAL.code(), "replay failed: " + err.getMessage());
          }
        });
  }

  /** The edge to send through: {@code {"port","replay_key"}} of a running tunnel of the stored request. */
  private Future<JsonObject> edgeOf(JsonObject stored) {
    String tunnelId = stored.getString("tunnel_id", "");
    String subdomain = stored.getString("subdomain", "");
    return vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_LIST, TunnelList.query(),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS).setLocalOnly(true))
        .compose(m -> {
          JsonArray tunnels = TunnelList.body(m.body()).getJsonArray("tunnels", new JsonArray());
          String chosen = null;
          for (int i = 0; i < tunnels.size(); i++) {
            JsonObject t = tunnels.getJsonObject(i);
            String status = t.getString("status");
            boolean live = TunnelStatus.RUNNING.equals(status) || TunnelStatus.UNHEALTHY.equals(status);
            boolean http = !"tcp".equals(t.getString("type"));
            if (!live || !http) {
              continue;
            }
            if (t.getString("id").equals(tunnelId)) {
              chosen = tunnelId;
              break;
            }
            if (chosen == null && subdomain.equals(t.getString("subdomain", ""))) {
              chosen = t.getString("id");
            }
          }
          if (chosen == null) {
            return notRunning(subdomain);
          }
          return vertx.eventBus().<JsonObject>request(Addresses.edgeControl(chosen), new JsonObject(),
                  new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS).setLocalOnly(true))
              .map(Message::body)
              .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS
                  ? notRunning(subdomain) : Future.failedFuture(err));
        });
  }

  private static <T> Future<T> notRunning(String subdomain) {
    return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, FailureCode.TUNNEL_NOT_RUNNING.code(),
        "the tunnel for subdomain \"" + subdomain + "\" is not running in this app-server"));
  }

  private static ReplyException invalid(String message) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, FailureCode.INVALID_REQUEST.code(), message);
  }

  /** Sends the request; completes with the new capture's id (from the edge's answer). */
  private Future<String> send(JsonObject stored, JsonObject ask, JsonObject edge) {
    String method = ask.getString("method", stored.getString("method"));
    String url = ask.getString("url", stored.getString("url"));
    // The database is shared (Portr, any local program): what it holds gets the checks edits get.
    String unfit = unfit(method, url, stored.getJsonObject("headers", new JsonObject()));
    if (unfit != null) {
      return Future.failedFuture(invalid("the stored request cannot be replayed: " + unfit));
    }
    byte[] body;
    if (ask.containsKey("body")) {
      body = Base64.getDecoder().decode(ask.getString("body"));
    } else if (stored.getBoolean("body_truncated", false)) {
      return Future.failedFuture(invalid("the stored body was cut at 1 MiB (" + stored.getLong("bytes_in")
          + " bytes were sent); give the body to replay with body or body_base64"));
    } else {
      body = stored.getString("body", "").isEmpty() ? new byte[0] : Base64.getDecoder().decode(stored.getString("body"));
    }
    MultiMap headers = headers(stored.getJsonObject("headers", new JsonObject()), ask.getJsonObject("headers"));
    headers.set("Host", stored.getString("host"));
    headers.set(REPLAYED_HEADER, stored.getString("id"));
    headers.set(REPLAY_KEY_HEADER, edge.getString("replay_key"));
    if (body.length > 0 || !Set.of("GET", "HEAD", "OPTIONS", "TRACE", "DELETE").contains(method)) {
      headers.set("Content-Length", String.valueOf(body.length));
    }
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.valueOf(method)).setHost("127.0.0.1")
        .setPort(edge.getInteger("port")).setURI(url).setHeaders(headers).setIdleTimeout(SEND_TIMEOUT_MS);
    return client.request(options)
        .compose(req -> req.send(Buffer.buffer(body))
            .compose(res -> drain(res).map(v -> res.getHeader(NEW_ID_HEADER)))
            // An answer that never ends (a stream, a long poll) must not hold the replay forever.
            .timeout(SEND_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            .onFailure(err -> req.reset()))
        .compose(newId -> newId == null || newId.isEmpty()
            ? Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, FailureCode.LOG_UNAVAILABLE.code(),
                "the request was replayed, but its tunnel does not capture requests (enable_request_logging is false)"))
            : Future.succeededFuture(newId));
  }

  /** Why a method, URL or header name cannot go into a replay, or null. */
  static String unfit(String method, String url, JsonObject headers) {
    if (method == null || !Capture.REPLAY_METHODS.contains(method)) {
      return "method " + method + " is not one of " + new java.util.TreeSet<>(Capture.REPLAY_METHODS);
    }
    if (url == null || !url.startsWith("/") || url.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      return "its URL is not a path";
    }
    for (String name : headers.fieldNames()) {
      if (!HttpTokens.isToken(name)) {
        return "a header name is not a token";
      }
      for (Object v : headers.getJsonArray(name, new JsonArray())) {
        if (!(v instanceof String value) || value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
          return "header " + name + " has a control character";
        }
      }
    }
    return null;
  }

  /** Reads the answer to its end (the edge captures it) and keeps nothing. */
  private static Future<Void> drain(HttpClientResponse res) {
    res.handler(b -> { });
    return res.end();
  }

  static MultiMap headers(JsonObject stored, JsonObject edits) {
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    for (String name : stored.fieldNames()) {
      if (NOT_REPLAYED.contains(name.toLowerCase(Locale.ROOT))) {
        continue;
      }
      JsonArray values = stored.getJsonArray(name, new JsonArray());
      for (Object v : values) {
        if (v instanceof String s && !s.equals(REDACTED)) {
          out.add(name, s);
        }
      }
    }
    if (edits != null) {
      for (String name : edits.fieldNames()) {
        out.remove(name);
        JsonArray values = edits.getJsonArray(name);
        if (values != null) {
          for (Object v : values) {
            out.add(name, (String) v);
          }
        }
      }
    }
    return out;
  }
}
