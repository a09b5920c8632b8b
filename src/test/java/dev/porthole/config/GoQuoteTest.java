package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GoQuoteTest {
  @Test
  @DisplayName("plain values are wrapped in double quotes")
  void plain() {
    assertThat(GoQuote.q("a_b")).isEqualTo("\"a_b\"");
    assertThat(GoQuote.q("")).isEqualTo("\"\"");
    assertThat(GoQuote.q("héllo wörld")).isEqualTo("\"héllo wörld\"");
  }

  @Test
  @DisplayName("quotes, backslashes, newline, tab and carriage return are escaped like Go's %q")
  void escapes() {
    assertThat(GoQuote.q("a\"b")).isEqualTo("\"a\\\"b\"");
    assertThat(GoQuote.q("a\\b")).isEqualTo("\"a\\\\b\"");
    assertThat(GoQuote.q("a\nb")).isEqualTo("\"a\\nb\"");
    assertThat(GoQuote.q("a\tb")).isEqualTo("\"a\\tb\"");
    assertThat(GoQuote.q("a\rb")).isEqualTo("\"a\\rb\"");
    assertThat(GoQuote.q("\u0007\b\f\u000b")).isEqualTo("\"\\a\\b\\f\\v\"");
  }

  @Test
  @DisplayName("other control characters use \\x escapes")
  void controlCharacters() {
    assertThat(GoQuote.q("a\u0001b")).isEqualTo("\"a\\x01b\"");
    assertThat(GoQuote.q("\u001f")).isEqualTo("\"\\x1f\"");
    assertThat(GoQuote.q("\u007f")).isEqualTo("\"\\x7f\"");
  }
}
