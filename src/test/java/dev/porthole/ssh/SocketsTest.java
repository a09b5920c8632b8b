package dev.porthole.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SocketsTest {
  @Test
  @DisplayName("a session socket asked for after the cancel is never dialled")
  void cancelledBeforeDial() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Cancellation cancel = new Cancellation();
      cancel.cancel();
      Sockets.Session factory = new Sockets.Session(5_000, cancel);
      assertThatThrownBy(() -> factory.createSocket("127.0.0.1", server.getLocalPort()))
          .isInstanceOf(SocketException.class).hasMessage(Cancellation.SHUTTING_DOWN);
      server.setSoTimeout(200);
      assertThatThrownBy(server::accept).as("no connection reached the server")
          .isInstanceOf(java.net.SocketTimeoutException.class);
    }
  }

  @Test
  @DisplayName("a cancel after the dial closes the session socket, whatever JSch has got to")
  void cancelledAfterDial() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Cancellation cancel = new Cancellation();
      Sockets.Session factory = new Sockets.Session(5_000, cancel);
      cancel.onCancel(factory::close);
      Socket s = factory.createSocket("127.0.0.1", server.getLocalPort());
      try (Socket accepted = server.accept()) {
        assertThat(s.isConnected()).isTrue();
        cancel.cancel();
        assertThat(s.isClosed()).isTrue();
        accepted.setSoTimeout(5_000);
        assertThat(accepted.getInputStream().read()).as("the peer sees the close").isEqualTo(-1);
      }
    }
  }

  @Test
  @DisplayName("a dialled local socket reads in blocking mode and half-closes")
  void dialBlockingHalfClose() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
         Socket s = Sockets.dial("127.0.0.1", server.getLocalPort(), 5_000);
         Socket accepted = server.accept()) {
      assertThat(s.getChannel().isBlocking()).isTrue();
      assertThat(s.getTcpNoDelay()).isTrue();
      s.getOutputStream().write('x');
      s.shutdownOutput();
      accepted.setSoTimeout(5_000);
      assertThat(accepted.getInputStream().readAllBytes()).containsExactly('x');
      accepted.getOutputStream().write('y');
      accepted.close();
      s.setSoTimeout(5_000);
      assertThat(s.getInputStream().read()).isEqualTo('y');
    }
  }
}
