package dev.porthole.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.ServerSocketEndpointConfig;
import com.hazelcast.instance.EndpointQualifier;
import dev.porthole.config.ClusterConfig;
import dev.porthole.config.ConfigDefaults;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Hazelcast config porthole builds (docs/cluster.md, "Hazelcast settings"); no member is started. */
class ClusterBootTest {
  private static ClusterConfig cluster(JsonObject settings) {
    JsonObject tree = ConfigDefaults.tree();
    tree.getJsonObject("cluster").mergeIn(settings.put("enabled", true), true);
    return ClusterConfig.from(tree, 7778);
  }

  @Test
  @DisplayName("built in: member endpoint only (no client port), TCP-IP join with a 1 s look-up, 31 partitions, Vert.x's maps")
  void builtIn() throws Exception {
    Config hz = ClusterBoot.hazelcastConfig(cluster(new JsonObject().put("name", "lab").put("host", "127.0.0.1")
        .put("port", 5801).put("members", new JsonArray().add("127.0.0.1:5801").add("127.0.0.1:5802"))
        .put("public_host", "10.1.2.3")));

    assertThat(hz.getClusterName()).isEqualTo("lab");
    assertThat(hz.getAdvancedNetworkConfig().isEnabled()).isTrue();
    assertThat(hz.getAdvancedNetworkConfig().getEndpointConfigs()).containsOnlyKeys(EndpointQualifier.MEMBER);
    ServerSocketEndpointConfig member = (ServerSocketEndpointConfig) hz.getAdvancedNetworkConfig()
        .getEndpointConfigs().get(EndpointQualifier.MEMBER);
    assertThat(member.getPort()).isEqualTo(5801);
    assertThat(member.isPortAutoIncrement()).isTrue();
    assertThat(member.getInterfaces().isEnabled()).isTrue();
    assertThat(member.getInterfaces().getInterfaces()).containsExactly("127.0.0.1");
    assertThat(member.getPublicAddress()).isEqualTo("10.1.2.3");
    var join = hz.getAdvancedNetworkConfig().getJoin();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("127.0.0.1:5801", "127.0.0.1:5802");
    assertThat(join.getTcpIpConfig().getConnectionTimeoutSeconds()).isEqualTo(1);

    assertThat(hz.getProperty("hazelcast.partition.count")).isEqualTo("31");
    assertThat(hz.getProperty("hazelcast.heartbeat.interval.seconds")).isEqualTo("1");
    assertThat(hz.getProperty("hazelcast.max.no.heartbeat.seconds")).isEqualTo("5");
    assertThat(hz.getProperty("hazelcast.wait.seconds.before.join")).isEqualTo("0");
    assertThat(hz.getProperty("hazelcast.merge.first.run.delay.seconds")).isEqualTo("10");
    assertThat(hz.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(hz.getProperty("hazelcast.shutdownhook.enabled")).isEqualTo("false");
    assertThat(hz.getMetricsConfig().isEnabled()).isFalse();

    assertThat(hz.getMultiMapConfig("__vertx.subs").getBackupCount()).isEqualTo(1);
    assertThat(hz.getMultiMapConfig("__vertx.subs").getValueCollectionType().name()).isEqualTo("SET");
    assertThat(hz.getMapConfig("__vertx.nodeInfo").getBackupCount()).isEqualTo(1);
    assertThat(hz.getMapConfig("__vertx.haInfo").getBackupCount()).isEqualTo(1);
  }

  @Test
  @DisplayName("no member list: this host's own interface")
  void ownHost() throws Exception {
    Config hz = ClusterBoot.hazelcastConfig(cluster(new JsonObject().put("host", "127.0.0.1")));
    assertThat(hz.getAdvancedNetworkConfig().getJoin().getTcpIpConfig().getMembers()).containsExactly("127.0.0.1");
  }

  @Test
  @DisplayName("cluster.hazelcast_config: the user's file as written, only the name, phone-home and shutdown hook set")
  void userFile(@TempDir Path dir) throws Exception {
    Path xml = dir.resolve("hz.xml");
    Files.writeString(xml, """
        <hazelcast xmlns="http://www.hazelcast.com/schema/config">
          <properties><property name="hazelcast.partition.count">271</property></properties>
          <network><port>5901</port><join><multicast enabled="false"/></join></network>
        </hazelcast>
        """);
    Config hz = ClusterBoot.hazelcastConfig(cluster(new JsonObject().put("name", "mine")
        .put("hazelcast_config", xml.toString())));
    assertThat(hz.getClusterName()).isEqualTo("mine");
    assertThat(hz.getAdvancedNetworkConfig().isEnabled()).isFalse();
    assertThat(hz.getNetworkConfig().getPort()).isEqualTo(5901);
    assertThat(hz.getProperty("hazelcast.partition.count")).isEqualTo("271");
    assertThat(hz.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(hz.getProperty("hazelcast.shutdownhook.enabled")).isEqualTo("false");
  }
}
