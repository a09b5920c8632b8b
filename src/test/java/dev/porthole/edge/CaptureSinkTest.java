package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.Capture;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How the edge hands captures to the request log (issue 19): gathered for a moment and sent as one
 * message, from JSch's threads as from the event loop, and nothing left behind when the edge stops.
 */
@ExtendWith(VertxExtension.class)
class CaptureSinkTest {
  private static final CaptureSettings SETTINGS = new CaptureSettings(true, "tun-sink", "web", 3000, List.of());

  @Test
  @DisplayName("captures made together from a non-Vert.x thread arrive as one message, in their order")
  void gathered(Vertx vertx, VertxTestContext ctx) {
    List<Capture> messages = new CopyOnWriteArrayList<>();
    vertx.eventBus().<Capture>localConsumer(Addresses.REQUESTS_CAPTURE, m -> {
      messages.add(m.body());
      ctx.verify(() -> {
        assertThat(messages).hasSize(1);
        assertThat(m.body()).isInstanceOf(Capture.Batch.class);
        assertThat(((Capture.Batch) m.body()).captures()).extracting(c -> ((Capture.Exchange) c).url())
            .containsExactly("/0", "/1", "/2");
      });
      ctx.completeNow();
    }).completion().onComplete(ctx.succeeding(v -> {
      // A long gather window, so that the three are sure to be gathered together.
      CaptureSink sink = new CaptureSink(SETTINGS, vertx.eventBus(), (ContextInternal) vertx.getOrCreateContext(),
          new CopyBudget(1 << 20), 200);
      Thread jsch = new Thread(() -> {
        for (int i = 0; i < 3; i++) {
          sink.finish(sink.begin("web.example.test", "/" + i, "GET", "HTTP/1.1", MultiMap.caseInsensitiveMultiMap()));
        }
      }, "capture-sink-test-jsch");
      jsch.start();
    }));
  }

  @Test
  @DisplayName("the edge stops: what is gathered is sent at once, and what comes later is sent as it comes")
  void stopSendsWhatIsGathered(Vertx vertx, VertxTestContext ctx) {
    List<String> urls = new CopyOnWriteArrayList<>();
    vertx.eventBus().<Capture>localConsumer(Addresses.REQUESTS_CAPTURE, m -> {
      Capture.forEach(m.body(), c -> urls.add(((Capture.Exchange) c).url()));
      if (urls.size() == 3) {
        ctx.verify(() -> assertThat(urls).containsExactly("/before-1", "/before-2", "/after"));
        ctx.completeNow();
      }
    }).completion().onComplete(ctx.succeeding(v -> {
      // A gather window longer than the test's timeout: only the stop can send these.
      CaptureSink sink = new CaptureSink(SETTINGS, vertx.eventBus(), (ContextInternal) vertx.getOrCreateContext(),
          new CopyBudget(1 << 20), 600_000);
      sink.finish(sink.begin("web.example.test", "/before-1", "GET", "HTTP/1.1", MultiMap.caseInsensitiveMultiMap()));
      sink.finish(sink.begin("web.example.test", "/before-2", "GET", "HTTP/1.1", MultiMap.caseInsensitiveMultiMap()));
      sink.stop();
      sink.finish(sink.begin("web.example.test", "/after", "GET", "HTTP/1.1", MultiMap.caseInsensitiveMultiMap()));
    }));
  }
}
