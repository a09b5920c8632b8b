package dev.porthole.connect;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * TCP half-close for a Vert.x {@link NetSocket}, which has none: by default Netty closes the whole
 * connection when the peer shuts down its output, so a reply the peer still waits for is lost.
 * With {@link #allow} the connection stays open, and the peer's end of stream arrives as one empty
 * buffer in the socket's data handler, after every byte that came before it (it travels the same
 * inbound queue, so pausing the socket keeps the order). TCP never delivers an empty read, so the
 * empty buffer cannot be data.
 */
public final class HalfClose {
  private HalfClose() {
  }

  /** Call before any data is read (in the connect handler). */
  public static void allow(NetSocket socket) {
    ChannelHandlerContext ctx = ((NetSocketInternal) socket).channelHandlerContext();
    ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    ctx.pipeline().addBefore(ctx.name(), "porthole-half-close", new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext c, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
          c.fireChannelRead(Unpooled.EMPTY_BUFFER);
        }
        super.userEventTriggered(c, evt);
      }
    });
  }

  /** True for the buffer that stands for the peer's end of stream. */
  public static boolean isEnd(Buffer data) {
    return data.length() == 0;
  }
}
