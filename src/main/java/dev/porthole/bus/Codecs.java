package dev.porthole.bus;

import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/** The bus's own codecs, registered once per Vert.x instance. */
final class Codecs {
  private Codecs() {
  }

  /** Registers {@code codec} unless a codec of its name already is (another verticle registered it). */
  static void registerOnce(EventBus bus, MessageCodec<?, ?> codec) {
    synchronized (Codecs.class) {
      try {
        bus.registerCodec(codec);
      } catch (IllegalStateException alreadyRegistered) {
        // registered by another verticle of this Vert.x instance
      }
    }
  }
}
