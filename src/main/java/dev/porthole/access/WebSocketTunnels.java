package dev.porthole.access;

import dev.porthole.bus.Addresses;
import dev.porthole.config.AccessConfig;
import dev.porthole.connect.PortForwardProtocol;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /ws/port-forward/{id}} (docs/api.md), the server end of {@link
 * PortForwardProtocol}: each WebSocket is one fresh TCP connection to the tunnel's local target
 * (a stub's: the shared stub responder, which answers the HTTP spoken over it and routes by its Host). Binary messages are the bytes; the text message {@code
 * {"type":"eof"}} half-closes the target's side; any other text closes with 1003. Both directions
 * use backpressure, and {@code access.ws_max_bytes_per_second} is enforced by pausing reads. Close
 * codes: 1000 target closed, 1001 server shutdown ({@code porthole.internal.shutting-down}), 1003
 * bad message, 1009 message over {@code access.ws_max_message_bytes}, 1011 target dial failed,
 * 4008 idle (no application bytes for {@code access.ws_idle_timeout_seconds}; the pings the server
 * sends every {@code access.ws_ping_interval_seconds}, and their pongs, do not count), 4404 tunnel
 * stopped. Refusals happen before the upgrade: 404 unknown tunnel, 409 not running, 429 over
 * {@code access.ws_max_connections_per_tunnel}, 503 shutting down (each with {@code {"message":<reason phrase>}}). A side that closes never cuts off the bytes it
 * sent before. The only state kept is the set of open sockets.
 */
public final class WebSocketTunnels {
  private static final Logger log = LoggerFactory.getLogger(WebSocketTunnels.class);
  /** How long a closing tunnel waits for its last bytes to reach the target. */
  static final long FLUSH_LIMIT_MS = 10_000;
  /** The idle check runs every tenth of the idle timeout, within 100 ms .. 1 s. */
  private static final long IDLE_CHECK_MIN_MS = 100;
  private static final Pattern PATH = Pattern.compile("^/ws/port-forward/([^/?]+)/?$");

  private final Vertx vertx;
  private final AccessConfig cfg;
  private final NetClient net;
  private final Map<String, Set<Conn>> open = new HashMap<>();
  private boolean shuttingDown;

