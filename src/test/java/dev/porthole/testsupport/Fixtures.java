package dev.porthole.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** Set-up and tear-down that many integration tests share. */
public final class Fixtures {
  private Fixtures() {
  }

  /**
   * Closes what a test class started, in the order given (app-servers before the relay they use),
   * skipping what never started: {@link AutoCloseable}s, Vert.x instances (bounded wait) and
   * executors.
   */
  public static void closeAll(Object... started) throws Exception {
    for (Object o : started) {
      if (o instanceof Vertx v) {
        v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } else if (o instanceof ExecutorService e) {
        e.shutdownNow();
      } else if (o instanceof AutoCloseable c) {
        c.close();
      } else if (o != null) {
        throw new IllegalArgumentException("cannot close " + o.getClass());
      }
    }
  }

  /** A TCP echo server on loopback that ends its side once the peer has ended its own. */
  public static NetServer echo(Vertx vertx) throws Exception {
    return vertx.createNetServer().connectHandler(so -> {
      so.handler(so::write);
      so.endHandler(v -> so.end());
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
