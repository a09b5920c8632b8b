package dev.porthole.relay;

import dev.porthole.httpkit.EdgeInterceptor;
import dev.porthole.httpkit.OwnResponse;
import dev.porthole.httpkit.ProxyOrigins;
import dev.porthole.relay.ConnectionRegistry.Backend;
import dev.porthole.relay.ConnectionRegistry.Route;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyOptions;
import io.vertx.httpproxy.ProxyResponse;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's public HTTP side (portr-protocol §8): routes by {@code Host: <subdomain>.<domain>} to
 * the subdomain's forward listeners, round robin, on vertx-http-proxy. A replay-safe request
 * (GET/HEAD/OPTIONS, no body, no upgrade) that fails at the transport level before a response head
 * moves on to the next backend, up to three; anything else gets one attempt. A response from a
 * tunnel client is final, whatever its status. No route → 404 {@code unregistered-subdomain};
 * every attempt failed → 503 {@code connection-lost}.
 */
final class RelayEdge {
  private static final Logger log = LoggerFactory.getLogger(RelayEdge.class);
  static final int MAX_ATTEMPTS = 3;
  private static final String BACKEND = "porthole.backend";

  private final ConnectionRegistry registry;
  private final Supplier<String> domain;

  /** @param domain the public domain, known once the edge is bound when it is derived from the port */
  RelayEdge(ConnectionRegistry registry, Supplier<String> domain) {
    this.registry = registry;
    this.domain = domain;
  }

  Handler<HttpServerRequest> handler(HttpClient client) {
    HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions(), client);
    proxy.origin(ctx -> {
      Backend b = ctx.get(BACKEND, Backend.class);
      return ProxyOrigins.request(ctx, SocketAddress.inetSocketAddress(b.port(), b.host()));
    });
    // Must stay the last interceptor: a retry calls sendRequest() again, which skips nothing only
    // when no interceptor follows this one.
    proxy.addInterceptor(new Router(), true);
    return proxy::handle;
  }

  /** The subdomain a Host header names under the relay's domain, or null. */
  static String subdomainOf(String host, String domain) {
    if (host == null) {
      return null;
    }
    String h = host.toLowerCase(Locale.ROOT);
    String suffix = "." + domain.toLowerCase(Locale.ROOT);
    if (!h.endsWith(suffix) || h.length() == suffix.length()) {
      return null;
    }
    return h.substring(0, h.length() - suffix.length());
  }

  private final class Router extends EdgeInterceptor {
    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
      HttpServerRequest in = ctx.request().proxiedRequest();
      String subdomain = subdomainOf(in.getHeader(HttpHeaders.HOST), domain.get());
      Route route = subdomain == null ? null : registry.route(subdomain);
      if (route == null) {
        return Future.succeededFuture(own(ctx, 404, "unregistered-subdomain",
            ErrorPages.unregisteredSubdomain(subdomain == null ? "" : subdomain)));
      }
      boolean replaySafe = isReplaySafe(in, ctx.isWebSocket());
      List<Backend> backends = route.pick(replaySafe ? MAX_ATTEMPTS : 1);
      if (replaySafe) {
        // No body to pipe: the request can be sent again to the next backend.
        ctx.request().setBody(null);
        in.resume();
      }
      return attempt(ctx, subdomain, backends, 0);
    }

    private Future<ProxyResponse> attempt(ProxyContext ctx, String subdomain, List<Backend> backends, int i) {
      ctx.set(BACKEND, backends.get(i));
      return ctx.sendRequest().recover(err -> {
        HttpServerResponse out = ctx.request().proxiedRequest().response();
        log.debug("edge(subdomain={}, backend={}) attempt {} failed: {}", subdomain, backends.get(i), i + 1,
            err.toString());
        if (i + 1 < backends.size() && !out.closed()) {
          return attempt(ctx, subdomain, backends, i + 1);
        }
        log.info("edge(subdomain={}) {} {}: connection lost after {} attempt(s): {}", subdomain,
            ctx.request().getMethod(), ctx.request().getURI(), i + 1, err.getMessage());
        return Future.succeededFuture(own(ctx, 503, "connection-lost", ErrorPages.connectionLost(subdomain)));
      });
    }

    private ProxyResponse own(ProxyContext ctx, int status, String reason, String html) {
      return OwnResponse.answer(ctx, status, Buffer.buffer(html),
          "Content-Type", "text/html; charset=utf-8",
          "X-Portr-Error", "true",
          "X-Portr-Error-Reason", reason);
    }
  }

  static boolean isReplaySafe(HttpServerRequest in, boolean webSocket) {
    HttpMethod m = in.method();
    if (webSocket || in.headers().contains(HttpHeaders.UPGRADE)) {
      return false;
    }
    if (m != HttpMethod.GET && m != HttpMethod.HEAD && m != HttpMethod.OPTIONS) {
      return false;
    }
    String length = in.getHeader(HttpHeaders.CONTENT_LENGTH);
    return !in.headers().contains(HttpHeaders.TRANSFER_ENCODING) && (length == null || length.equals("0"));
  }
}
