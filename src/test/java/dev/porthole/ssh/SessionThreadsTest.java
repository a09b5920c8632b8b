package dev.porthole.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.config.SshClientConfig.VirtualThreads;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SessionThreadsTest {
  /** Stands in for a runtime's virtual thread factory in the choice below. */
  private static final ThreadFactory VIRTUAL = r -> new Thread(r, "stand-in");

  @Test
  @DisplayName("auto: virtual threads from Java 24 (no pinning inside synchronized), platform threads on 17-23")
  void auto() {
    assertThat(SessionThreads.choose(VirtualThreads.AUTO, 25, VIRTUAL).factory()).isSameAs(VIRTUAL);
    assertThat(SessionThreads.choose(VirtualThreads.AUTO, 24, VIRTUAL).virtual()).isTrue();
    SessionThreads on21 = SessionThreads.choose(VirtualThreads.AUTO, 21, VIRTUAL);
    assertThat(on21.virtual()).isFalse();
    assertThat(on21.describe()).isEqualTo("platform threads (Java 21; virtual threads from Java 24, or set "
        + "ssh.virtual_threads: on from Java 21)");
    assertThat(SessionThreads.choose(VirtualThreads.AUTO, 17, null).virtual()).isFalse();
    assertThat(SessionThreads.choose(VirtualThreads.AUTO, 25, VIRTUAL).describe()).isEqualTo("virtual threads (Java 25)");
  }

  @Test
  @DisplayName("on: virtual threads from Java 21; Java 17 keeps platform threads and says why. off: platform threads")
  void onAndOff() {
    assertThat(SessionThreads.choose(VirtualThreads.ON, 21, VIRTUAL).factory()).isSameAs(VIRTUAL);
    SessionThreads on17 = SessionThreads.choose(VirtualThreads.ON, 17, null);
    assertThat(on17.virtual()).isFalse();
    assertThat(on17.describe()).isEqualTo("platform threads (Java 17 has no virtual threads; ssh.virtual_threads: on "
        + "needs Java 21 or later)");
    SessionThreads off = SessionThreads.choose(VirtualThreads.OFF, 25, VIRTUAL);
    assertThat(off.virtual()).isFalse();
    assertThat(off.describe()).isEqualTo("platform threads (ssh.virtual_threads: off)");
  }

  @Test
  @DisplayName("this runtime: Thread.ofVirtual is found by reflection from Java 21 and makes daemon virtual threads that run; none on 17")
  void thisRuntime() throws Exception {
    ThreadFactory factory = SessionThreads.virtualFactory();
    if (Runtime.version().feature() < 21) {
      assertThat(factory).isNull();
      assertThat(SessionThreads.of(VirtualThreads.ON).virtual()).isFalse();
      return;
    }
    assertThat(factory).isNotNull();
    CompletableFuture<Boolean> ran = new CompletableFuture<>();
    Thread t = factory.newThread(() -> ran.complete(isVirtual(Thread.currentThread())));
    // What JSch does with each thread it gets (setDaemonThread(true)): a virtual thread takes both.
    t.setName("Connect thread 127.0.0.1 session");
    t.setDaemon(true);
    t.start();
    assertThat(ran.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(t.isDaemon()).isTrue();
    assertThat(SessionThreads.of(VirtualThreads.ON).virtual()).isTrue();
    assertThat(SessionThreads.of(VirtualThreads.AUTO).virtual()).isEqualTo(Runtime.version().feature() >= 24);
  }

  private static boolean isVirtual(Thread t) {
    try {
      return (boolean) Thread.class.getMethod("isVirtual").invoke(t);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
