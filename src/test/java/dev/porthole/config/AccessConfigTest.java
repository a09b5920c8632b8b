package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AccessConfigTest {

  @Test
  @DisplayName("access.ws_ping_interval_seconds: 30 s by default, like the other access keys validated by range "
      + "and type")
  void pingInterval() {
    assertThat(AccessConfig.from(ConfigDefaults.tree()).wsPingInterval()).isEqualTo(Duration.ofSeconds(30));
    JsonObject tree = ConfigDefaults.tree();
    tree.getJsonObject("access").put("ws_ping_interval_seconds", 5);
    assertThat(AccessConfig.from(tree).wsPingInterval()).isEqualTo(Duration.ofSeconds(5));
    tree.getJsonObject("access").put("ws_ping_interval_seconds", 0);
    assertThatThrownBy(() -> AccessConfig.from(tree)).isInstanceOf(ConfigException.class)
        .hasMessage("access.ws_ping_interval_seconds: must be between 1 and 86400, got 0");
    tree.getJsonObject("access").put("ws_ping_interval_seconds", "often");
    assertThatThrownBy(() -> AccessConfig.from(tree)).isInstanceOf(ConfigException.class)
        .hasMessage("access.ws_ping_interval_seconds: must be a whole number, got often");
  }
}
