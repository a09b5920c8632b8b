package dev.porthole.tunnel;

import dev.porthole.bus.TunnelEvent;
import dev.porthole.bus.WorkerSignal;
import dev.porthole.metrics.MeterGroup;
import dev.porthole.metrics.Metrics;
import dev.porthole.ssh.Traffic;
import io.micrometer.core.instrument.Counter;
import java.util.HashMap;
import java.util.Map;

/**
 * The manager's meters (docs/metrics.md): tunnels held by status and type, the recorded starts,
 * reconnects and failures by type, and each live tunnel's bytes, labelled with its id and removed
 * when it stops, so that the series are bounded by {@code limits.max_tunnels}. Confined to the
 * manager's event loop; what the scrape reads is atomic ({@link TunnelCounts}, {@link Traffic}).
 */
final class TunnelMeters {
  private final Metrics metrics;
  private final MeterGroup group;
  private final Map<String, Counter> starts = new HashMap<>();
  private final Map<String, Counter> reconnects = new HashMap<>();
  private final Map<String, Counter> failures = new HashMap<>();

  TunnelMeters(Metrics metrics, TunnelCounts counts) {
    this.metrics = metrics;
    this.group = metrics.group();
    for (String type : TunnelCounts.TYPES) {
      for (String status : TunnelCounts.STATUSES) {
        group.gauge("porthole.tunnels", "Tunnels the app-server holds (stopped: those still listed), by status and type",
            counts, c -> c.get(status, type), "status", status, "type", type);
      }
      starts.put(type, group.counter("porthole.tunnel.starts", "Tunnels that came up (their first started event)",
          "type", type));
      reconnects.put(type, group.counter("porthole.tunnel.reconnects", "Sessions re-established after a loss "
          + "(reconnected events)", "type", type));
      failures.put(type, group.counter("porthole.tunnel.failures", "Tunnels that failed: their start, or every "
          + "reconnect attempt (failed events)", "type", type));
    }
  }

  /** Counts a recorded lifecycle event. */
  void recorded(TunnelEvent e) {
    Map<String, Counter> counters = switch (e.type()) {
      case WorkerSignal.STARTED -> starts;
      case WorkerSignal.RECONNECTED -> reconnects;
      case WorkerSignal.FAILED -> failures;
      default -> null;
    };
    Counter c = counters == null ? null : counters.get(e.connectionType());
    if (c != null) {
      c.increment();
    }
  }

  /** The tunnel's byte counters; run the result when the tunnel stops. */
  Runnable traffic(String tunnelId, Traffic traffic) {
    return metrics.tunnelTraffic(tunnelId, traffic::received, traffic::sent);
  }

  void close() {
    group.close();
  }
}
