package dev.porthole.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.shareddata.Shareable;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * The app-server's metrics: one Prometheus registry per Vert.x instance, holding Vert.x's own
 * meters (HTTP servers and clients, event bus, pools) and porthole's ({@code porthole_*},
 * docs/metrics.md). The composition root makes it before the Vert.x instance ({@link #create},
 * {@link #configure}, {@link #install}); every verticle then finds it with {@link #of}, bus-free,
 * and registers its own meters through a {@link MeterGroup} that it closes when it stops. With
 * metrics off, {@link #of} gives {@link #OFF}: its groups hand out no-op meters and nothing is
 * registered anywhere.
 */
public final class Metrics implements Shareable {
  /** Prometheus text format 0.0.4, the default. */
  public static final String TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";
  /** OpenMetrics 1.0, for a scraper whose Accept names it. */
  public static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  public static final Metrics OFF = new Metrics(null);
  /**
   * The one thread scrapes render on and {@link OsGauges} samples on: a shared worker pool of
   * size 1, by this name, so both share it.
   */
  public static final String WORKER = "porthole-metrics";

  private static final byte[] EOF = "# EOF\n".getBytes(StandardCharsets.US_ASCII);
  private static final String MAP = "porthole.metrics";
  private static final String KEY = "metrics";
  /** Vert.x keeps its metrics backends in a static map by name: one name per instance. */
  private static final AtomicLong NAMES = new AtomicLong();

  private final PrometheusMeterRegistry registry;
  private final AtomicInteger bridgeClients = new AtomicInteger();
  private final TunnelTraffic traffic = new TunnelTraffic();
  /** Null when off. */
  private final Scratch scratch;
  /** HTTP responses through tunnels by status class, 1xx … 5xx. */
  private final Counter[] responses = new Counter[5];
  /** The CPU and file-descriptor gauges, sampled by a timer once installed; null when off. */
  private final OsGauges os;

  private Metrics(PrometheusMeterRegistry registry) {
    this(registry, registry == null ? null : OsGauges.platform());
  }

  Metrics(PrometheusMeterRegistry registry, OsGauges os) {
    this.registry = registry;
    this.os = os;
    this.scratch = registry == null ? null : new Scratch();
    MeterGroup process = group();
    for (int i = 0; i < responses.length; i++) {
      responses[i] = process.counter("porthole.tunnel.requests", "HTTP requests answered through tunnels' edges "
          + "(pings excluded), by the status class of the answer", "status_class", (i + 1) + "xx");
    }
    process.gauge("porthole.bridge.clients", "Event-bus bridge (SockJS) clients connected now", bridgeClients,
        AtomicInteger::get);
    if (registry != null) {
      bindJvm(registry);
      os.bindTo(registry);
    }
  }

  /**
   * A live tunnel's byte counters ({@code porthole_tunnel_received_bytes_total}, {@code
   * ..._sent_bytes_total}, label {@code tunnel_id}), read at each scrape from any thread; run the
   * result when the tunnel stops. Nothing with metrics off.
   */
  public Runnable tunnelTraffic(String tunnelId, LongSupplier received, LongSupplier sent) {
    return registry == null ? () -> { } : traffic.add(tunnelId, received, sent);
  }

  /**
   * The JVM's meters, as Vert.x's {@code jvmMetricsEnabled} binds them, except Micrometer's thread
   * states: those take a snapshot of every thread (a safepoint, and with a thousand tunnels over a
   * thousand JSch threads) six times per scrape, most of a scrape's time. Thread counts stay.
   * The CPU and file-descriptor meters are {@link OsGauges}'s, sampled rather than read per scrape.
   */
  private static void bindJvm(MeterRegistry registry) {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Gauge.builder("jvm.threads.live", threads, ThreadMXBean::getThreadCount)
        .description("The current number of live threads including both daemon and non-daemon threads")
        .baseUnit("threads").register(registry);
    Gauge.builder("jvm.threads.daemon", threads, ThreadMXBean::getDaemonThreadCount)
        .description("The current number of live daemon threads").baseUnit("threads").register(registry);
    Gauge.builder("jvm.threads.peak", threads, ThreadMXBean::getPeakThreadCount)
        .description("The peak live thread count since the Java virtual machine started or peak was reset")
        .baseUnit("threads").register(registry);
  }

  /** A new registry, or {@link #OFF}. */
  public static Metrics create(boolean enabled) {
    return enabled ? new Metrics(new PrometheusMeterRegistry(CONFIG)) : OFF;
  }

  /**
   * Prometheus's defaults, but with {@code descriptions()} a constant: the default looks the
   * property up by a freshly built name for every meter at every scrape.
   */
  private static final PrometheusConfig CONFIG = new PrometheusConfig() {
    @Override
    public String get(String key) {
      return null;
    }

    @Override
    public boolean descriptions() {
      return true;
    }
  };

  /**
   * Builds Vert.x's metrics into {@code builder} (nothing when off). Vert.x's default labels only:
   * method, status code, pool and event-bus side, never a path, an address or a remote host, so
   * its series do not grow with tunnels or callers.
   */
  public VertxBuilder configure(VertxBuilder builder) {
    return configure(builder, new VertxOptions());
  }

  /** As {@link #configure(VertxBuilder)}, with the caller's other options (a clustered event bus). */
  public VertxBuilder configure(VertxBuilder builder, VertxOptions base) {
    if (registry == null) {
      return builder.with(base);
    }
    MicrometerMetricsOptions options = new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName("porthole-" + NAMES.incrementAndGet())
        .setJvmMetricsEnabled(false) // bound by bindJvm, without the thread states
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
    return builder.with(base.setMetricsOptions(options)).withMetrics(
        new BindRaceGuard(new MicrometerMetricsFactory(registry)));
  }

  /**
   * Makes this the registry {@link #of} finds for {@code vertx}, and starts sampling the CPU and
   * file-descriptor gauges on {@link #WORKER} until {@code vertx} closes; returns {@code vertx}.
   */
  public Vertx install(Vertx vertx) {
    if (registry != null) {
      vertx.sharedData().<String, Metrics>getLocalMap(MAP).put(KEY, this);
      os.start(vertx, vertx.createSharedWorkerExecutor(WORKER, 1));
    }
    return vertx;
  }

  /** The metrics of {@code vertx}, or {@link #OFF} when it was built without. */
  public static Metrics of(Vertx vertx) {
    Metrics m = vertx.sharedData().<String, Metrics>getLocalMap(MAP).get(KEY);
    return m == null ? OFF : m;
  }

  public boolean enabled() {
    return registry != null;
  }

  /** The registry, null when off. */
  public MeterRegistry registry() {
    return registry;
  }

  /** A set of meters its owner registers and later removes together. */
  public MeterGroup group() {
    return new MeterGroup(registry);
  }

  /**
   * The hook for the SockJS bridge: increment when a client's socket opens, decrement when it
   * closes ({@code porthole_bridge_clients}). Thread-safe; counts even with metrics off.
   */
  public AtomicInteger bridgeClients() {
    return bridgeClients;
  }

  /**
   * Counts one HTTP answer through a tunnel ({@code porthole_tunnel_requests_total}); any thread,
   * a striped add.
   */
  public void tunnelResponse(int status) {
    responses[Math.max(0, Math.min(4, status / 100 - 1))].increment();
  }

  /** The content type to answer a scrape with: OpenMetrics when {@code accept} names it. */
  public static String contentType(String accept) {
    return accept != null && accept.toLowerCase(Locale.ROOT).contains("application/openmetrics-text") ? OPENMETRICS
        : TEXT_004;
  }

  /**
   * Every meter, in {@code contentType} ({@link #TEXT_004} or {@link #OPENMETRICS}): the registry's
   * meters as Micrometer's writer puts them, then the tunnels' byte series ({@link TunnelTraffic}),
   * then OpenMetrics' {@code # EOF}. One answer, sized before it is written; the registry's part
   * goes through a scratch buffer that is kept (it does not grow with tunnels). Any thread, one
   * scrape at a time; not on an event loop.
   */
  public Buffer scrape(String contentType) {
    return BufferInternal.buffer(scrape(contentType, Unpooled::buffer));
  }

  /**
   * As {@link #scrape(String)}, into a buffer of at least the size asked that {@code allocate}
   * gives, which the caller then owns: the HTTP answer takes a pooled direct one (with a thousand
   * tunnels 174 KiB a scrape that the collector no longer has to find, a third of a scrape's
   * garbage, and that Netty writes to the socket without first copying it off the heap).
   */
  public ByteBuf scrape(String contentType, IntFunction<ByteBuf> allocate) {
    if (registry == null) {
      throw new IllegalStateException("metrics are off");
    }
    boolean openMetrics = OPENMETRICS.equals(contentType);
    synchronized (scratch) {
      scratch.reset();
      try {
        registry.scrape(scratch, contentType);
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
      }
      int registryPart = scratch.size();
      if (openMetrics && scratch.endsWith(EOF)) {
        registryPart -= EOF.length;
      }
      ByteBuf out = allocate.apply(registryPart + traffic.sizeBound() + EOF.length);
      try {
        out.writeBytes(scratch.bytes(), 0, registryPart);
        traffic.write(BufferInternal.buffer(out), openMetrics);
        if (openMetrics) {
          out.writeBytes(EOF);
        }
      } catch (RuntimeException | Error e) {
        out.release();
        throw e;
      }
      scratch.trim();
      return out;
    }
  }

  /** Micrometer's writer's output, kept between scrapes. */
  private static final class Scratch extends ByteArrayOutputStream {
    /** Large enough for the registry's meters of a busy app-server; it grows if not. */
    private static final int INITIAL = 64 * 1024;

    Scratch() {
      super(INITIAL);
    }

    byte[] bytes() {
      return buf;
    }

    boolean endsWith(byte[] tail) {
      return count >= tail.length && Arrays.equals(buf, count - tail.length, count, tail, 0, tail.length);
    }

    /** Gives back what one unusually large scrape grew it to. */
    void trim() {
      if (buf.length > 4 * INITIAL && count < buf.length / 4) {
        buf = new byte[INITIAL];
      }
    }
  }
}
