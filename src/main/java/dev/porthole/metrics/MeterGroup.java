package dev.porthole.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.noop.NoopCounter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Meters one owner registers and removes together ({@link #close}): a verticle's when it stops, a
 * tunnel's when the tunnel stops, so that no series outlives what it measures. Confined to its
 * owner's thread; the meters themselves are read by the scrape on any thread, so what a gauge or
 * function counter reads must be safe to read there (atomics, adders). With metrics off it
 * registers nothing and hands out no-op counters.
 */
public final class MeterGroup {
  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  /** Micrometer holds what a gauge reads weakly: the group holds it until it closes. */
  private final List<Object> held = new ArrayList<>();

  MeterGroup(MeterRegistry registry) {
    this.registry = registry;
  }

  /** A counter; {@code tags} are name, value pairs. */
  public Counter counter(String name, String description, String... tags) {
    if (registry == null) {
      return new NoopCounter(new Meter.Id(name, Tags.of(tags), null, description, Meter.Type.COUNTER));
    }
    return add(Counter.builder(name).description(description).tags(tags).register(registry));
  }

  /** A counter whose value {@code f} reads from {@code state} at each scrape. */
  public <T> void functionCounter(String name, String description, String baseUnit, T state, ToDoubleFunction<T> f,
      String... tags) {
    if (registry != null) {
      held.add(state);
      add(FunctionCounter.builder(name, state, f).description(description).baseUnit(baseUnit).tags(tags)
          .register(registry));
    }
  }

  /** A gauge whose value {@code f} reads from {@code state} at each scrape. */
  public <T> void gauge(String name, String description, T state, ToDoubleFunction<T> f, String... tags) {
    if (registry != null) {
      add(Gauge.builder(name, state, f).description(description).tags(tags).strongReference(true).register(registry));
    }
  }

  /** Removes every meter of the group from the registry. */
  public void close() {
    if (registry != null) {
      meters.forEach(registry::remove);
    }
    meters.clear();
    held.clear();
  }

  private <M extends Meter> M add(M meter) {
    meters.add(meter);
    return meter;
  }
}
