package dev.porthole.api;

import dev.porthole.httpkit.ApiResponses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bus feed as Server-Sent Events ({@code id:} = the item's {@code seq}, {@code event:} = its
 * name, {@code data:} = its JSON): {@code /api/v1/events/stream} (lifecycle events) and {@code
 * /api/v1/requests/stream} (captured requests). From after {@code Last-Event-ID} (or {@code
 * ?since=}) on, then live; a comment every 15 s keeps proxies from closing it. It subscribes before
 * reading the backlog, reads the backlog page by page until a page is short, and drops duplicates by
 * seq, so a resume misses nothing and repeats nothing. A client too slow to keep up is disconnected
 * (it resumes with its last id) rather than buffered without bound.
 */
final class EventStream {
  private static final Logger log = LoggerFactory.getLogger(EventStream.class);
  static final long HEARTBEAT_MS = 15_000;

  /** What one stream shows. */
  record Feed(String what, String liveAddress, Predicate<JsonObject> filter, String eventKey, String eventName,
      int pageSize, LongFunction<Future<JsonArray>> backlogAfter) {
  }

  private final Vertx vertx;
  private final RoutingContext rc;
  private final HttpServerResponse res;
  private final Feed feed;
  private long lastSeq;
  private boolean backlogDone;
  private final List<JsonObject> early = new ArrayList<>();
  private MessageConsumer<JsonObject> consumer;
  private long heartbeat = -1;
  private boolean closed;

  /** @param since the last seq the client has; null: live items only, no backlog */
  EventStream(Vertx vertx, RoutingContext rc, Feed feed, Long since) {
    this.vertx = vertx;
    this.rc = rc;
    this.res = rc.response();
    this.feed = feed;
    this.lastSeq = since == null ? Long.MAX_VALUE : since;
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
    res.write(": porthole " + feed.what() + " stream\n\n");
    consumer = vertx.eventBus().localConsumer(feed.liveAddress(), m -> onLive(m.body()));
    if (lastSeq == Long.MAX_VALUE) {
      // Live only: the first live item sets where the stream is.
      lastSeq = -1;
      backlogDone = true;
    } else {
      consumer.completion().onSuccess(v -> readBacklog());
    }
    heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> {
      if (!closed && !res.writeQueueFull()) {
        res.write(": heartbeat\n\n");
      }
    });
  }

  private void readBacklog() {
    if (closed) {
      return;
    }
    feed.backlogAfter().apply(lastSeq)
        .onSuccess(page -> {
          for (int i = 0; i < page.size(); i++) {
            JsonObject item = page.getJsonObject(i);
            if (feed.filter().test(item)) {
              send(item);
            } else {
              lastSeq = Math.max(lastSeq, item.getLong("seq", 0L));
            }
          }
          if (page.size() >= feed.pageSize() && !closed) {
            readBacklog();
            return;
          }
          backlogDone = true;
          early.forEach(this::send);
          early.clear();
        })
        .onFailure(err -> {
          log.warn("{} stream: cannot read the backlog: {}", feed.what(), err.getMessage());
          close();
          res.reset();
        });
  }

  private void onLive(JsonObject item) {
    if (closed || !feed.filter().test(item)) {
      return;
    }
    if (backlogDone) {
      send(item);
    } else {
      early.add(item);
    }
  }

  private void send(JsonObject item) {
    long seq = item.getLong("seq", 0L);
    if (closed || seq <= lastSeq) {
      return;
    }
    if (res.writeQueueFull()) {
      log.info("{} stream: client too slow at seq {}; disconnecting it (it can resume with Last-Event-ID)",
          feed.what(), lastSeq);
      close();
      res.end();
      return;
    }
    lastSeq = seq;
    String name = feed.eventKey() == null ? feed.eventName() : item.getString(feed.eventKey());
    res.write("id: " + seq + "\nevent: " + name + "\ndata: " + ApiResponses.goEncode(item) + "\n\n");
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
