package dev.porthole.relay;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import org.apache.sshd.common.FactoryManager;
import org.apache.sshd.common.channel.ChannelEof;
import org.apache.sshd.common.forward.TcpipClientChannel;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.io.nio2.Nio2CompletionHandler;
import org.apache.sshd.common.io.nio2.Nio2Service;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactory;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactoryFactory;
import org.apache.sshd.common.io.nio2.Nio2Session;
import org.apache.sshd.common.util.Readable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MINA's NIO2 transport with one change: when a connection accepted on a forward listener reaches
 * end of stream, the tunnel gets {@code SSH_MSG_CHANNEL_EOF} and the socket stays open for the
 * reply (portr-protocol §3.1, §4.4: half-close in both directions). MINA 2.20 closes the whole
 * session on read EOF instead, which drops the reply of every request-then-half-close protocol.
 * The other direction (channel EOF → socket {@code shutdownOutput}) is MINA's own (SSHD-1055).
 * SSH sessions themselves keep MINA's behaviour.
 */
final class HalfCloseNio2 extends Nio2ServiceFactoryFactory {
  // Not named after this class: MINA's inherited logging uses the class name, and follows MINA's levels.
  private static final Logger LOG = LoggerFactory.getLogger("dev.porthole.relay.forward");

  @Override
  public IoServiceFactory create(FactoryManager manager) {
    return new Nio2ServiceFactory(manager, newExecutor(), newExecutor()) {
      @Override
      public Nio2Session createSession(Nio2Service service, IoHandler handler, AsynchronousSocketChannel socket,
          SocketAddress acceptanceAddress) throws Throwable {
        return new Session(service, getFactoryManager(), handler, socket, acceptanceAddress);
      }
    };
  }

  private static final class Session extends Nio2Session {
    Session(Nio2Service service, FactoryManager manager, IoHandler handler, AsynchronousSocketChannel socket,
        SocketAddress acceptanceAddress) throws IOException {
      super(service, manager, handler, socket, acceptanceAddress);
    }

    @Override
    protected void handleReadCycleCompletion(ByteBuffer buffer, Readable bufReader,
        Nio2CompletionHandler<Integer, Object> completionHandler, Integer result, Object attachment) {
      if (result >= 0 || !(getAttribute(TcpipClientChannel.class) instanceof TcpipClientChannel channel)
          || channel.getTcpipChannelType() != TcpipClientChannel.Type.Forwarded
          || channel.isEofSignalled() || !channel.isOpen()) {
        // Data, an SSH session, or the tunnel's other direction already ended: MINA's way.
        super.handleReadCycleCompletion(buffer, bufReader, completionHandler, result, attachment);
        return;
      }
      try {
        // Stop reading; the socket stays open until the tunnel's peer closes the channel.
        ChannelEof.send(channel);
      } catch (IOException e) {
        LOG.debug("half-close of {} failed: {}", channel, e.getMessage());
        close(true);
      }
    }
  }
}
