package dev.porthole.httpkit;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;

/**
 * An answer an edge gives itself (ping, 401, error pages) inside a vertx-http-proxy interceptor.
 * It is written straight to the server response, headers byte for byte: the proxy would rewrite
 * {@code Content-Type} from its media type ({@code text/plain;charset=utf-8}) and, on its
 * WebSocket path, expects an origin response behind every answer.
 */
public final class OwnResponse {
  private static final String KEY = "porthole.own-response";

  private final int status;
  private final MultiMap headers = MultiMap.caseInsensitiveMultiMap();
  private final Buffer body;

  private OwnResponse(int status, Buffer body) {
    this.status = status;
    this.body = body;
  }

  /** Records the answer on the context; returns the placeholder the interceptor hands back. */
  public static ProxyResponse answer(ProxyContext ctx, int status, Buffer body, String... headerPairs) {
    OwnResponse own = new OwnResponse(status, body == null ? Buffer.buffer() : body);
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      own.headers.add(headerPairs[i], headerPairs[i + 1]);
    }
    ctx.set(KEY, own);
    ctx.request().release();
    return ctx.request().response().setStatusCode(status);
  }

  /** Sends the recorded answer, or returns null when the response came from the origin. */
  public static Future<Void> sendIfOwn(ProxyContext ctx) {
    OwnResponse own = ctx.get(KEY, OwnResponse.class);
    if (own == null) {
      return null;
    }
    HttpServerResponse out = ctx.request().proxiedRequest().response();
    out.setStatusCode(own.status);
    out.headers().addAll(own.headers);
    if (ctx.request().getMethod() == HttpMethod.HEAD) {
      return out.putHeader("Content-Length", String.valueOf(own.body.length())).end();
    }
    return out.end(own.body);
  }
}
