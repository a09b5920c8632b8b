package dev.porthole.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TunnelJsonTest {
  private static final Instant STARTED = Instant.parse("2026-01-02T03:04:05.120Z");
  private static final Instant UPDATED = Instant.parse("2026-01-02T03:04:06Z");
  private static final Instant STOPPED = Instant.parse("2026-01-02T03:04:07.000000001Z");

  private static TunnelStatus full() {
    return new TunnelStatus("01HZYR9VK2C0G6KTX4TK9Z5T6S", "web", "stopped", "http", "localhost", 3000, "my-app",
        20123, "https://my-app.example.com", "", List.of("http://example.test/a", "http://example.test/b"), STARTED,
        UPDATED, STOPPED, "boom");
  }

  private static TunnelStatus minimal() {
    return new TunnelStatus("01HZYR9VK2C0G6KTX4TK9Z5T6S", "", "starting", "tcp", "", 0, "", 0, "", "", List.of(),
        STARTED, UPDATED, null, "");
  }

  private static TunnelEvent fullEvent() {
    return new TunnelEvent("01HZYRA000000000000000000A", "01HZYR9VK2C0G6KTX4TK9Z5T6S", "failed", "web", "http",
        "localhost", 3000, "my-app", 20123, "https://my-app.example.com", "boom", STARTED);
  }

  private static TunnelEvent minimalEvent() {
    return new TunnelEvent("01HZYRA000000000000000000A", "01HZYR9VK2C0G6KTX4TK9Z5T6S", "stopped", "", "tcp", "", 0,
        "", 0, "", "", UPDATED);
  }

  @Test
  @DisplayName("§6.5 TunnelStatus: every key present, in Portr's order")
  void statusKeyOrder() {
    JsonObject j = full().toJson();
    assertThat(j.fieldNames()).containsExactly("id", "name", "status", "type", "host", "port", "subdomain",
        "remote_port", "tunnel_url", "callback_urls", "started_at", "updated_at", "stopped_at", "last_error");
    assertThat(j.encode()).isEqualTo("{\"id\":\"01HZYR9VK2C0G6KTX4TK9Z5T6S\",\"name\":\"web\",\"status\":\"stopped\","
        + "\"type\":\"http\",\"host\":\"localhost\",\"port\":3000,\"subdomain\":\"my-app\",\"remote_port\":20123,"
        + "\"tunnel_url\":\"https://my-app.example.com\","
        + "\"callback_urls\":[\"http://example.test/a\",\"http://example.test/b\"],"
        + "\"started_at\":\"2026-01-02T03:04:05.12Z\",\"updated_at\":\"2026-01-02T03:04:06Z\","
        + "\"stopped_at\":\"2026-01-02T03:04:07.000000001Z\",\"last_error\":\"boom\"}");
  }

  @Test
  @DisplayName("§6.5 a stub's status: type stub, the caller's host \"\" and port 0, response_format right after tunnel_url")
  void stubStatus() {
    TunnelStatus s = new TunnelStatus("01HZYR9VK2C0G6KTX4TK9Z5T6S", "", "running", "stub", "", 0, "pay", 20123,
        "https://pay.example.com", "application/json", List.of("http://example.test/a"), STARTED, UPDATED, null, "");
    JsonObject j = s.toJson();
    assertThat(j.fieldNames()).containsExactly("id", "status", "type", "host", "port", "subdomain", "remote_port",
        "tunnel_url", "response_format", "callback_urls", "started_at", "updated_at");
    assertThat(j.encode()).startsWith("{\"id\":\"01HZYR9VK2C0G6KTX4TK9Z5T6S\",\"status\":\"running\",\"type\":\"stub\","
        + "\"host\":\"\",\"port\":0,\"subdomain\":\"pay\",\"remote_port\":20123,\"tunnel_url\":\"https://pay.example.com\","
        + "\"response_format\":\"application/json\",\"callback_urls\"");
    assertThat(TunnelStatus.fromJson(j)).isEqualTo(s);
  }

  @Test
  @DisplayName("§6.5 TunnelStatus: empty name/subdomain/tunnel_url/last_error, zero remote_port, empty callbacks and null stopped_at omitted; host and port kept")
  void statusOmissions() {
    JsonObject j = minimal().toJson();
    assertThat(j.fieldNames()).containsExactly("id", "status", "type", "host", "port", "started_at", "updated_at");
    assertThat(j.getValue("host")).isEqualTo("");
    assertThat(j.getValue("port")).isEqualTo(0);
    assertThat(j.encode()).doesNotContain("callback_urls").doesNotContain("null");
  }

  @Test
  @DisplayName("§6.5 TunnelEvent: every key present, in Portr's order")
  void eventKeyOrder() {
    JsonObject j = fullEvent().toJson();
    assertThat(j.fieldNames()).containsExactly("id", "tunnel_id", "type", "name", "connection_type", "host", "port",
        "subdomain", "remote_port", "tunnel_url", "error", "at");
    assertThat(j.encode()).isEqualTo("{\"id\":\"01HZYRA000000000000000000A\",\"tunnel_id\":\"01HZYR9VK2C0G6KTX4TK9Z5T6S\","
        + "\"type\":\"failed\",\"name\":\"web\",\"connection_type\":\"http\",\"host\":\"localhost\",\"port\":3000,"
        + "\"subdomain\":\"my-app\",\"remote_port\":20123,\"tunnel_url\":\"https://my-app.example.com\","
        + "\"error\":\"boom\",\"at\":\"2026-01-02T03:04:05.12Z\"}");
  }

  @Test
  @DisplayName("§6.5 TunnelEvent: empty name/subdomain/tunnel_url/error and zero remote_port omitted; host and port kept")
  void eventOmissions() {
    JsonObject j = minimalEvent().toJson();
    assertThat(j.fieldNames()).containsExactly("id", "tunnel_id", "type", "connection_type", "host", "port", "at");
    assertThat(j.getValue("host")).isEqualTo("");
    assertThat(j.getValue("port")).isEqualTo(0);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "2026-01-02T03:04:05.120Z, 2026-01-02T03:04:05.12Z",
      "2026-01-02T03:04:05Z, 2026-01-02T03:04:05Z",
      "2026-01-02T03:04:05.000Z, 2026-01-02T03:04:05Z",
      "2026-01-02T03:04:05.123456789Z, 2026-01-02T03:04:05.123456789Z",
      "2026-01-02T03:04:05.000000100Z, 2026-01-02T03:04:05.0000001Z",
      "2026-01-02T03:04:05.5Z, 2026-01-02T03:04:05.5Z",
      "2026-01-02T05:04:05.1+02:00, 2026-01-02T03:04:05.1Z",
      "1999-12-31T23:59:59.999Z, 1999-12-31T23:59:59.999Z",
  })
  @DisplayName("§6.5 timestamps: RFC 3339 UTC with Z, nanoseconds, trailing zeros trimmed")
  void timesFormat(String in, String expected) {
    Instant t = java.time.OffsetDateTime.parse(in).toInstant();
    assertThat(Times.format(t)).isEqualTo(expected);
    assertThat(Times.parse(expected)).isEqualTo(t);
  }

  @Test
  @DisplayName("TunnelStatus.fromJson(toJson()) round trips, with and without optional fields")
  void statusRoundTrip() {
    assertThat(TunnelStatus.fromJson(full().toJson())).isEqualTo(full());
    assertThat(TunnelStatus.fromJson(minimal().toJson())).isEqualTo(minimal());
    assertThat(TunnelStatus.fromJson(new JsonObject(full().toJson().encode()))).isEqualTo(full());
  }

  @Test
  @DisplayName("TunnelEvent.fromJson(toJson()) round trips, with and without optional fields")
  void eventRoundTrip() {
    assertThat(TunnelEvent.fromJson(fullEvent().toJson())).isEqualTo(fullEvent());
    assertThat(TunnelEvent.fromJson(minimalEvent().toJson())).isEqualTo(minimalEvent());
    assertThat(TunnelEvent.fromJson(new JsonObject(fullEvent().toJson().encode()))).isEqualTo(fullEvent());
  }

  @Test
  @DisplayName("WorkerSignal and TunnelRequest round trip through JSON")
  void signalAndRequestRoundTrip() {
    WorkerSignal s = new WorkerSignal("t1", 1, WorkerSignal.RECONNECTED, 20001, "http://a.localhost:8001", "", STARTED);
    assertThat(WorkerSignal.fromJson(s.toJson())).isEqualTo(s);
    TunnelRequest r = new TunnelRequest("web", "http", "localhost", 3000, "my-app", 2, "admin:pw",
        List.of("http://example.test/a"));
    assertThat(TunnelRequest.fromJson(r.toJson())).isEqualTo(r);
    assertThat(r.toString()).doesNotContain("admin:pw").contains("<redacted>");
  }

  @Test
  @DisplayName("TunnelTarget: a stub's carries its Host, a plain tunnel's omits it; both round trip through JSON")
  void targetRoundTrip() {
    TunnelTarget stub = new TunnelTarget("running", "127.0.0.1", 40123, "pay-stub");
    assertThat(stub.toJson().encode())
        .isEqualTo("{\"status\":\"running\",\"host\":\"127.0.0.1\",\"port\":40123,\"host_header\":\"pay-stub\"}");
    TunnelTarget plain = new TunnelTarget("unhealthy", "localhost", 3000, "");
    assertThat(plain.toJson().fieldNames()).containsExactly("status", "host", "port");
    assertThat(TunnelTarget.fromJson(new JsonObject(stub.toJson().encode()))).isEqualTo(stub);
    assertThat(TunnelTarget.fromJson(new JsonObject(plain.toJson().encode()))).isEqualTo(plain);
  }

  @Test
  @DisplayName("lease fields: expires_at and owner_pid after Portr's keys; reason after seq on a stopped event; both round-trip")
  void leaseFields() {
    TunnelStatus s = new TunnelStatus("01HZYR9VK2C0G6KTX4TK9Z5T6S", "", "running", "tcp", "127.0.0.1", 5432, "", 20123,
        "tcp://example.com:20123", "", List.of(), STARTED, UPDATED, null, "", STOPPED, 4242);
    JsonObject j = s.toJson();
    assertThat(j.fieldNames()).containsExactly("id", "status", "type", "host", "port", "remote_port", "tunnel_url",
        "started_at", "updated_at", "expires_at", "owner_pid");
    assertThat(j.getString("expires_at")).isEqualTo("2026-01-02T03:04:07.000000001Z");
    assertThat(j.getLong("owner_pid")).isEqualTo(4242);
    assertThat(TunnelStatus.fromJson(j)).isEqualTo(s);
    TunnelEvent e = new TunnelEvent("01HZYRA000000000000000000A", "01HZYR9VK2C0G6KTX4TK9Z5T6S", "stopped", "", "tcp",
        "127.0.0.1", 5432, "", 20123, "", "", UPDATED, 7, TunnelEvent.EXPIRED);
    assertThat(e.toJson().fieldNames()).endsWith("at", "seq", "reason");
    assertThat(e.toJson().getString("reason")).isEqualTo("expired");
    assertThat(TunnelEvent.fromJson(e.toJson())).isEqualTo(e);
    assertThat(minimalEvent().toJson().containsKey("reason")).isFalse();
    assertThat(full().toJson().containsKey("expires_at")).isFalse();
  }
}
