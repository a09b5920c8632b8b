package dev.porthole.connect;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * The WebSocket port-forward protocol of {@code /ws/port-forward/{id}}, defined once for both of
 * its ends: the server ({@code access/WebSocketTunnels}) and the {@code porthole connect} client.
 * Binary messages carry the bytes; a text message is a JSON control message, of which the only one
 * is {@link #EOF} (half-close); the close codes below end a tunnel.
 */
public final class PortForwardProtocol {
  /** The subprotocol a client offers and the server selects. */
  public static final String SUBPROTOCOL = "porthole.v1";
  /**
   * porthole's credential subprotocol, {@code bearer.<T>}: offered by clients that cannot set
   * headers (browsers), never forwarded to a target nor answered.
   */
  public static final String CREDENTIAL_PREFIX = "bearer.";
  /** The text message that half-closes the sender's side: no more bytes follow from it. */
  public static final String EOF = new JsonObject().put("type", "eof").encode();

  /** The target (server side) or the local connection (client side) closed. */
  public static final short NORMAL = 1000;
  /** The app-server is shutting down, or the client stops. */
  public static final short GOING_AWAY = 1001;
  /** A text message that is not a control message. */
  public static final short BAD_MESSAGE = 1003;
  /** Never sent: the connection dropped without a close frame. */
  public static final short DROPPED = 1006;
  /** A message over {@code access.ws_max_message_bytes}. */
  public static final short TOO_LARGE = 1009;
  /** The tunnel's target could not be dialled. */
  public static final short TARGET_UNREACHABLE = 1011;
  /** No application bytes either way for {@code access.ws_idle_timeout_seconds}. */
  public static final short IDLE = 4008;
  /** The tunnel was stopped. */
  public static final short TUNNEL_STOPPED = 4404;

  private PortForwardProtocol() {
  }

  /** True when {@code text} is the {@link #EOF} control message (any JSON object whose type is eof). */
  public static boolean isEof(String text) {
    try {
      return "eof".equals(new JsonObject(text).getString("type"));
    } catch (DecodeException | ClassCastException e) {
      return false;
    }
  }

  /** A close code and reason in words, for the person at the client. */
  public static String describe(short code, String reason) {
    String words = switch (code) {
      case NORMAL -> "the target closed the connection";
      case GOING_AWAY -> "the app-server is shutting down";
      case BAD_MESSAGE -> "the app-server refused a message";
      case TOO_LARGE -> "a message was too large";
      case TARGET_UNREACHABLE -> "the app-server could not reach the tunnel's target";
      case IDLE -> "idle for too long";
      case TUNNEL_STOPPED -> "the tunnel was stopped";
      default -> "closed";
    };
    return words + " (" + code + (reason == null || reason.isEmpty() ? "" : ", " + reason) + ")";
  }
}
