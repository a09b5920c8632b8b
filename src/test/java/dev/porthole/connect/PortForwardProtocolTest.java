package dev.porthole.connect;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PortForwardProtocolTest {
  @Test
  @DisplayName("eof is the JSON object of type eof, however it is spaced; any other text is not")
  void eof() {
    assertThat(PortForwardProtocol.EOF).isEqualTo("{\"type\":\"eof\"}");
    assertThat(PortForwardProtocol.isEof(PortForwardProtocol.EOF)).isTrue();
    assertThat(PortForwardProtocol.isEof(" { \"type\" : \"eof\", \"x\": 1 } ")).isTrue();
    assertThat(PortForwardProtocol.isEof("{\"type\":\"EOF\"}")).isFalse();
    assertThat(PortForwardProtocol.isEof("{\"type\":5}")).isFalse();
    assertThat(PortForwardProtocol.isEof("[\"eof\"]")).isFalse();
    assertThat(PortForwardProtocol.isEof("eof")).isFalse();
    assertThat(PortForwardProtocol.isEof("")).isFalse();
  }

  @Test
  @DisplayName("close codes in words, with the reason when there is one")
  void describe() {
    assertThat(PortForwardProtocol.describe(PortForwardProtocol.TUNNEL_STOPPED, "tunnel stopped"))
        .isEqualTo("the tunnel was stopped (4404, tunnel stopped)");
    assertThat(PortForwardProtocol.describe(PortForwardProtocol.IDLE, "")).isEqualTo("idle for too long (4008)");
    assertThat(PortForwardProtocol.describe(PortForwardProtocol.GOING_AWAY, null))
        .isEqualTo("the app-server is shutting down (1001)");
    assertThat(PortForwardProtocol.describe((short) 4999, "why")).isEqualTo("closed (4999, why)");
  }
}
