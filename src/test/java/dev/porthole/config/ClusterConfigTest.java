package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ClusterConfigTest {
  static JsonObject tree(JsonObject cluster) {
    JsonObject t = ConfigDefaults.tree();
    t.getJsonObject("cluster").mergeIn(cluster, true);
    return t;
  }

  @Test
  @DisplayName("defaults: off, node <host>-<api port>, 127.0.0.1:5701, failure detection 1 s / 5 s, no TLS")
  void defaults() {
    ClusterConfig c = ClusterConfig.from(ConfigDefaults.tree(), 7778);
    assertThat(c.enabled()).isFalse();
    assertThat(c.nodeName()).endsWith("-7778").matches(ClusterConfig.NODE_NAME);
    assertThat(c.host()).isEqualTo("127.0.0.1");
    assertThat(c.port()).isEqualTo(5701);
    assertThat(c.heartbeatIntervalSeconds()).isEqualTo(1);
    assertThat(c.maxNoHeartbeatSeconds()).isEqualTo(5);
    assertThat(c.tls()).isFalse();
  }

  @Test
  @DisplayName("bad values fail naming the key")
  void badValues() {
    assertThatThrownBy(() -> ClusterConfig.from(tree(new JsonObject().put("node_name", "a b")), 1))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.node_name");
    assertThatThrownBy(() -> ClusterConfig.from(tree(new JsonObject().put("members", new JsonArray().add("x y"))), 1))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.members");
    assertThatThrownBy(() -> ClusterConfig.from(tree(new JsonObject().put("max_no_heartbeat_seconds", 1)), 1))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.max_no_heartbeat_seconds");
    assertThatThrownBy(() -> ClusterConfig.from(tree(new JsonObject().put("tls", new JsonObject().put("cert", "a.pem"))), 1))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.tls");
    assertThatThrownBy(() -> ClusterConfig.from(tree(new JsonObject().put("port", 70000)), 1))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.port");
  }

  @Test
  @DisplayName("members, TLS files (~ expanded) and the cluster name are read as given")
  void given() {
    ClusterConfig c = ClusterConfig.from(tree(new JsonObject().put("enabled", true).put("node_name", "lab-a")
        .put("members", new JsonArray().add("10.0.0.5").add("10.0.0.6:5702")).put("name", "lab")
        .put("tls", new JsonObject().put("cert", "~/n.pem").put("key", "/k.pem").put("ca", "/ca.pem"))), 1);
    assertThat(c.nodeName()).isEqualTo("lab-a");
    assertThat(c.members()).containsExactly("10.0.0.5", "10.0.0.6:5702");
    assertThat(c.tls()).isTrue();
    assertThat(c.tlsCert()).doesNotStartWith("~").endsWith("n.pem");
    assertThat(c.name()).isEqualTo("lab");
  }
}
