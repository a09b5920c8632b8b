package dev.porthole.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * B1, the event-bus bridge's fan-out: {@code clients} bridge sockets on SockJS's raw endpoint
 * ({@code /eventbus/websocket}, the bridge's JSON frames) registered for {@code
 * porthole.tunnels.lifecycle} while tunnels start and stop over the HTTP API. For every event at
 * every client: the time from the event's {@code at} (the manager records it just before it
 * publishes; a {@code started}'s is the worker's report, a little earlier still) to its receipt,
 * both on this machine's wall clock (microseconds). The events to expect are the manager's own log
 * of those tunnels ({@code GET /api/v1/events}); each client must have every one.
 */
final class Fanout {
  private static final String LIFECYCLE = "porthole.tunnels.lifecycle";
  private static final Duration DELIVERY = Duration.ofSeconds(20);

  /** What the measured rounds saw: publish → receipt of each (event, client), and the misses. */
  record Figures(List<Double> latenciesMs, Map<String, List<Double>> byType, long expected, long received,
      long duplicates, int events, Cpu.Cost[] cost) {
  }

  /** The tunnel work of one round: starts and stops its tunnels, returns their ids. */
  interface Load {
    List<String> run() throws Exception;
  }

  private final Vertx vertx;
  private final HttpClient http;
  private final String api;
  private final int clients;

  private final long relayPid;
  private final long appPid;
  private final java.util.function.Function<String, String> appThreads;

  /**
   * @param relayPid, appPid whose CPU time the measured rounds cost, per delivery ({@code appThreads}
   *     groups the app-server's threads)
   */
  Fanout(Vertx vertx, HttpClient http, String api, int clients, long relayPid, long appPid,
      java.util.function.Function<String, String> appThreads) {
    this.vertx = vertx;
    this.http = http;
    this.api = api;
    this.clients = clients;
    this.relayPid = relayPid;
    this.appPid = appPid;
    this.appThreads = appThreads;
  }

