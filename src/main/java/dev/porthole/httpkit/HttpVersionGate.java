package dev.porthole.httpkit;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.http.HttpConnection;

/**
 * Turns a request with an HTTP version porthole does not speak ({@code HTTP/9.9}, {@code FOO/1.1})
 * into an invalid request, which the server's {@code invalidRequestHandler} ({@link
 * InvalidRequests#JSON}) answers with a JSON 400 and a closed connection.
 *
 * <p>Without it, Vert.x 5.0 answers such a request with a bare 501 before any handler sees it, on
 * every server with no WebSocket handler; a WebSocket handler changes that, but then every upgrade
 * goes to it and none reaches the router, where SockJS and the access room take theirs. So the
 * app-server has no WebSocket handler and this step in its Netty pipeline, installed from the
 * server's connection handler, right after Vert.x's HTTP/1.x decoder. It reaches the pipeline
 * through Vert.x's connection class ({@code io.vertx.core.net.impl.ConnectionBase}, not a public
 * API): {@code BadInputIT}'s {@code HTTP/9.9} and {@code FOO/1.1} cases tell when an upgrade of
 * Vert.x moves it. HTTP/2 connections have no such decoder and are left as they are.
 */
@ChannelHandler.Sharable
public final class HttpVersionGate extends ChannelInboundHandlerAdapter {
  private static final String NAME = "porthole-http-version";
  private static final String DECODER = "httpDecoder";
  private static final HttpVersionGate INSTANCE = new HttpVersionGate();

  /** The cause an invalid request carries when its version was the problem. */
  public static final class UnsupportedVersion extends RuntimeException {
    UnsupportedVersion(String version) {
      super("unsupported HTTP version " + version, null, false, false);
    }
  }

  private HttpVersionGate() {
  }

  /** For {@code HttpServer.connectionHandler}: puts the gate behind the connection's HTTP/1.x decoder. */
  public static void install(HttpConnection conn) {
    if (conn instanceof io.vertx.core.net.impl.ConnectionBase base) {
      ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
      if (pipeline.get(DECODER) != null && pipeline.get(NAME) == null) {
        pipeline.addAfter(DECODER, NAME, INSTANCE);
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest req && req.decoderResult().isSuccess() && !spoken(req.protocolVersion())) {
      String version = req.protocolVersion().text();
      // The answer goes out as HTTP/1.1, whatever the request claimed.
      req.setProtocolVersion(HttpVersion.HTTP_1_1);
      req.setDecoderResult(DecoderResult.failure(new UnsupportedVersion(version)));
    }
    ctx.fireChannelRead(msg);
  }

  private static boolean spoken(HttpVersion v) {
    return v == HttpVersion.HTTP_1_1 || v == HttpVersion.HTTP_1_0;
  }
}
