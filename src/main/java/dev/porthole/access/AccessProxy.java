package dev.porthole.access;

import dev.porthole.bus.TunnelTarget;
import dev.porthole.config.AccessConfig;
import dev.porthole.httpkit.EdgeInterceptor;
import dev.porthole.httpkit.HtmlPages;
import dev.porthole.httpkit.LimitedStream;
import dev.porthole.httpkit.OwnResponse;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyOptions;
import io.vertx.httpproxy.ProxyResponse;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /p/{id}/…}: the tunnel's local target through the app-server (docs/api.md),
 * on vertx-http-proxy. Exactly the {@code /p/{id}} prefix is stripped from the raw path; the rest
 * and the query go on byte for byte. {@code Host} becomes the target's {@code host:port} (a stub's: its subdomain, which the shared
 * stub responder routes by); {@code
 * X-Forwarded-For} is appended, {@code -Proto}, {@code -Host} and {@code -Prefix} set; hop-by-hop
 * headers and those named in {@code Connection} are dropped, and so is porthole's access cookie.
 * {@code Location}/{@code Content-Location} and cookie {@code Path=/} are rewritten under the
 * prefix. Bodies stream both ways with no total-duration cap; {@code access.max_body_bytes} bounds
 * request bodies (413). Errors carry {@code X-Porthole-Error}: 404 unknown tunnel, 409 not running,
 * 502 refused or reset, 504 timeout. The tunnel's target is asked of the manager per request: no
 * tunnel state is kept here.
 */
final class AccessProxy {
  static final String ACCESS_COOKIE = "porthole_access";
  private static final Pattern PREFIX = Pattern.compile("^/p/([^/?]+)(/.*)?$");
  private static final String TARGET = "porthole.target";
  private static final String PREFIX_KEY = "porthole.prefix";
  private static final String TOO_LARGE = "porthole.too-large";

  private final Vertx vertx;
  private final AccessConfig cfg;
  private final HttpProxy proxy;

