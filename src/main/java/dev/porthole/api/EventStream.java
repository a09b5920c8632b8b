package dev.porthole.api;

import dev.porthole.bus.Addresses;
import dev.porthole.httpkit.ApiResponses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/events/stream}: recorded lifecycle events as Server-Sent Events ({@code id:}
 * = seq, {@code event:} = type, {@code data:} = the event JSON), from after {@code Last-Event-ID}
 * (or {@code ?since=}) on, then live; a comment every 15 s keeps proxies from closing it. It
 * subscribes before fetching the backlog and drops duplicates by seq, so a resume misses nothing
 * and repeats nothing. A client too slow to keep up is disconnected (it resumes with its last id)
 * rather than buffered without bound.
 */
final class EventStream {
  private static final Logger log = LoggerFactory.getLogger(EventStream.class);
  static final long HEARTBEAT_MS = 15_000;

  private final Vertx vertx;
  private final RoutingContext rc;
  private final HttpServerResponse res;
  private final String tunnelId;
  private long lastSeq;
  private boolean backlogDone;
  private final List<JsonObject> early = new ArrayList<>();
  private MessageConsumer<JsonObject> consumer;
  private long heartbeat = -1;
  private boolean closed;

  EventStream(Vertx vertx, RoutingContext rc, String tunnelId, long since) {
    this.vertx = vertx;
    this.rc = rc;
    this.res = rc.response();
    this.tunnelId = tunnelId == null ? "" : tunnelId;
    this.lastSeq = since;
  }

  void start() {
    res.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache")
        .putHeader("X-Accel-Buffering", "no");
    if (rc.request().method() == HttpMethod.HEAD) {
      res.end();
      return;
    }
    res.closeHandler(v -> close());
    res.exceptionHandler(err -> close());
    res.write(": porthole event stream\n\n");
    consumer = vertx.eventBus().localConsumer(Addresses.TUNNELS_LIFECYCLE, m -> onLive(m.body()));
    consumer.completion()
        .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.EVENTS_LIST,
            new JsonObject().put("tunnel_id", tunnelId).put("since", lastSeq),
            new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS)))
        .onSuccess(reply -> {
          JsonArray backlog = reply.body().getJsonArray("events", new JsonArray());
          for (int i = 0; i < backlog.size(); i++) {
            send(backlog.getJsonObject(i));
          }
          backlogDone = true;
          early.forEach(this::send);
          early.clear();
        })
        .onFailure(err -> {
          log.warn("event stream: cannot read the event log: {}", err.getMessage());
          close();
          res.reset();
        });
    heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> {
      if (!closed && !res.writeQueueFull()) {
        res.write(": heartbeat\n\n");
      }
    });
  }

  private void onLive(JsonObject event) {
    if (closed || (!tunnelId.isEmpty() && !tunnelId.equals(event.getString("tunnel_id")))) {
      return;
    }
    if (backlogDone) {
      send(event);
    } else {
      early.add(event);
    }
  }

  private void send(JsonObject event) {
    long seq = event.getLong("seq", 0L);
    if (closed || seq <= lastSeq) {
      return;
    }
    if (res.writeQueueFull()) {
      log.info("event stream: client too slow at seq {}; disconnecting it (it can resume with Last-Event-ID)", lastSeq);
      close();
      res.end();
      return;
    }
    lastSeq = seq;
    res.write("id: " + seq + "\nevent: " + event.getString("type") + "\ndata: "
        + ApiResponses.goEncode(event) + "\n\n");
  }

  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (consumer != null) {
      consumer.unregister();
    }
    if (heartbeat >= 0) {
      vertx.cancelTimer(heartbeat);
    }
  }
}
