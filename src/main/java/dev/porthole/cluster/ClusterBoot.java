package dev.porthole.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import dev.porthole.config.ClusterConfig;
import dev.porthole.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.NodeListener;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.FileNotFoundException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Builds the clustered Vert.x of {@code app-server --cluster}: Hazelcast (through vertx-hazelcast)
 * from Vert.x's own default config ({@code ConfigUtil.loadConfig()}, which keeps the {@code __vertx.*}
 * map settings) or from {@code cluster.hazelcast_config}, then porthole's settings: cluster name,
 * interface and port, TCP-IP join with the member list (multicast and auto-detection off), no phone
 * home, no join delay, failure detection in seconds, logging through SLF4J, no Hazelcast shutdown
 * hook (porthole stops its tunnels before it leaves). The only class that knows Hazelcast types
 * besides the cluster manager subclass below.
 */
public final class ClusterBoot {
  /** TCP-IP members without a port are tried on this many ports from {@code cluster.port}. */
  static final int PORT_TRY_COUNT = 3;

  private ClusterBoot() {
  }

  /** The clustered Vert.x, joined; fails with a message for the user (a bad hazelcast_config, no free port…). */
  public static Future<Vertx> start(ClusterConfig cfg, Metrics metrics) {
    Config hz;
    try {
      hz = hazelcastConfig(cfg);
    } catch (FileNotFoundException | RuntimeException e) {
      return Future.failedFuture(new IllegalArgumentException("cluster.hazelcast_config " + cfg.hazelcastConfig()
          + ": " + e.getMessage(), e));
    }
    EventBusOptions bus = new EventBusOptions().setHost(cfg.host()).setPort(0)
        .setClusterNodeMetadata(new JsonObject().put("node", cfg.nodeName()).put("joined_at", Instant.now().toString()));
    if (!cfg.publicHost().isEmpty()) {
      bus.setClusterPublicHost(cfg.publicHost());
    }
    if (cfg.publicPort() > 0) {
      bus.setClusterPublicPort(cfg.publicPort());
    }
    if (cfg.tls()) {
      bus.setSsl(true).setClientAuth(ClientAuth.REQUIRED)
          .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cfg.tlsCert()).setKeyPath(cfg.tlsKey()))
          .setTrustOptions(new PemTrustOptions().addCertPath(cfg.tlsCa()));
    }
    return metrics.configure(Vertx.builder(), new VertxOptions().setEventBusOptions(bus))
        .withClusterManager(new PortholeClusterManager(hz)).buildClustered().map(metrics::install);
  }

  /** The membership view of a Vert.x built by {@link #start}. */
  public static Membership membership(Vertx vertx) {
    if (((VertxInternal) vertx).clusterManager() instanceof Membership m) {
      return m;
    }
    throw new IllegalStateException("not a clustered porthole Vert.x");
  }

  static Config hazelcastConfig(ClusterConfig cfg) throws FileNotFoundException {
    // Hazelcast reads its logging type once, from the system property, before any config is seen.
    System.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type", "slf4j"));
    System.setProperty("hazelcast.phone.home.enabled", "false");
    Config hz = cfg.hazelcastConfig().isEmpty() ? ConfigUtil.loadConfig() : Config.loadFromFile(
        new java.io.File(cfg.hazelcastConfig()));
    hz.setClusterName(cfg.name());
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    if (!cfg.hazelcastConfig().isEmpty()) {
      return hz;
    }
    hz.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type"));
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(cfg.heartbeatIntervalSeconds()));
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(cfg.maxNoHeartbeatSeconds()));
    hz.setProperty("hazelcast.tcp.join.port.try.count", String.valueOf(PORT_TRY_COUNT));
    NetworkConfig network = hz.getNetworkConfig();
    network.setPort(cfg.port()).setPortAutoIncrement(true);
    network.getInterfaces().setEnabled(true).setInterfaces(List.of(cfg.host()));
    if (!cfg.publicHost().isEmpty()) {
      network.setPublicAddress(cfg.publicHost());
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(cfg.members().isEmpty() ? List.of(cfg.host()) : cfg.members());
    return hz;
  }

  /**
   * Vert.x's Hazelcast cluster manager, with room for more than one node listener: the manager keeps
   * only one, Vert.x sets its own when HA is on, and porthole's cluster verticle adds one.
   */
  static final class PortholeClusterManager extends HazelcastClusterManager implements Membership {
    private final List<NodeListener> extra = new CopyOnWriteArrayList<>();
    private volatile NodeListener vertxOwn;

    PortholeClusterManager(Config config) {
      super(config);
      super.nodeListener(new NodeListener() {
        @Override
        public void nodeAdded(String nodeId) {
          NodeListener own = vertxOwn;
          if (own != null) {
            own.nodeAdded(nodeId);
          }
          extra.forEach(l -> l.nodeAdded(nodeId));
        }

        @Override
        public void nodeLeft(String nodeId) {
          NodeListener own = vertxOwn;
          if (own != null) {
            own.nodeLeft(nodeId);
          }
          extra.forEach(l -> l.nodeLeft(nodeId));
        }
      });
    }

    @Override
    public void nodeListener(NodeListener listener) {
      vertxOwn = listener;
    }

    @Override
    public String nodeId() {
      return getNodeId();
    }

    @Override
    public List<String> nodes() {
      return getNodes();
    }

    @Override
    public Future<JsonObject> metadata(String nodeId) {
      Promise<NodeInfo> info = Promise.promise();
      getNodeInfo(nodeId, info);
      return info.future().map(i -> i.metadata() == null ? new JsonObject() : i.metadata());
    }

    @Override
    public void listen(NodeListener listener) {
      extra.add(listener);
    }
  }
}
