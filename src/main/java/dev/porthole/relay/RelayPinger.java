package dev.porthole.relay;

import dev.porthole.relay.ConnectionRegistry.ConnectionView;
import dev.porthole.relay.ConnectionRegistry.Type;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconciliation ping (portr-protocol §3.3): for every active connection, at most 16 at a time,
 * an HTTP connection is asked {@code X-Portr-Ping-Request: true} through the relay's own edge and a
 * TCP connection's public port is dialled. Only the edge's own 404 {@code unregistered-subdomain}
 * closes a record; other failures are logged.
 */
final class RelayPinger {
  private static final Logger log = LoggerFactory.getLogger(RelayPinger.class);
  static final int MAX_CONCURRENT = 16;
  static final long TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final ConnectionRegistry registry;
  private final HttpClient http;
  private final NetClient tcp;
  private final String edgeHost;
  private final Supplier<Integer> edgePort;
  private final Supplier<String> domain;
  private final String publicHost;
  private boolean running;

  RelayPinger(Vertx vertx, ConnectionRegistry registry, HttpClient http, NetClient tcp, String edgeHost,
      Supplier<Integer> edgePort, Supplier<String> domain, String publicHost) {
    this.vertx = vertx;
    this.registry = registry;
    this.http = http;
    this.tcp = tcp;
    this.edgeHost = edgeHost;
    this.edgePort = edgePort;
    this.domain = domain;
    this.publicHost = publicHost;
  }

  /** One round over the active connections; a round still running when the next is due is not doubled. */
  Future<Void> round() {
    if (running) {
      return Future.succeededFuture();
    }
    running = true;
    Deque<ConnectionView> queue = new ArrayDeque<>(registry.active());
    Promise<Void> done = Promise.promise();
    int[] inFlight = {0};
    Runnable[] next = new Runnable[1];
    next[0] = () -> {
      while (inFlight[0] < MAX_CONCURRENT && !queue.isEmpty()) {
        ConnectionView c = queue.poll();
        inFlight[0]++;
        ping(c).onComplete(ar -> {
          inFlight[0]--;
          next[0].run();
        });
      }
      if (inFlight[0] == 0 && queue.isEmpty()) {
        running = false;
        done.tryComplete();
      }
    };
    next[0].run();
    return done.future();
  }

  private Future<Void> ping(ConnectionView c) {
    if (c.type() == Type.HTTP) {
      return c.subdomain() == null ? closeMissing(c, "no subdomain") : pingHttp(c);
    }
    return c.port() == null ? closeMissing(c, "no port") : pingTcp(c);
  }

  private Future<Void> closeMissing(ConnectionView c, String what) {
    if (registry.closeUnrouted(c.id())) {
      log.info("ping(connection={}) closed: {}", c.id(), what);
    }
    return Future.succeededFuture();
  }

  private Future<Void> pingHttp(ConnectionView c) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setHost(edgeHost).setPort(edgePort.get()).setURI("/")
        .putHeader("Host", c.subdomain() + "." + domain.get())
        .putHeader("X-Portr-Ping-Request", "true")
        .setTimeout(TIMEOUT_MS);
    return http.request(options)
        // body() attached in send()'s own callback: chained one step later, a response that has
        // already ended can be missed when callbacks hop threads.
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> {
          if (resp.statusCode() == 404 && "true".equals(resp.getHeader("X-Portr-Error"))
              && "unregistered-subdomain".equals(resp.getHeader("X-Portr-Error-Reason"))) {
            if (registry.closeUnrouted(c.id())) {
              log.info("ping(connection={}, subdomain={}) closed: no route", c.id(), c.subdomain());
            }
          } else if (resp.statusCode() != 200) {
            log.debug("ping(connection={}, subdomain={}) answered {}", c.id(), c.subdomain(), resp.statusCode());
          }
          return (Void) null;
        })))
        .recover(err -> {
          log.debug("ping(connection={}, subdomain={}) failed: {}", c.id(), c.subdomain(), err.getMessage());
          return Future.succeededFuture();
        });
  }

  private Future<Void> pingTcp(ConnectionView c) {
    String host = RelayVerticle.dialable(publicHost);
    return tcp.connect(c.port(), host)
        .compose(socket -> socket.close())
        .recover(err -> {
          log.debug("ping(connection={}, port={}) failed: {}", c.id(), c.port(), err.getMessage());
          return Future.succeededFuture();
        });
  }

}
