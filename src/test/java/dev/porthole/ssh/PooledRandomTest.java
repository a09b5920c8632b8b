package dev.porthole.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.JSch;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PooledRandomTest {
  @Test
  @DisplayName("JSch's sessions take their random bytes from PooledRandom")
  void configured() throws Exception {
    Class.forName(JschConnector.class.getName()); // its static setup
    assertThat(JSch.getConfig("random")).isEqualTo(PooledRandom.class.getName());
  }

  @Test
  @DisplayName("fills exactly the range asked for, across pool refills, and never hands out the same bytes twice")
  void fills() throws Exception {
    PooledRandom r = new PooledRandom();
    byte[] b = new byte[3 * PooledRandom.POOL + 40];
    r.fill(b, 20, b.length - 40);
    for (int i = 0; i < 20; i++) {
      assertThat(b[i]).isZero();
      assertThat(b[b.length - 1 - i]).isZero();
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      byte[] pad = new byte[16];
      r.fill(pad, 0, 16);
      assertThat(seen.add(HexFormat.of().formatHex(pad))).as("16 bytes seen before").isTrue();
    }
    byte[] other = new byte[16];
    CompletableFuture.runAsync(() -> r.fill(other, 0, 16)).get(10, TimeUnit.SECONDS);
    assertThat(seen).doesNotContain(HexFormat.of().formatHex(other));
  }
}
