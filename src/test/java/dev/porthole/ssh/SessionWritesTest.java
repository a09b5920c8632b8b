package dev.porthole.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SessionWritesTest {
  /** What reaches the socket, one entry per write call. */
  private final List<String> writes = new ArrayList<>();
  private boolean failing;
  private ServerSocket server;
  private Socket socket;
  private Socket peer;
  private SessionWrites.Output out;

  @BeforeEach
  void connect() throws IOException {
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    socket = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    peer = server.accept();
    out = new SessionWrites.Output(socket, new OutputStream() {
      @Override
      public void write(int b) {
        throw new UnsupportedOperationException();
      }

      @Override
      public synchronized void write(byte[] b, int off, int len) throws IOException {
        if (failing) {
          throw new IOException("Broken pipe");
        }
        writes.add(new String(b, off, len, StandardCharsets.ISO_8859_1));
      }
    });
  }

  @AfterEach
  void close() throws IOException {
    peer.close();
    socket.close();
    server.close();
  }

  /** A packet as JSch's IO.put sends it: one write, then a flush. */
  private void put(String packet) throws IOException {
    byte[] b = packet.getBytes(StandardCharsets.ISO_8859_1);
    out.write(b, 0, b.length);
    out.flush();
  }

  @Test
  @DisplayName("outside a round each packet is written at once, uncopied, as JSch sends it")
  void outsideARound() throws IOException {
    put("a");
    assertThat(writes).containsExactly("a");
    put("bb");
    assertThat(writes).containsExactly("a", "bb");
  }

  @Test
  @DisplayName("a round's packets leave in one write when it ends, in order")
  void oneWritePerRound() {
    SessionWrites.batched(() -> {
      try {
        put("one;");
        put("two;");
        put("three;");
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      assertThat(writes).as("nothing written during the round").isEmpty();
    });
    assertThat(writes).containsExactly("one;two;three;");
    put2("after");
    assertThat(writes).containsExactly("one;two;three;", "after");
  }

  @Test
  @DisplayName("another thread's flush during a round sends what the round gathered first, in sequence order")
  void anotherThreadFlushes() throws Exception {
    SessionWrites.batched(() -> {
      try {
        put("answer;");
        CompletableFuture.runAsync(() -> put2("window-adjust;")).get(10, TimeUnit.SECONDS);
        put("next;");
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertThat(writes).containsExactly("answer;window-adjust;", "next;");
  }

  @Test
  @DisplayName("a packet of the gathering limit or more goes straight out, after what was gathered")
  void bigPacket() {
    String big = "x".repeat(SessionWrites.GATHER_LIMIT);
    SessionWrites.batched(() -> {
      try {
        put("small;");
        put(big);
        put("tail;");
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    });
    assertThat(writes).containsExactly("small;", big, "tail;");
  }

  @Test
  @DisplayName("a round that throws still sends what it gathered")
  void roundThrows() {
    assertThatThrownBy(() -> SessionWrites.batched(() -> {
      put2("kept;");
      throw new IllegalStateException("a bug");
    })).isInstanceOf(IllegalStateException.class);
    assertThat(writes).containsExactly("kept;");
  }

  @Test
  @DisplayName("a write that fails at the round's end closes the socket; later writes fail at once")
  void failureAtTheEnd() throws Exception {
    SessionWrites.batched(() -> {
      put2("lost;");
      failing = true;
    });
    assertThat(socket.isClosed()).isTrue();
    assertThat(peer.getInputStream().read()).as("the peer sees the end").isEqualTo(-1);
    failing = false;
    assertThatThrownBy(() -> put("later")).isInstanceOf(IOException.class).hasMessageContaining("Broken pipe");
    assertThat(writes).isEmpty();
  }

  private void put2(String packet) {
    try {
      put(packet);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
