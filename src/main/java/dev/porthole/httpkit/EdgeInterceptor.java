package dev.porthole.httpkit;

import io.vertx.core.Future;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;

/**
 * The response half every porthole edge shares: answers it made itself ({@link OwnResponse}) go
 * out as they are; origin responses go through with their trailers.
 */
public abstract class EdgeInterceptor implements ProxyInterceptor {
  @Override
  public final Future<Void> handleProxyResponse(ProxyContext ctx) {
    Future<Void> own = OwnResponse.sendIfOwn(ctx);
    if (own != null) {
      return own;
    }
    rewriteResponse(ctx);
    Trailers.passThrough(ctx);
    return ctx.sendResponse();
  }

  /** Changes an origin response's headers before it goes out; nothing by default. */
  protected void rewriteResponse(ProxyContext ctx) {
  }
}
