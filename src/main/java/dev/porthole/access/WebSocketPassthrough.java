package dev.porthole.access;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * WebSocket upgrades on {@code /p/{id}/…} (dev-server hot reload): the handshake never reaches the
 * router, so it is relayed here. The target's WebSocket is opened first (with the request's path
 * minus the prefix, its query, cookies and subprotocols, {@code Host} = the target); only then is
 * the caller's handshake accepted, otherwise refused with 502. Frames go through as they are, text
 * or binary, with backpressure; a close on either side closes the other with the same code.
 */
public final class WebSocketPassthrough {
  private static final Pattern PATH = Pattern.compile("^/p/([^/?]+)(/.*)?$");
  private static final Set<String> NOT_FORWARDED = Set.of("host", "connection", "upgrade", "sec-websocket-key",
      "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "content-length",
      "transfer-encoding", "keep-alive", "te", "trailer", "proxy-authorization", "proxy-authenticate", "authorization");

  private final Vertx vertx;
  private final WebSocketClient client;

  public WebSocketPassthrough(Vertx vertx, int dialTimeoutMs) {
    this.vertx = vertx;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(dialTimeoutMs)
        .setMaxFrameSize(16 * 1024 * 1024).setMaxMessageSize(64 * 1024 * 1024));
  }

  /** The tunnel id of a /p/ upgrade, or null. */
  public static String tunnelId(String path) {
    Matcher m = PATH.matcher(path);
    return m.matches() ? m.group(1) : null;
  }

  public void relay(ServerWebSocketHandshake hs, String id) {
    TunnelLookup.reachable(vertx, id)
        .onFailure(err -> hs.reject(((TunnelLookup.Refused) err).status))
        .onSuccess(status -> {
          String uri = hs.uri();
          String prefix = "/p/" + id;
          String rest = uri.length() > prefix.length() ? uri.substring(prefix.length()) : "/";
          WebSocketConnectOptions options = new WebSocketConnectOptions()
              .setHost(status.getString("host")).setPort(status.getInteger("port")).setURI(rest);
          MultiMap headers = hs.headers();
          List<String> protocols = new ArrayList<>();
          String offered = headers.get("Sec-WebSocket-Protocol");
          if (offered != null) {
            for (String p : offered.split(",")) {
              String proto = p.strip();
              // porthole's own credential subprotocol is for porthole, not the target.
              if (!proto.isEmpty() && !proto.startsWith("bearer.")) {
                protocols.add(proto);
              }
            }
          }
          options.setSubProtocols(protocols);
          headers.forEach((name, value) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
              options.addHeader(name, name.equalsIgnoreCase("Cookie") ? AccessProxy.stripAccessCookie(value) : value);
            }
          });
          options.addHeader("X-Forwarded-Prefix", prefix);
          client.connect(options).onComplete(ar -> {
            if (ar.failed()) {
              hs.reject(502);
              return;
            }
            var target = ar.result();
            hs.accept().onSuccess(caller -> {
              pipe(caller, target);
              pipe(target, caller);
            }).onFailure(err -> target.close());
          });
        });
  }

  private static void pipe(WebSocketBase from, WebSocketBase to) {
    from.frameHandler(frame -> {
      if (!frame.isText() && !frame.isBinary() && !frame.isContinuation()) {
        return;
      }
      to.writeFrame(frame);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    });
    from.closeHandler(v -> {
      if (!to.isClosed()) {
        Short code = from.closeStatusCode();
        to.close(code == null ? 1000 : code, from.closeReason());
      }
    });
  }
}
