package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.TunnelStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ReadyWait} against a stub manager: it reads the status when it starts, then only when a
 * lifecycle event of its tunnel arrives (no polling), retries only the end-to-end probe, ends at
 * the deadline, and leaves no consumer behind.
 */
@ExtendWith(VertxExtension.class)
class ReadyWaitTest {
  private static final String ID = "t-1";
  /** Three of the old poll intervals (200 ms): a poller would have asked three times by then. */
  private static final long QUIET_MS = 600;

  private Vertx vertx;
  private ReadyWait wait;
  private final AtomicReference<JsonObject> status = new AtomicReference<>();
  private final AtomicInteger gets = new AtomicInteger();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    wait = new ReadyWait(vertx, vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false)),
        vertx.createNetClient(new NetClientOptions().setConnectTimeout(1_000)));
    status.set(status(TunnelStatus.STARTING, null, null));
    vertx.eventBus().<JsonObject>localConsumer(Addresses.TUNNELS_GET, m -> {
      gets.incrementAndGet();
      JsonObject s = status.get();
      if (s == null) {
        m.fail(FailureCode.TUNNEL_NOT_FOUND.code(), "tunnel not found");
      } else {
        m.reply(s);
      }
    }).completion().await();
  }

  private static JsonObject status(String state, String type, String url) {
    JsonObject s = new JsonObject().put("id", ID).put("status", state).put("type", type == null ? "http" : type);
    if (url != null) {
      s.put("tunnel_url", url);
    }
    return s;
  }

  private void publish(String type) {
    vertx.eventBus().publish(Addresses.TUNNELS_LIFECYCLE, new JsonObject().put("tunnel_id", ID).put("type", type));
  }

  private static long in(long ms) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
  }

  /** A public side that answers the ping with 200 after {@code failures} 404s; counts the probes. */
  private Future<HttpServer> publicSide(int failures, AtomicInteger probes) {
    return vertx.createHttpServer().requestHandler(req -> {
      int n = probes.incrementAndGet();
      req.response().setStatusCode(n > failures ? 200 : 404).end();
    }).listen(0, "127.0.0.1");
  }

  @Test
  @DisplayName("a starting tunnel is read once, then again only when its started event arrives; 201 after the probe")
  void waitsOnTheLifecycleEvent(VertxTestContext ctx) {
    AtomicInteger probes = new AtomicInteger();
    publicSide(0, probes).onComplete(ctx.succeeding(server -> {
      wait.await(ID, in(10_000)).onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertThat(ready.getString("status")).isEqualTo(TunnelStatus.RUNNING);
        assertThat(probes.get()).isEqualTo(1);
        assertThat(gets.get()).as("first read, read on the event, confirmation after the probe").isEqualTo(3);
        ctx.completeNow();
      })));
      vertx.setTimer(QUIET_MS, t -> ctx.verify(() -> {
        assertThat(gets.get()).as("no polling while nothing happens").isEqualTo(1);
        // Another tunnel's event does not wake this wait.
        vertx.eventBus().publish(Addresses.TUNNELS_LIFECYCLE,
            new JsonObject().put("tunnel_id", "other").put("type", "started"));
        status.set(status(TunnelStatus.RUNNING, "http", "http://127.0.0.1:" + server.actualPort()));
        publish("started");
      }));
    }));
  }

  @Test
  @DisplayName("running but the public side not routed yet: only the probe repeats, then one confirming read")
  void probeRetriesWithoutPolling(VertxTestContext ctx) {
    AtomicInteger probes = new AtomicInteger();
    publicSide(3, probes).onComplete(ctx.succeeding(server -> {
      status.set(status(TunnelStatus.RUNNING, "http", "http://127.0.0.1:" + server.actualPort()));
      wait.await(ID, in(10_000)).onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertThat(probes.get()).isEqualTo(4);
        assertThat(gets.get()).as("first read and the confirmation only").isEqualTo(2);
        ctx.completeNow();
      })));
    }));
  }

  @Test
  @DisplayName("a TCP tunnel is ready when its public port accepts a connection")
  void tcpProbe(VertxTestContext ctx) {
    vertx.createNetServer().connectHandler(s -> s.close()).listen(0, "127.0.0.1").onComplete(ctx.succeeding(server -> {
      status.set(status(TunnelStatus.RUNNING, "tcp", "127.0.0.1:" + server.actualPort()));
      wait.await(ID, in(10_000)).onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertThat(ready.getString("type")).isEqualTo("tcp");
        ctx.completeNow();
      })));
    }));
  }

  @Test
  @DisplayName("a failed event ends the wait at once with the tunnel's last error")
  void failedEventEndsTheWait(VertxTestContext ctx) {
    wait.await(ID, in(10_000)).onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(err).isInstanceOf(IllegalStateException.class).hasMessage("tunnel t-1 is failed: boom");
      assertThat(gets.get()).isEqualTo(2);
      ctx.completeNow();
    })));
    vertx.setTimer(100, t -> {
      status.set(status(TunnelStatus.FAILED, "http", null).put("last_error", "boom"));
      publish("failed");
    });
  }

  @Test
  @DisplayName("an unhealthy tunnel is not probed; its reconnected event resumes the wait")
  void unhealthyWaitsForReconnected(VertxTestContext ctx) {
    AtomicInteger probes = new AtomicInteger();
    publicSide(0, probes).onComplete(ctx.succeeding(server -> {
      status.set(status(TunnelStatus.UNHEALTHY, "http", "http://127.0.0.1:" + server.actualPort()));
      wait.await(ID, in(10_000)).onComplete(ctx.succeeding(ready -> ctx.verify(() -> {
        assertThat(ready.getString("status")).isEqualTo(TunnelStatus.RUNNING);
        ctx.completeNow();
      })));
      vertx.setTimer(QUIET_MS, t -> ctx.verify(() -> {
        assertThat(probes.get()).as("no probe of an unhealthy tunnel").isZero();
        status.set(status(TunnelStatus.RUNNING, "http", "http://127.0.0.1:" + server.actualPort()));
        publish("reconnected");
      }));
    }));
  }

  @Test
  @DisplayName("the deadline ends the wait with ReadyTimeout, and a later event finds no consumer of it")
  void deadlineLeavesNothingBehind(VertxTestContext ctx) {
    long started = System.nanoTime();
    wait.await(ID, in(300)).onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(err).isInstanceOf(ReadyWait.ReadyTimeout.class);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isBetween(250L, 5_000L);
      int before = gets.get();
      publish("started");
      vertx.setTimer(QUIET_MS, t -> ctx.verify(() -> {
        assertThat(gets.get()).as("the wait's consumer is gone").isEqualTo(before);
        ctx.completeNow();
      }));
    })));
  }

  @Test
  @DisplayName("a deadline already passed fails at once, and an unknown tunnel fails with the manager's answer")
  void passedDeadlineAndUnknownTunnel(VertxTestContext ctx) {
    wait.await(ID, System.nanoTime() - 1).onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(err).isInstanceOf(ReadyWait.ReadyTimeout.class);
      assertThat(gets.get()).isZero();
      status.set(null);
      wait.await(ID, in(10_000)).onComplete(ctx.failing(unknown -> ctx.verify(() -> {
        assertThat(unknown).hasMessage("tunnel not found");
        ctx.completeNow();
      })));
    })));
  }
}
