package dev.porthole.tunnel;

import dev.porthole.bus.TunnelEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The one place that logs recorded tunnel events (portr-protocol §6.1): message {@code App-server
 * tunnel event} with {@code event}, {@code tunnel_id}, {@code connection_type}, {@code host},
 * {@code port}, then the non-empty ones of {@code name}, {@code subdomain}, {@code remote_port},
 * {@code tunnel_url}, {@code error}, and porthole's {@code reason} (a lease that ended). Failed → ERROR, unhealthy → WARN, others → INFO.
 */
final class EventLog {
  static final String MESSAGE = "App-server tunnel event";
  private static final Logger log = LoggerFactory.getLogger("app-server");

  private EventLog() {
  }

  static void record(TunnelEvent e) {
    Level level = switch (e.type()) {
      case "failed" -> Level.ERROR;
      case "unhealthy" -> Level.WARN;
      default -> Level.INFO;
    };
    log.atLevel(level).log(line(e));
  }

  /** The line as logged: the message, then {@code key=value} pairs in Portr's order. */
  static String line(TunnelEvent e) {
    StringBuilder b = new StringBuilder(MESSAGE);
    kv(b, "event", e.type());
    kv(b, "tunnel_id", e.tunnelId());
    kv(b, "connection_type", e.connectionType());
    kv(b, "host", e.host());
    kv(b, "port", String.valueOf(e.port()));
    optional(b, "name", e.name());
    optional(b, "subdomain", e.subdomain());
    if (e.remotePort() != 0) {
      kv(b, "remote_port", String.valueOf(e.remotePort()));
    }
    optional(b, "tunnel_url", e.tunnelUrl());
    optional(b, "error", e.error());
    optional(b, "reason", e.reason());
    return b.toString();
  }

  private static void optional(StringBuilder b, String key, String value) {
    if (value != null && !value.isEmpty()) {
      kv(b, key, value);
    }
  }

  private static void kv(StringBuilder b, String key, String value) {
    b.append(' ').append(key).append('=');
    boolean quote = value.isEmpty() || value.chars().anyMatch(c -> c == ' ' || c == '"' || c == '=' || c < 0x20);
    if (quote) {
      b.append('"').append(value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
    } else {
      b.append(value);
    }
  }

}
