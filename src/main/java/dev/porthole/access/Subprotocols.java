package dev.porthole.access;

import io.vertx.core.MultiMap;
import io.vertx.core.http.ServerWebSocketHandshake;
import java.util.ArrayList;
import java.util.List;

/**
 * Which {@code Sec-WebSocket-Protocol} a handshake answers, chosen per handshake: porthole.v1 on
 * the WebSocket tunnel, and on {@code /p/} whatever the target chose (a dev server's hot reload
 * offers its own, such as {@code vite-hmr}, and browsers drop a connection answered with any
 * other). The HTTP server accepts any offered protocol ({@link #SERVER_LIST}); {@link #answer}
 * narrows the offer to the one chosen just before the handshake is accepted, so that it is the
 * only one the server can select (never a {@code bearer.<T>} credential).
 */
public final class Subprotocols {
  /** For {@code HttpServerOptions.setWebSocketSubProtocols}: select from the offer as narrowed. */
  public static final List<String> SERVER_LIST = List.of("*");
  private static final String HEADER = "Sec-WebSocket-Protocol";

  private Subprotocols() {
  }

  /** The handshake will answer {@code chosen}, or no protocol when it is null. Call before accept. */
  static void answer(ServerWebSocketHandshake hs, String chosen) {
    if (chosen == null || chosen.isEmpty()) {
      hs.headers().remove(HEADER);
    } else {
      hs.headers().set(HEADER, chosen);
    }
  }

  /** True when the offer names {@code protocol}. */
  static boolean offered(ServerWebSocketHandshake hs, String protocol) {
    return offered(hs.headers()).contains(protocol);
  }

  /** The offered subprotocols, in the client's order (every header, comma-separated lists split). */
  public static List<String> offered(MultiMap headers) {
    List<String> out = new ArrayList<>();
    for (String value : headers.getAll(HEADER)) {
      for (String p : value.split(",")) {
        String proto = p.strip();
        if (!proto.isEmpty()) {
          out.add(proto);
        }
      }
    }
    return out;
  }
}
