package dev.porthole.tunnel;

import dev.porthole.bus.TunnelRequest;
import dev.porthole.bus.TunnelStatus;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * How many tunnels the registry holds, by status and type ({@code porthole_tunnels}). Written only
 * by {@link TunnelRegistry} on the manager's event loop, as each status changes; read by the metrics
 * scrape on its own thread, hence atomics.
 */
final class TunnelCounts {
  static final List<String> STATUSES = List.of(TunnelStatus.STARTING, TunnelStatus.RUNNING, TunnelStatus.UNHEALTHY,
      TunnelStatus.FAILED, TunnelStatus.STOPPED);
  static final List<String> TYPES = List.of(TunnelRequest.HTTP, TunnelRequest.TCP, TunnelRequest.STUB);

  private final AtomicIntegerArray counts = new AtomicIntegerArray(STATUSES.size() * TYPES.size());

  /** A tunnel of {@code type} went from {@code from} (null: it is new) to {@code to} (null: forgotten). */
  void move(String type, String from, String to) {
    if (from != null) {
      counts.decrementAndGet(slot(from, type));
    }
    if (to != null) {
      counts.incrementAndGet(slot(to, type));
    }
  }

  int get(String status, String type) {
    return counts.get(slot(status, type));
  }

  private static int slot(String status, String type) {
    int s = STATUSES.indexOf(status);
    int t = TYPES.indexOf(type);
    if (s < 0 || t < 0) {
      throw new IllegalArgumentException("no count for status " + status + ", type " + type);
    }
    return s * TYPES.size() + t;
  }
}
