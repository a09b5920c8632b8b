package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private JsonObject load(Path file, Map<String, String> env, JsonObject flags) throws Exception {
    try {
      return ConfigLoader.load(vertx, file, env, flags).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  @Test
  @DisplayName("the shipped conf/porthole.yaml documents exactly the defaults in code")
  void shippedYamlMatchesDefaults() throws Exception {
    Path shipped = Path.of("conf", "porthole.yaml");
    assertThat(shipped).exists();
    assertThat(load(shipped, Map.of(), null)).isEqualTo(ConfigDefaults.tree());
  }

  @Test
  @DisplayName("layers: defaults < YAML file < PORTHOLE_* environment < flags")
  void precedence(@TempDir Path dir) throws Exception {
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(yaml, "relay:\n  ssh_port: 3000\n  admin_port: 3001\n  http_port: 3002\n");
    JsonObject cfg = load(yaml, Map.of("PORTHOLE_RELAY_ADMIN_PORT", "4001", "PORTHOLE_RELAY_HTTP_PORT", "4002",
        "UNRELATED", "x"), new JsonObject().put("relay", new JsonObject().put("http_port", 5002)));
    RelayConfig relay = RelayConfig.from(cfg);
    assertThat(relay.sshPort()).isEqualTo(3000);
    assertThat(relay.adminPort()).isEqualTo(4001);
    assertThat(relay.httpPort()).isEqualTo(5002);
    assertThat(relay.bindHost()).isEqualTo("127.0.0.1");
  }

  @Test
  @DisplayName("embedded_relay: free internal ports and 8001-when-free by default; a set port is required, from YAML or env")
  void embeddedRelayPorts(@TempDir Path dir) throws Exception {
    assertThat(EmbeddedRelayConfig.from(load(null, Map.of(), null)))
        .isEqualTo(new EmbeddedRelayConfig(0, 0, 8001, true));
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(yaml, "embedded_relay:\n  admin_port: 8100\n  http_port: 8101\n");
    assertThat(EmbeddedRelayConfig.from(load(yaml, Map.of("PORTHOLE_EMBEDDED_RELAY_SSH_PORT", "2300"), null)))
        .isEqualTo(new EmbeddedRelayConfig(8100, 2300, 8101, false));
    assertThat(EmbeddedRelayConfig.from(load(null, Map.of("PORTHOLE_EMBEDDED_RELAY_HTTP_PORT", "0"), null)))
        .isEqualTo(new EmbeddedRelayConfig(0, 0, 0, false));
    assertThat(EmbeddedRelayConfig.from(load(null, Map.of("PORTHOLE_EMBEDDED_RELAY_HTTP_PORT", " AUTO "), null)))
        .isEqualTo(new EmbeddedRelayConfig(0, 0, 8001, true));
    JsonObject bad = load(null, Map.of("PORTHOLE_EMBEDDED_RELAY_HTTP_PORT", "eighty"), null);
    assertThatThrownBy(() -> EmbeddedRelayConfig.from(bad)).isInstanceOf(ConfigException.class)
        .hasMessage("embedded_relay.http_port: must be auto or a port number, got \"eighty\"");
    JsonObject tooBig = load(null, Map.of("PORTHOLE_EMBEDDED_RELAY_HTTP_PORT", "70000"), null);
    assertThatThrownBy(() -> EmbeddedRelayConfig.from(tooBig))
        .hasMessage("embedded_relay.http_port: must be between 0 and 65535, got 70000");
  }

  @Test
  @DisplayName("an unknown key stops start-up with a line naming it")
  void unknownKey(@TempDir Path dir) throws Exception {
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(yaml, "relay:\n  ssh_prot: 3000\n");
    assertThatThrownBy(() -> load(yaml, Map.of(), null)).isInstanceOf(ConfigException.class)
        .hasMessage("relay.ssh_prot: unknown key");
  }

  @Test
  @DisplayName("a value of the wrong type or range names its key")
  void badValues(@TempDir Path dir) throws Exception {
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(yaml, "relay:\n  ssh_port: 70000\n");
    JsonObject cfg = load(yaml, Map.of(), null);
    assertThatThrownBy(() -> RelayConfig.from(cfg)).isInstanceOf(ConfigException.class)
        .hasMessage("relay.ssh_port: must be between 0 and 65535, got 70000");
    assertThatThrownBy(() -> load(null, Map.of("PORTHOLE_RELAY_SSH_PORT", "many"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("PORTHOLE_RELAY_SSH_PORT: must be a whole number, got \"many\"");
    JsonObject text = ConfigDefaults.tree();
    text.getJsonObject("relay").put("admin_port", "eight thousand");
    assertThatThrownBy(() -> RelayConfig.from(text)).hasMessage("relay.admin_port: must be a whole number, got eight thousand");
  }

  @Test
  @DisplayName("relay.ssh_window_bytes / ssh_packet_bytes: 8 MiB and 64 KiB by default, from YAML, env or flags; bad values name the key")
  void sshWindow(@TempDir Path dir) throws Exception {
    RelayConfig defaults = RelayConfig.from(load(null, Map.of(), null));
    assertThat(defaults.sshWindowBytes()).isEqualTo(8L * 1024 * 1024);
    assertThat(defaults.sshPacketBytes()).isEqualTo(64 * 1024);
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(yaml, "relay:\n  ssh_window_bytes: 16777216\n  ssh_packet_bytes: 32768\n");
    RelayConfig fromFile = RelayConfig.from(load(yaml, Map.of(), null));
    assertThat(fromFile.sshWindowBytes()).isEqualTo(16L * 1024 * 1024);
    assertThat(fromFile.sshPacketBytes()).isEqualTo(32768);
    RelayConfig fromEnv = RelayConfig.from(load(yaml, Map.of("PORTHOLE_RELAY_SSH_WINDOW_BYTES", "4194304"),
        new JsonObject().put("relay", new JsonObject().put("ssh_packet_bytes", 131072))));
    assertThat(fromEnv.sshWindowBytes()).isEqualTo(4L * 1024 * 1024);
    assertThat(fromEnv.sshPacketBytes()).isEqualTo(131072);

    JsonObject tree = ConfigDefaults.tree();
    tree.getJsonObject("relay").put("ssh_window_bytes", 1000);
    assertThatThrownBy(() -> RelayConfig.from(tree)).isInstanceOf(ConfigException.class)
        .hasMessage("relay.ssh_window_bytes: must be between 65536 and 1073741824, got 1000");
    tree.getJsonObject("relay").put("ssh_window_bytes", 1L << 31);
    assertThatThrownBy(() -> RelayConfig.from(tree))
        .hasMessage("relay.ssh_window_bytes: must be between 65536 and 1073741824, got 2147483648");
    tree.getJsonObject("relay").put("ssh_window_bytes", "8M");
    assertThatThrownBy(() -> RelayConfig.from(tree)).hasMessage("relay.ssh_window_bytes: must be a whole number, got 8M");
    tree.getJsonObject("relay").put("ssh_window_bytes", 131072).put("ssh_packet_bytes", 131072);
    assertThatThrownBy(() -> RelayConfig.from(tree))
        .hasMessage("relay.ssh_packet_bytes: must be at most half of relay.ssh_window_bytes (131072), got 131072");
    tree.getJsonObject("relay").put("ssh_window_bytes", 8388608).put("ssh_packet_bytes", 1 << 20);
    assertThatThrownBy(() -> RelayConfig.from(tree))
        .hasMessage("relay.ssh_packet_bytes: must be between 1024 and 131072, got 1048576");
    assertThatThrownBy(() -> load(null, Map.of("PORTHOLE_RELAY_SSH_WINDOW_BYTES", "8 MiB"), null))
        .hasMessage("PORTHOLE_RELAY_SSH_WINDOW_BYTES: must be a whole number, got \"8 MiB\"");
  }

  @Test
  @DisplayName("ssh.virtual_threads: auto by default; auto, on, off (YAML's bare on/off too) from YAML or env; anything else names the key")
  void sshVirtualThreads(@TempDir Path dir) throws Exception {
    assertThat(SshClientConfig.from(load(null, Map.of(), null)).virtualThreads())
        .isEqualTo(SshClientConfig.VirtualThreads.AUTO);
    Path yaml = dir.resolve("p.yaml");
    Files.writeString(yaml, "ssh:\n  virtual_threads: off\n");
    assertThat(SshClientConfig.from(load(yaml, Map.of(), null)).virtualThreads())
        .isEqualTo(SshClientConfig.VirtualThreads.OFF);
    Files.writeString(yaml, "ssh:\n  virtual_threads: \"on\"\n");
    assertThat(SshClientConfig.from(load(yaml, Map.of(), null)).virtualThreads())
        .isEqualTo(SshClientConfig.VirtualThreads.ON);
    assertThat(SshClientConfig.from(load(null, Map.of("PORTHOLE_SSH_VIRTUAL_THREADS", " Off "), null)).virtualThreads())
        .isEqualTo(SshClientConfig.VirtualThreads.OFF);
    JsonObject bad = load(null, Map.of("PORTHOLE_SSH_VIRTUAL_THREADS", "sometimes"), null);
    assertThatThrownBy(() -> SshClientConfig.from(bad)).isInstanceOf(ConfigException.class)
        .hasMessage("ssh.virtual_threads: must be auto, on or off, got \"sometimes\"");
    assertThatThrownBy(() -> AppServerSettings.parse(bad)).hasMessage("ssh.virtual_threads: must be auto, on or off, got \"sometimes\"");
  }

  @Test
  @DisplayName("a named file that does not exist is an error; unreadable YAML names the file")
  void missingOrBrokenFile(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> load(dir.resolve("nope.yaml"), Map.of(), null))
        .hasMessageContaining("nope.yaml does not exist");
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "relay: [unclosed\n");
    assertThatThrownBy(() -> load(broken, Map.of(), null)).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("cannot read " + broken);
  }

  @Test
  @DisplayName("secret keys: strings or maps with reserved subdomains; short keys refused; lists from the environment")
  void secretKeys() throws Exception {
    JsonObject tree = ConfigDefaults.tree();
    tree.getJsonObject("relay").put("secret_keys", new JsonArray().add("a-long-enough-secret-1")
        .add(new JsonObject().put("key", "a-long-enough-secret-2").put("reserved_subdomains", new JsonArray().add(" Api "))));
    RelayConfig cfg = RelayConfig.from(tree);
    assertThat(cfg.secretKeys()).hasSize(2);
    assertThat(cfg.secretKeys().get(1).reservedSubdomains()).containsExactly("api");
    assertThat(cfg.toString()).doesNotContain("a-long-enough-secret");

    tree.getJsonObject("relay").put("secret_keys", new JsonArray().add("short"));
    assertThatThrownBy(() -> RelayConfig.from(tree)).hasMessage("relay.secret_keys[0]: is too short: use at least 16 characters");

    JsonObject env = load(null, Map.of("PORTHOLE_RELAY_SECRET_KEYS", "first-secret-key-000, second-secret-key-00"), null);
    assertThat(RelayConfig.from(env).secretKeys()).extracting(RelayConfig.SecretKeyEntry::key)
        .containsExactly("first-secret-key-000", "second-secret-key-00");
  }

  @Test
  @DisplayName("relay.domain refuses a scheme; the default domain follows the bound edge port")
  void domain() {
    JsonObject tree = ConfigDefaults.tree();
    assertThat(RelayConfig.from(tree).effectiveDomain(18001)).isEqualTo("localhost:18001");
    tree.getJsonObject("relay").put("domain", "https://t.example.com");
    assertThatThrownBy(() -> RelayConfig.from(tree)).hasMessageStartingWith("relay.domain: must be a host name");
    tree.getJsonObject("relay").put("domain", "t.example.com");
    assertThat(RelayConfig.from(tree).effectiveDomain(18001)).isEqualTo("t.example.com");
  }
}
