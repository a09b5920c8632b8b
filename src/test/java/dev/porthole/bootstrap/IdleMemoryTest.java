package dev.porthole.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.ChildJvm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link IdleMemory} in JVMs of its own (it changes flags of the JVM it runs in): G1 with the
 * defaults gets all three, a flag given on the command line stays the user's, another collector
 * gets nothing.
 */
class IdleMemoryTest {
  /** Prints what {@link IdleMemory#apply()} set, then the flags' values. */
  public static void main(String[] args) {
    List<String> set = IdleMemory.apply();
    var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
    System.out.println("set " + set);
    for (String flag : List.of("MinHeapFreeRatio", "MaxHeapFreeRatio", "G1PeriodicGCInterval")) {
      System.out.println(flag + "=" + vm.getVMOption(flag).getValue());
    }
  }

  private static List<String> run(String... jvmArgs) throws Exception {
    return ChildJvm.run(IdleMemoryTest.class, Map.of(), List.of(jvmArgs)).lines()
        .filter(l -> !l.startsWith("Picked up")).toList();
  }

  @Test
  @DisplayName("G1 with default flags: a collection after 30 s without one, the heap shrunk to at most 10 % free")
  void g1Defaults() throws Exception {
    assertThat(run("-XX:+UseG1GC")).contains(
        "set [MinHeapFreeRatio=10, MaxHeapFreeRatio=10, G1PeriodicGCInterval=30000]",
        "MinHeapFreeRatio=10", "MaxHeapFreeRatio=10", "G1PeriodicGCInterval=30000");
  }

  @Test
  @DisplayName("a flag set on the command line is the user's: it is left as given, the others are still set")
  void userFlagsStay() throws Exception {
    assertThat(run("-XX:+UseG1GC", "-XX:MaxHeapFreeRatio=50", "-XX:G1PeriodicGCInterval=0")).contains(
        "set [MinHeapFreeRatio=10]", "MinHeapFreeRatio=10", "MaxHeapFreeRatio=50", "G1PeriodicGCInterval=0");
    // A Min above the Max we would set: Max cannot go below it, so it stays at its default.
    assertThat(run("-XX:+UseG1GC", "-XX:MinHeapFreeRatio=40")).contains(
        "set [G1PeriodicGCInterval=30000]", "MinHeapFreeRatio=40", "MaxHeapFreeRatio=70");
  }

  @Test
  @DisplayName("another collector than G1: nothing is changed")
  void otherCollector() throws Exception {
    assertThat(run("-XX:+UseSerialGC")).contains("set []", "MaxHeapFreeRatio=70", "G1PeriodicGCInterval=0");
  }

  @Test
  @DisplayName("the periodic trim runs on one thread of its own, not a new thread of Vert.x's worker pool each time")
  void trimsOnOneThreadOfItsOwn() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      java.util.function.ToLongFunction<String> threads = prefix -> Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().startsWith(prefix)).count();
      org.junit.jupiter.api.Assumptions.assumeTrue(IdleMemory.trimNativeHeap() != null,
          "HotSpot cannot trim the C heap here (not glibc): the timer stops at its first try");
      long workersBefore = threads.applyAsLong("vert.x-worker-thread");
      IdleMemory.trimPeriodically(vertx, 20);
      dev.porthole.testsupport.Timeouts.pollUntil(java.time.Duration.ofSeconds(20), "the trim's thread",
          () -> threads.applyAsLong(IdleMemory.TRIM_THREAD) == 1);
      // twelve periods more: on the shared pool each would have started a thread of its own
      java.util.concurrent.CountDownLatch periods = new java.util.concurrent.CountDownLatch(12);
      vertx.setPeriodic(20, id -> periods.countDown());
      assertThat(periods.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(threads.applyAsLong(IdleMemory.TRIM_THREAD)).isEqualTo(1);
      assertThat(threads.applyAsLong("vert.x-worker-thread")).isEqualTo(workersBefore);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("the C heap's free pages are handed back where HotSpot can (glibc), and nothing is claimed elsewhere")
  void trimsTheNativeHeap() throws Exception {
    String answer = IdleMemory.trimNativeHeap();
    boolean glibc = System.getProperty("os.name").startsWith("Linux")
        && java.nio.file.Files.exists(java.nio.file.Path.of("/lib/x86_64-linux-gnu/libc.so.6"));
    if (glibc) {
      assertThat(answer).startsWith("Trim native heap: RSS+Swap: ");
    } else {
      assertThat(answer).satisfiesAnyOf(a -> assertThat(a).isNull(), a -> assertThat(a).startsWith("Trim native heap"));
    }
  }
}
