package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.TunnelEvent;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EventLogTest {
  private static final Instant AT = Instant.parse("2026-01-02T03:04:05Z");

  @Test
  @DisplayName("§10.2 #11 a started event is logged with Portr's message and fields")
  void startedEventLine() {
    TunnelEvent e = new TunnelEvent("01HZYRA000000000000000000A", "01HZYR9VK2C0G6KTX4TK9Z5T6S", "started", "web",
        "http", "localhost", 3000, "my-app", 0, "https://my-app.example.com", "", AT);
    String line = EventLog.line(e);
    assertThat(line).contains("App-server tunnel event", "event=started", "tunnel_id=01HZYR9VK2C0G6KTX4TK9Z5T6S",
        "connection_type=http", "host=localhost", "port=3000", "name=web", "subdomain=my-app",
        "tunnel_url=https://my-app.example.com");
    assertThat(line).startsWith("App-server tunnel event ");
    assertThat(line).doesNotContain("remote_port").doesNotContain("error");
  }

  @Test
  @DisplayName("§6.1 fields come in Portr's order, remote_port and error included when set")
  void fieldOrder() {
    TunnelEvent e = new TunnelEvent("01HZYRA000000000000000000A", "T1", "failed", "web", "http", "localhost", 3000,
        "my-app", 20123, "https://my-app.example.com", "boom", AT);
    assertThat(EventLog.line(e)).isEqualTo("App-server tunnel event event=failed tunnel_id=T1 connection_type=http"
        + " host=localhost port=3000 name=web subdomain=my-app remote_port=20123"
        + " tunnel_url=https://my-app.example.com error=boom");
  }

  @Test
  @DisplayName("§6.1 empty optional fields (name, subdomain, remote_port 0, tunnel_url, error) are left out")
  void emptyOptionalsOmitted() {
    TunnelEvent e = new TunnelEvent("01HZYRA000000000000000000A", "T1", "stopped", "", "tcp", "127.0.0.1", 5432, "",
        0, "", "", AT);
    String line = EventLog.line(e);
    assertThat(line).isEqualTo(
        "App-server tunnel event event=stopped tunnel_id=T1 connection_type=tcp host=127.0.0.1 port=5432");
    assertThat(line).doesNotContain("name=", "subdomain=", "remote_port=", "tunnel_url=", "error=");
  }

  @Test
  @DisplayName("a value with spaces is quoted")
  void valueWithSpacesQuoted() {
    TunnelEvent e = new TunnelEvent("01HZYRA000000000000000000A", "T1", "unhealthy", "my web", "http", "localhost",
        3000, "", 0, "", "ssh keepalive timed out", AT);
    String line = EventLog.line(e);
    assertThat(line).contains("name=\"my web\"", "error=\"ssh keepalive timed out\"");
  }
}
