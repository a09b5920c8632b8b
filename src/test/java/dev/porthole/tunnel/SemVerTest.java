package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SemVerTest {
  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @CsvSource({
      "'', false",
      "0.9.9, false",
      "1.0.0, true",
      "v1.0.0, true",
      "v1.2.0, true",
      "1, true",
      "1.2, true",
      "dev, false",
      "not-a-version, false",
      "1.0.0-rc1, false",
      "2.0.0, true",
  })
  @DisplayName("§2.2 pooling is supported iff the version is a release >= 1.0.0")
  void table(String version, boolean supported) {
    assertThat(SemVer.supportsPooling(version)).isEqualTo(supported);
  }

  @Test
  @DisplayName("§2.2 a null version is unsupported")
  void nullUnsupported() {
    assertThat(SemVer.supportsPooling(null)).isFalse();
  }
}
