package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AppServerConfigTest {
  @ParameterizedTest(name = "[{0}] loopback={1}")
  @CsvSource({
      "127.0.0.1, true",
      "localhost, true",
      "LOCALHOST, true",
      "LocalHost, true",
      "::1, true",
      "'[::1]', true",
      "127.1.2.3, true",
      "' 127.0.0.1 ', true",
      "0.0.0.0, false",
      "::, false",
      "192.0.2.10, false",
      "example.com, false",
      "localhost.example.com, false",
      "'', false",
  })
  @DisplayName("§10.3 #13 isLoopback (token required iff not loopback); the empty host is porthole's deviation: not loopback")
  void isLoopback(String host, boolean loopback) {
    assertThat(AppServerConfig.isLoopback(host)).isEqualTo(loopback);
  }

  @Test
  @DisplayName("a null host is not loopback")
  void nullHost() {
    assertThat(AppServerConfig.isLoopback(null)).isFalse();
  }

  @Test
  @DisplayName("§6.1 the empty host binds every IPv4 interface; others bind verbatim")
  void bindHost() {
    assertThat(new AppServerConfig("", 7778).bindHost()).isEqualTo("0.0.0.0");
    assertThat(new AppServerConfig("127.0.0.1", 7778).bindHost()).isEqualTo("127.0.0.1");
  }
}
