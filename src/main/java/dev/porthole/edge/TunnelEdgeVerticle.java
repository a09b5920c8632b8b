package dev.porthole.edge;

import dev.porthole.httpkit.EdgeInterceptor;
import dev.porthole.httpkit.HtmlPages;
import dev.porthole.httpkit.OwnResponse;
import dev.porthole.httpkit.ProxyOrigins;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyOptions;
import io.vertx.httpproxy.ProxyResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of an HTTP tunnel (portr-protocol §4.2–4.5): a loopback HTTP server that every
 * forwarded connection of the tunnel is piped into. Per request, in order: {@code
 * X-Portr-Ping-Request: true} → 200; the basic-auth gate → 401; then the request (WebSocket
 * upgrades included) is proxied to the local service, streamed both ways; when the local service
 * cannot be reached → 503 {@code local-server-not-online}. Keep-alive: many requests per
 * forwarded connection.
 */
public final class TunnelEdgeVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TunnelEdgeVerticle.class);
  public static final String PING_HEADER = "X-Portr-Ping-Request";
  private static final Buffer UNAUTHORIZED = Buffer.buffer("401 Unauthorized\n");

  private final String tunnelId;
  private final String localHost;
  private final int localPort;
  private final BasicAuthGate gate;
  private final Buffer notOnlinePage;
  private HttpServer server;

  /** @param basicAuth trimmed {@code user:password}, or empty */
  public TunnelEdgeVerticle(String tunnelId, String localHost, int localPort, String basicAuth) {
    this.tunnelId = tunnelId;
    this.localHost = localHost;
    this.localPort = localPort;
    this.gate = new BasicAuthGate(basicAuth);
    this.notOnlinePage = Buffer.buffer(localServerNotOnline(localHost + ":" + localPort));
  }

  @Override
  public Future<?> start() {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout(5_000)
            .setKeepAlive(true)
            .setKeepAliveTimeout(90)
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(64));
    HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions(), client);
    SocketAddress local = SocketAddress.inetSocketAddress(localPort, localHost);
    proxy.origin(ctx -> ProxyOrigins.request(ctx, local));
    proxy.addInterceptor(new Gate(), true);
    return vertx.createHttpServer(new HttpServerOptions()
            .setHandle100ContinueAutomatically(true)
            .setCompressionSupported(false))
        .requestHandler(proxy::handle)
        .listen(0, "127.0.0.1")
        .onSuccess(s -> server = s);
  }

  /** The loopback port forwarded connections are piped to. */
  public int port() {
    return server.actualPort();
  }

  /** The tunnel's local service did not answer (portr-protocol §4.2). */
  static String localServerNotOnline(String localAddr) {
    return HtmlPages.page("Connection Error",
        "<p>The tunnel is up, but the local service at <code>" + HtmlPages.escape(localAddr) + "</code> did not answer.</p>"
            + "<p>Start it (or check its port), then reload.</p>",
        "porthole");
  }

  private final class Gate extends EdgeInterceptor {
    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
      HttpServerRequest in = ctx.request().proxiedRequest();
      if ("true".equals(in.getHeader(PING_HEADER))) {
        return Future.succeededFuture(OwnResponse.answer(ctx, 200, null));
      }
      if (!gate.allows(in.getHeader("Authorization"))) {
        return Future.succeededFuture(OwnResponse.answer(ctx, 401, UNAUTHORIZED,
            "WWW-Authenticate", "Basic realm=\"Restricted\", charset=\"UTF-8\"",
            "Content-Type", "text/plain; charset=utf-8",
            "X-Content-Type-Options", "nosniff"));
      }
      return ctx.sendRequest().recover(err -> {
        log.debug("edge(tunnel={}) local service {}:{} unreachable: {}", tunnelId, localHost, localPort, err.toString());
        return Future.succeededFuture(OwnResponse.answer(ctx, 503, notOnlinePage,
            "Content-Type", "text/html",
            "X-Portr-Error", "true",
            "X-Portr-Error-Reason", "local-server-not-online"));
      });
    }
  }
}
