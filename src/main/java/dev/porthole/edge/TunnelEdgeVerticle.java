package dev.porthole.edge;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.httpkit.EdgeInterceptor;
import dev.porthole.httpkit.HtmlPages;
import dev.porthole.httpkit.OwnResponse;
import dev.porthole.httpkit.ProxyOrigins;
import dev.porthole.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyOptions;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of an HTTP tunnel (portr-protocol §4.2–4.5, §7): a loopback HTTP server that
 * every forwarded connection of the tunnel is piped into. Per request, in order: {@code
 * X-Portr-Ping-Request: true} → 200; the basic-auth gate → 401 (a request carrying this edge's
 * replay key passes it); a WebSocket upgrade → {@link UpgradeRelay}; else the request is proxied to
 * the local service with vertx-http-proxy, streamed both ways; when the local service cannot be
 * reached → 503 {@code local-server-not-online}. Keep-alive: many requests per forwarded connection.
 *
 * <p>With capture on, every exchange but a ping (the 401 and the 503 included) and every WebSocket
 * session event is sent as a {@code bus/Capture} record on {@link Addresses#REQUESTS_CAPTURE}.
 * The edge answers {@link Addresses#edgeControl} with its port and replay key. With metrics on, each
 * answer but a ping's is counted by status class ({@code porthole_tunnel_requests_total}).
 */
public final class TunnelEdgeVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(TunnelEdgeVerticle.class);
  public static final String PING_HEADER = "X-Portr-Ping-Request";
  public static final String REPLAY_KEY_HEADER = Capture.REPLAY_KEY_HEADER;
  public static final String REPLAYED_HEADER = Capture.REPLAYED_HEADER;
  public static final String REQUEST_ID_HEADER = Capture.REQUEST_ID_HEADER;
  static final byte[] UNAUTHORIZED_BYTES = "401 Unauthorized\n".getBytes(StandardCharsets.US_ASCII);
  private static final Buffer UNAUTHORIZED = Buffer.buffer(UNAUTHORIZED_BYTES);
  private static final Buffer EMPTY = Buffer.buffer();
  static final String[] UNAUTHORIZED_HEADERS = {
      "WWW-Authenticate", "Basic realm=\"Restricted\", charset=\"UTF-8\"",
      "Content-Type", "text/plain; charset=utf-8",
      "X-Content-Type-Options", "nosniff"};
  static final String[] NOT_ONLINE_HEADERS = {
      "Content-Type", "text/html",
      "X-Portr-Error", "true",
      "X-Portr-Error-Reason", "local-server-not-online"};
  private static final String RECORDING = "porthole.edge.recording";

  private final String tunnelId;
  private final String localHost;
  private final int localPort;
  private final BasicAuthGate gate;
  private final Buffer notOnlinePage;
  private final CaptureSettings settings;
  private final CopyBudget budget;
  private final String replayKey;
  private final byte[] replayKeyBytes;
  private CaptureSink capture;
  private HttpProxy proxy;
  private UpgradeRelay upgrades;
  private HttpServer server;
  private MessageConsumer<JsonObject> control;
  private DirectEdge direct;
  /** Counts each answer by status class; null when metrics are off (nothing on the data path then). */
  private Metrics metrics;

  /**
   * @param basicAuth trimmed {@code user:password}, or empty
   * @param capture what to record ({@link CaptureSettings#off} for nothing)
   */
  public TunnelEdgeVerticle(String tunnelId, String localHost, int localPort, String basicAuth,
      CaptureSettings capture) {
    this(tunnelId, localHost, localPort, basicAuth, capture, CopyBudget.PROCESS);
  }

  /** @param budget what capture copies in flight may hold (the process's, but in tests) */
  TunnelEdgeVerticle(String tunnelId, String localHost, int localPort, String basicAuth,
      CaptureSettings capture, CopyBudget budget) {
    this.budget = budget;
    this.tunnelId = tunnelId;
    this.localHost = localHost;
    this.localPort = localPort;
    this.gate = new BasicAuthGate(basicAuth);
    this.notOnlinePage = Buffer.buffer(localServerNotOnline(localHost + ":" + localPort));
    this.settings = capture;
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    this.replayKey = Base64.getUrlEncoder().withoutPadding().encodeToString(key);
    this.replayKeyBytes = replayKey.getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public Future<?> start() {
    capture = settings.enabled() ? new CaptureSink(settings, vertx.eventBus(), (ContextInternal) context, budget) : null;
    metrics = Metrics.of(vertx).enabled() ? Metrics.of(vertx) : null;
    HttpClient client = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout(5_000)
            .setKeepAlive(true)
            .setKeepAliveTimeout(90)
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(64));
    SocketAddress local = SocketAddress.inetSocketAddress(localPort, localHost);
    proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(false), client);
    proxy.origin(ctx -> ProxyOrigins.request(ctx, local));
    proxy.addInterceptor(new Forward(), false);
    upgrades = new UpgradeRelay(client, local, capture, this::notOnline);
    direct = new DirectEdge(tunnelId, localHost, localPort, gate, this::replayKeyMatches, capture, metrics,
        notOnlinePage.getBytes());
    control = vertx.eventBus().localConsumer(Addresses.edgeControl(tunnelId), msg ->
        msg.reply(new JsonObject().put("port", server.actualPort()).put("replay_key", replayKey)));
    return control.completion()
        .compose(v -> vertx.createHttpServer(new HttpServerOptions()
                .setHandle100ContinueAutomatically(true)
                .setCompressionSupported(false))
            .requestHandler(this::handle)
            .listen(0, "127.0.0.1"))
        .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    if (direct != null) {
      direct.close();
    }
    if (capture != null) {
      capture.stop();
    }
    return control == null ? Future.succeededFuture() : control.unregister();
  }

  /**
   * The same edge without the loopback hop: forwarded connections parsed straight off their SSH
   * channels ({@link DirectEdge}); this verticle's server then serves only replays. Set once started.
   */
  public DirectEdge direct() {
    return direct;
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

  private void handle(HttpServerRequest in) {
    if ("true".equals(in.getHeader(PING_HEADER))) {
      answer(in, 200, EMPTY);
      return;
    }
    if (metrics != null) {
      HttpServerResponse out = in.response();
      out.headersEndHandler(v -> metrics.tunnelResponse(out.getStatusCode()));
    }
    if (!gate.allows(in.getHeader("Authorization")) && !replayKeyMatches(in.getHeader(REPLAY_KEY_HEADER))) {
      Recording r = capture == null ? null : capture.begin(in);
      if (r != null) {
        r.own(capture.headers, 401, in.method() == HttpMethod.HEAD ? null : UNAUTHORIZED, UNAUTHORIZED_HEADERS);
        in.response().endHandler(v -> capture.finish(r));
      }
      answer(in, 401, UNAUTHORIZED, withRequestId(r, UNAUTHORIZED_HEADERS));
      return;
    }
    if (UpgradeRelay.isUpgrade(in)) {
      upgrades.relay(in, capture == null ? null : capture.begin(in));
      return;
    }
    proxy.handle(in);
  }

  private boolean replayKeyMatches(String offered) {
    return offered != null && MessageDigest.isEqual(replayKeyBytes, offered.getBytes(StandardCharsets.US_ASCII));
  }

  /** An answer of the edge's own, headers byte for byte; a HEAD gets the length and no body. */
  private static void answer(HttpServerRequest in, int status, Buffer body, String... headerPairs) {
    HttpServerResponse out = in.response().setStatusCode(status);
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      out.headers().add(headerPairs[i], headerPairs[i + 1]);
    }
    if (in.method() == HttpMethod.HEAD) {
      out.putHeader("Content-Length", String.valueOf(body.length())).end();
    } else {
      out.end(body);
    }
  }

  /** The 503 of an upgrade whose local service did not answer. */
  private void notOnline(HttpServerRequest in, Recording r) {
    if (r != null) {
      r.own(capture.headers, 503, in.method() == HttpMethod.HEAD ? null : notOnlinePage, NOT_ONLINE_HEADERS);
      in.response().endHandler(v -> capture.finish(r));
    }
    answer(in, 503, notOnlinePage, withRequestId(r, NOT_ONLINE_HEADERS));
  }

  /** A replayed request's answer names its new capture ({@value #REQUEST_ID_HEADER}). */
  static String[] withRequestId(Recording r, String[] headerPairs) {
    if (r == null || r.parentId.isEmpty()) {
      return headerPairs;
    }
    String[] out = Arrays.copyOf(headerPairs, headerPairs.length + 2);
    out[headerPairs.length] = REQUEST_ID_HEADER;
    out[headerPairs.length + 1] = r.id;
    return out;
  }

  /** The proxied path: the replay key stripped, the exchange recorded, the 503 page when the local service is down. */
  private final class Forward extends EdgeInterceptor {
    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
      ProxyRequest request = ctx.request();
      HttpServerRequest in = request.proxiedRequest();
      if (in.headers().contains(REPLAY_KEY_HEADER)) {
        request.headers().remove(REPLAY_KEY_HEADER);
      }
      Recording r = capture == null ? null : capture.begin(in);
      if (r != null) {
        ctx.set(RECORDING, r);
        Body body = request.getBody();
        if (body != null) {
          request.setBody(Body.body(new Tap(body.stream(), r.requestBody), body.length(), body.mediaType()));
        }
        in.response().endHandler(v -> capture.finish(r));
      }
      return ctx.sendRequest().recover(err -> {
        log.debug("edge(tunnel={}) local service {}:{} unreachable: {}", tunnelId, localHost, localPort, err.toString());
        if (r != null) {
          r.own(capture.headers, 503, request.getMethod() == HttpMethod.HEAD ? null : notOnlinePage,
              NOT_ONLINE_HEADERS);
        }
        return Future.succeededFuture(OwnResponse.answer(ctx, 503, notOnlinePage, withRequestId(r, NOT_ONLINE_HEADERS)));
      });
    }

    @Override
    protected void rewriteResponse(ProxyContext ctx) {
      Recording r = ctx.get(RECORDING, Recording.class);
      if (r == null) {
        return;
      }
      ProxyResponse response = ctx.response();
      r.status = response.getStatusCode();
      r.responseHeaders = capture.headers.response(response.headers(), true);
      Body body = response.getBody();
      if (body != null) {
        response.setBody(Body.body(new Tap(body.stream(), r.responseBody), body.length(), body.mediaType()));
      }
      if (!r.parentId.isEmpty()) {
        response.putHeader(REQUEST_ID_HEADER, r.id);
      }
    }
  }
}
