package dev.porthole.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * A local message body that its consumers receive as a {@link JsonObject}, made for each consumer
 * when it is delivered: a publish that no one listens to builds no JSON at all. The request log's
 * live feed ({@link Addresses#REQUESTS_CAPTURED}) publishes one per committed request, mostly to
 * no one. Consumers see a plain {@code JsonObject}, a fresh one each, as with the JSON codec.
 */
public interface JsonBody {
  /** A new object each call. */
  JsonObject toJson();

  /** Local delivery with this codec. */
  DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true).setCodecName(Codec.NAME);

  /** Registers the codec once per Vert.x instance; later calls find it there. */
  static void registerCodec(EventBus bus) {
    Codecs.registerOnce(bus, new Codec());
  }

  /** Local only: the body becomes JSON in {@link #transform}, once per consumer. */
  final class Codec implements MessageCodec<JsonBody, JsonObject> {
    static final String NAME = "porthole.json-body";

    @Override
    public void encodeToWire(Buffer buffer, JsonBody body) {
      throw new UnsupportedOperationException("published locally only");
    }

    @Override
    public JsonObject decodeFromWire(int pos, Buffer buffer) {
      throw new UnsupportedOperationException("published locally only");
    }

    @Override
    public JsonObject transform(JsonBody body) {
      return body.toJson();
    }

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public byte systemCodecID() {
      return -1;
    }
  }
}
