package dev.porthole.requestlog;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.JsonBody;
import dev.porthole.config.RequestLogConfig;
import dev.porthole.metrics.MeterGroup;
import dev.porthole.metrics.Metrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the request log (portr-protocol §7): takes captures from the edges, hands them to its
 * {@link CaptureWriter} thread, answers queries from a worker executor with its own read
 * connections, publishes each committed request's summary, and lets a replay wait for its row.
 * Deployed before the tunnel manager, so captures always find it.
 */
public final class RequestLogVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RequestLogVerticle.class);
  static final int READERS = 2;
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 500;
  static final int MAX_WAITERS = 1_000;
  static final long STOP_LIMIT_MS = 10_000;
  /**
   * How many of the latest committed summaries the live feed's backlog keeps ({@code after_seq}):
   * a client resuming from further back gets what is kept, as with the lifecycle event stream.
   */
  static final int RECENT = 1_000;

  private final RequestLogConfig config;
  private final Clock clock;
  private final long retryMs;
  private final int busyTimeoutMs;
  private CaptureWriter writer;
  /** The writer's counts, while it runs. */
  private MeterGroup meters;
  private WorkerExecutor readers;
  private Replayer replayer;
  /** Set first thing in {@link #stop}: read connections are closed instead of pooled from then on. */
  private volatile boolean stopped;
  private final BlockingQueue<Connection> idle = new ArrayBlockingQueue<>(READERS);
  private final Map<String, List<Promise<JsonObject>>> waiters = new HashMap<>();
  private int waiting;
  /** The latest committed summaries with their seq, oldest first, ≤ {@link #RECENT}. */
  private final ArrayDeque<Store.Summary> recent = new ArrayDeque<>();
  private Context context;

  public RequestLogVerticle(RequestLogConfig config) {
    this(config, Clock.systemUTC(), config.retrySeconds() * 1000L, 5_000);
  }

  RequestLogVerticle(RequestLogConfig config, Clock clock, long retryMs, int busyTimeoutMs) {
    this.config = config;
    this.clock = clock;
    this.retryMs = retryMs;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  /** This verticle's context, where {@link #awaitCommitted} is called. */
  public Context context() {
    return context;
  }

  /** The writer, for tests (its stall hook). */
  CaptureWriter writer() {
    return writer;
  }

  @Override
  public Future<?> start() {
    context = vertx.getOrCreateContext();
    Capture.registerCodec(vertx.eventBus());
    JsonBody.registerCodec(vertx.eventBus());
    readers = vertx.createSharedWorkerExecutor("porthole-requestlog-reader", READERS, 30, TimeUnit.SECONDS);
    if (config.enabled()) {
      writer = new CaptureWriter(config.path(), config.queueSize(), config.maxRows(), config.retentionDays(),
          this::committed, clock, retryMs, busyTimeoutMs);
      writer.start();
      meters = Metrics.of(vertx).group();
      meters.functionCounter("porthole.request.log.dropped", "Captured requests the request log dropped instead of "
          + "writing (queue full, database unusable for long, refused rows)", null, writer, CaptureWriter::dropped);
      meters.functionCounter("porthole.request.log.written", "Captured requests written to the request log", null,
          writer, CaptureWriter::written);
    } else {
      log.info("request log: disabled (enable_request_logging: false)");
    }
    var bus = vertx.eventBus();
    bus.<Capture>localConsumer(Addresses.REQUESTS_CAPTURE, m -> {
      if (writer != null) {
        Capture.forEach(m.body(), writer::offer);
      }
    });
    bus.<JsonObject>localConsumer(Addresses.REQUESTS_LIST, this::list);
    bus.<JsonObject>localConsumer(Addresses.REQUESTS_GET, this::get);
    bus.<JsonObject>localConsumer(Addresses.REQUESTS_DELETE, this::delete);
    bus.<JsonObject>localConsumer(Addresses.REQUESTS_STATE, m -> m.reply(state()));
    replayer = new Replayer(vertx, this::detail, this::awaitStored);
    bus.<JsonObject>localConsumer(Addresses.REQUESTS_REPLAY, replayer::handle);
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (meters != null) {
      meters.close();
    }
    failWaiters("the request log is stopping");
    if (replayer != null) {
      replayer.close();
    }
    return vertx.executeBlocking(() -> {
      if (writer != null && !writer.stop(STOP_LIMIT_MS)) {
        log.warn("request log: the writer did not stop within {} ms", STOP_LIMIT_MS);
      }
      Connection c;
      while ((c = idle.poll()) != null) {
        close(c);
      }
      return null;
    }).eventually(() -> readers.close()).andThen(ar -> {
      // A query that was running when the pool was drained has put its connection back since.
      Connection c;
      while ((c = idle.poll()) != null) {
        close(c);
      }
    });
  }

  /** {@code porthole.requests.state}. */
  JsonObject state() {
    JsonObject o = new JsonObject().put("enabled", config.enabled());
    if (writer == null) {
      return o.put("state", "disabled").put("path", config.path().toString()).put("queued", 0).put("dropped", 0L)
          .put("written", 0L);
    }
    CaptureWriter.State s = writer.state();
    o.put("state", s.state());
    if (s.reason() != null) {
      o.put("reason", s.reason());
    }
    return o.put("path", config.path().toString()).put("queued", s.queued()).put("dropped", s.dropped())
        .put("written", s.written());
  }

  /**
   * Completes with the detail item once a request with this id is committed, or fails after
   * {@code timeoutMs}. Call it on this verticle's context, before the request can be captured.
   */
  public Future<JsonObject> awaitCommitted(String requestId, long timeoutMs) {
    if (writer == null) {
      return Future.failedFuture(new IllegalStateException("request logging is disabled"));
    }
    if (waiting >= MAX_WAITERS) {
      return Future.failedFuture(new IllegalStateException("too many requests waiting for the request log"));
    }
    Promise<JsonObject> p = Promise.promise();
    waiters.computeIfAbsent(requestId, k -> new ArrayList<>(1)).add(p);
    waiting++;
    long timer = vertx.setTimer(Math.max(1, timeoutMs), t -> {
      List<Promise<JsonObject>> list = waiters.get(requestId);
      if (list != null && list.remove(p)) {
        waiting--;
        if (list.isEmpty()) {
          waiters.remove(requestId);
        }
        p.tryFail(new TimeoutException("request " + requestId + " was not logged within " + timeoutMs + " ms"));
      }
    });
    return p.future().andThen(r -> vertx.cancelTimer(timer));
  }

  private void failWaiters(String why) {
    waiters.values().forEach(list -> list.forEach(p -> p.tryFail(new IllegalStateException(why))));
    waiters.clear();
    waiting = 0;
  }

  /** On the writer thread: back to the event loop, then publish and wake the waiters. */
  private void committed(List<CaptureWriter.Committed> batch) {
    context.runOnContext(v -> {
      for (CaptureWriter.Committed c : batch) {
        Store.Summary summary = Store.Summary.of(c.exchange(), c.loggedAt(), c.seq());
        recent.addLast(summary);
        if (recent.size() > RECENT) {
          recent.removeFirst();
        }
        // JSON is made for each consumer as it receives it, and not at all when no one listens
        vertx.eventBus().publish(Addresses.REQUESTS_CAPTURED, summary, JsonBody.LOCAL);
        List<Promise<JsonObject>> list = waiters.remove(c.exchange().id());
        if (list != null) {
          waiting -= list.size();
          JsonObject detail = Store.detail(c.exchange(), c.loggedAt());
          list.forEach(p -> p.tryComplete(detail.copy()));
        }
      }
    });
  }

  private void list(Message<JsonObject> m) {
    JsonObject q = m.body() == null ? new JsonObject() : m.body();
    int limit;
    try {
      limit = limit(q);
    } catch (IllegalArgumentException e) {
      m.fail(FailureCode.INVALID_REQUEST.code(), e.getMessage());
      return;
    }
    if (q.containsKey("after_seq")) {
      if (writer == null) {
        m.fail(FailureCode.LOG_UNAVAILABLE.code(), "request logging is disabled");
        return;
      }
      m.reply(new JsonObject().put("requests", recentAfter(q.getLong("after_seq", 0L), limit)));
      return;
    }
    Store.Cursor before = null;
    String raw = q.getString("before");
    if (raw != null && !raw.isEmpty()) {
      try {
        before = Store.Cursor.decode(raw);
      } catch (IllegalArgumentException e) {
        m.fail(FailureCode.INVALID_REQUEST.code(), "invalid cursor");
        return;
      }
    }
    Store.Cursor cursor = before;
    read(m, c -> {
      Store.Page page = Store.list(c, q.getString("tunnel_id"), q.getString("subdomain"), q.getString("filter"),
          limit, cursor);
      return new JsonObject().put("requests", new JsonArray(new ArrayList<>(page.items())))
          .put("next", page.next() == null ? null : page.next().encode());
    });
  }

  /** The kept summaries with seq above {@code after}, in seq order, at most {@code limit}. */
  private JsonArray recentAfter(long after, int limit) {
    List<Object> out = new ArrayList<>();
    Iterator<Store.Summary> newestFirst = recent.descendingIterator();
    int newer = 0;
    while (newestFirst.hasNext() && newestFirst.next().seq() > after) {
      newer++;
    }
    Iterator<Store.Summary> it = recent.iterator();
    for (int skip = recent.size() - newer; skip > 0; skip--) {
      it.next();
    }
    while (it.hasNext() && out.size() < limit) {
      out.add(it.next().toJson());
    }
    return new JsonArray(out);
  }

  private static int limit(JsonObject q) {
    Object v = q.getValue("limit");
    if (v == null) {
      return DEFAULT_LIMIT;
    }
    if (!(v instanceof Number n) || n.longValue() < 1 || n.longValue() > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT);
    }
    return n.intValue();
  }

  private void get(Message<JsonObject> m) {
    detail(m.body() == null ? null : m.body().getString("id")).onSuccess(m::reply).onFailure(err -> {
      ReplyException re = (ReplyException) err;
      m.fail(re.failureCode(), re.getMessage());
    });
  }

  private void delete(Message<JsonObject> m) {
    JsonObject q = m.body() == null ? new JsonObject() : m.body();
    String tunnel = q.getString("tunnel_id", "");
    String subdomain = q.getString("subdomain", "");
    if (tunnel.isEmpty() == subdomain.isEmpty()) {
      m.fail(FailureCode.INVALID_REQUEST.code(), "give either tunnel_id or subdomain");
      return;
    }
    if (writer == null) {
      m.fail(FailureCode.LOG_UNAVAILABLE.code(), "request logging is disabled");
      return;
    }
    Future.fromCompletionStage(writer.delete(c -> tunnel.isEmpty() ? Store.deleteBySubdomain(c, subdomain)
            : Store.deleteByTunnel(c, tunnel)), context)
        .onSuccess(n -> {
          // the backlog no longer offers what was deleted (commits before the delete are already in it)
          recent.removeIf(item -> tunnel.isEmpty() ? subdomain.equals(item.subdomain())
              : tunnel.equals(item.tunnelId()));
          m.reply(new JsonObject().put("deleted", n));
        })
        .onFailure(e -> m.fail(FailureCode.LOG_UNAVAILABLE.code(), e.getMessage()));
  }

  private static final class NotFound extends RuntimeException {
    NotFound(String message) {
      super(message, null, false, false);
    }
  }

  interface Query {
    JsonObject run(Connection c) throws SQLException;
  }

  /** Runs a query on a reader thread with a pooled read connection; answers the message. */
  private void read(Message<JsonObject> m, Query query) {
    query(query).onSuccess(m::reply).onFailure(err -> {
      ReplyException re = (ReplyException) err;
      m.fail(re.failureCode(), re.getMessage());
    });
  }

  /**
   * Runs a query on a reader thread with a pooled read connection; fails with a {@link
   * ReplyException} carrying {@code REQUEST_NOT_FOUND} or {@code LOG_UNAVAILABLE}.
   */
  private Future<JsonObject> query(Query query) {
    if (writer == null) {
      return Future.failedFuture(failure(FailureCode.LOG_UNAVAILABLE, "request logging is disabled"));
    }
    return readers.<JsonObject>executeBlocking(() -> {
      Connection c = idle.poll();
      if (c == null) {
        c = Schema.open(config.path().toString(), false, false, busyTimeoutMs);
      }
      boolean healthy = false;
      try {
        JsonObject result = query.run(c);
        healthy = true;
        return result;
      } finally {
        // Back to the pool only when fine, the log is on and not stopping; checked before it is
        // offered, so no other reader can take a connection that is about to be closed.
        if (!healthy || stopped || !"on".equals(writer.state().state()) || !idle.offer(c)) {
          close(c);
        }
      }
    }, false).recover(err -> {
      if (err instanceof NotFound) {
        return Future.failedFuture(failure(FailureCode.REQUEST_NOT_FOUND, err.getMessage()));
      }
      String why = err instanceof SQLException e ? Schema.message(e) : String.valueOf(err.getMessage());
      CaptureWriter.State s = writer.state();
      return Future.failedFuture(failure(FailureCode.LOG_UNAVAILABLE, s.reason() != null ? s.reason()
          : "cannot read " + config.path() + ": " + why));
    });
  }

  private static ReplyException failure(FailureCode code, String message) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code.code(), message);
  }

  /** A stored request's detail item; fails {@code REQUEST_NOT_FOUND}. */
  Future<JsonObject> detail(String id) {
    return query(c -> {
      JsonObject item = id == null ? null : Store.get(c, id);
      if (item == null) {
        throw new NotFound("request not found");
      }
      return item;
    });
  }

  /**
   * The detail item of a request once it is stored, whether it was committed before this call or
   * is committed within {@code timeoutMs} after it: the waiter is registered first, then the
   * database is read once.
   */
  Future<JsonObject> awaitStored(String requestId, long timeoutMs) {
    Future<JsonObject> committed = awaitCommitted(requestId, timeoutMs);
    detail(requestId).onSuccess(item -> {
      List<Promise<JsonObject>> list = waiters.remove(requestId);
      if (list != null) {
        waiting -= list.size();
        list.forEach(p -> p.tryComplete(item));
      }
    });
    return committed;
  }

  private static void close(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // a broken connection
    }
  }
}
