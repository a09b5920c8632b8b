package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.AdvertisedWindow;
import dev.porthole.testsupport.JschTunnel;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's SSH channel window and packet size ({@code relay.ssh_window_bytes},
 * {@code relay.ssh_packet_bytes}), as a client sees them: what the relay advertises when it opens a
 * {@code forwarded-tcpip} channel for a public connection.
 */
class RelayChannelWindowIT {
  @Test
  @DisplayName("by default the relay's channels advertise an 8 MiB window and 64 KiB packets (MINA's own: 2 MiB, 32 KiB)")
  void defaults(@TempDir Path dir) throws Exception {
    assertThat(advertised(dir, relay -> { })).isEqualTo(new AdvertisedWindow.Seen(8L * 1024 * 1024, 64 * 1024));
  }

  @Test
  @DisplayName("relay.ssh_window_bytes and relay.ssh_packet_bytes are what the channels advertise")
  void configured(@TempDir Path dir) throws Exception {
    long window = 3L * 1024 * 1024 + 4096;
    assertThat(advertised(dir, relay -> relay.put("ssh_window_bytes", window).put("ssh_packet_bytes", 16384)))
        .isEqualTo(new AdvertisedWindow.Seen(window, 16384));
  }

  /** Starts a relay, forwards a TCP port with JSch and connects to it once: what its channel advertised. */
  private static AdvertisedWindow.Seen advertised(Path dir, Consumer<JsonObject> tweak) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, tweak)) {
      String id = relay.reserve("tcp", null);
      BlockingQueue<AdvertisedWindow.Seen> seen = AdvertisedWindow.queue();
      try (JschTunnel t = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
        int port = t.forwardTcpToDaemon(AdvertisedWindow.class, new Object[] {seen});
        try (Socket s = new Socket("127.0.0.1", port)) {
          AdvertisedWindow.Seen first = seen.poll(Timeouts.scaled(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS);
          assertThat(first).as("a forwarded-tcpip channel opened for the public connection").isNotNull();
          return first;
        }
      }
    }
  }
}
