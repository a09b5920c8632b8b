package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.config.RelayConfig.SecretKeyEntry;
import dev.porthole.relay.ConnectionRegistry.Backend;
import dev.porthole.relay.ConnectionRegistry.Outcome;
import dev.porthole.relay.ConnectionRegistry.Status;
import dev.porthole.relay.ConnectionRegistry.Type;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ConnectionRegistryTest {
  static final String ALICE = "alice-secret-key-00000";
  static final String BOB = "bob-secret-key-0000000";

  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    Instant now = Instant.parse("2026-11-23T10:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  final ManualClock clock = new ManualClock();
  final ConnectionRegistry registry = new ConnectionRegistry(List.of(new SecretKeyEntry(ALICE, List.of()),
      new SecretKeyEntry(BOB, List.of("vip"))), clock);

  private String reserve(Type type, String sub) {
    var r = registry.reserve(ALICE, type, sub);
    assertThat(r.outcome()).isEqualTo(Outcome.CREATED);
    return r.connectionId();
  }

  private void bind(String id, String lease, int port) {
    assertThat(registry.acquire(id, "p-" + lease)).isNull();
    registry.activate(id, "p-" + lease, lease, new Backend("127.0.0.1", port));
  }

  @Test
  @DisplayName("§2.1 reserve: ULID ids, wrong key, reserved for another key, subdomain in use")
  void reserveOutcomes() {
    String id = reserve(Type.HTTP, "web");
    assertThat(id).matches("[0-9A-HJKMNP-TV-Z]{26}");
    assertThat(registry.get(id).status()).isEqualTo(Status.RESERVED);
    assertThat(registry.reserve("nobody-has-this-key", Type.HTTP, "x").outcome()).isEqualTo(Outcome.INVALID_SECRET);
    assertThat(registry.reserve(ALICE, Type.HTTP, "vip").outcome()).isEqualTo(Outcome.RESERVED_SUBDOMAIN);
    assertThat(registry.reserve(BOB, Type.HTTP, "vip").outcome()).isEqualTo(Outcome.CREATED);
    assertThat(registry.reserve(BOB, Type.HTTP, "web").outcome()).isEqualTo(Outcome.SUBDOMAIN_IN_USE);
    assertThat(registry.reserve(ALICE, Type.TCP, null).outcome()).isEqualTo(Outcome.CREATED);
    assertThat(registry.reserve(ALICE, Type.TCP, null).outcome()).isEqualTo(Outcome.CREATED);
  }

  @Test
  @DisplayName("§3.1 SSH user <id>:<secret>: the creator's key only, any state, split on the first colon")
  void authenticate() {
    String id = reserve(Type.TCP, null);
    assertThat(registry.authenticate(id + ":" + ALICE)).isTrue();
    assertThat(registry.authenticate(id + ":" + BOB)).isFalse();
    assertThat(registry.authenticate(id + ":" + ALICE + "x")).isFalse();
    assertThat(registry.authenticate("01ZZZZZZZZZZZZZZZZZZZZZZZZ:" + ALICE)).isFalse();
    assertThat(registry.authenticate(id)).isFalse();
    assertThat(registry.authenticate(null)).isFalse();
    assertThat(ConnectionRegistry.connectionIdOf(id + ":" + ALICE)).isEqualTo(id);
  }

  @Test
  @DisplayName("§3.1 a tcp connection carries exactly one forward; the first activates it with its port")
  void tcpOneForward() {
    String id = reserve(Type.TCP, null);
    bind(id, "s1/30001", 30001);
    assertThat(registry.get(id).status()).isEqualTo(Status.ACTIVE);
    assertThat(registry.get(id).port()).isEqualTo(30001);
    assertThat(registry.acquire(id, "p2")).isEqualTo("tcp connection already has an active forward");
    registry.release(id, "s1/30001");
    assertThat(registry.get(id).status()).isEqualTo(Status.CLOSED);
    assertThat(registry.get(id).closedAt()).isEqualTo(clock.now);
  }

  @Test
  @DisplayName("§8 pool: forwards of one id share the subdomain round robin; the last one going closes the record")
  void poolRoundRobin() {
    String id = reserve(Type.HTTP, "pool");
    bind(id, "s1/20001", 20001);
    bind(id, "s2/20002", 20002);
    var route = registry.route("pool");
    assertThat(route.backends()).extracting(Backend::port).containsExactly(20001, 20002);
    assertThat(route.pick(1).get(0).port()).isEqualTo(20001);
    assertThat(route.pick(1).get(0).port()).isEqualTo(20002);
    assertThat(route.pick(3)).extracting(Backend::port).containsExactly(20001, 20002);

    registry.release(id, "s1/20001");
    assertThat(registry.route("pool").backends()).extracting(Backend::port).containsExactly(20002);
    assertThat(registry.get(id).status()).isEqualTo(Status.ACTIVE);
    registry.release(id, "s1/20001");
    registry.release(id, "s2/20002");
    assertThat(registry.route("pool")).isNull();
    assertThat(registry.get(id).status()).isEqualTo(Status.CLOSED);
    // The subdomain is free again, and the closed id can be re-activated by a new login.
    bind(id, "s3/20003", 20003);
    assertThat(registry.get(id).status()).isEqualTo(Status.ACTIVE);
    assertThat(registry.get(id).closedAt()).isNull();
  }

  @Test
  @DisplayName("a closed id cannot re-activate a subdomain that another connection holds now")
  void reactivationConflict() {
    String first = reserve(Type.HTTP, "shared");
    bind(first, "a", 20001);
    registry.release(first, "a");
    String second = reserve(Type.HTTP, "shared");
    assertThat(second).isNotEqualTo(first);
    assertThat(registry.acquire(first, "b")).isEqualTo("subdomain already in use");
  }

  @Test
  @DisplayName("§2.1 reserved connections are deleted after the TTL and free their subdomain; active ones stay")
  void sweep() {
    String unused = reserve(Type.HTTP, "idle");
    String used = reserve(Type.HTTP, "busy");
    bind(used, "x", 20009);
    clock.now = clock.now.plus(Duration.ofMinutes(4));
    assertThat(registry.sweep(Duration.ofMinutes(5), Duration.ofDays(1), 0)).isZero();
    clock.now = clock.now.plus(Duration.ofMinutes(2));
    assertThat(registry.sweep(Duration.ofMinutes(5), Duration.ofDays(1), 0)).isEqualTo(1);
    assertThat(registry.get(unused)).isNull();
    assertThat(registry.get(used).status()).isEqualTo(Status.ACTIVE);
    assertThat(registry.reserve(ALICE, Type.HTTP, "idle").outcome()).isEqualTo(Outcome.CREATED);
  }

  @Test
  @DisplayName("§3.3 the ping closes an active record only when it has no forward")
  void closeUnrouted() {
    String id = reserve(Type.HTTP, "pinged");
    bind(id, "x", 20010);
    assertThat(registry.closeUnrouted(id)).isFalse();
    assertThat(registry.active()).extracting(ConnectionRegistry.ConnectionView::id).containsExactly(id);
  }

  @Test
  @DisplayName("closed_connections_kept: beyond the bound the least recently closed records go, whatever their age; active ones stay")
  void closedRecordsAreBounded() {
    List<String> closed = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = reserve(Type.TCP, null);
      bind(id, "c" + i, 30000 + i);
      registry.release(id, "c" + i);
      closed.add(id);
      clock.now = clock.now.plusSeconds(1);
    }
    String active = reserve(Type.HTTP, "stays");
    bind(active, "a", 20100);
    assertThat(registry.sweep(Duration.ofMinutes(5), Duration.ofDays(1), 2)).isEqualTo(3);
    for (String id : closed.subList(0, 3)) {
      assertThat(registry.get(id)).isNull();
    }
    for (String id : closed.subList(3, 5)) {
      assertThat(registry.get(id).status()).isEqualTo(Status.CLOSED);
    }
    assertThat(registry.get(active).status()).isEqualTo(Status.ACTIVE);
    assertThat(registry.sweep(Duration.ofMinutes(5), Duration.ofDays(1), 2)).isZero();
  }
}
