package dev.porthole.stub;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.StubRoute;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one stub responder of the process (Portr's localserver + stubresponder): a loopback HTTP
 * server on an ephemeral port that every stub tunnel's edge forwards to, routing by Host. The only
 * owner of the route table; the manager registers a stub's route before its worker starts and
 * unregisters it when the tunnel stops or fails to start ({@link Addresses#STUB_REGISTER},
 * {@link Addresses#STUB_UNREGISTER}).
 *
 * <p>Per request: {@code X-Portr-Ping-Request: true} → 200; the route whose subdomain is the Host
 * (port stripped), else the first label of it, else the only route → the template rendered with
 * the query and body values, 200, {@code Content-Type} = its response format; no route → 404; a
 * body that does not parse → 400 {@code Bad Request}; one over {@link #BODY_LIMIT} → 413.
 */
public final class StubResponderVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StubResponderVerticle.class);
  /** Not in Portr (10 MiB forms, 32 MiB multipart in memory, JSON unbounded): stubs read small bodies. */
  public static final int BODY_LIMIT = 1 << 20;

  private final Map<String, StubRoute> routes = new LinkedHashMap<>();
  private HttpServer server;

  @Override
  public Future<?> start() {
    vertx.eventBus().<JsonObject>localConsumer(Addresses.STUB_REGISTER, this::register);
    vertx.eventBus().<JsonObject>localConsumer(Addresses.STUB_UNREGISTER, this::unregister);
    server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setIdleTimeout(90));
    return server.requestHandler(this::handle).listen().onSuccess(s ->
        log.info("stub responder listening on 127.0.0.1:{}", s.actualPort()));
  }

  public int port() {
    return server.actualPort();
  }

  private void register(Message<JsonObject> m) {
    StubRoute route = StubRoute.fromJson(m.body());
    String sub = normalize(route.subdomain());
    if (sub.isEmpty()) {
      m.fail(FailureCode.START_FAILED.code(), "subdomain is required");
      return;
    }
    if (routes.containsKey(sub)) {
      m.fail(FailureCode.START_FAILED.code(), "stub responder route for subdomain " + goQuote(sub) + " already exists");
      return;
    }
    routes.put(sub, route);
    m.reply(new JsonObject().put("port", port()));
  }

  private void unregister(Message<JsonObject> m) {
    routes.remove(normalize(m.body().getString("subdomain", "")));
    m.reply(new JsonObject());
  }

  private static String normalize(String subdomain) {
    return subdomain.strip().toLowerCase(Locale.ROOT);
  }

  /** Go's {@code %q} for a normalised subdomain (letters, digits, hyphens: nothing to escape). */
  private static String goQuote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** Portr's handlerForHost: exact hostname, else {@code <sub>.} prefix, else the only route. */
  static StubRoute route(Map<String, StubRoute> routes, String host) {
    String hostname = stripPort(host == null ? "" : host).strip().toLowerCase(Locale.ROOT);
    StubRoute exact = routes.get(hostname);
    if (exact != null) {
      return exact;
    }
    for (Map.Entry<String, StubRoute> e : routes.entrySet()) {
      if (hostname.startsWith(e.getKey() + ".")) {
        return e.getValue();
      }
    }
    return routes.size() == 1 ? routes.values().iterator().next() : null;
  }

  /** Go's net.SplitHostPort, else a single colon's prefix. */
  static String stripPort(String host) {
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close > 0 && (close == host.length() - 1 || host.charAt(close + 1) == ':')) {
        return close == host.length() - 1 ? host : host.substring(1, close);
      }
    }
    int first = host.indexOf(':');
    if (first >= 0 && first == host.lastIndexOf(':')) {
      return host.substring(0, first);
    }
    return host;
  }

  private void handle(HttpServerRequest req) {
    if ("true".equals(req.getHeader("X-Portr-Ping-Request"))) {
      req.response().setStatusCode(200).end();
      return;
    }
    StubRoute route = route(routes, req.getHeader("Host"));
    if (route == null) {
      plain(req.response(), 404, "404 page not found\n");
      return;
    }
    StubValues.Query query = StubValues.query(req.query());
    String contentType = req.getHeader("Content-Type");
    String length = req.getHeader("Content-Length");
    boolean hasBody = req.headers().contains("Transfer-Encoding") || (length != null && !length.strip().equals("0"));
    if (!hasBody || contentType == null || contentType.isEmpty()) {
      answer(req, route, query, Map.of());
      return;
    }
    StubValues.MediaType media;
    try {
      media = StubValues.mediaType(contentType);
    } catch (StubValues.BadBody e) {
      plain(req.response(), 400, "Bad Request\n");
      return;
    }
    if (!media.readable()) {
      answer(req, route, query, Map.of());
      return;
    }
    Buffer body = Buffer.buffer();
    boolean[] tooLarge = {false};
    req.handler(chunk -> {
      if (tooLarge[0]) {
        return;
      }
      if (body.length() + chunk.length() > BODY_LIMIT) {
        tooLarge[0] = true;
        req.response().putHeader("Connection", "close");
        plain(req.response(), 413, "Request Entity Too Large\n");
        return;
      }
      body.appendBuffer(chunk);
    });
    req.exceptionHandler(err -> req.connection().close());
    req.endHandler(v -> {
      if (tooLarge[0]) {
        return;
      }
      // The route may have gone while the body came in.
      StubRoute now = route(routes, req.getHeader("Host"));
      if (now == null) {
        plain(req.response(), 404, "404 page not found\n");
        return;
      }
      try {
        answer(req, now, query, StubValues.body(media, req.method().name(), query, body));
      } catch (StubValues.BadBody e) {
        plain(req.response(), 400, "Bad Request\n");
      }
    });
  }

  private static void answer(HttpServerRequest req, StubRoute route, StubValues.Query query, Map<String, String> body) {
    String rendered = StubTemplate.render(route.responseTmpl(), query.values, body,
        StubTemplate.isJson(route.responseFormat()));
    req.response().setStatusCode(200).putHeader("Content-Type", headerValue(route.responseFormat())).end(rendered);
  }

  /** Go's net/http writes CR, LF and other controls in a header value as spaces. */
  private static String headerValue(String v) {
    StringBuilder b = new StringBuilder(v.length());
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      b.append(c < 0x20 && c != '\t' || c == 0x7f ? ' ' : c);
    }
    return b.toString();
  }

  /** Go's http.Error / http.NotFound. */
  private static void plain(HttpServerResponse res, int status, String body) {
    if (res.ended()) {
      return;
    }
    res.setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
        .putHeader("X-Content-Type-Options", "nosniff").end(body);
  }

  /** For tests: the routes' subdomains, in registration order. */
  List<String> subdomains() {
    return List.copyOf(routes.keySet());
  }
}
