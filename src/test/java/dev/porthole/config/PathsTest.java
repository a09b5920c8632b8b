package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PathsTest {
  @Test
  @DisplayName("$HOME wins over user.home, as Go's os.UserHomeDir")
  void homeFromEnv() {
    assertThat(Paths.home(Map.of("HOME", "/tmp/h"), "/home/real")).isEqualTo(Path.of("/tmp/h"));
  }

  @Test
  @DisplayName("user.home only when $HOME is unset or empty")
  void fallback() {
    assertThat(Paths.home(Map.of(), "/home/real")).isEqualTo(Path.of("/home/real"));
    assertThat(Paths.home(Map.of("HOME", ""), "/home/real")).isEqualTo(Path.of("/home/real"));
  }

  @Test
  @DisplayName("~ and ~/x expand to the home Paths.home() names; other paths are left alone")
  void expand() {
    assertThat(Paths.expandHome("~")).isEqualTo(Paths.home());
    assertThat(Paths.expandHome("~/.porthole/relay")).isEqualTo(Paths.home().resolve(".porthole/relay"));
    assertThat(Paths.expandHome("/etc/x")).isEqualTo(Path.of("/etc/x"));
    assertThat(Paths.expandHome("~other/x")).isEqualTo(Path.of("~other/x"));
  }
}
