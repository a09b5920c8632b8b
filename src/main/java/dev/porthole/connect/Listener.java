package dev.porthole.connect;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Listener mode: every accepted local connection gets its own WebSocket. Tracks the sockets still
 * open (so a stop can close them with 1001) and the first fatal refusal (401/404: retrying is
 * pointless).
 */
public final class Listener {
  /** How long a closing connection waits for its last bytes to be written locally. */
  static final long FLUSH_LIMIT_MS = 10_000;

  private final Vertx vertx;
  private final WebSocketClient client;
  private final String wsUrl;
  private final String credential;
  private final Set<WebSocket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger opened = new AtomicInteger();
  private final CompletableFuture<ConnectFailure> fatal = new CompletableFuture<>();
  /** Set once this client closes its sockets itself: their close codes are then not news. */
  private volatile boolean stopping;

  /** @param credential the API token or JWT, or empty for none */
  public Listener(Vertx vertx, String wsUrl, String credential) {
    this.vertx = vertx;
    this.client = vertx.createWebSocketClient();
    this.wsUrl = wsUrl;
    this.credential = credential;
  }

  /** Binds and accepts; completes with the port bound. */
  public Future<Integer> listen(String host, int port) {
    return vertx.createNetServer().connectHandler(this::accept).listen(port, host).map(NetServer::actualPort);
  }

  private void accept(NetSocket local) {
    HalfClose.allow(local);
    local.pause();
    AppServerClient.open(client, wsUrl, credential).onComplete(ar -> {
      if (ar.failed()) {
        local.close();
        System.err.println("porthole: " + ar.cause().getMessage());
        if (ar.cause() instanceof ConnectFailure f && f.isFinal()) {
          fatal.complete(f);
        }
        return;
      }
      WebSocket ws = ar.result();
      if (stopping) {
        // Opened while the client stops: closeAll has already run.
        ws.close(PortForwardProtocol.GOING_AWAY, "client stopped");
        local.close();
        return;
      }
      sockets.add(ws);
      opened.incrementAndGet();
      pump(ws, local, () -> sockets.remove(ws));
      local.resume();
    });
  }

  /**
   * Bytes both ways with backpressure; local end of stream → {"type":"eof"}. {@code onClosed} runs
   * once the WebSocket has closed (this sets the socket's only close handler).
   */
  private void pump(WebSocket ws, NetSocket local, Runnable onClosed) {
    Future<?>[] localWritten = {Future.succeededFuture()};
    ws.binaryMessageHandler(buf -> {
      localWritten[0] = local.write(buf);
      if (local.writeQueueFull()) {
        ws.pause();
        local.drainHandler(v -> ws.resume());
      }
    });
    boolean[] eofSent = {false};
    Runnable sendEof = () -> {
      if (!eofSent[0] && !ws.isClosed()) {
        eofSent[0] = true;
        ws.writeTextMessage(PortForwardProtocol.EOF);
      }
    };
    local.handler(buf -> {
      if (HalfClose.isEnd(buf)) {
        // The local client shut down its side: pass it on and keep the other way open.
        sendEof.run();
        return;
      }
      ws.writeBinaryMessage(buf);
      if (ws.writeQueueFull()) {
        local.pause();
        ws.drainHandler(v -> local.resume());
      }
    });
    // Vert.x reports the local close at once, but the end only after the bytes still waiting in
    // the paused socket: the WebSocket closes once both happened, so none of them is lost.
    boolean[] endedClosed = {false, false};
    Runnable closeWhenDone = () -> {
      if (endedClosed[0] && endedClosed[1] && !ws.isClosed()) {
        ws.close(PortForwardProtocol.NORMAL, "local connection closed");
      }
    };
    local.endHandler(v -> {
      sendEof.run();
      endedClosed[0] = true;
      closeWhenDone.run();
    });
    local.closeHandler(v -> {
      endedClosed[1] = true;
      closeWhenDone.run();
    });
    // A close frame is reported at once, the end only after the messages still waiting in the
    // paused socket: those reach the local connection first, then it closes (bounded, in case it
    // no longer reads).
    ws.endHandler(v -> {
      localWritten[0].onComplete(ar -> local.close());
      vertx.setTimer(FLUSH_LIMIT_MS, id -> local.close());
    });
    ws.closeHandler(v -> {
      onClosed.run();
      Short code = ws.closeStatusCode();
      if (!stopping && code != null && code != PortForwardProtocol.NORMAL) {
        System.err.println("porthole: tunnel closed the connection: "
            + PortForwardProtocol.describe(code, ws.closeReason()));
      }
      if (code == null || code == PortForwardProtocol.DROPPED) {
        // Dropped without a close frame: no end is coming.
        local.close();
      }
    });
  }

  /** WebSockets open right now. */
  public int openSockets() {
    return sockets.size();
  }

  /** WebSockets opened since the listener started, closed ones included. */
  public int openedSockets() {
    return opened.get();
  }

  /** Completes with the first refusal that makes further connections pointless. */
  public CompletableFuture<ConnectFailure> fatal() {
    return fatal;
  }

  /** Closes every open WebSocket with {@code code}; new ones are closed as they open. */
  public Future<Void> closeAll(short code, String reason) {
    stopping = true;
    List<Future<Void>> closing = new ArrayList<>();
    for (WebSocket ws : sockets) {
      closing.add(ws.close(code, reason));
    }
    return Future.join(closing).mapEmpty();
  }
}
