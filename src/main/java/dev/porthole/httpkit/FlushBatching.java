package dev.porthole.httpkit;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;

/**
 * Lets a connection's writes that happen outside a read (an event-bus delivery, a reply that came
 * back over the bus, a proxied chunk) share one socket write per turn of its event loop instead of
 * one each: Netty's {@link FlushConsolidationHandler} at the head of the pipeline, consolidating
 * also when no read is in progress, so a flush runs after the tasks already queued on that loop.
 *
 * <p>Why: the bridge's fan-out writes one frame per (event, client), each a {@code write(2)} of its
 * own and, on loopback, the reader's receive path too; with 100 clients and 20 events at once that
 * was most of the event loop's time per delivery (measured on the bridge alone, 100 clients and 20
 * events at a time: about 28 → 17 µs of event-loop CPU per delivery). Nothing is held back past the current turn of the loop, a
 * close flushes first, and backpressure is unchanged (Netty counts a write as pending when it is
 * written, not when it is flushed).
 */
public final class FlushBatching {
  private static final String NAME = "porthole-flush-batching";
  /** Flushes that go through at once when this many come within one read. */
  private static final int FLUSH_AFTER = 256;

  private FlushBatching() {
  }

  /** For {@code HttpServer.connectionHandler}; reaches the pipeline as {@link HttpVersionGate} does. */
  public static void install(HttpConnection conn) {
    if (conn instanceof io.vertx.core.net.impl.ConnectionBase base) {
      ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
      if (pipeline.get(NAME) == null) {
        pipeline.addFirst(NAME, new FlushConsolidationHandler(FLUSH_AFTER, true));
      }
    }
  }
}
