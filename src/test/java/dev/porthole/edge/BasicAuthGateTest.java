package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BasicAuthGateTest {
  private static String basic(String userPass) {
    return "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("§4.3 no configured credential: the gate is off and allows everything")
  void disabledAllowsAll() {
    BasicAuthGate gate = new BasicAuthGate("");
    assertThat(gate.enabled()).isFalse();
    assertThat(gate.allows(null)).isTrue();
    assertThat(gate.allows("")).isTrue();
    assertThat(gate.allows("Basic !!!")).isTrue();
    assertThat(gate.allows(basic("anyone:anything"))).isTrue();
  }

  @Test
  @DisplayName("§10.4 basic_auth_test: the right credentials pass; the scheme is case-insensitive")
  void rightCredentialsPass() {
    BasicAuthGate gate = new BasicAuthGate("admin:secret");
    assertThat(gate.enabled()).isTrue();
    String encoded = Base64.getEncoder().encodeToString("admin:secret".getBytes(StandardCharsets.UTF_8));
    assertThat(gate.allows("Basic " + encoded)).isTrue();
    assertThat(gate.allows("basic " + encoded)).isTrue();
    assertThat(gate.allows("BASIC " + encoded)).isTrue();
  }

  @Test
  @DisplayName("§10.4 basic_auth_test: wrong credentials are refused")
  void wrongCredentialsRefused() {
    BasicAuthGate gate = new BasicAuthGate("admin:secret");
    assertThat(gate.allows(basic("admin:wrong"))).isFalse();
    assertThat(gate.allows(basic("root:secret"))).isFalse();
    assertThat(gate.allows(basic("admin:secret "))).isFalse();
    assertThat(gate.allows(basic("admin:"))).isFalse();
  }

  @Test
  @DisplayName("§4.3 a missing or non-Basic Authorization header is refused")
  void missingHeaderRefused() {
    BasicAuthGate gate = new BasicAuthGate("admin:secret");
    assertThat(gate.allows(null)).isFalse();
    assertThat(gate.allows("")).isFalse();
    assertThat(gate.allows("Basic")).isFalse();
    assertThat(gate.allows("Bearer admin:secret")).isFalse();
    assertThat(gate.allows("Basic" + basic("admin:secret").substring(6))).isFalse();
  }

  @Test
  @DisplayName("§4.3 a value that is not base64 is refused")
  void nonBase64Refused() {
    BasicAuthGate gate = new BasicAuthGate("admin:secret");
    assertThat(gate.allows("Basic admin:secret")).isFalse();
    assertThat(gate.allows("Basic !!!!")).isFalse();
    assertThat(gate.allows("Basic  " + basic("admin:secret").substring(6))).isFalse();
  }

  @Test
  @DisplayName("§4.3 base64 must be standard padded base64 (Go's StdEncoding): unpadded is refused")
  void unpaddedBase64Refused() {
    BasicAuthGate gate = new BasicAuthGate("admin:secret1");
    String padded = basic("admin:secret1");
    assertThat(padded).endsWith("==");
    assertThat(gate.allows(padded)).isTrue();
    assertThat(gate.allows(padded.substring(0, padded.length() - 2))).isFalse();
  }

  @Test
  @DisplayName("§10.4 basic_auth_test: a password containing a colon works (split on the first colon)")
  void passwordWithColon() {
    BasicAuthGate gate = new BasicAuthGate("admin:pa:ss");
    assertThat(gate.allows(basic("admin:pa:ss"))).isTrue();
    assertThat(gate.allows(basic("admin:pa"))).isFalse();
    assertThat(gate.allows(basic("admin:pa:ss:"))).isFalse();
  }

  @Test
  @DisplayName("§10.4 basic_auth_test: a configured value without a colon locks the tunnel")
  void colonlessCredentialNeverMatches() {
    BasicAuthGate gate = new BasicAuthGate("admin");
    assertThat(gate.enabled()).isTrue();
    assertThat(gate.allows(basic("admin"))).isFalse();
    assertThat(gate.allows(basic("admin:"))).isFalse();
    assertThat(gate.allows(basic(":admin"))).isFalse();
    assertThat(gate.allows(null)).isFalse();
  }

  @Test
  @DisplayName("§4.3 a decoded value without a colon is refused")
  void decodedWithoutColonRefused() {
    BasicAuthGate gate = new BasicAuthGate("admin:secret");
    assertThat(gate.allows(basic("adminsecret"))).isFalse();
    assertThat(gate.allows(basic(""))).isFalse();
  }
}
