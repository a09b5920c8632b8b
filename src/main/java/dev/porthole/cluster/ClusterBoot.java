package dev.porthole.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.AdvancedNetworkConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.InterfacesConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.ServerSocketEndpointConfig;
import com.hazelcast.core.HazelcastInstance;
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
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.FileNotFoundException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Builds the clustered Vert.x of {@code app-server --cluster}: Hazelcast (through vertx-hazelcast)
 * from porthole's built-in config ({@link #builtIn}: Vert.x's {@code __vertx.*} structures, TCP-IP
 * join with the member list, multicast and auto-detection off, no client port, no phone home, no
 * join delay, failure detection in seconds, a small grid's partitions and threads, logging through
 * SLF4J) or from {@code cluster.hazelcast_config}; no Hazelcast shutdown hook either way (porthole
 * stops its tunnels before it leaves). The only class that knows Hazelcast types besides the
 * cluster manager subclass below.
 */
public final class ClusterBoot {
  /** TCP-IP members without a port are tried on this many ports from {@code cluster.port}. */
  static final int PORT_TRY_COUNT = 3;
  /** Hazelcast's partitions: 271 by default, for data grids; the same on every member. */
  static final int PARTITION_COUNT = 31;
  /** How long the TCP-IP joiner looks for a master before claiming to be one. */
  static final int JOIN_TIMEOUT_S = 1;
  /** How often members look for another cluster of the same name to merge with. */
  static final int MERGE_DELAY_S = 10;
  /** Hazelcast member attributes carrying the event bus's node metadata ({@code node}, {@code joined_at}). */
  static final String ATTRIBUTE_PREFIX = "porthole.";

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
    JsonObject metadata = new JsonObject().put("node", cfg.nodeName()).put("joined_at", Instant.now().toString());
    // The same metadata as member attributes: they travel with the join itself, so every member
    // knows a newcomer's name the moment Hazelcast reports it, where Vert.x's node-info map is
    // written only once the newcomer's Vert.x has started and is slow to read while partitions
    // migrate (as they do at every join).
    metadata.forEach(e -> hz.getMemberAttributeConfig().setAttribute(ATTRIBUTE_PREFIX + e.getKey(), (String) e.getValue()));
    EventBusOptions bus = new EventBusOptions().setHost(cfg.host()).setPort(0).setClusterNodeMetadata(metadata);
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
    if (!cfg.hazelcastConfig().isEmpty()) {
      Config hz = Config.loadFromFile(new java.io.File(cfg.hazelcastConfig()));
      hz.setClusterName(cfg.name());
      hz.setProperty("hazelcast.phone.home.enabled", "false");
      hz.setProperty("hazelcast.shutdownhook.enabled", "false");
      return hz;
    }
    return builtIn(cfg);
  }

  /**
   * The built-in config, built in code rather than read from vertx-hazelcast's default XML (whose
   * schema validation alone costs start-up CPU): the same three {@code __vertx.*} structures, then
   * only what porthole uses. Every setting below is explained in docs/cluster.md ("Hazelcast
   * settings"); C1 in docs/performance.md measured them.
   */
  static Config builtIn(ClusterConfig cfg) {
    Config hz = new Config().setClusterName(cfg.name());
    hz.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    hz.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    hz.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    hz.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type"));
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(cfg.heartbeatIntervalSeconds()));
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(cfg.maxNoHeartbeatSeconds()));
    hz.setProperty("hazelcast.tcp.join.port.try.count", String.valueOf(PORT_TRY_COUNT));
    // A handful of members with a few small maps: fewer partitions (the same on every member, or
    // they do not join) and fewer threads than Hazelcast's defaults for a data grid.
    hz.setProperty("hazelcast.partition.count", String.valueOf(PARTITION_COUNT));
    hz.setProperty("hazelcast.io.thread.count", "1");
    hz.setProperty("hazelcast.io.balancer.interval.seconds", "-1");
    hz.setProperty("hazelcast.event.thread.count", "2");
    hz.setProperty("hazelcast.operation.response.thread.count", "1");
    // Nothing reads Hazelcast's own metrics, health lines or slow-operation reports.
    hz.getMetricsConfig().setEnabled(false);
    hz.setProperty("hazelcast.health.monitoring.level", "OFF");
    hz.setProperty("hazelcast.slow.operation.detector.enabled", "false");
    // The advanced network config with a member endpoint only: no client port, so Hazelcast starts
    // its no-op client engine instead of ~1 100 client-protocol classes and 430 lambdas.
    AdvancedNetworkConfig network = hz.getAdvancedNetworkConfig().setEnabled(true);
    ServerSocketEndpointConfig member = new ServerSocketEndpointConfig();
    member.setPort(cfg.port()).setPortAutoIncrement(true)
        .setInterfaces(new InterfacesConfig().setEnabled(true).setInterfaces(List.of(cfg.host())));
    if (!cfg.publicHost().isEmpty()) {
      member.setPublicAddress(cfg.publicHost());
    }
    network.setMemberEndpointConfig(member);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    // The joiner asks the listed members for a master for this long before it claims to be one:
    // Hazelcast's 5 s is for members that may take seconds to answer; on a LAN they answer in
    // milliseconds, and three members started at once waited the whole 5 s.
    join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(JOIN_TIMEOUT_S)
        .setMembers(cfg.members().isEmpty() ? List.of(cfg.host()) : cfg.members());
    // Should members ever form two clusters (started apart on a starved machine, or a LAN split
    // that heals), they look for each other and merge after seconds, not Hazelcast's 5 and 2 min.
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(MERGE_DELAY_S));
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(MERGE_DELAY_S));
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
      HazelcastInstance hz = getHazelcastInstance();
      if (hz != null) {
        for (Member member : hz.getCluster().getMembers()) {
          String name = member.getAttribute(ATTRIBUTE_PREFIX + "node");
          if (name != null && member.getUuid().toString().equals(nodeId)) {
            return Future.succeededFuture(new JsonObject().put("node", name)
                .put("joined_at", member.getAttribute(ATTRIBUTE_PREFIX + "joined_at")));
          }
        }
      }
      // Not (or no longer) a member, or one without the attributes: Vert.x's node-info map decides.
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
