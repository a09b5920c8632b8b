package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.JSchException;
import dev.porthole.testsupport.JschTunnel;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay's defences for a public deployment (issue "Trust": SSH trust). */
class RelayLimitsIT {

  @Test
  @DisplayName("failed SSH logins are throttled per source address: past the limit even the right secret is refused")
  void authFailuresThrottled(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, r -> r.put("max_auth_failures_per_minute", 3))) {
      String id = relay.reserve("tcp", null);
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> JschTunnel.connect(relay.sshPort(), id, "wrong-secret-key-000000"))
            .isInstanceOf(JSchException.class);
      }
      assertThatThrownBy(() -> JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET))
          .as("the right secret from a blocked address").isInstanceOf(JSchException.class);
    }
  }

  @Test
  @DisplayName("a connection that never logs in is closed after relay.auth_timeout_seconds")
  void authTimeout(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, r -> r.put("auth_timeout_seconds", 1));
         Socket s = new Socket("127.0.0.1", relay.sshPort())) {
      s.setSoTimeout((int) Timeouts.scaled(Duration.ofSeconds(10)).toMillis());
      s.getOutputStream().write("SSH-2.0-silent\r\n".getBytes());
      long begin = System.nanoTime();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      int n;
      do {
        n = in.read(buf);
      } while (n >= 0);
      long ms = (System.nanoTime() - begin) / 1_000_000;
      assertThat(ms).as("closed after about the timeout").isBetween(500L, 6_000L);
    }
  }

  @Test
  @DisplayName("relay.max_connections_per_key caps open SSH sessions per secret key; closing one frees its slot")
  void sessionsPerKey(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, r -> r.put("max_connections_per_key", 2))) {
      String id = relay.reserve("tcp", null);
      JschTunnel one = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
      JschTunnel two = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET);
      try {
        assertThatThrownBy(() -> JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET))
            .isInstanceOf(JSchException.class).hasMessageContaining("Auth fail");
        one.close();
        Timeouts.pollUntil(Duration.ofSeconds(10), "a slot to be freed", () -> {
          try (JschTunnel three = JschTunnel.connect(relay.sshPort(), id, TestRelay.SECRET)) {
            return true;
          } catch (JSchException e) {
            return false;
          }
        });
      } finally {
        one.close();
        two.close();
      }
    }
  }

  @Test
  @DisplayName("relay.max_reserved_per_key bounds unused reservations: 429 with Retry-After, other keys unaffected")
  void reservationFlood(@TempDir Path dir) throws Exception {
    try (TestRelay relay = TestRelay.start(dir, r -> r.put("max_reserved_per_key", 2))) {
      relay.reserve("http", "flood-1");
      relay.reserve("tcp", null);
      HttpResponse<String> third = relay.postConnection("application/json", new JsonObject()
          .put("connection_type", "http").put("secret_key", TestRelay.SECRET).put("subdomain", "flood-3").encode());
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(third.headers().firstValue("Retry-After")).hasValue("60");
      assertThat(new JsonObject(third.body()).getString("message")).startsWith("Too many reserved connections");
      HttpResponse<String> other = relay.postConnection("application/json", new JsonObject()
          .put("connection_type", "tcp").put("secret_key", TestRelay.OTHER_SECRET).encode());
      assertThat(other.statusCode()).isEqualTo(200);
    }
  }
}
