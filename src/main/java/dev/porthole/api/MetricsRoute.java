package dev.porthole.api;

import dev.porthole.httpkit.ApiResponses;
import dev.porthole.metrics.Metrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics}: every meter of the process (docs/metrics.md) in Prometheus text format
 * 0.0.4, or OpenMetrics 1.0 when {@code Accept} asks for it. Behind the API's credential (scope
 * {@code metrics}, {@link ApiGuard#scopeFor}); 404 when {@code metrics.enabled} is false. The
 * scrape renders every series, a thousand tunnels' included, off the event loop on one thread of
 * its own ({@code porthole-metrics}: the shared worker pool would grow to all its threads, one
 * per scrape, and keep them); scrapes that arrive while a render of their format is under way get
 * that render's answer instead of queueing another. The answer is a pooled direct buffer, released
 * once every scrape that shares it has been written.
 */
final class MetricsRoute {
  private static final Logger log = LoggerFactory.getLogger(MetricsRoute.class);
  static final String PATH = "/metrics";

  private final Vertx vertx;
  private final WorkerExecutor renderer;
  private final IntFunction<ByteBuf> answers;
  /** The render under way per content type; touched on the HTTP verticle's event loop only. */
  private final Map<String, Render> rendering = new HashMap<>();

  /**
   * One render and the scrapes answered with it. Its answer is a pooled direct buffer ({@link
   * Metrics#scrape(String, IntFunction)}), released when the last of them has been written or given up.
   */
  private static final class Render {
    final Future<ByteBuf> answer;
    /** Scrapes not yet written; event loop only. */
    int waiters;

    Render(Future<ByteBuf> answer) {
      this.answer = answer;
    }

    void done() {
      if (--waiters == 0 && answer.succeeded()) {
        answer.result().release();
      }
    }
  }

  /** Call from the HTTP verticle's start: its executor closes with the verticle. */
  MetricsRoute(Vertx vertx) {
    this(vertx, ByteBufAllocator.DEFAULT::directBuffer);
  }

  /** @param answers where the answers' buffers come from: Netty's pool (Vert.x's too), or a test's */
  MetricsRoute(Vertx vertx, IntFunction<ByteBuf> answers) {
    this.vertx = vertx;
    this.answers = answers;
    this.renderer = vertx.createSharedWorkerExecutor(Metrics.WORKER, 1);
  }

  void mount(Router router) {
    HttpVerticle.get(router, PATH, this::scrape);
    router.routeWithRegex(HttpVerticle.path(PATH)).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, HEAD"));
  }

  private void scrape(RoutingContext rc) {
    Metrics metrics = Metrics.of(vertx);
    if (!metrics.enabled()) {
      ApiResponses.message(rc, 404, "metrics are off (metrics.enabled: false)");
      return;
    }
    String type = Metrics.contentType(rc.request().getHeader("Accept"));
    Render render = rendering.get(type);
    if (render == null) {
      Render started = new Render(renderer.executeBlocking(() -> metrics.scrape(type, answers), false));
      rendering.put(type, started);
      started.answer.onComplete(ar -> rendering.remove(type));
      render = started;
    }
    Render joined = render;
    joined.waiters++;
    joined.answer.onComplete(ar -> {
      if (rc.response().ended() || rc.response().closed()) {
        joined.done();
        return;
      }
      if (ar.failed()) {
        joined.done();
        log.error("GET /metrics failed", ar.cause());
        ApiResponses.message(rc, 500, "internal error");
        return;
      }
      ByteBuf body = ar.result();
      rc.response().setStatusCode(200).putHeader("Content-Type", type);
      if (rc.request().method() == HttpMethod.HEAD) {
        rc.response().putHeader("Content-Length", String.valueOf(body.readableBytes())).end();
        joined.done();
      } else {
        rc.response().end(BufferInternal.buffer(body)).onComplete(written -> joined.done());
      }
    });
  }
}
