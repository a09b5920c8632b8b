package dev.porthole.cli;

import dev.porthole.access.WebSocketTunnels;
import dev.porthole.connect.HalfClose;
import dev.porthole.logging.Redactor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

@Command(name = "connect", mixinStandardHelpOptions = true,
    description = "Reach a tunnel's local target from this machine through the app-server's WebSocket "
        + "tunnel: listens on a local port (printing `listening HOST:PORT`) and carries each connection "
        + "over its own WebSocket, or carries one connection over stdin/stdout (--stdio, e.g. as an SSH "
        + "ProxyCommand). Exit codes: 0 stopped by a signal or stdio done, 2 usage, 3 unauthorized, "
        + "4 unknown tunnel, 5 the app-server or the tunnel is not reachable.")
public final class ConnectCommand implements Callable<Integer> {
  static final int UNAUTHORIZED = 3;
  static final int NOT_FOUND = 4;
  static final int UNREACHABLE = 5;

  @Parameters(index = "0", paramLabel = "ID-OR-NAME", description = "the tunnel's id, or its name")
  String tunnel;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
      description = "where to accept local connections (default 127.0.0.1:0, a free port)")
  String listen;

  @Option(names = "--stdio", description = "carry one connection over stdin/stdout instead of listening")
  boolean stdio;

  @Option(names = "--api", paramLabel = "URL", defaultValue = "http://127.0.0.1:7778",
      description = "the app-server (default http://127.0.0.1:7778)")
  String api;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "the API token or a JWT with the access scope (also PORTR_APP_SERVER_TOKEN)")
  String token;

  /** A failure that ends the command with an exit code and one line. */
  static final class Fatal extends RuntimeException {
    final int code;

    Fatal(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  @Override
  public Integer call() throws Exception {
    String credential = token != null ? token.strip()
        : System.getenv().getOrDefault(AppServerCommand.TOKEN_ENV, "").strip();
    Redactor.register(credential);
    Vertx vertx = Vertx.vertx();
    try {
      String wsUrl = Service.await(lookup(vertx, credential), 30, "looking the tunnel up");
      return stdio ? runStdio(vertx, wsUrl, credential) : runListener(vertx, wsUrl, credential);
    } catch (Fatal f) {
      System.err.println("porthole: " + f.getMessage());
      return f.code;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The tunnel's websocket_url, by id or else by name (the newest tunnel with that name). */
  private Future<String> lookup(Vertx vertx, String credential) {
    HttpClient http = vertx.createHttpClient();
    URI base = URI.create(api.endsWith("/") ? api.substring(0, api.length() - 1) : api);
    return get(http, base, "/api/v1/tunnels/" + URLEncoder.encode(tunnel, StandardCharsets.UTF_8), credential)
        .compose(byId -> {
          if (byId.getInteger("status_code") == 200) {
            return Future.succeededFuture(byId.getJsonObject("body"));
          }
          return get(http, base, "/api/v1/tunnels", credential).map(list -> {
            JsonArray tunnels = list.getJsonObject("body").getJsonArray("tunnels", new JsonArray());
            for (int i = 0; i < tunnels.size(); i++) {
              JsonObject t = tunnels.getJsonObject(i);
              if (tunnel.equals(t.getString("name"))) {
                return t;
              }
            }
            throw new Fatal(NOT_FOUND, "no tunnel with id or name \"" + tunnel + "\" at " + api);
          });
        })
        .map(status -> {
          String url = status.getString("websocket_url");
          if (url == null) {
            throw new Fatal(UNREACHABLE, "the app-server at " + api + " does not offer WebSocket tunnels");
          }
          return url;
        });
  }

  private static Future<JsonObject> get(HttpClient http, URI base, String path, String credential) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(base.resolve(path).toString())
        .setTimeout(10_000);
    if (!credential.isEmpty()) {
      options.putHeader("Authorization", "Bearer " + credential);
    }
    return http.request(options)
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> {
          if (resp.statusCode() == 401 || resp.statusCode() == 403) {
            throw new Fatal(UNAUTHORIZED, "the app-server refused the credential (" + resp.statusCode() + ")");
          }
          JsonObject json;
          try {
            json = body.toJsonObject();
          } catch (RuntimeException e) {
            json = new JsonObject();
          }
          return new JsonObject().put("status_code", resp.statusCode()).put("body", json);
        })))
        .recover(err -> Future.failedFuture(err instanceof Fatal ? err
            : new Fatal(UNREACHABLE, "cannot reach the app-server at " + base + ": " + err.getMessage())));
  }

  private static Future<WebSocket> open(WebSocketClient client, String wsUrl, String credential) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setAbsoluteURI(wsUrl)
        .setSubProtocols(List.of(WebSocketTunnels.SUBPROTOCOL));
    if (!credential.isEmpty()) {
      options.addHeader("Authorization", "Bearer " + credential);
    }
    return client.connect(options).recover(err -> {
      if (err instanceof UpgradeRejectedException rejected) {
        int status = rejected.getStatus();
        if (status == 401 || status == 403) {
          return Future.failedFuture(new Fatal(UNAUTHORIZED, "the app-server refused the credential (" + status + ")"));
        }
        if (status == 404) {
          return Future.failedFuture(new Fatal(NOT_FOUND, "the tunnel is gone (404)"));
        }
        return Future.failedFuture(new Fatal(UNREACHABLE, "the WebSocket tunnel was refused: " + status
            + (status == 409 ? " (the tunnel is not running)" : status == 429 ? " (too many connections)" : "")));
      }
      return Future.failedFuture(new Fatal(UNREACHABLE, "cannot open the WebSocket tunnel: " + err.getMessage()));
    });
  }

  private int runListener(Vertx vertx, String wsUrl, String credential) throws Exception {
    int colon = listen.lastIndexOf(':');
    if (colon < 0) {
      throw new Fatal(2, "--listen must be HOST:PORT, got \"" + listen + "\"");
    }
    String host = listen.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(listen.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new Fatal(2, "--listen must be HOST:PORT, got \"" + listen + "\"");
    }
    // Before anything is announced: whoever saw the "listening" line may signal at once.
    CountDownLatch stop = new CountDownLatch(1);
    onSignal(stop, () -> { });
    Listener listener = new Listener(vertx, wsUrl, credential);
    int actual = Service.await(listener.listen(host, port), 10, "listening");
    System.out.println("listening " + host + ":" + actual);
    System.out.flush();
    listener.fatal().thenRun(stop::countDown);
    stop.await();
    awaitQuietly(listener.closeAll((short) 1001, "client stopped"), CLOSE_LIMIT_SECONDS);
    Fatal reason = listener.fatal().getNow(null);
    if (reason != null) {
      throw reason;
    }
    return 0;
  }

  /** How long a stopping client waits for its close frames to go out. */
  static final long CLOSE_LIMIT_SECONDS = 5;
  /** How long a closing connection waits for its last bytes to be written locally. */
  static final long FLUSH_LIMIT_MS = 10_000;

  /** SIGINT and SIGTERM run {@code first}, then count {@code stop} down (instead of ending the JVM at once). */
  private static void onSignal(CountDownLatch stop, Runnable first) {
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), sig -> {
        first.run();
        stop.countDown();
      });
    }
  }

  private static void awaitQuietly(Future<?> future, long seconds) {
    try {
      Service.await(future, seconds, "closing");
    } catch (Exception e) {
      // Stopping anyway.
    }
  }

  /**
   * Listener mode: every accepted local connection gets its own WebSocket. Tracks the sockets still
   * open (so a stop can close them with 1001) and the first fatal refusal (401/404: retrying is
   * pointless).
   */
  static final class Listener {
    private final Vertx vertx;
    private final WebSocketClient client;
    private final String wsUrl;
    private final String credential;
    private final Set<WebSocket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger opened = new AtomicInteger();
    private final CompletableFuture<Fatal> fatal = new CompletableFuture<>();
    /** Set once this client closes its sockets itself: their close codes are then not news. */
    private volatile boolean stopping;

    Listener(Vertx vertx, String wsUrl, String credential) {
      this.vertx = vertx;
      this.client = vertx.createWebSocketClient();
      this.wsUrl = wsUrl;
      this.credential = credential;
    }

    /** Binds and accepts; completes with the port bound. */
    Future<Integer> listen(String host, int port) {
      return vertx.createNetServer().connectHandler(this::accept).listen(port, host).map(NetServer::actualPort);
    }

    private void accept(NetSocket local) {
      HalfClose.allow(local);
      local.pause();
      open(client, wsUrl, credential).onComplete(ar -> {
        if (ar.failed()) {
          local.close();
          System.err.println("porthole: " + ar.cause().getMessage());
          if (ar.cause() instanceof Fatal f && (f.code == UNAUTHORIZED || f.code == NOT_FOUND)) {
            fatal.complete(f);
          }
          return;
        }
        WebSocket ws = ar.result();
        if (stopping) {
          // Opened while the client stops: closeAll has already run.
          ws.close((short) 1001, "client stopped");
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
          ws.writeTextMessage(new JsonObject().put("type", "eof").encode());
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
          ws.close((short) 1000, "local connection closed");
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
        if (!stopping && code != null && code != 1000) {
          System.err.println("porthole: tunnel closed the connection: " + describe(code, ws.closeReason()));
        }
        if (code == null || code == 1006) {
          // Dropped without a close frame: no end is coming.
          local.close();
        }
      });
    }

    /** WebSockets open right now. */
    int openSockets() {
      return sockets.size();
    }

    /** WebSockets opened since the listener started, closed ones included. */
    int openedSockets() {
      return opened.get();
    }

    /** Completes with the first refusal that makes further connections pointless. */
    CompletableFuture<Fatal> fatal() {
      return fatal;
    }

    Future<Void> closeAll(short code, String reason) {
      stopping = true;
      List<Future<Void>> closing = new ArrayList<>();
      for (WebSocket ws : sockets) {
        closing.add(ws.close(code, reason));
      }
      return Future.join(closing).mapEmpty();
    }
  }

  static String describe(short code, String reason) {
    String words = switch (code) {
      case 1000 -> "the target closed the connection";
      case 1001 -> "the app-server is shutting down";
      case 1003 -> "the app-server refused a message";
      case 1009 -> "a message was too large";
      case 1011 -> "the app-server could not reach the tunnel's target";
      case 4008 -> "idle for too long";
      case 4404 -> "the tunnel was stopped";
      default -> "closed";
    };
    return words + " (" + code + (reason == null || reason.isEmpty() ? "" : ", " + reason) + ")";
  }

  /**
   * One connection over stdin/stdout. Ends when the tunnel closes (after the target's last bytes
   * reached stdout), or on SIGINT/SIGTERM, which closes the WebSocket with 1001 first. End of
   * stdin is a half-close: {"type":"eof"}, and the target's answer still arrives.
   */
  private int runStdio(Vertx vertx, String wsUrl, String credential) throws Exception {
    // Before the tunnel opens: a signal from then on ends the session with 1001.
    CountDownLatch stop = new CountDownLatch(1);
    AtomicBoolean signalled = new AtomicBoolean();
    onSignal(stop, () -> signalled.set(true));
    // Paused on its event loop as soon as it opens: a target that speaks first (an SSH server's
    // banner) must not lose bytes before the handlers below are in place.
    WebSocket ws = Service.await(open(vertx.createWebSocketClient(), wsUrl, credential).map(w -> {
      w.pause();
      return w;
    }), 30, "opening the tunnel");
    // One FIFO to stdout: the WebSocket pauses above 64 waiting chunks and resumes below 16.
    BlockingQueue<Buffer> toStdout = new LinkedBlockingQueue<>();
    Buffer endMarker = Buffer.buffer();
    boolean[] paused = {false};
    Thread writer = new Thread(() -> {
      OutputStream out = System.out;
      try {
        Buffer b;
        while ((b = toStdout.take()) != endMarker) {
          out.write(b.getBytes());
          out.flush();
          if (toStdout.size() < 16) {
            vertx.runOnContext(v -> {
              if (paused[0]) {
                paused[0] = false;
                ws.resume();
              }
            });
          }
        }
      } catch (IOException | InterruptedException e) {
        // Output gone: nothing more to write.
      }
      stop.countDown();
    }, "connect-stdout");
    writer.setDaemon(true);
    ws.binaryMessageHandler(buf -> {
      toStdout.add(buf);
      if (toStdout.size() > 64 && !paused[0]) {
        paused[0] = true;
        ws.pause();
      }
    });
    // The end comes after the last message (a close frame is reported before messages still
    // waiting in the paused socket); only a connection dropped without one ends at the close.
    ws.endHandler(v -> toStdout.add(endMarker));
    ws.closeHandler(v -> {
      Short code = ws.closeStatusCode();
      if (!signalled.get() && code != null && code != 1000) {
        System.err.println("porthole: " + describe(code, ws.closeReason()));
      }
      if (code == null || code == 1006) {
        toStdout.add(endMarker);
      }
    });
    Thread reader = new Thread(() -> {
      InputStream in = System.in;
      byte[] buf = new byte[32 * 1024];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          Buffer chunk = Buffer.buffer(java.util.Arrays.copyOf(buf, n));
          CountDownLatch written = new CountDownLatch(1);
          vertx.runOnContext(v -> {
            ws.writeBinaryMessage(chunk);
            if (ws.writeQueueFull()) {
              ws.drainHandler(d -> written.countDown());
            } else {
              written.countDown();
            }
          });
          written.await();
        }
        vertx.runOnContext(v -> ws.writeTextMessage(new JsonObject().put("type", "eof").encode()));
      } catch (IOException | InterruptedException e) {
        vertx.runOnContext(v -> ws.close());
      }
    }, "connect-stdin");
    reader.setDaemon(true);
    writer.start();
    reader.start();
    ws.resume();
    stop.await();
    if (signalled.get()) {
      awaitQuietly(ws.close((short) 1001, "client stopped"), CLOSE_LIMIT_SECONDS);
    }
    return 0;
  }
}