  public WebSocketTunnels(Vertx vertx, AccessConfig cfg) {
    this.vertx = vertx;
    this.cfg = cfg;
    this.net = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) cfg.dialTimeout().toMillis())
        .setTcpNoDelay(true));
    vertx.eventBus().<JsonObject>localConsumer(Addresses.SHUTTING_DOWN, m -> closeEverything());
    vertx.eventBus().<JsonObject>localConsumer(Addresses.TUNNELS_LIFECYCLE, m -> {
      String type = m.body().getString("type");
      if ("stopped".equals(type) && !Addresses.isRelayed(m.headers())) {
        closeAll(m.body().getString("tunnel_id"), PortForwardProtocol.TUNNEL_STOPPED, "tunnel stopped");
      }
    });
  }

  /** The tunnel id of a WebSocket tunnel path, or null. */
  public static String tunnelId(String path) {
    Matcher m = PATH.matcher(path);
    return m.matches() ? m.group(1) : null;
  }

  /** After auth: look the tunnel up, apply the limit, upgrade, dial, pump. */
  public void open(ServerWebSocketHandshake hs, String id) {
    if (shuttingDown) {
      hs.reject(503);
      return;
    }
    if (full(id)) {
      hs.reject(429);
      return;
    }
    TunnelLookup.reachable(vertx, id)
        .onFailure(err -> hs.reject(((TunnelLookup.Refused) err).status))
        .onSuccess(target -> {
          if (shuttingDown) {
            hs.reject(503);
            return;
          }
          if (full(id)) {
            hs.reject(429);
            return;
          }
          Conn conn = new Conn(id);
          open.computeIfAbsent(id, k -> new HashSet<>()).add(conn);
          Subprotocols.answer(hs, Subprotocols.offered(hs, PortForwardProtocol.SUBPROTOCOL) ? PortForwardProtocol.SUBPROTOCOL : null);
          hs.accept().onSuccess(ws -> conn.start(ws, target.host(), target.port()))
              .onFailure(err -> forget(conn));
        });
  }

  private boolean full(String id) {
    Set<Conn> sockets = open.get(id);
    return sockets != null && sockets.size() >= cfg.wsMaxConnectionsPerTunnel();
  }

  /** Server shutdown: every socket closes with 1001, and new ones are refused (503). */
  public void closeEverything() {
    shuttingDown = true;
    for (String id : Set.copyOf(open.keySet())) {
      closeAll(id, PortForwardProtocol.GOING_AWAY, "server shutdown");
    }
  }

  private void closeAll(String tunnelId, short code, String reason) {
    Set<Conn> sockets = open.remove(tunnelId);
    if (sockets != null) {
      for (Conn c : sockets) {
        c.close(code, reason);
      }
    }
  }

  private void forget(Conn conn) {
    Set<Conn> sockets = open.get(conn.tunnelId);
    if (sockets != null) {
      sockets.remove(conn);
      if (sockets.isEmpty()) {
        open.remove(conn.tunnelId);
      }
    }
  }

  /** One WebSocket and its target connection. */
  private final class Conn {
    final String tunnelId;
    ServerWebSocket ws;
    NetSocket target;
    /** Completes when everything written to the target so far has gone out. */
    Future<Void> targetWritten = Future.succeededFuture();
    long lastActivity = System.nanoTime();
    /** Bytes of the data message being received so far. */
    long messageBytes;
    long timer = -1;
    long pinger = -1;
    boolean closed;
    final Throttle up = new Throttle(vertx, cfg.wsMaxBytesPerSecond());
    final Throttle down = new Throttle(vertx, cfg.wsMaxBytesPerSecond());

    Conn(String tunnelId) {
      this.tunnelId = tunnelId;
    }

    void start(ServerWebSocket socket, String host, int port) {
      ws = socket;
      ws.pause();
      // A close frame from the client is reported at once (Vert.x answers it and drops the
      // connection), while the messages before it may still wait in the paused socket (throttle,
      // backpressure). Those go to the target first: the end comes after the last of them.
      ws.closeHandler(v -> {
        if (!closingAfterQueued()) {
          shutdown();
        }
      });
      ws.endHandler(v -> shutdown());
      // 1009: Vert.x refuses an oversized message (HttpServerOptions.maxWebSocketMessageSize) only
      // with an untyped IllegalStateException whose message is its only sign, so the limit is
      // counted here, frame by frame, by the same rule (message so far + frame > limit). Frames
      // reach this handler before Vert.x's own check.
      ws.frameHandler(frame -> {
        if (frame.isText() || frame.isBinary() || frame.isContinuation()) {
          messageBytes += frame.binaryData().length();
          if (messageBytes > cfg.wsMaxMessageBytes()) {
            close(PortForwardProtocol.TOO_LARGE, "message over access.ws_max_message_bytes (" + cfg.wsMaxMessageBytes() + ")");
          } else if (frame.isFinal()) {
            messageBytes = 0;
          }
        }
      });
      ws.exceptionHandler(err -> log.debug("ws(tunnel={}) {}", tunnelId, err.toString()));
      net.connect(port, host).onComplete(ar -> {
        if (ar.failed()) {
          log.debug("ws(tunnel={}) dial {}:{} failed: {}", tunnelId, host, port, ar.cause().getMessage());
          close(PortForwardProtocol.TARGET_UNREACHABLE, "target dial failed");
          return;
        }
        target = ar.result();
        if (closed) {
          target.close();
          return;
        }
        wire();
        ws.resume();
      });
    }

    private void wire() {
      ws.binaryMessageHandler(buf -> {
        if (closed) {
          return;
        }
        touch();
        targetWritten = target.write(buf);
        up.passed(buf.length(), ws, target);
      });
      ws.textMessageHandler(text -> {
        if (PortForwardProtocol.isEof(text)) {
          // After the bytes before it: Netty's shutdownOutput fails writes still queued.
          targetWritten.onComplete(ar -> {
            if (((NetSocketInternal) target).channelHandlerContext().channel() instanceof DuplexChannel ch) {
              ch.shutdownOutput();
            }
          });
          return;
        }
        close(PortForwardProtocol.BAD_MESSAGE, "text messages are control messages; send bytes as binary");
      });
      target.handler(buf -> {
        touch();
        ws.writeBinaryMessage(buf);
        down.passed(buf.length(), target, ws);
      });
      // The end, not the close: Vert.x reports the close at once, while bytes read before it may
      // still wait in the paused socket (a throttled or backpressured tunnel). The end comes after
      // the last of them.
      target.endHandler(v -> close(PortForwardProtocol.NORMAL, "target closed"));
      target.exceptionHandler(err -> log.debug("ws(tunnel={}) target: {}", tunnelId, err.toString()));
      long idleNanos = cfg.wsIdleTimeout().toNanos();
      timer = vertx.setPeriodic(Math.min(1_000, Math.max(IDLE_CHECK_MIN_MS, cfg.wsIdleTimeout().toMillis() / 10)), id -> {
        if (System.nanoTime() - lastActivity >= idleNanos) {
          close(PortForwardProtocol.IDLE, "idle timeout");
        }
      });
      pinger = vertx.setPeriodic(cfg.wsPingInterval().toMillis(), id -> {
        if (!closed) {
          ws.writePing(Buffer.buffer());
        }
      });
    }

    private void touch() {
      lastActivity = System.nanoTime();
    }

    void close(short code, String reason) {
      if (closed) {
        return;
      }
      closed = true;
      if (ws != null && !ws.isClosed()) {
        ws.close(code, reason);
      }
      shutdown();
    }

    /** The client sent a close frame and its earlier messages still go to the target (then the end). */
    private boolean closingAfterQueued() {
      Short code = ws.closeStatusCode();
      return !closed && target != null && code != null && code != PortForwardProtocol.DROPPED;
    }

    private void shutdown() {
      closed = true;
      vertx.cancelTimer(timer);
      vertx.cancelTimer(pinger);
      if (target != null) {
        // Netty's close fails writes still queued: the target gets the bytes first (bounded, in
        // case it no longer reads).
        NetSocket t = target;
        targetWritten.onComplete(ar -> t.close());
        if (!targetWritten.isComplete()) {
          vertx.setTimer(FLUSH_LIMIT_MS, id -> t.close());
        }
      }
      forget(this);
    }
  }
}
