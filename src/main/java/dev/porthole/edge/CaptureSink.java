package dev.porthole.edge;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.ContextInternal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns an edge's traffic into {@link Capture} records on {@link Addresses#REQUESTS_CAPTURE}, fire
 * and forget (no consumer is not an error). Only exists when capture is enabled. All its work is
 * copying references: encoding happens in the request log, off the event loop.
 *
 * <p>Captures are gathered for at most {@link #GATHER_MS} (or {@link #GATHER_MAX} of them) and sent
 * as one {@link Capture.Batch}: one message per request woke the request log's event loop once per
 * request, from JSch's threads on the direct edge (bench P3: about a tenth of the app-server's CPU).
 * The request log writes in batches of its own anyway ({@code LINGER_MS}). Any thread; once
 * {@link #stop}ped, each capture is sent at once.
 */
final class CaptureSink {
  /** How long a capture waits for others before it is sent. */
  static final long GATHER_MS = 5;
  /** Sent at once when this many are waiting. */
  static final int GATHER_MAX = 256;

  private final CaptureSettings settings;
  private final EventBus bus;
  private final ContextInternal context;
  private final long gatherMs;
  private final CopyBudget budget;
  final CapturedHeaders headers;
  private final ConcurrentLinkedQueue<Capture> gathered = new ConcurrentLinkedQueue<>();
  private final AtomicInteger gatheredCount = new AtomicInteger();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();
  private volatile boolean stopped;

  /** @param context the edge's, where gathered captures are sent from */
  CaptureSink(CaptureSettings settings, EventBus bus, ContextInternal context, CopyBudget budget) {
    this(settings, bus, context, budget, GATHER_MS);
  }

  CaptureSink(CaptureSettings settings, EventBus bus, ContextInternal context, CopyBudget budget, long gatherMs) {
    this.settings = settings;
    this.bus = bus;
    this.context = context;
    this.gatherMs = gatherMs;
    this.budget = budget;
    this.headers = new CapturedHeaders(settings.redactHeaders());
    Capture.registerCodec(bus);
  }

  Recording begin(HttpServerRequest in) {
    String host = in.getHeader("Host");
    return new Recording(host == null ? "" : host, in.uri(), in.method().name(),
        in.version() == HttpVersion.HTTP_1_0 ? "HTTP/1.0" : "HTTP/1.1", headers, in.headers(), budget);
  }

  /** A recording of a request the direct edge decoded ({@link DirectConnection}); {@code host} may be null. */
  Recording begin(String host, String uri, String method, String protocol, io.vertx.core.MultiMap headers) {
    return new Recording(host == null ? "" : host, uri, method, protocol, this.headers, headers, budget);
  }

  /**
   * Sends the exchange once (a second call, e.g. a close after the end, does nothing) and gives its
   * copies back to the budget: from here on the request log's queue bounds them.
   */
  void finish(Recording r) {
    if (!r.finish()) {
      return;
    }
    long durationMs = r.elapsedMs();
    Capture.Exchange e = new Capture.Exchange(r.id, settings.tunnelId(), settings.subdomain(), settings.localport(), r.host, r.url,
        r.method, r.protocol, r.requestHeaders, r.requestBody.bytes(), r.requestBody.total(), r.status,
        r.responseHeaders == null ? Map.of() : r.responseHeaders, r.responseBody.bytes(), r.responseBody.total(),
        durationMs, r.parentId, Instant.now());
    r.release();
    send(e);
  }

  /** The handshake's exchange, then the session's start; returns the session id. */
  String open(Recording handshake) {
    finish(handshake);
    String session = UlidCreator.getMonotonicUlid().toString();
    send(new Capture.WsOpen(session, handshake.id, settings.tunnelId(), settings.subdomain(), settings.localport(),
        handshake.host, handshake.url, handshake.method, handshake.requestHeaders, handshake.status,
        handshake.responseHeaders, Instant.now()));
    return session;
  }

  /**
   * A parser that records the frames of one direction ({@code client} or {@code server}) of a
   * session; {@link WsFrameParser#close} it when that direction's stream is gone.
   */
  WsFrameParser frames(String session, String direction) {
    return new WsFrameParser(budget, (opcode, fin, payload, length) ->
        send(new Capture.WsFrame(session, direction, opcode, fin, payload, length, Instant.now())));
  }

  void close(String session, String reason) {
    send(new Capture.WsClose(session, reason, Instant.now()));
  }

  private void send(Capture c) {
    if (stopped) {
      synchronized (this) {
        flush(); // anything gathered goes first
        bus.send(Addresses.REQUESTS_CAPTURE, c, Capture.DELIVERY);
      }
      return;
    }
    gathered.add(c);
    if (gatheredCount.incrementAndGet() == GATHER_MAX) {
      context.execute(v -> flush());
    } else if (flushScheduled.compareAndSet(false, true)) {
      context.setTimer(gatherMs, id -> flush());
    }
    if (stopped) {
      flush(); // stopped meanwhile: this one may have missed the stop's flush
    }
  }

  /**
   * Sends what was gathered, in order, as one message. One at a time: two drains at once (a timer
   * and a stop) would each take some, and a WebSocket session's events could arrive out of order.
   */
  private synchronized void flush() {
    flushScheduled.set(false);
    List<Capture> batch = new ArrayList<>();
    Capture c;
    while ((c = gathered.poll()) != null) {
      gatheredCount.decrementAndGet();
      batch.add(c);
    }
    if (batch.size() == 1) {
      bus.send(Addresses.REQUESTS_CAPTURE, batch.get(0), Capture.DELIVERY);
    } else if (!batch.isEmpty()) {
      bus.send(Addresses.REQUESTS_CAPTURE, new Capture.Batch(batch), Capture.DELIVERY);
    }
  }

  /** The edge stops: what is gathered is sent now, and later captures (connections closing) at once. */
  void stop() {
    stopped = true;
    flush();
  }
}