  AccessProxy(Vertx vertx, AccessConfig cfg) {
    this.vertx = vertx;
    this.cfg = cfg;
    HttpClient client = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout((int) cfg.dialTimeout().toMillis())
            .setKeepAlive(true)
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(64));
    proxy = HttpProxy.reverseProxy(new ProxyOptions(), client);
    proxy.origin(ctx -> {
      SocketAddress target = ctx.get(TARGET, SocketAddress.class);
      // Per request: a target silent that long fails as a timeout (504); no cap on total duration.
      return ctx.client().request(new RequestOptions().setServer(target).setIdleTimeout(cfg.idleTimeout().toMillis()));
    });
    proxy.addInterceptor(new Interceptor(), true);
  }

  /** {@code /p/{id}} → 308 to {@code /p/{id}/}, query kept. */
  void redirectToSlash(RoutingContext rc) {
    String uri = rc.request().uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    rc.response().setStatusCode(308).putHeader("Location", path + "/" + (q < 0 ? "" : uri.substring(q))).end();
  }

  void handle(RoutingContext rc) {
    proxy.handle(rc.request());
  }

  private final class Interceptor extends EdgeInterceptor {
    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
      HttpServerRequest in = ctx.request().proxiedRequest();
      String uri = in.uri();
      Matcher m = PREFIX.matcher(uri);
      if (!m.matches()) {
        return Future.succeededFuture(error(ctx, 404, "tunnel-not-found", "unknown tunnel"));
      }
      String id = m.group(1);
      String rest = m.group(2) == null ? "/" : m.group(2);
      String length = in.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length != null) {
        try {
          if (Long.parseLong(length.strip()) > cfg.maxBodyBytes()) {
            return Future.succeededFuture(error(ctx, 413, "request-too-large",
                "request body over access.max_body_bytes (" + cfg.maxBodyBytes() + ")"));
          }
        } catch (NumberFormatException e) {
          return Future.succeededFuture(error(ctx, 400, "bad-request", "bad Content-Length"));
        }
      }
      return TunnelLookup.reachable(vertx, id)
          .compose(target -> {
            ctx.set(TARGET, SocketAddress.inetSocketAddress(target.port(), target.host()));
            ctx.set(PREFIX_KEY, "/p/" + id);
            prepare(ctx, in, id, rest, target);
            Body body = ctx.request().getBody();
            if (body != null && length == null) {
              // No Content-Length: count the bytes as they pass.
              ctx.request().setBody(Body.body(new LimitedStream(body.stream(), cfg.maxBodyBytes(),
                  () -> ctx.set(TOO_LARGE, Boolean.TRUE)), body.length(), body.mediaType()));
            }
            return ctx.sendRequest().recover(err -> Future.succeededFuture(
                Boolean.TRUE.equals(ctx.get(TOO_LARGE, Boolean.class))
                    ? error(ctx, 413, "request-too-large",
                        "request body over access.max_body_bytes (" + cfg.maxBodyBytes() + ")")
                    : failure(ctx, err)));
          }, err -> {
            TunnelLookup.Refused r = (TunnelLookup.Refused) err;
            return Future.succeededFuture(error(ctx, r.status, r.type, r.getMessage()));
          });
    }

    private void prepare(ProxyContext ctx, HttpServerRequest in, String id, String rest, TunnelTarget target) {
      ctx.request().setURI(rest);
      forwardHeaders(ctx.request().headers(), in.getHeader(HttpHeaders.CONNECTION), in.remoteAddress(), in.isSSL(),
          in.authority(), "/p/" + id);
      // Host becomes the target's (the proxy sets X-Forwarded-Host again, to the same value).
      ctx.request().setAuthority(hostHeader(target));
    }

    private ProxyResponse failure(ProxyContext ctx, Throwable err) {
      TunnelLookup.Refused r = targetFailure(err);
      return error(ctx, r.status, r.type, r.getMessage());
    }

    private ProxyResponse error(ProxyContext ctx, int status, String reason, String message) {
      String accept = ctx.request().proxiedRequest().getHeader(HttpHeaders.ACCEPT);
      boolean html = accept != null && accept.contains("text/html");
      Buffer body = html
          ? Buffer.buffer(HtmlPages.page("porthole: " + status, "<p>" + HtmlPages.escape(message) + "</p>", "porthole"))
          : Buffer.buffer(new JsonObject().put("message", message).encode());
      return OwnResponse.answer(ctx, status, body,
          "Content-Type", html ? "text/html; charset=utf-8" : "application/json",
          "X-Porthole-Error", reason);
    }

    @Override
    protected void rewriteResponse(ProxyContext ctx) {
      String prefix = ctx.get(PREFIX_KEY, String.class);
      SocketAddress target = ctx.get(TARGET, SocketAddress.class);
      if (prefix == null || target == null) {
        return;
      }
      MultiMap h = ctx.response().headers();
      for (String name : new String[] {"Location", "Content-Location"}) {
        String v = h.get(name);
        if (v != null) {
          h.set(name, rewriteLocation(v, prefix, target));
        }
      }
      Body body = ctx.response().getBody();
      if (body != null) {
        var out = ctx.request().proxiedRequest().response();
        ctx.response().setBody(Body.body(new LimitedStream(body.stream(), cfg.maxBodyBytes(), () -> out.reset()),
            body.length(), body.mediaType()));
      }
      List<String> cookies = h.getAll("Set-Cookie");
      if (!cookies.isEmpty()) {
        h.remove("Set-Cookie");
        for (String c : cookies) {
          h.add("Set-Cookie", c.replaceAll("(?i)(;\\s*Path=)/(?=\\s*(;|$))", "$1" + prefix + "/"));
        }
      }
    }
  }

  /**
   * What every request to a tunnel's target gets, plain or WebSocket upgrade (docs/api.md),
   * applied to {@code h}, a copy of the caller's headers: the headers named in the caller's {@code
   * Connection} header removed (not Upgrade), porthole's access cookie stripped, {@code X-Forwarded-For} appended,
   * {@code X-Forwarded-Proto}, {@code X-Forwarded-Host} (the authority the caller asked for) and
   * {@code X-Forwarded-Prefix} set.
   */
  static void forwardHeaders(MultiMap h, String connection, SocketAddress caller, boolean ssl, HostAndPort asked,
      String prefix) {
    if (connection != null) {
      for (String name : connection.split(",")) {
        String n = name.strip();
        if (!n.isEmpty() && !n.equalsIgnoreCase("upgrade") && !n.equalsIgnoreCase("close")
            && !n.equalsIgnoreCase("keep-alive")) {
          h.remove(n);
        }
      }
    }
    List<String> cookies = new ArrayList<>();
    for (String cookie : h.getAll(HttpHeaders.COOKIE)) {
      String kept = stripAccessCookie(cookie);
      if (!kept.isEmpty()) {
        cookies.add(kept);
      }
    }
    h.remove(HttpHeaders.COOKIE);
    cookies.forEach(c -> h.add(HttpHeaders.COOKIE, c));
    String client = caller == null ? null : caller.hostAddress();
    String forwardedFor = h.get("X-Forwarded-For");
    if (client != null) {
      h.set("X-Forwarded-For", forwardedFor == null ? client : forwardedFor + ", " + client);
    }
    h.set("X-Forwarded-Proto", ssl ? "https" : "http");
    if (asked != null) {
      h.set("X-Forwarded-Host", asked.toString());
    }
    h.set("X-Forwarded-Prefix", prefix);
  }

  /**
   * The Host a request to the target carries: the target's {@code host:port}, or for a stub the
   * Host its responder routes by.
   */
  static HostAndPort hostHeader(TunnelTarget target) {
    return target.hostHeader().isEmpty() ? HostAndPort.create(target.host(), target.port())
        : HostAndPort.create(target.hostHeader(), -1);
  }

  /** Why reaching the target failed: 504 for a dial or answer timeout, else 502. */
  static TunnelLookup.Refused targetFailure(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    if (t instanceof ConnectTimeoutException || t instanceof TimeoutException
        || String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("timeout")) {
      return new TunnelLookup.Refused(504, "target-timeout", "the tunnel's target did not answer in time");
    }
    return new TunnelLookup.Refused(502, "target-unreachable", "the tunnel's target refused or reset the connection: "
        + (t instanceof ConnectException ? "connection refused" : String.valueOf(t.getMessage())));
  }

  /** Root-relative and target-absolute locations move under the prefix; others stay. */
  static String rewriteLocation(String location, String prefix, SocketAddress target) {
    if (location.startsWith("/") && !location.startsWith("//")) {
      return prefix + location;
    }
    for (String origin : new String[] {"http://" + target.host() + ":" + target.port(),
        "http://" + (target.host().equals("localhost") ? "127.0.0.1" : target.host()) + ":" + target.port()}) {
      if (location.startsWith(origin)) {
        String rest = location.substring(origin.length());
        return prefix + (rest.startsWith("/") ? rest : "/" + rest);
      }
    }
    return location;
  }

  /** The value of porthole's access cookie among the request's Cookie headers, or null. */
  static String accessCookie(MultiMap headers) {
    for (String header : headers.getAll(HttpHeaders.COOKIE)) {
      for (String part : header.split(";")) {
        String p = part.strip();
        if (p.startsWith(ACCESS_COOKIE + "=")) {
          return p.substring(ACCESS_COOKIE.length() + 1);
        }
      }
    }
    return null;
  }

  /** A Cookie header without porthole's own access cookie. */
  static String stripAccessCookie(String header) {
    List<String> kept = new ArrayList<>();
    for (String part : header.split(";")) {
      String p = part.strip();
      if (!p.isEmpty() && !p.startsWith(ACCESS_COOKIE + "=")) {
        kept.add(p);
      }
    }
    return String.join("; ", kept);
  }
}
