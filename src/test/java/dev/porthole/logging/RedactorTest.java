package dev.porthole.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RedactorTest {
  @Test
  @DisplayName("registered secrets and the secret half of Portr SSH user names are masked")
  void masks() {
    Redactor.register("my-registered-secret-123");
    assertThat(Redactor.redact("key=my-registered-secret-123 ok")).isEqualTo("key=[redacted] ok");
    assertThat(Redactor.redact("ServerSessionImpl[01M83QX1KYPRWQEY1ZXXXMCPSX:ph_LN6s4oBx4G@/127.0.0.1:5]"))
        .isEqualTo("ServerSessionImpl[01M83QX1KYPRWQEY1ZXXXMCPSX:[redacted]@/127.0.0.1:5]");
    assertThat(Redactor.redact("nothing secret at 10:00")).isEqualTo("nothing secret at 10:00");
    assertThat(Redactor.redact(null)).isNull();
  }
}
