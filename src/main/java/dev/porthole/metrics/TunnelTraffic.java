package dev.porthole.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * Each live tunnel's bytes, {@code porthole_tunnel_received_bytes_total} and {@code
 * porthole_tunnel_sent_bytes_total} with label {@code tunnel_id}, as one Prometheus collector: two
 * metric families of one data point per tunnel. As a Micrometer function counter per tunnel and
 * direction, every scrape re-made and re-validated the metadata of each of them (with a thousand
 * tunnels, most of a scrape's time). A tunnel's series go when its registration closes.
 */
final class TunnelTraffic implements MultiCollector {
  private static final String RECEIVED = "porthole_tunnel_received_bytes";
  private static final String SENT = "porthole_tunnel_sent_bytes";

  /** The labels are made (and validated) once, not at every scrape. */
  private record Series(Labels labels, LongSupplier received, LongSupplier sent) {
  }

  /**
   * By tunnel id: the snapshots sort their data points by labels, which is then a pass over
   * sorted input instead of a sort.
   */
  private final ConcurrentSkipListMap<String, Series> tunnels = new ConcurrentSkipListMap<>();

  /** Adds a tunnel's two series; run the result to remove them. */
  Runnable add(String tunnelId, LongSupplier received, LongSupplier sent) {
    Series s = new Series(Labels.of("tunnel_id", tunnelId), received, sent);
    tunnels.put(tunnelId, s);
    return () -> tunnels.remove(tunnelId, s);
  }

  @Override
  public MetricSnapshots collect() {
    CounterSnapshot.Builder received = CounterSnapshot.builder().name(RECEIVED).unit(Unit.BYTES)
        .help("Bytes from the public side to the tunnel's local service, through the relay (HTTP heads and bodies, "
            + "TCP payload)");
    CounterSnapshot.Builder sent = CounterSnapshot.builder().name(SENT).unit(Unit.BYTES)
        .help("Bytes from the tunnel's local service back to the relay");
    for (Series s : tunnels.values()) {
      received.dataPoint(CounterDataPointSnapshot.builder().value(s.received().getAsLong()).labels(s.labels()).build());
      sent.dataPoint(CounterDataPointSnapshot.builder().value(s.sent().getAsLong()).labels(s.labels()).build());
    }
    return MetricSnapshots.of(received.build(), sent.build());
  }
}
