package dev.porthole.access;

import dev.porthole.config.AccessConfig;
import dev.porthole.httpkit.WebSocketSplice;
import dev.porthole.connect.PortForwardProtocol;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * WebSocket upgrades on {@code /p/{id}/…} (dev-server hot reload): the handshake never reaches the
 * router, so it is relayed here. The target's WebSocket is opened first, with what a plain {@code
 * /p/} request would send: the rest of the path after the prefix and the query ({@code /p/{id}?q}
 * → {@code /?q}, where the plain path redirects to {@code /p/{id}/?q}, which ends at the same URI),
 * the caller's headers with {@link AccessProxy#forwardHeaders} applied, cookies and subprotocols
 * (not porthole's {@code bearer.<T>}), {@code Host} = the target (a stub's: its subdomain). Only then is the caller's
 * handshake accepted; otherwise it is refused with the status a plain request would get: 404, 409,
 * 502 refused or reset, 504 no answer within {@code access.idle_timeout_seconds} (or no connection
 * within {@code access.dial_timeout_seconds}). Frames go through as they are, text or binary, with
 * backpressure; a close on either side closes the other with the same code, after the frames
 * before it.
 *
 * <p>Upgrades reach the access room as requests ({@code httpkit/RequestHandshake}): a refusal is
 * answered as a request, its status with {@code {"message":<reason phrase>}}.
 */
public final class WebSocketPassthrough {
  private static final Pattern PATH = Pattern.compile("^/p/([^/?]+)(/.*)?$");
  /** Hop-by-hop and handshake headers: the client below makes its own. */
  private static final Set<String> NOT_FORWARDED = Set.of("host", "connection", "upgrade", "sec-websocket-key",
      "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "content-length",
      "transfer-encoding", "keep-alive", "te", "trailer", "proxy-authorization", "proxy-authenticate");

  private final Vertx vertx;
  private final AccessConfig cfg;
  private final WebSocketClient client;

  public WebSocketPassthrough(Vertx vertx, AccessConfig cfg) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setConnectTimeout((int) cfg.dialTimeout().toMillis())
        .setMaxFrameSize(16 * 1024 * 1024).setMaxMessageSize(64 * 1024 * 1024));
  }

  /** The tunnel id of a /p/ upgrade, or null. */
  public static String tunnelId(String path) {
    Matcher m = PATH.matcher(path);
    return m.matches() ? m.group(1) : null;
  }

  /** The target's URI for a /p/ upgrade: what follows the prefix, always starting with a slash. */
  static String targetUri(String uri, String prefix) {
    String rest = uri.substring(Math.min(prefix.length(), uri.length()));
    return rest.startsWith("/") ? rest : "/" + rest;
  }

  public void relay(ServerWebSocketHandshake hs, String id) {
    TunnelLookup.reachable(vertx, id)
        .onFailure(err -> hs.reject(((TunnelLookup.Refused) err).status))
        .onSuccess(target -> {
          String prefix = "/p/" + id;
          WebSocketConnectOptions options = new WebSocketConnectOptions()
              .setHost(target.host()).setPort(target.port())
              .setURI(targetUri(hs.uri(), prefix))
              // Vert.x's own handshake timeout only drops the connection (indistinguishable from a
              // reset): it is just the clean-up, a second after the timer below answers 504.
              .setIdleTimeout(cfg.idleTimeout().toMillis() + 1_000);
          MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(hs.headers());
          AccessProxy.forwardHeaders(headers, hs.headers().get("Connection"), hs.remoteAddress(), hs.isSsl(),
              hs.authority(), prefix);
          // porthole's own credential subprotocol is for porthole, not the target.
          options.setSubProtocols(Subprotocols.offered(hs.headers()).stream()
              .filter(p -> !p.startsWith(PortForwardProtocol.CREDENTIAL_PREFIX)).toList());
          headers.forEach((name, value) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
              options.addHeader(name, value);
            }
          });
          if (!target.hostHeader().isEmpty()) {
            // A stub's responder routes by Host; otherwise the client's own host:port is right.
            options.putHeader("Host", AccessProxy.hostHeader(target).toString());
          }
          // A target that does not answer the handshake within access.idle_timeout_seconds is a
          // timeout (504), as for plain /p/ requests.
          boolean[] answered = {false};
          long timer = vertx.setTimer(cfg.idleTimeout().toMillis(), t -> {
            answered[0] = true;
            hs.reject(504);
          });
          client.connect(options).onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (answered[0]) {
              if (ar.succeeded()) {
                ar.result().close();
              }
              return;
            }
            if (ar.failed()) {
              hs.reject(AccessProxy.targetFailure(ar.cause()).status);
              return;
            }
            var socket = ar.result();
            // A target may speak first: hold its frames until the caller's side is joined.
            socket.pause();
            Subprotocols.answer(hs, socket.subProtocol());
            hs.accept().onSuccess(caller -> WebSocketSplice.join(caller, socket)).onFailure(err -> socket.close());
          });
        });
  }
}
