package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.TunnelEvent;
import dev.porthole.bus.TunnelRequest;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.bus.WorkerSignal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TunnelRegistryTest {
  private static final Instant T0 = Instant.parse("2026-01-02T03:04:00Z");
  private static final String URL = "https://my-app.example.com";

  private final TunnelRegistry registry = new TunnelRegistry();

  private static TunnelRequest http() {
    return new TunnelRequest("web", "http", "localhost", 3000, "my-app", 2, "", List.of());
  }

  private static Instant at(int seconds) {
    return T0.plusSeconds(seconds);
  }

  private static WorkerSignal signal(TunnelRegistry.Tunnel t, String type, int sec) {
    return signal(t, type, sec, "");
  }

  private static WorkerSignal signal(TunnelRegistry.Tunnel t, String type, int sec, String error) {
    boolean up = type.equals(WorkerSignal.STARTED) || type.equals(WorkerSignal.RECONNECTED);
    return new WorkerSignal(t.id, 0, type, up ? 20000 + sec : 0, up ? URL : "", error, at(sec));
  }

  private TunnelStatus status(TunnelRegistry.Tunnel t) {
    return t.view();
  }

  /** The counts as a map "status/type" → n, without the zeros. */
  private static java.util.Map<String, Integer> counts(TunnelRegistry r) {
    java.util.Map<String, Integer> out = new java.util.TreeMap<>();
    for (String status : TunnelCounts.STATUSES) {
      for (String type : TunnelCounts.TYPES) {
        int n = r.counts().get(status, type);
        if (n != 0) {
          out.put(status + "/" + type, n);
        }
      }
    }
    return out;
  }

  @Test
  @DisplayName("the counts by status and type follow every status change, and forgetting a stopped tunnel")
  void countsFollowStatus() {
    TunnelRegistry r = new TunnelRegistry(1);
    TunnelRequest tcp = new TunnelRequest("db", "tcp", "localhost", 5432, "", 1, "", List.of());
    TunnelRegistry.Tunnel a = r.create(http(), T0);
    TunnelRegistry.Tunnel b = r.create(tcp, T0);
    assertThat(counts(r)).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("starting/http", 1, "starting/tcp", 1));

    r.apply(signal(a, WorkerSignal.STARTED, 1));
    r.apply(signal(a, WorkerSignal.STARTED, 2)); // a second session: no change
    r.apply(signal(b, WorkerSignal.FAILED, 2, "refused"));
    assertThat(counts(r)).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("running/http", 1, "failed/tcp", 1));

    r.apply(signal(a, WorkerSignal.UNHEALTHY, 3, "lost"));
    assertThat(counts(r)).containsEntry("unhealthy/http", 1).doesNotContainKey("running/http");
    r.apply(signal(a, WorkerSignal.RECONNECTED, 4));
    assertThat(counts(r)).containsEntry("running/http", 1).doesNotContainKey("unhealthy/http");

    r.apply(signal(a, WorkerSignal.STOPPED, 5));
    r.finishStop(a, at(5));
    assertThat(counts(r)).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("stopped/http", 1, "failed/tcp", 1));
    r.finishStop(a, at(6)); // a repeated stop: still one
    assertThat(counts(r)).containsEntry("stopped/http", 1);

    r.finishStop(b, at(7)); // keeps one stopped tunnel: a is forgotten
    assertThat(r.get(a.id)).isNull();
    assertThat(counts(r)).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("stopped/tcp", 1));
  }

  @Test
  @DisplayName("the version moves with every change a list could show (create, any applied signal, stop) and with nothing else")
  void versionCountsVisibleChanges() {
    long v0 = registry.version();
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    long v1 = registry.version();
    registry.list();
    registry.events(t.id);
    assertThat(registry.version()).isEqualTo(v1).isGreaterThan(v0);

    registry.apply(signal(t, WorkerSignal.STARTED, 1));
    long v2 = registry.version();
    // Not recorded as an event, but updated_at moves: the list shows it.
    registry.apply(signal(t, WorkerSignal.STARTED, 2));
    long v3 = registry.version();
    registry.apply(new WorkerSignal("no-such-tunnel", 0, WorkerSignal.STARTED, 1, URL, "", at(3)));
    assertThat(registry.version()).isEqualTo(v3);
    registry.finishStop(t, at(4));
    assertThat(List.of(v1, v2, v3, registry.version())).isSorted().doesNotHaveDuplicates();
  }

  @Test
  @DisplayName("§6.6 started is recorded once; a second started while running only moves updated_at")
  void startedRecordedOnce() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    Optional<TunnelEvent> first = registry.apply(signal(t, WorkerSignal.STARTED, 1));
    assertThat(first).isPresent();
    assertThat(status(t).status()).isEqualTo(TunnelStatus.RUNNING);
    assertThat(status(t).remotePort()).isEqualTo(20001);
    assertThat(status(t).tunnelUrl()).isEqualTo(URL);

    WorkerSignal second = new WorkerSignal(t.id, 1, WorkerSignal.STARTED, 29999, "https://other.example.com", "", at(2));
    assertThat(registry.apply(second)).isEmpty();
    TunnelStatus s = status(t);
    assertThat(s.status()).isEqualTo(TunnelStatus.RUNNING);
    assertThat(s.updatedAt()).isEqualTo(at(2));
    assertThat(s.remotePort()).isEqualTo(20001);
    assertThat(s.tunnelUrl()).isEqualTo(URL);
    assertThat(registry.events(t.id)).extracting(TunnelEvent::type).containsExactly("started");
  }

  @Test
  @DisplayName("§6.6 unhealthy with the same error is de-duplicated; a different error is recorded")
  void unhealthyDeduplicated() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    registry.apply(signal(t, WorkerSignal.STARTED, 1));
    assertThat(registry.apply(signal(t, WorkerSignal.UNHEALTHY, 2, "EOF"))).isPresent();
    assertThat(registry.apply(signal(t, WorkerSignal.UNHEALTHY, 3, "EOF"))).isEmpty();
    assertThat(status(t).updatedAt()).isEqualTo(at(3));
    Optional<TunnelEvent> other = registry.apply(signal(t, WorkerSignal.UNHEALTHY, 4, "ssh keepalive timed out"));
    assertThat(other).isPresent();
    assertThat(other.get().error()).isEqualTo("ssh keepalive timed out");
    assertThat(status(t).status()).isEqualTo(TunnelStatus.UNHEALTHY);
    assertThat(status(t).lastError()).isEqualTo("ssh keepalive timed out");
    assertThat(registry.events(t.id)).extracting(TunnelEvent::type)
        .containsExactly("started", "unhealthy", "unhealthy");
  }

  @Test
  @DisplayName("§6.6 reconnected is always recorded, clears last_error and sets remote_port/tunnel_url")
  void reconnectedAlwaysRecorded() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    registry.apply(signal(t, WorkerSignal.STARTED, 1));
    registry.apply(signal(t, WorkerSignal.UNHEALTHY, 2, "EOF"));
    WorkerSignal r1 = new WorkerSignal(t.id, 0, WorkerSignal.RECONNECTED, 25000, "https://r1.example.com", "", at(3));
    WorkerSignal r2 = new WorkerSignal(t.id, 0, WorkerSignal.RECONNECTED, 26000, "https://r2.example.com", "", at(4));
    assertThat(registry.apply(r1)).isPresent();
    TunnelStatus s = status(t);
    assertThat(s.status()).isEqualTo(TunnelStatus.RUNNING);
    assertThat(s.lastError()).isEmpty();
    assertThat(s.remotePort()).isEqualTo(25000);
    assertThat(s.tunnelUrl()).isEqualTo("https://r1.example.com");
    Optional<TunnelEvent> again = registry.apply(r2);
    assertThat(again).isPresent();
    assertThat(again.get().remotePort()).isEqualTo(26000);
    assertThat(again.get().tunnelUrl()).isEqualTo("https://r2.example.com");
    assertThat(status(t).remotePort()).isEqualTo(26000);
    assertThat(registry.events(t.id)).extracting(TunnelEvent::type)
        .containsExactly("started", "unhealthy", "reconnected", "reconnected");
  }

  @Test
  @DisplayName("§6.6 failed with the same error is de-duplicated (worker + manager report of one start failure)")
  void failedDeduplicated() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    String err = "failed to start tunnel 'web': server error: Invalid secret key";
    assertThat(registry.apply(signal(t, WorkerSignal.FAILED, 1, err))).isPresent();
    assertThat(registry.apply(signal(t, WorkerSignal.FAILED, 2, err))).isEmpty();
    assertThat(status(t).updatedAt()).isEqualTo(at(2));
    assertThat(status(t).status()).isEqualTo(TunnelStatus.FAILED);
    assertThat(status(t).lastError()).isEqualTo(err);
    assertThat(registry.apply(signal(t, WorkerSignal.FAILED, 3, "other"))).isPresent();
    assertThat(registry.events(t.id)).extracting(TunnelEvent::error).containsExactly(err, "other");
  }

  @Test
  @DisplayName("§6.6 stopped is recorded once and sets stopped_at to the event time")
  void stoppedRecordedOnce() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    registry.apply(signal(t, WorkerSignal.STARTED, 1));
    assertThat(registry.apply(signal(t, WorkerSignal.STOPPED, 2))).isPresent();
    assertThat(status(t).status()).isEqualTo(TunnelStatus.STOPPED);
    assertThat(status(t).stoppedAt()).isEqualTo(at(2));
    assertThat(registry.apply(signal(t, WorkerSignal.STOPPED, 3))).isEmpty();
    assertThat(registry.events(t.id)).extracting(TunnelEvent::type).containsExactly("started", "stopped");
  }

  @Test
  @DisplayName("§10.2 #12 an unhealthy after stopped leaves status stopped, last_error empty, records no event")
  void lateUnhealthyAfterStopped() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    registry.apply(signal(t, WorkerSignal.STARTED, 1));
    registry.apply(signal(t, WorkerSignal.STOPPED, 2));
    registry.finishStop(t, at(3));
    int before = registry.events(null).size();

    assertThat(registry.apply(signal(t, WorkerSignal.UNHEALTHY, 4, "EOF"))).isEmpty();
    TunnelStatus s = status(t);
    assertThat(s.status()).isEqualTo(TunnelStatus.STOPPED);
    assertThat(s.lastError()).isEmpty();
    assertThat(s.updatedAt()).isEqualTo(at(3));
    assertThat(registry.events(null)).hasSize(before);
  }

  @Test
  @DisplayName("§6.6 while stopping every non-stopped signal is ignored entirely (no updated_at change)")
  void stoppingIgnoresEverythingButStopped() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    registry.apply(signal(t, WorkerSignal.STARTED, 1));
    t.stopping = true;
    for (String type : List.of(WorkerSignal.STARTED, WorkerSignal.UNHEALTHY, WorkerSignal.RECONNECTED,
        WorkerSignal.FAILED)) {
      assertThat(registry.apply(signal(t, type, 5, "late"))).as(type).isEmpty();
    }
    TunnelStatus s = status(t);
    assertThat(s.status()).isEqualTo(TunnelStatus.RUNNING);
    assertThat(s.updatedAt()).isEqualTo(at(1));
    assertThat(s.remotePort()).isEqualTo(20001);
    assertThat(s.lastError()).isEmpty();
    assertThat(registry.events(t.id)).extracting(TunnelEvent::type).containsExactly("started");

    assertThat(registry.apply(signal(t, WorkerSignal.STOPPED, 6))).isPresent();
    assertThat(status(t).status()).isEqualTo(TunnelStatus.STOPPED);
  }

  @Test
  @DisplayName("§6.6 signals for unknown tunnel ids are dropped")
  void unknownIdDropped() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    WorkerSignal stray = new WorkerSignal("01HZZZZZZZZZZZZZZZZZZZZZZZ", 0, WorkerSignal.STARTED, 20000, URL, "", at(1));
    assertThat(registry.apply(stray)).isEmpty();
    assertThat(registry.events(null)).isEmpty();
    assertThat(status(t).status()).isEqualTo(TunnelStatus.STARTING);
    assertThat(status(t).updatedAt()).isEqualTo(T0);
  }

  @Test
  @DisplayName("§6.6 finishStop sets stopped_at = updated_at = now; a second one refreshes them with no new event")
  void finishStop() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    registry.apply(signal(t, WorkerSignal.FAILED, 1, "boom"));
    registry.apply(signal(t, WorkerSignal.STOPPED, 2));
    registry.finishStop(t, at(3));
    TunnelStatus s = status(t);
    assertThat(s.status()).isEqualTo(TunnelStatus.STOPPED);
    assertThat(s.stoppedAt()).isEqualTo(at(3));
    assertThat(s.updatedAt()).isEqualTo(at(3));
    int events = registry.events(null).size();

    registry.finishStop(t, at(9));
    s = status(t);
    assertThat(s.status()).isEqualTo(TunnelStatus.STOPPED);
    assertThat(s.stoppedAt()).isEqualTo(at(9));
    assertThat(s.updatedAt()).isEqualTo(at(9));
    assertThat(registry.events(null)).hasSize(events);
    assertThat(registry.events(t.id)).extracting(TunnelEvent::type).containsExactly("failed", "stopped");
  }

  @Test
  @DisplayName("§6.5 event values are copied from the status after applying (a failed start has no tunnel_url)")
  void eventCopiesStatus() {
    TunnelRegistry.Tunnel t = registry.create(http(), T0);
    TunnelEvent failed = registry.apply(signal(t, WorkerSignal.FAILED, 1, "boom")).orElseThrow();
    assertThat(failed.tunnelId()).isEqualTo(t.id);
    assertThat(failed.type()).isEqualTo("failed");
    assertThat(failed.name()).isEqualTo("web");
    assertThat(failed.connectionType()).isEqualTo("http");
    assertThat(failed.host()).isEqualTo("localhost");
    assertThat(failed.port()).isEqualTo(3000);
    assertThat(failed.subdomain()).isEqualTo("my-app");
    assertThat(failed.remotePort()).isZero();
    assertThat(failed.tunnelUrl()).isEmpty();
    assertThat(failed.error()).isEqualTo("boom");
    assertThat(failed.at()).isEqualTo(at(1));
    assertThat(failed.id()).hasSize(26).matches("[0-9A-HJKMNP-TV-Z]{26}");
    assertThat(failed.toJson().containsKey("tunnel_url")).isFalse();

    TunnelEvent started = registry.apply(signal(t, WorkerSignal.STARTED, 2)).orElseThrow();
    assertThat(started.remotePort()).isEqualTo(20002);
    assertThat(started.tunnelUrl()).isEqualTo(URL);
    assertThat(started.error()).isEmpty();
    assertThat(status(t).lastError()).isEmpty();

    TunnelEvent stopped = registry.apply(signal(t, WorkerSignal.STOPPED, 3)).orElseThrow();
    assertThat(stopped.remotePort()).isEqualTo(20002);
    assertThat(stopped.tunnelUrl()).isEqualTo(URL);
  }

  @Test
  @DisplayName("§6.6 the event store is one global list capped at 200, oldest dropped first")
  void eventCap() {
    TunnelRegistry.Tunnel a = registry.create(http(), T0);
    TunnelRegistry.Tunnel b = registry.create(http(), T0.plusMillis(1));
    for (int i = 0; i < 150; i++) {
      registry.apply(signal(a, WorkerSignal.RECONNECTED, i));
      registry.apply(signal(b, WorkerSignal.RECONNECTED, i));
    }
    List<TunnelEvent> all = registry.events(null);
    assertThat(all).hasSize(TunnelRegistry.EVENT_CAP).hasSize(200);
    // 300 recorded: the first 100 (a0,b0,...,a49,b49) are gone; the oldest left is a's 51st.
    assertThat(all.get(0).tunnelId()).isEqualTo(a.id);
    assertThat(all.get(0).at()).isEqualTo(at(50));
    assertThat(all.get(199).tunnelId()).isEqualTo(b.id);
    assertThat(all.get(199).at()).isEqualTo(at(149));
    assertThat(registry.events(a.id)).hasSize(100);
  }

  @Test
  @DisplayName("§11.12 events(tunnelId) filters; unknown id → empty list; null or empty → all, oldest first")
  void eventFilter() {
    TunnelRegistry.Tunnel a = registry.create(http(), T0);
    TunnelRegistry.Tunnel b = registry.create(http(), T0);
    registry.apply(signal(a, WorkerSignal.STARTED, 1));
    registry.apply(signal(b, WorkerSignal.STARTED, 2));
    registry.apply(signal(a, WorkerSignal.STOPPED, 3));
    assertThat(registry.events(a.id)).extracting(TunnelEvent::type).containsExactly("started", "stopped");
    assertThat(registry.events(b.id)).extracting(TunnelEvent::type).containsExactly("started");
    assertThat(registry.events("nope")).isNotNull().isEmpty();
    assertThat(registry.events(null)).extracting(TunnelEvent::at).containsExactly(at(1), at(2), at(3));
    assertThat(registry.events("")).hasSize(3);
  }

  @Test
  @DisplayName("list() is newest first by started_at")
  void listNewestFirst() {
    TunnelRegistry.Tunnel old = registry.create(http(), at(1));
    TunnelRegistry.Tunnel newest = registry.create(http(), at(3));
    TunnelRegistry.Tunnel middle = registry.create(http(), at(2));
    assertThat(registry.list()).extracting(TunnelStatus::id).containsExactly(newest.id, middle.id, old.id);
    assertThat(new TunnelRegistry().list()).isNotNull().isEmpty();
  }

  @Test
  @DisplayName("limits.stopped_tunnels_kept: the least recently stopped tunnels beyond the bound are forgotten; live ones never are")
  void stoppedHistoryIsBounded() {
    TunnelRegistry bounded = new TunnelRegistry(2);
    TunnelRegistry.Tunnel live = bounded.create(http(), T0);
    TunnelRegistry.Tunnel a = bounded.create(http(), at(1));
    TunnelRegistry.Tunnel b = bounded.create(http(), at(2));
    TunnelRegistry.Tunnel c = bounded.create(http(), at(3));
    assertThat(bounded.finishStop(b, at(10))).isEmpty();
    assertThat(bounded.finishStop(a, at(11))).isEmpty();
    // A repeated stop makes b the most recently stopped: a is now the oldest.
    assertThat(bounded.finishStop(b, at(12))).isEmpty();
    assertThat(bounded.finishStop(c, at(13))).containsExactly(a.id);
    assertThat(bounded.get(a.id)).isNull();
    assertThat(bounded.list()).extracting(TunnelStatus::id).containsExactly(c.id, b.id, live.id);
    assertThat(bounded.size()).isEqualTo(3);
    assertThat(bounded.liveCount()).isEqualTo(1);
  }

  @Test
  @DisplayName("limits.stopped_tunnels_kept = 0 keeps every stopped tunnel, as Portr does")
  void zeroKeepsAll() {
    TunnelRegistry all = new TunnelRegistry(0);
    for (int i = 0; i < 1_500; i++) {
      assertThat(all.finishStop(all.create(http(), at(i)), at(i + 1))).isEmpty();
    }
    assertThat(all.list()).hasSize(1_500);
  }
}
