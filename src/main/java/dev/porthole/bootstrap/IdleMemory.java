package dev.porthole.bootstrap;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import javax.management.JMException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app-server is a daemon that is idle most of its life, and G1 (the JVM's default collector on
 * a machine with 2 cores and 2 GiB or more) keeps the heap it grew under load for good: it gives
 * memory back only after a full collection. This turns on what JEP 346 added for such processes,
 * through the JVM's manageable flags, so that it works for {@code java -jar} with no option: a
 * concurrent collection when none ran for {@value #PERIODIC_GC_MS} ms, after which G1 shrinks the
 * heap to at most {@value #MAX_FREE} % free. A flag the user set on the command line is left as it
 * is, and nothing is changed under another collector. The C heap's free pages go back too, once a
 * minute ({@link #trimPeriodically}).
 */
public final class IdleMemory {
  private static final Logger log = LoggerFactory.getLogger(IdleMemory.class);
  static final long PERIODIC_GC_MS = 30_000;
  static final int MIN_FREE = 10;
  static final int MAX_FREE = 10;

  /** How often the C heap's free pages are handed back ({@link #trimPeriodically}). */
  static final long TRIM_MS = 60_000;
  /**
   * The trim's one thread. On Vert.x's shared worker pool each trim started a thread of its own
   * until the pool had all 20 (a thread pool starts a thread per task below its core size): a daemon
   * that ran for 20 minutes had 16 more threads than it started with (P8).
   */
  static final String TRIM_THREAD = "porthole-idle-memory";

  private IdleMemory() {
  }

  /**
   * Every {@value #TRIM_MS} ms, on a thread of its own, hands the C heap's free pages back to the
   * system ({@code jcmd System.trim_native_heap}, HotSpot 17.0.9 and later on glibc, through the
   * {@code DiagnosticCommand} MBean: Java 21's {@code -XX:TrimNativeHeapInterval} without the
   * option). glibc keeps what threads free for reuse, and a JVM frees a lot it will not reuse soon:
   * the compilers' arenas, the buffers of start-up. An idle clustered node with 300 tunnels gave
   * back about 30 MiB the first time. Stops at the first refusal (another C library, an older JVM).
   */
  public static void trimPeriodically(Vertx vertx) {
    trimPeriodically(vertx, TRIM_MS);
  }

  static void trimPeriodically(Vertx vertx, long periodMs) {
    long[] timer = new long[1];
    WorkerExecutor trimmer = vertx.createSharedWorkerExecutor(TRIM_THREAD, 1);
    timer[0] = vertx.setPeriodic(periodMs, t -> trimmer.executeBlocking(IdleMemory::trimNativeHeap, false)
        .onComplete(ar -> {
          if (ar.failed() || ar.result() == null) {
            vertx.cancelTimer(timer[0]);
            trimmer.close();
            log.debug("native heap trimming unavailable: {}", ar.failed() ? ar.cause().toString() : "not on this C library");
          } else {
            log.trace("{}", ar.result());
          }
        }));
  }

  /** @return HotSpot's answer ("Trim native heap: RSS+Swap: …"), or null when it cannot trim here */
  static String trimNativeHeap() throws JMException {
    String text = HotSpotCommands.run("systemTrimNativeHeap");
    return text.startsWith("Trim native heap") ? text : null;
  }

  /** Sets what it can; the names and values set (empty when none). */
  public static List<String> apply() {
    List<String> set = new ArrayList<>();
    HotSpotDiagnosticMXBean vm;
    try {
      vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      if (vm == null || !"true".equals(vm.getVMOption("UseG1GC").getValue())) {
        return set;
      }
    } catch (RuntimeException notHotSpot) {
      return set;
    }
    // Min before Max: Min may never exceed Max, and the defaults are 40 and 70.
    set(vm, "MinHeapFreeRatio", MIN_FREE, set);
    set(vm, "MaxHeapFreeRatio", MAX_FREE, set);
    set(vm, "G1PeriodicGCInterval", PERIODIC_GC_MS, set);
    log.debug("idle memory: {}", set);
    return set;
  }

  private static void set(HotSpotDiagnosticMXBean vm, String name, long value, List<String> set) {
    try {
      if (vm.getVMOption(name).getOrigin() == VMOption.Origin.DEFAULT) {
        vm.setVMOption(name, String.valueOf(value));
        set.add(name + "=" + value);
      }
    } catch (RuntimeException refused) {
      // Not manageable in this JVM, or out of range against a value the user set: theirs stays.
    }
  }
}
