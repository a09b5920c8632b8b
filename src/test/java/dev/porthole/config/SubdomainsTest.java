package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SubdomainsTest {
  @ParameterizedTest
  @ValueSource(strings = {"a", "abc", "my-app", "a--b", "123", "a1", "x23456789012345678901234567890123456789012345678901234567890123"})
  @DisplayName("§1.5 valid subdomains")
  void valid(String s) {
    assertThat(Subdomains.isValid(s)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-a", "a-", "a_b", "a.b", "a@b", "ABC", "x234567890123456789012345678901234567890123456789012345678901234"})
  @DisplayName("§1.5 invalid subdomains")
  void invalid(String s) {
    assertThat(Subdomains.isValid(s)).isFalse();
  }

  @Test
  @DisplayName("normalising trims then lower-cases; generated ones are six letters")
  void normaliseAndGenerate() {
    assertThat(Subdomains.normalize("  My-App ")).isEqualTo("my-app");
    assertThat(Subdomains.normalize(null)).isEmpty();
    assertThat(Subdomains.generate()).matches("[a-z]{6}");
  }
}
