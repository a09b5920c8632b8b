package dev.porthole.edge;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.time.Instant;
import java.util.Map;

/**
 * Turns an edge's traffic into {@link Capture} records on {@link Addresses#REQUESTS_CAPTURE}, fire
 * and forget (no consumer is not an error). Only exists when capture is enabled. All its work is
 * copying references: encoding happens in the request log, off the event loop.
 */
final class CaptureSink {
  private final CaptureSettings settings;
  private final EventBus bus;
  private final CopyBudget budget;
  final CapturedHeaders headers;

  CaptureSink(CaptureSettings settings, EventBus bus, CopyBudget budget) {
    this.settings = settings;
    this.bus = bus;
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
    bus.send(Addresses.REQUESTS_CAPTURE, c, Capture.DELIVERY);
  }
}
