package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The lease index on a fake timeline: what is due when, and which owners are looked at. */
class LeaseScheduleTest {
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  private static Instant at(long seconds) {
    return T0.plusSeconds(seconds);
  }

  @Test
  @DisplayName("the earliest expiry arms the one timer; due() hands out what has ended, earliest first, and only that")
  void dueInOrder() {
    LeaseSchedule s = new LeaseSchedule();
    assertThat(s.earliest()).isNull();
    s.expireAt("c", at(30));
    s.expireAt("a", at(10));
    s.expireAt("b", at(10));
    assertThat(s.earliest()).isEqualTo(at(10));
    assertThat(s.due(at(9))).isEmpty();
    assertThat(s.due(at(10))).containsExactly("a", "b");
    assertThat(s.earliest()).isEqualTo(at(30));
    assertThat(s.due(at(29).plus(Duration.ofMillis(999)))).isEmpty();
    assertThat(s.due(at(31))).containsExactly("c");
    assertThat(s.earliest()).isNull();
    assertThat(s.expiries()).isZero();
  }

  @Test
  @DisplayName("a renewal moves the expiry (later or earlier); the old time is gone")
  void renewMoves() {
    LeaseSchedule s = new LeaseSchedule();
    s.expireAt("a", at(10));
    s.expireAt("b", at(20));
    s.expireAt("a", at(60));
    assertThat(s.earliest()).isEqualTo(at(20));
    assertThat(s.due(at(59))).containsExactly("b");
    s.expireAt("a", at(5)); // shorter than before: sets, does not only extend
    assertThat(s.earliest()).isEqualTo(at(5));
    assertThat(s.due(at(5))).containsExactly("a");
    assertThat(s.expiries()).isZero();
  }

  @Test
  @DisplayName("forget() drops both the expiry and the ownership; the schedule is empty once every tunnel is gone")
  void forgetBounded() {
    LeaseSchedule s = new LeaseSchedule();
    ProcessHandle me = ProcessHandle.current();
    for (int i = 0; i < 1000; i++) {
      s.expireAt("t" + i, at(i));
      s.own("t" + i, me);
    }
    assertThat(s.expiries()).isEqualTo(1000);
    assertThat(s.ownerCount()).as("one owner for a thousand tunnels: one check").isEqualTo(1);
    assertThat(s.owners()).containsExactly(me);
    for (int i = 0; i < 1000; i++) {
      s.forget("t" + i);
      s.forget("t" + i); // idempotent
    }
    assertThat(s.expiries()).isZero();
    assertThat(s.ownerCount()).isZero();
    assertThat(s.hasOwners()).isFalse();
    assertThat(s.earliest()).isNull();
  }

  @Test
  @DisplayName("owners are indexed by process: ownedBy lists its tunnels in lease order; a tunnel moved to another owner leaves the first")
  void owners() throws Exception {
    LeaseSchedule s = new LeaseSchedule();
    ProcessHandle me = ProcessHandle.current();
    Process child = new ProcessBuilder("sleep", "600").start();
    try {
      ProcessHandle other = child.toHandle();
      s.own("a", me);
      s.own("b", other);
      s.own("c", me);
      assertThat(s.ownedBy(me.pid())).containsExactly("a", "c");
      assertThat(s.ownedBy(other.pid())).containsExactly("b");
      s.own("b", me);
      assertThat(s.ownedBy(other.pid())).isEmpty();
      assertThat(s.ownerCount()).isEqualTo(1);
      assertThat(s.ownedBy(424_242_424L)).isEmpty();
    } finally {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("exited() names the processes that are gone and only those")
  void exited() throws Exception {
    Process child = new ProcessBuilder("sleep", "600").start();
    ProcessHandle handle = child.toHandle();
    try {
      assertThat(LeaseSchedule.exited(List.of(ProcessHandle.current(), handle))).isEmpty();
      child.destroy();
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(LeaseSchedule.exited(List.of(ProcessHandle.current(), handle))).containsExactly(handle.pid());
    } finally {
      child.destroyForcibly();
    }
  }
}
