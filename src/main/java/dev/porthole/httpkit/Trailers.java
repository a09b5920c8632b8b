package dev.porthole.httpkit;

import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;

/** Response trailers through a vertx-http-proxy hop, which does not carry them in 5.0. */
public final class Trailers {
  private Trailers() {
  }

  /** Wraps the origin's response body so its trailers are copied onto ours when it ends. */
  public static void passThrough(ProxyContext ctx) {
    ProxyResponse response = ctx.response();
    HttpClientResponse origin = response.proxiedResponse();
    Body body = response.getBody();
    if (!ctx.isWebSocket() && origin != null && body != null) {
      HttpServerResponse out = ctx.request().proxiedRequest().response();
      response.setBody(Body.body(new TrailerCopy(body.stream(), origin, out), body.length(), body.mediaType()));
    }
  }

  /**
   * The response body stream, which copies the tunnel client's trailers onto our response when it
   * ends (vertx-http-proxy 5.0 does not carry trailers).
   */
  private static final class TrailerCopy implements ReadStream<Buffer> {
    private final ReadStream<Buffer> delegate;
    private final HttpClientResponse origin;
    private final HttpServerResponse out;

    TrailerCopy(ReadStream<Buffer> delegate, HttpClientResponse origin, HttpServerResponse out) {
      this.delegate = delegate;
      this.origin = origin;
      this.out = out;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      delegate.exceptionHandler(handler);
      return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
      delegate.handler(handler);
      return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
      delegate.pause();
      return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
      delegate.resume();
      return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
      delegate.fetch(amount);
      return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
      if (endHandler == null) {
        delegate.endHandler(null);
      } else {
        delegate.endHandler(v -> {
          MultiMap trailers = origin.trailers();
          if (trailers != null && !trailers.isEmpty() && out.isChunked()) {
            out.trailers().addAll(trailers);
          }
          endHandler.handle(v);
        });
      }
      return this;
    }
  }
}