  /** {@code warmup} unmeasured rounds, then {@code rounds} measured ones, all on the same sockets. */
  Figures run(int warmup, int rounds, Load load) throws Exception {
    URI uri = URI.create(api);
    WebSocketClient wsc = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(clients + 1));
    List<Client> all = new java.util.concurrent.CopyOnWriteArrayList<>();
    long ping = -1;
    try {
      // The bridge closes a socket that has not pinged for 10 s; connecting them all may take longer.
      ping = vertx.setPeriodic(5_000, id -> all.forEach(Client::ping));
      for (int i = 0; i < clients; i++) {
        WebSocket ws = await(wsc.connect(new WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort())
            .setURI("/eventbus/websocket")), "bridge socket " + i);
        Client c = new Client(ws);
        all.add(c);
        c.register();
      }
      // A request/reply after each registration on the same socket: once answered, the bridge has
      // handled the registration.
      for (int i = 0; i < all.size(); i++) {
        all.get(i).confirm("client " + i);
      }
      List<Double> latencies = new ArrayList<>();
      Map<String, List<Double>> byType = new java.util.TreeMap<>();
      long expected = 0;
      long received = 0;
      long duplicates = 0;
      int events = 0;
      Cpu.Snapshot relay0 = null;
      Cpu.Snapshot app0 = null;
      for (int r = 0; r < warmup + rounds; r++) {
        all.forEach(Client::reset);
        if (r == warmup) {
          relay0 = Cpu.take(relayPid, name -> "relay");
          app0 = Cpu.take(appPid, appThreads);
        }
        List<String> ids = load.run();
        Set<String> want = expectedEvents(ids);
        awaitAll(all, want);
        if (r < warmup) {
          continue;
        }
        events += want.size();
        for (Client c : all) {
          expected += want.size();
          Set<String> seen = new HashSet<>();
          for (Receipt x : c.receipts) {
            if (!want.contains(x.eventId)) {
              continue;
            }
            if (!seen.add(x.eventId)) {
              duplicates++;
              continue;
            }
            received++;
            latencies.add(x.latencyMs);
            byType.computeIfAbsent(x.type, t -> new ArrayList<>()).add(x.latencyMs);
          }
        }
      }
      Cpu.Snapshot relay1 = Cpu.take(relayPid, name -> "relay");
      Cpu.Snapshot app1 = Cpu.take(appPid, appThreads);
      long deliveries = Math.max(1, received);
      return new Figures(latencies, byType, expected, received, duplicates, events,
          new Cpu.Cost[] {Cpu.perRequest(relay0, relay1, deliveries), Cpu.perRequest(app0, app1, deliveries)});
    } finally {
      if (ping >= 0) {
        vertx.cancelTimer(ping);
      }
      for (Client c : all) {
        c.ws.close();
      }
      wsc.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The manager's events for these tunnels, by event id. */
  private Set<String> expectedEvents(List<String> ids) throws Exception {
    Set<String> want = new HashSet<>();
    for (String id : ids) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/events?tunnel_id=" + id))
          .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IOException("GET /api/v1/events?tunnel_id=" + id + ": " + r.statusCode() + " " + r.body());
      }
      new JsonObject(r.body()).getJsonArray("events").forEach(e -> want.add(((JsonObject) e).getString("id")));
    }
    return want;
  }

  /** Until every client holds every wanted event, or the deadline; the shortfall is then reported, not thrown. */
  private static void awaitAll(List<Client> all, Set<String> want) throws InterruptedException {
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    while (System.nanoTime() < deadline) {
      all.forEach(Client::settle);
      if (all.stream().allMatch(c -> c.eventIds.keySet().containsAll(want))) {
        return;
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval
    }
  }

  private record Receipt(String eventId, String type, double latencyMs) {
  }

  private record Arrival(io.vertx.core.buffer.Buffer data, Instant at) {
  }

  /** One bridge socket registered for lifecycle events. */
  private final class Client {
    final WebSocket ws;
    final ConcurrentLinkedQueue<Receipt> receipts = new ConcurrentLinkedQueue<>();
    final Map<String, Boolean> eventIds = new ConcurrentHashMap<>();
    final Map<String, io.vertx.core.Promise<JsonObject>> replies = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<Arrival> arrived = new ConcurrentLinkedQueue<>();

    Client(WebSocket ws) {
      this.ws = ws;
      // vertx-web's raw endpoint sends its JSON frames as binary WebSocket messages: take both kinds.
      // The receipt time is taken first and the frame kept as it came: parsing it here would
      // delay the frames behind it on this event loop and count the harness's own work.
      ws.handler(data -> {
        Instant now = Instant.now();
        if (replies.isEmpty()) {
          arrived.add(new Arrival(data, now));
          return;
        }
        JsonObject f = new JsonObject(data);
        io.vertx.core.Promise<JsonObject> p = replies.remove(f.getString("address", ""));
        if (p != null) {
          p.complete(f);
        } else {
          arrived.add(new Arrival(data, now));
        }
      });
    }

    /** Parses what arrived since the last call (off the event loop). */
    void settle() {
      for (Arrival a; (a = arrived.poll()) != null; ) {
        JsonObject f = new JsonObject(a.data);
        if (LIFECYCLE.equals(f.getString("address", "")) && f.getValue("body") instanceof JsonObject e) {
          Duration d = Duration.between(Instant.parse(e.getString("at")), a.at);
          receipts.add(new Receipt(e.getString("id"), e.getString("type"), d.toNanos() / 1e6));
          eventIds.put(e.getString("id"), true);
        }
      }
    }

    void register() throws Exception {
      await(ws.writeTextMessage(new JsonObject().put("type", "register").put("address", LIFECYCLE).encode()),
          "register");
    }

    void confirm(String who) throws Exception {
      String replyAddress = java.util.UUID.randomUUID().toString();
      io.vertx.core.Promise<JsonObject> p = io.vertx.core.Promise.promise();
      replies.put(replyAddress, p);
      ws.writeTextMessage(new JsonObject().put("type", "send").put("address", "porthole.tunnels.list")
          .put("replyAddress", replyAddress).put("body", new JsonObject()).encode());
      JsonObject reply = await(p.future(), who + ": the list reply");
      if (!"rec".equals(reply.getString("type"))) {
        throw new IOException("the bridge refused a list: " + reply.encode());
      }
    }

    void ping() {
      if (ws.isClosed()) {
        return;
      }
      ws.writeTextMessage(new JsonObject().put("type", "ping").encode());
    }

    void reset() {
      settle();
      receipts.clear();
      eventIds.clear();
    }
  }

  private static <T> T await(Future<T> f, String what) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IOException(what + ": no answer within 30 s");
    }
  }
}
