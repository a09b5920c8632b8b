package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.metrics.Metrics;
import dev.porthole.testsupport.Timeouts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.NetClient;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MetricsRouteTest {
  private final Metrics metrics = Metrics.create(true);
  /** Every answer buffer the route took, to see that each goes back to the pool. */
  private final List<ByteBuf> answers = new CopyOnWriteArrayList<>();
  private Vertx vertx;
  private int port;

  @BeforeEach
  void start() throws Exception {
    vertx = metrics.install(metrics.configure(Vertx.builder()).build());
    IntFunction<ByteBuf> pool = n -> {
      ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(n);
      answers.add(b);
      return b;
    };
    Promise<Integer> listening = Promise.promise();
    vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        Router router = Router.router(vertx);
        new MetricsRoute(vertx, pool).mount(router);
        return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
            .map(HttpServer::actualPort).onComplete(listening);
      }
    });
    port = listening.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("concurrent GET and HEAD scrapes, and one whose client hangs up, all answered; every pooled answer "
      + "buffer is released once written")
  void answersReleased() throws Exception {
    metrics.tunnelResponse(200);
    metrics.tunnelTraffic("T1", () -> 1234, () -> 5678);
    HttpClient client = vertx.createHttpClient();
    NetClient raw = vertx.createNetClient();
    try {
      // A scrape whose connection is gone before its answer is ready.
      raw.connect(port, "127.0.0.1").compose(so -> so.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
          .compose(v -> so.close())).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<Future<HttpClientResponse>> gets = new ArrayList<>();
      List<Future<Buffer>> bodies = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        HttpMethod method = i % 4 == 3 ? HttpMethod.HEAD : HttpMethod.GET;
        // body() inside send()'s callback: a tick later, 5.0.10 may have dropped the end (vert.x#6038).
        Promise<HttpClientResponse> head = Promise.promise();
        bodies.add(client.request(method, port, "127.0.0.1", "/metrics")
            .compose(req -> req.send().compose(resp -> {
              head.complete(resp);
              return resp.body();
            })));
        gets.add(head.future());
      }
      Future.all(bodies).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      String body = null;
      for (int i = 0; i < gets.size(); i++) {
        HttpClientResponse r = gets.get(i).result();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("Content-Type")).isEqualTo(Metrics.TEXT_004);
        if (r.request().getMethod() == HttpMethod.GET) {
          body = bodies.get(i).result().toString();
          assertThat(body).contains("porthole_tunnel_requests_total{status_class=\"2xx\"} 1.0")
              .contains("porthole_tunnel_sent_bytes_total{tunnel_id=\"T1\"} 5678\n");
        } else {
          assertThat(bodies.get(i).result().length()).isZero();
          assertThat(Integer.parseInt(r.getHeader("Content-Length"))).isGreaterThan(1000);
        }
      }
      assertThat(answers).isNotEmpty().hasSizeLessThanOrEqualTo(9);
      Timeouts.pollUntil(Duration.ofSeconds(10), "every answer buffer released",
          () -> answers.stream().allMatch(b -> b.refCnt() == 0));
    } finally {
      client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      raw.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
