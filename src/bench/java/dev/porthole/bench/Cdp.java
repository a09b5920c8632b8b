package dev.porthole.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A headless Chromium driven over the DevTools protocol, as small as D1 needs: the browser started
 * with the flags of the tests' {@code testsupport/Chromium} and {@code --remote-debugging-port=0}
 * (the port read from {@code DevToolsActivePort} in its fresh profile), one page target, and
 * request/response calls as JSON over a Vert.x WebSocket, each bounded in time. {@link #close}
 * ends the browser (and its children, through {@link Procs}) and deletes the profile, however the
 * run went.
 */
final class Cdp implements AutoCloseable {
  static final Path BROWSER = Path.of("/usr/bin/chromium");
  private static final Duration CALL = Duration.ofSeconds(30);

  private final Procs procs;
  private final Process browser;
  private final Path profile;
  private final WebSocketClient client;
  private final WebSocket ws;
  private final AtomicLong ids = new AtomicLong();
  private final Map<Long, Promise<JsonObject>> calls = new ConcurrentHashMap<>();
  private final List<Waiter> waiters = new CopyOnWriteArrayList<>();

  private record Waiter(String method, Promise<JsonObject> promise) {
  }

  private Cdp(Procs procs, Process browser, Path profile, WebSocketClient client, WebSocket ws) {
    this.procs = procs;
    this.browser = browser;
    this.profile = profile;
    this.client = client;
    this.ws = ws;
    ws.textMessageHandler(text -> {
      JsonObject m = new JsonObject(text);
      Long id = m.getLong("id");
      if (id != null) {
        Promise<JsonObject> p = calls.remove(id);
        if (p != null) {
          if (m.containsKey("error")) {
            p.fail(new IOException("CDP error: " + m.getJsonObject("error").encode()));
          } else {
            p.complete(m.getJsonObject("result", new JsonObject()));
          }
        }
      } else {
        String method = m.getString("method");
        for (Waiter w : waiters) {
          if (w.method.equals(method) && waiters.remove(w)) {
            w.promise.complete(m.getJsonObject("params", new JsonObject()));
          }
        }
      }
    });
    ws.closeHandler(v -> {
      IOException gone = new IOException("the DevTools socket closed");
      calls.values().forEach(p -> p.tryFail(gone));
      waiters.forEach(w -> w.promise.tryFail(gone));
    });
  }

  /** Starts the browser on {@code about:blank} and attaches to its page. */
  static Cdp start(Vertx vertx, HttpClient http, Procs procs, Path workDir, int width, int height) throws Exception {
    Path profile = Files.createTempDirectory(Files.createDirectories(workDir), "d1-chromium-");
    Process browser = null;
    WebSocketClient client = null;
    try {
      browser = procs.start("d1-chromium", List.of(BROWSER.toString(), "--headless=new", "--no-sandbox",
          "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--enable-precise-memory-info",
          "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=" + width + "," + height,
          "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"));
      int port = devToolsPort(profile, browser);
      String target = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (target == null) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        for (Object o : new JsonArray(r.body())) {
          JsonObject t = (JsonObject) o;
          if ("page".equals(t.getString("type"))) {
            target = t.getString("webSocketDebuggerUrl");
            break;
          }
        }
        if (target == null) {
          if (System.nanoTime() > deadline) {
            throw new IOException("Chromium shows no page target: " + r.body());
          }
          TimeUnit.MILLISECONDS.sleep(50); // polling interval
        }
      }
      URI uri = URI.create(target);
      client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(64 * 1024 * 1024)
          .setMaxMessageSize(64 * 1024 * 1024).setConnectTimeout(10_000));
      // No Origin header: Chromium refuses DevTools sockets from an origin it was not told to allow.
      WebSocket ws = await(client.connect(new WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort())
          .setURI(uri.getRawPath()).setAllowOriginHeader(false)), "the DevTools socket");
      return new Cdp(procs, browser, profile, client, ws);
    } catch (Exception e) {
      if (client != null) {
        client.close();
      }
      procs.stop(browser);
      deleteTree(profile);
      throw e;
    }
  }

  /** The port Chromium writes as the first line of {@code DevToolsActivePort} once it listens. */
  private static int devToolsPort(Path profile, Process browser) throws Exception {
    Path file = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (Files.exists(file)) {
        List<String> lines = Files.readAllLines(file);
        if (lines.size() >= 2) {
          return Integer.parseInt(lines.get(0).trim());
        }
      }
      if (!browser.isAlive()) {
        throw new IOException("Chromium exited " + browser.exitValue() + " before listening for DevTools");
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval
    }
    throw new IOException("Chromium wrote no " + file + " within 30 s");
  }

  /** One command; its result, or an exception with the browser's error. */
  JsonObject call(String method, JsonObject params) throws Exception {
    long id = ids.incrementAndGet();
    Promise<JsonObject> p = Promise.promise();
    calls.put(id, p);
    ws.writeTextMessage(new JsonObject().put("id", id).put("method", method).put("params", params).encode());
    try {
      return await(p.future(), method);
    } finally {
      calls.remove(id);
    }
  }

  JsonObject call(String method) throws Exception {
    return call(method, new JsonObject());
  }

  /** The next event named {@code method}; register before causing it. */
  Future<JsonObject> next(String method) {
    Promise<JsonObject> p = Promise.promise();
    waiters.add(new Waiter(method, p));
    return p.future();
  }

  /**
   * {@code Runtime.evaluate} of an expression in the page, promises awaited; its value as JSON.
   * A script error is thrown.
   */
  Object eval(String expression) throws Exception {
    JsonObject r = call("Runtime.evaluate", new JsonObject().put("expression", expression)
        .put("returnByValue", true).put("awaitPromise", true).put("timeout", CALL.toMillis()));
    if (r.containsKey("exceptionDetails")) {
      throw new IOException("page script failed: " + r.getJsonObject("exceptionDetails").encode());
    }
    return r.getJsonObject("result").getValue("value");
  }

  /** The renderer processes' resident memory, KiB (the browser's children with {@code --type=renderer}). */
  long rendererRssKib() {
    return browser.descendants().filter(h -> {
      try {
        return Files.readString(Path.of("/proc/" + h.pid() + "/cmdline")).contains("--type=renderer");
      } catch (IOException e) {
        return false;
      }
    }).mapToLong(h -> {
          try {
            return Bench.procStatus(h.pid(), "VmRSS");
          } catch (IOException e) {
            return 0;
          }
        }).sum();
  }

  static <T> T await(Future<T> f, String what) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(CALL.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException(what + ": no answer within " + CALL.toSeconds() + " s");
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception x ? x : e;
    }
  }

  @Override
  public void close() {
    try {
      ws.close();
      client.close();
    } finally {
      procs.stop(browser);
      deleteTree(profile);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.out.println("bench: could not remove " + dir + ": " + e);
    }
  }
}
