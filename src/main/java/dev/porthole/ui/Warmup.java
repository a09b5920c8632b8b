package dev.porthole.ui;

import dev.porthole.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's first load, once, by the app-server itself right after it starts listening: the
 * page's files, the bridge's info request and a SockJS WebSocket with the page's first frames, as a
 * browser does them. Without it the first load a user makes after starting an app-server paid for
 * all of that code running for the first time on the server (loading a few hundred classes, the
 * upgrade and bridge paths interpreted): 100–500 ms on 2 busy cores (bench D1's cold load).
 *
 * <p>In the background, {@link #DELAY_MS} after the server listens and once the machine is quiet
 * ({@link #whenQuiet}): the app-server is ready before it starts, nothing waits for it, it never
 * takes the cores from what starts beside it, and a failure is only logged (at debug: a JWT-only app-server has
 * no credential of its own for the bridge, and then only the page is loaded). Everything it opens is
 * closed when it ends, at most {@link #TIMEOUT_MS} after it started.
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);
  static final int TIMEOUT_MS = 10_000;
  /**
   * After listening: the first seconds belong to what is started first (tunnels, or the other
   * members of a cluster starting on the same cores), long before a person opens the page.
   */
  public static final long DELAY_MS = 2_000;
  static final List<String> FILES = List.of("", "app.css", "sockjs.min.js", "vertx-eventbus.js", "app.js");
  /** The machine's CPU use (all cores, over the last second) under which it counts as quiet. */
  static final double QUIET_CPU = 0.5;
  /** The longest the warm-up waits for a quiet machine after {@link #DELAY_MS}; then it runs anyway. */
  public static final long MAX_QUIET_WAIT_MS = 10_000;
  static final long SAMPLE_MS = 1_000;
  /** The thread of the CPU readings (one, while they last). */
  static final String SAMPLER = "porthole-warmup";

  private Warmup() {
  }

  /**
   * Completes {@link #DELAY_MS} from now once the machine's CPU use over the last second is under
   * {@link #QUIET_CPU}, or {@link #MAX_QUIET_WAIT_MS} later whatever it is. Three cluster members
   * starting together on 2 cores are still busy when the first one listens: a warm-up then takes
   * the CPU from the others' start.
   */
  public static Future<Void> whenQuiet(Vertx vertx) {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return whenQuiet(vertx, os::getCpuLoad, DELAY_MS, MAX_QUIET_WAIT_MS);
    }
    return whenQuiet(vertx, () -> 0, DELAY_MS, 0);
  }

  /**
   * @param cpuLoad the machine's CPU use in [0, 1] since the previous call, negative when unknown
   *     (read on a worker thread: it reads {@code /proc})
   */
  static Future<Void> whenQuiet(Vertx vertx, DoubleSupplier cpuLoad, long delayMs, long maxWaitMs) {
    Promise<Void> quiet = Promise.promise();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs + maxWaitMs);
    // One thread for the readings, gone once it is quiet: on Vert.x's shared worker pool each reading
    // started a thread of its own (a pool below its core size does), 12 idle for good after a busy start.
    WorkerExecutor sampler = vertx.createSharedWorkerExecutor(SAMPLER, 1);
    quiet.future().onComplete(done -> sampler.close());
    // The first reading only starts the interval the next one measures.
    vertx.setTimer(Math.max(1, delayMs - SAMPLE_MS), t -> sampler.executeBlocking(cpuLoad::getAsDouble, false)
        .onComplete(first -> vertx.setTimer(Math.min(SAMPLE_MS, Math.max(1, delayMs)),
            t2 -> sample(vertx, sampler, cpuLoad, deadline, quiet))));
    return quiet.future();
  }

  private static void sample(Vertx vertx, WorkerExecutor sampler, DoubleSupplier cpuLoad, long deadline,
      Promise<Void> quiet) {
    sampler.executeBlocking(cpuLoad::getAsDouble, false).onComplete(ar -> {
      double load = ar.succeeded() ? ar.result() : -1;
      if (load < QUIET_CPU || System.nanoTime() >= deadline) {
        quiet.complete();
      } else {
        vertx.setTimer(SAMPLE_MS, t -> sample(vertx, sampler, cpuLoad, deadline, quiet));
      }
    });
  }

  /**
   * @param host the address to call (a loopback one when the server listens on every interface)
   * @param token the API's static token, empty for none
   * @return completes once the load is done: with how many of its steps were answered as a browser
   *     expects them, or failed with the step that was not
   */
  public static Future<Integer> run(Vertx vertx, String host, int port, String token) {
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
        .setConnectTimeout(TIMEOUT_MS).setIdleTimeout(TIMEOUT_MS / 1000));
    WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(host)
        .setDefaultPort(port).setConnectTimeout(TIMEOUT_MS));
    String query = token.isEmpty() ? "" : "?access_token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
    Future<Integer> steps = Future.succeededFuture(0);
    for (String file : FILES) {
      steps = steps.compose(n -> get(http, Dashboard.PATH + file).map(n + 1));
    }
    Future<Integer> done = steps
        .compose(n -> get(http, "/eventbus/info" + query).map(n + 1))
        .compose(n -> openBridgeSocket(ws, query).map(n + 1));
    long timer = vertx.setTimer(TIMEOUT_MS, t -> {
      http.close();
      ws.close();
    });
    return done.andThen(ar -> {
      vertx.cancelTimer(timer);
      http.close();
      ws.close();
      if (ar.failed()) {
        log.debug("dashboard warm-up stopped: {}", ar.cause().getMessage());
      }
    });
  }

  private static Future<Void> get(HttpClient http, String uri) {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setURI(uri).setTimeout(TIMEOUT_MS))
        .compose(req -> req.send().compose(resp -> resp.body().compose(body -> resp.statusCode() == 200
            ? Future.<Void>succeededFuture()
            : Future.failedFuture("GET " + uri.replaceAll("access_token=[^&]*", "access_token=…") + ": "
                + resp.statusCode()))));
  }

  /**
   * SockJS's WebSocket transport, as sockjs-client opens it, and what the page sends first: a
   * registration for lifecycle events and a ping, then closed. Nothing reaches porthole's own
   * consumers (no request goes to the manager).
   */
  private static Future<Void> openBridgeSocket(WebSocketClient client, String query) {
    String path = "/eventbus/000/" + UUID.randomUUID().toString().replace("-", "").substring(0, 8) + "/websocket" + query;
    return client.connect(new WebSocketConnectOptions().setURI(path)).compose(ws -> {
      Promise<Void> opened = Promise.promise();
      ws.textMessageHandler(frame -> {
        if (frame.equals("o")) {
          ws.writeTextMessage(new JsonArray()
                  .add(new JsonObject().put("type", "register").put("address", Addresses.TUNNELS_LIFECYCLE).encode())
                  .add(new JsonObject().put("type", "ping").encode()).encode())
              .onComplete(ar -> {
                if (ar.succeeded()) {
                  opened.tryComplete();
                } else {
                  opened.tryFail(ar.cause());
                }
              });
        } else if (frame.startsWith("c")) {
          opened.tryFail("the bridge closed the socket: " + frame);
        }
      });
      ws.closeHandler(v -> opened.tryFail("the bridge closed the socket"));
      return opened.future().eventually(() -> closeQuietly(ws));
    });
  }

  private static Future<Void> closeQuietly(WebSocket ws) {
    return ws.close().recover(e -> Future.succeededFuture());
  }
}
