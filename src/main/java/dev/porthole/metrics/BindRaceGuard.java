package dev.porthole.metrics;

import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;

/**
 * Vert.x 5.0.10 makes a server's metrics only once its socket is bound ({@code NetServerImpl}'s bind
 * listener): a connection accepted in between has no socket metric, and vertx-micrometer-metrics
 * then throws a NullPointerException on its first request, which leaves that request unanswered
 * for good. A client that polls the API while the app-server starts (a test runner, the bench)
 * hits it. This factory wraps Micrometer's and lets the server meters skip what has no metric:
 * such a connection is simply not measured.
 */
final class BindRaceGuard implements VertxMetricsFactory {
  private final VertxMetricsFactory delegate;

  BindRaceGuard(VertxMetricsFactory delegate) {
    this.delegate = delegate;
  }

  @Override
  public VertxMetrics metrics(VertxOptions options) {
    return new Guarded(delegate.metrics(options));
  }

  @Override
  public MetricsOptions newOptions() {
    return delegate.newOptions();
  }

  @Override
  public MetricsOptions newOptions(MetricsOptions options) {
    return delegate.newOptions(options);
  }

  @Override
  public MetricsOptions newOptions(JsonObject json) {
    return delegate.newOptions(json);
  }

  private static final class Guarded implements VertxMetrics {
    private final VertxMetrics d;

    Guarded(VertxMetrics d) {
      this.d = d;
    }

    @Override
    public EventBusMetrics createEventBusMetrics() {
      return d.createEventBusMetrics();
    }

    @Override
    @SuppressWarnings("unchecked")
    public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions options, SocketAddress localAddress) {
      HttpServerMetrics<Object, Object, Object> m =
          (HttpServerMetrics<Object, Object, Object>) d.createHttpServerMetrics(options, localAddress);
      return m == null ? null : new Server(m);
    }

    @Override
    public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remoteAddress, String type, String namespace) {
      return d.createClientMetrics(remoteAddress, type, namespace);
    }

    @Override
    public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(HttpClientOptions options) {
      return d.createHttpClientMetrics(options);
    }

    @Override
    @SuppressWarnings("unchecked")
    public TCPMetrics<?> createNetServerMetrics(NetServerOptions options, SocketAddress localAddress) {
      TCPMetrics<Object> m = (TCPMetrics<Object>) d.createNetServerMetrics(options, localAddress);
      return m == null ? null : new Tcp(m);
    }

    @Override
    public TCPMetrics<?> createNetClientMetrics(NetClientOptions options) {
      return d.createNetClientMetrics(options);
    }

    @Override
    public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions options) {
      return d.createDatagramSocketMetrics(options);
    }

    @Override
    public PoolMetrics<?, ?> createPoolMetrics(String poolType, String poolName, int maxPoolSize) {
      return d.createPoolMetrics(poolType, poolName, maxPoolSize);
    }

    @Override
    public boolean isMetricsEnabled() {
      return d.isMetricsEnabled();
    }

    @Override
    public void vertxCreated(io.vertx.core.Vertx vertx) {
      d.vertxCreated(vertx);
    }

    @Override
    public void close() {
      d.close();
    }
  }

  /** A net server's meters; a socket without its metric is skipped. */
  private static class Tcp implements TCPMetrics<Object> {
    private final TCPMetrics<Object> d;

    Tcp(TCPMetrics<Object> d) {
      this.d = d;
    }

    @Override
    public Object connected(SocketAddress remoteAddress, String remoteName) {
      return d.connected(remoteAddress, remoteName);
    }

    @Override
    public void disconnected(Object socket, SocketAddress remoteAddress) {
      if (socket != null) {
        d.disconnected(socket, remoteAddress);
      }
    }

    @Override
    public void bytesRead(Object socket, SocketAddress remoteAddress, long numberOfBytes) {
      if (socket != null) {
        d.bytesRead(socket, remoteAddress, numberOfBytes);
      }
    }

    @Override
    public void bytesWritten(Object socket, SocketAddress remoteAddress, long numberOfBytes) {
      if (socket != null) {
        d.bytesWritten(socket, remoteAddress, numberOfBytes);
      }
    }

    @Override
    public void exceptionOccurred(Object socket, SocketAddress remoteAddress, Throwable t) {
      if (socket != null) {
        d.exceptionOccurred(socket, remoteAddress, t);
      }
    }

    @Override
    public void close() {
      d.close();
    }
  }

  /** An HTTP server's meters; a request on a socket without its metric has none either, and is skipped. */
  private static final class Server extends Tcp implements HttpServerMetrics<Object, Object, Object> {
    private final HttpServerMetrics<Object, Object, Object> d;

    Server(HttpServerMetrics<Object, Object, Object> d) {
      super(d);
      this.d = d;
    }

    @Override
    public Object requestBegin(Object socket, HttpRequest request) {
      return socket == null ? null : d.requestBegin(socket, request);
    }

    @Override
    public void requestEnd(Object request, HttpRequest req, long bytesRead) {
      if (request != null) {
        d.requestEnd(request, req, bytesRead);
      }
    }

    @Override
    public void requestReset(Object request) {
      if (request != null) {
        d.requestReset(request);
      }
    }

    @Override
    public void responseBegin(Object request, HttpResponse response) {
      if (request != null) {
        d.responseBegin(request, response);
      }
    }

    @Override
    public Object responsePushed(Object socket, HttpMethod method, String uri, HttpResponse response) {
      return socket == null ? null : d.responsePushed(socket, method, uri, response);
    }

    @Override
    public void responseEnd(Object request, HttpResponse response, long bytesWritten) {
      if (request != null) {
        d.responseEnd(request, response, bytesWritten);
      }
    }

    @Override
    public Object connected(Object socket, Object request, ServerWebSocket webSocket) {
      return socket == null || request == null ? null : d.connected(socket, request, webSocket);
    }

    @Override
    public void disconnected(Object webSocket) {
      if (webSocket != null) {
        d.disconnected(webSocket);
      }
    }

    @Override
    public void requestRouted(Object request, String route) {
      if (request != null) {
        d.requestRouted(request, route);
      }
    }
  }
}
