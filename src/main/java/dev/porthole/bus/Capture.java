package dev.porthole.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the client-side HTTP data path ({@code edge/}) records, sent on {@link
 * Addresses#REQUESTS_CAPTURE} to the request log (portr-protocol §7). Local only, through a codec
 * that passes the object itself: bodies are up to 1 MiB and are never copied or encoded on the way.
 * Headers are already in their stored form: canonical names ({@code Content-Type}), values in
 * arrival order, the tunnel's redact list applied ({@code [redacted]}), {@code Host} not among
 * them; the request log writes them as Go's {@code json.Marshal} of {@code map[string][]string}.
 * Bodies hold at most the first {@link #MAX_BODY} bytes; the byte counts are the full sizes, so a
 * body is truncated iff its array is shorter than its count.
 */
public sealed interface Capture {
  /** Bodies and WebSocket payloads are stored up to this many bytes each. */
  int MAX_BODY = 1 << 20;

  /** Portr's replay marker: its first value is a capture's parent id; forwarded, never stored. */
  String REPLAYED_HEADER = "X-Portr-Replayed-Request-Id";
  /** A replay's pass past the tunnel's basic-auth gate (the edge's key); never forwarded or stored. */
  String REPLAY_KEY_HEADER = "X-Porthole-Replay-Key";
  /** On the response to a request carrying {@link #REPLAYED_HEADER}: the new capture's id. */
  String REQUEST_ID_HEADER = "X-Porthole-Request-Id";

  /** The methods a replay may use (Portr's replay's). */
  java.util.Set<String> REPLAY_METHODS = java.util.Set.of("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT",
      "TRACE");

  String CODEC = "porthole.capture";
  DeliveryOptions DELIVERY = new DeliveryOptions().setCodecName(CODEC).setLocalOnly(true);

  /** The approximate heap this capture holds, for the request log's byte bound. */
  long weight();

  /**
   * One HTTP request and its response (a 401 of the basic-auth gate and a 503 {@code
   * local-server-not-online} too; pings never).
   *
   * @param tunnelId the tunnel of this process that carried it
   * @param url path and query as received
   * @param protocol {@code HTTP/1.1}
   * @param bytesIn full request body size
   * @param bytesOut full response body size
   * @param durationMs request start to the response body fully read
   * @param parentId the first {@code X-Portr-Replayed-Request-Id}, or empty (then not replayed)
   * @param at when the exchange finished
   */
  record Exchange(String id, String tunnelId, String subdomain, int localport, String host, String url,
      String method, String protocol, Map<String, List<String>> requestHeaders, byte[] requestBody, long bytesIn,
      int status, Map<String, List<String>> responseHeaders, byte[] responseBody, long bytesOut, long durationMs,
      String parentId, Instant at) implements Capture {

    public boolean replayed() {
      return !parentId.isEmpty();
    }

    @Override
    public long weight() {
      return 512L + requestBody.length + responseBody.length;
    }
  }

  /**
   * A WebSocket handshake answered with 101 (its {@link Exchange}, with the same {@code
   * handshakeRequestId}, comes first).
   */
  record WsOpen(String sessionId, String handshakeRequestId, String tunnelId, String subdomain, int localport,
      String host, String url, String method, Map<String, List<String>> requestHeaders, int status,
      Map<String, List<String>> responseHeaders, Instant at) implements Capture {
    @Override
    public long weight() {
      return 512;
    }
  }

  /**
   * One frame, either way.
   *
   * @param direction {@code client} (public side → local service) or {@code server}
   * @param payload unmasked, at most {@link #MAX_BODY} bytes
   * @param payloadLength the frame's full payload length
   */
  record WsFrame(String sessionId, String direction, int opcode, boolean fin, byte[] payload, long payloadLength,
      Instant at) implements Capture {
    @Override
    public long weight() {
      return 128L + payload.length;
    }
  }

  /**
   * The session ended (either side closed the connection).
   *
   * @param reason an error text when it ended by an error, else empty
   */
  record WsClose(String sessionId, String reason, Instant at) implements Capture {
    @Override
    public long weight() {
      return 128;
    }
  }

  /**
   * Captures of one edge, in the order they were made, sent as one message (the edge gathers them
   * for a few milliseconds). Not nested; the request log queues (or drops and counts) each one.
   */
  record Batch(List<Capture> captures) implements Capture {
    @Override
    public long weight() {
      long w = 0;
      for (Capture c : captures) {
        w += c.weight();
      }
      return w;
    }
  }

  /** Each capture a message holds: the batch's, in order, or the one it is. */
  static void forEach(Capture c, java.util.function.Consumer<? super Capture> action) {
    if (c instanceof Batch b) {
      b.captures().forEach(action);
    } else {
      action.accept(c);
    }
  }

  /** Registers the pass-through codec; idempotent. */
  static void registerCodec(EventBus bus) {
    Codecs.registerOnce(bus, new LocalCodec());
  }

  /** Local delivery only: the object is immutable once sent and passed as it is. */
  final class LocalCodec implements MessageCodec<Capture, Capture> {
    @Override
    public void encodeToWire(Buffer buffer, Capture c) {
      throw new UnsupportedOperationException("captures never leave the process");
    }

    @Override
    public Capture decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException("captures never leave the process");
    }

    @Override
    public Capture transform(Capture c) {
      return c;
    }

    @Override
    public String name() {
      return CODEC;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
