package dev.porthole.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PortrConfigTest {
  private static final String INVALID_SUFFIX = ": use 1-63 lowercase letters, numbers, or internal hyphens";

  @TempDir
  Path dir;

  private PortrConfig load(String yaml) throws IOException {
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, yaml);
    return PortrConfig.load(file);
  }

  /** A config with one tunnel given as YAML lines (indented under "- "). */
  private PortrConfig tunnel(String... fields) throws IOException {
    StringBuilder y = new StringBuilder("tunnels:\n");
    for (int i = 0; i < fields.length; i++) {
      y.append(i == 0 ? "  - " : "    ").append(fields[i]).append('\n');
    }
    return load(y.toString());
  }

  private String tunnelProblem(String... fields) throws IOException {
    return tunnel(fields).validate();
  }

  @Test
  @DisplayName("§1.2 defaults: server_url localhost:8000, ssh_url and tunnel_url follow it, host-key check skipped")
  void topLevelDefaults() throws IOException {
    PortrConfig c = load("secret_key: abc\n");
    assertThat(c.serverUrl).isEqualTo("localhost:8000");
    assertThat(c.sshUrl).isEqualTo("localhost:8000");
    assertThat(c.tunnelUrl).isEqualTo("localhost:8000");
    assertThat(c.secretKey).isEqualTo("abc");
    assertThat(c.useLocalhost).isFalse();
    assertThat(c.dashboardPort).isEqualTo(7777);
    assertThat(c.healthCheckInterval).isEqualTo(3);
    assertThat(c.healthCheckMaxRetries).isEqualTo(10);
    assertThat(c.insecureSkipHostKeyVerification).isTrue();
    assertThat(c.validate()).isNull();
  }

  @Test
  @DisplayName("§1.2 an empty file gets every default too")
  void emptyFile() throws IOException {
    PortrConfig c = load("");
    assertThat(c.serverUrl).isEqualTo("localhost:8000");
    assertThat(c.tunnels).isEmpty();
  }

  @Test
  @DisplayName("§1.2 ssh_url and tunnel_url default to the configured server_url")
  void urlsFollowServerUrl() throws IOException {
    PortrConfig c = load("server_url: portr.example.com\n");
    assertThat(c.sshUrl).isEqualTo("portr.example.com");
    assertThat(c.tunnelUrl).isEqualTo("portr.example.com");
    PortrConfig explicit = load("server_url: a.test\nssh_url: a.test:2222\ntunnel_url: a.test:8001\n");
    assertThat(explicit.sshUrl).isEqualTo("a.test:2222");
    assertThat(explicit.tunnelUrl).isEqualTo("a.test:8001");
  }

  @Test
  @DisplayName("§1.2 insecure_skip_host_key_verification: explicit false is preserved")
  void hostKeyFalsePreserved() throws IOException {
    assertThat(load("insecure_skip_host_key_verification: false\n").insecureSkipHostKeyVerification).isFalse();
    assertThat(load("insecure_skip_host_key_verification: true\n").insecureSkipHostKeyVerification).isTrue();
  }

  @Test
  @DisplayName("§1.2/§11.31 negative health_check_interval survives defaults but runs as 3 s; retries < 1 run as 1")
  void healthCheckSettings() throws IOException {
    PortrConfig negative = load("health_check_interval: -5\nhealth_check_max_retries: -2\n");
    assertThat(negative.healthCheckInterval).isEqualTo(-5);
    assertThat(negative.effectiveHealthCheckInterval()).isEqualTo(3);
    assertThat(negative.healthCheckMaxRetries).isEqualTo(-2);
    assertThat(negative.effectiveMaxRetries()).isEqualTo(1);

    PortrConfig zero = load("health_check_interval: 0\nhealth_check_max_retries: 0\n");
    assertThat(zero.healthCheckInterval).isEqualTo(3);
    assertThat(zero.effectiveHealthCheckInterval()).isEqualTo(3);
    assertThat(zero.healthCheckMaxRetries).isEqualTo(10);
    assertThat(zero.effectiveMaxRetries()).isEqualTo(10);

    PortrConfig set = load("health_check_interval: 7\nhealth_check_max_retries: 4\n");
    assertThat(set.effectiveHealthCheckInterval()).isEqualTo(7);
    assertThat(set.effectiveMaxRetries()).isEqualTo(4);
  }

  @Test
  @DisplayName("§1.1 unknown keys (the deprecated enable_http_reverse_proxy) are accepted and ignored")
  void unknownKeysIgnored() throws IOException {
    PortrConfig c = load("server_url: x.test\nenable_http_reverse_proxy: true\nsomething_new:\n  nested: 1\n"
        + "tunnels:\n  - port: 3000\n    future_field: yes\n");
    assertThat(c.serverUrl).isEqualTo("x.test");
    assertThat(c.tunnels).hasSize(1);
    assertThat(c.validate()).isNull();
  }

  @ParameterizedTest(name = "type {0} -> {1}")
  @CsvSource({"http, http", "tcp, tcp", "HTTP, http", "TCP, http", "Tcp, http", "udp, http", "stub, stub",
      "static, static"})
  @DisplayName("§1.3 YAML type mapping: any unknown string (including HTTP, TCP) becomes http")
  void typeMapping(String raw, String expected) throws IOException {
    assertThat(tunnel("port: 3000", "type: " + raw).tunnels.get(0).type).isEqualTo(expected);
    assertThat(PortrTunnel.yamlType(raw)).isEqualTo(expected);
  }

  @Test
  @DisplayName("§1.3 tunnel defaults: type http, pool_size 2, host localhost, generated 6-letter subdomain")
  void tunnelDefaults() throws IOException {
    PortrTunnel t = tunnel("port: 3000").tunnels.get(0);
    assertThat(t.type).isEqualTo("http");
    assertThat(t.poolSize).isEqualTo(2);
    assertThat(t.host).isEqualTo("localhost");
    assertThat(t.subdomain).matches("[a-z]{6}");

    PortrTunnel neg = tunnel("port: 3000", "pool_size: -1").tunnels.get(0);
    assertThat(neg.poolSize).isEqualTo(2);
    PortrTunnel four = tunnel("port: 3000", "pool_size: 4", "host: 10.0.0.5").tunnels.get(0);
    assertThat(four.poolSize).isEqualTo(4);
    assertThat(four.host).isEqualTo("10.0.0.5");
  }

  @Test
  @DisplayName("§1.3 HTTP subdomains are trimmed and lower-cased; TCP subdomains are left untouched")
  void subdomainNormalisation() throws IOException {
    assertThat(tunnel("port: 3000", "subdomain: '  My-App '").tunnels.get(0).subdomain).isEqualTo("my-app");
    PortrTunnel tcp = tunnel("port: 5432", "type: tcp", "subdomain: '  Foo_Bar '").tunnels.get(0);
    assertThat(tcp.subdomain).isEqualTo("  Foo_Bar ");
    assertThat(tcp.host).isEqualTo("localhost");
    assertThat(tcp.poolSize).isEqualTo(2);
    assertThat(tunnel("port: 5432", "type: tcp").tunnels.get(0).subdomain).isEmpty();
  }

  @Test
  @DisplayName("§1.3/§11.4 a subdomain of only spaces is not regenerated and fails validation as \"\"")
  void blankSubdomainNotRegenerated() throws IOException {
    PortrConfig c = tunnel("port: 3000", "subdomain: '   '");
    assertThat(c.tunnels.get(0).subdomain).isEmpty();
    assertThat(c.validate()).isEqualTo("invalid subdomain \"\"" + INVALID_SUFFIX);
  }

  @Test
  @DisplayName("§1.3 invalid subdomain message uses Go quoting of the normalised value")
  void invalidSubdomainMessage() throws IOException {
    assertThat(tunnelProblem("port: 3000", "subdomain: a_b"))
        .isEqualTo("invalid subdomain \"a_b\": use 1-63 lowercase letters, numbers, or internal hyphens");
    assertThat(tunnelProblem("port: 3000", "subdomain: ' A.B '")).isEqualTo("invalid subdomain \"a.b\"" + INVALID_SUFFIX);
    assertThat(tunnelProblem("port: 3000", "subdomain: '-ab'")).isEqualTo("invalid subdomain \"-ab\"" + INVALID_SUFFIX);
    assertThat(tunnelProblem("port: 3000", "subdomain: 'a\"b'")).isEqualTo("invalid subdomain \"a\\\"b\"" + INVALID_SUFFIX);
  }

  @Test
  @DisplayName("§1.3 host_header is only supported for http tunnels (checked before basic_auth)")
  void hostHeaderOnTcp() throws IOException {
    assertThat(tunnelProblem("port: 5432", "type: tcp", "host_header: rewrite", "basic_auth: a:b"))
        .isEqualTo("host_header is only supported for http tunnels");
    assertThat(tunnelProblem("port: 5432", "type: tcp", "host_header: '   '")).isNull();
    assertThat(tunnelProblem("port: 3000", "host_header: rewrite")).isNull();
  }

  @Test
  @DisplayName("§1.3/§11.5 basic_auth on a tcp tunnel")
  void basicAuthOnTcp() throws IOException {
    assertThat(tunnelProblem("port: 5432", "type: tcp", "basic_auth: admin:secret"))
        .isEqualTo("basic_auth is not supported for tcp tunnels");
    assertThat(tunnelProblem("port: 5432", "type: tcp", "basic_auth: '   '")).isNull();
  }

  @ParameterizedTest(name = "[{0}] -> {1}")
  @CsvSource(delimiter = '|', value = {
      "admin|basic_auth must be in user:password format",
      "'  :    '|basic_auth username cannot be empty",
      ":secret|basic_auth username cannot be empty",
      "'admin:  '|basic_auth password cannot be empty",
      "admin:|basic_auth password cannot be empty",
  })
  @DisplayName("§1.3 basic_auth format messages")
  void basicAuthMessages(String value, String message) throws IOException {
    assertThat(tunnelProblem("port: 3000", "subdomain: web", "basic_auth: '" + value + "'")).isEqualTo(message);
  }

  @Test
  @DisplayName("§1.3 basic_auth split on the first colon: admin:pa:ss and 'user: pass' are valid")
  void basicAuthValid() throws IOException {
    assertThat(tunnelProblem("port: 3000", "subdomain: web", "basic_auth: 'admin:pa:ss'")).isNull();
    PortrConfig c = tunnel("port: 3000", "subdomain: web", "basic_auth: '  user: pass  '");
    assertThat(c.validate()).isNull();
    assertThat(c.tunnels.get(0).trimmedBasicAuth()).isEqualTo("user: pass");
  }

  @Test
  @DisplayName("§1.2 group messages")
  void groupMessages() throws IOException {
    String tunnels = "tunnels:\n  - name: web\n    port: 3000\n  - name: api\n    port: 4000\n";
    assertThat(load(tunnels + "groups:\n  web: [api]\n").validate())
        .isEqualTo("group \"web\" conflicts with a tunnel of the same name");
    assertThat(load(tunnels + "groups:\n  dev: []\n").validate())
        .isEqualTo("group \"dev\" must reference at least one tunnel");
    assertThat(load(tunnels + "groups:\n  dev: [web, db]\n").validate())
        .isEqualTo("group \"dev\" references unknown tunnel \"db\"");
    assertThat(load(tunnels + "groups:\n  dev: [web, api]\n").validate()).isNull();
  }

  @Test
  @DisplayName("§1.2 dashboard_port must be 1..65535 unless the dashboard is disabled")
  void dashboardPort() throws IOException {
    assertThat(load("dashboard_port: 70000\n").validate()).isEqualTo("dashboard_port must be between 1 and 65535");
    assertThat(load("dashboard_port: -1\n").validate()).isEqualTo("dashboard_port must be between 1 and 65535");
    assertThat(load("dashboard_port: 70000\ndisable_dashboard: true\n").validate()).isNull();
    assertThat(load("dashboard_port: 65535\n").validate()).isNull();
  }

  @Test
  @DisplayName("§1.2 connection_log_retention_days must be >= 0")
  void retentionDays() throws IOException {
    assertThat(load("connection_log_retention_days: -1\n").validate())
        .isEqualTo("connection_log_retention_days must be greater than or equal to 0");
    assertThat(load("connection_log_retention_days: 0\n").validate()).isNull();
    assertThat(load("connection_log_retention_days: 30\n").validate()).isNull();
  }

  @Test
  @DisplayName("§1.4 serverAddr: proto + :// + server_url, verbatim")
  void serverAddr() throws IOException {
    assertThat(load("use_localhost: true\n").serverAddr()).isEqualTo("http://localhost:8000");
    assertThat(load("server_url: portr.dev\n").serverAddr()).isEqualTo("https://portr.dev");
    // §11.28: no scheme detection here, the scheme doubles.
    assertThat(load("server_url: https://portr.dev\n").serverAddr()).isEqualTo("https://https://portr.dev");
  }

  @Test
  @DisplayName("§1.4/§10.4 serverBaseUrl keeps an explicit scheme and trims trailing slashes")
  void serverBaseUrl() throws IOException {
    assertThat(load("server_url: https://portr.dev/\n").serverBaseUrl()).isEqualTo("https://portr.dev");
    assertThat(load("server_url: https://portr.dev\n").serverBaseUrl()).isEqualTo("https://portr.dev");
    assertThat(load("server_url: http://portr.dev//\nuse_localhost: false\n").serverBaseUrl()).isEqualTo("http://portr.dev");
    assertThat(load("server_url: localhost:8001\nuse_localhost: true\n").serverBaseUrl()).isEqualTo("http://localhost:8001");
    assertThat(load("server_url: portr.dev/\n").serverBaseUrl()).isEqualTo("https://portr.dev");
  }

  @Test
  @DisplayName("§1.4 public HTTP URL and TCP address")
  void tunnelAddresses() throws IOException {
    PortrConfig local = load("tunnel_url: localhost:8001\nuse_localhost: true\n");
    assertThat(local.httpTunnelUrl("abc")).isEqualTo("http://abc.localhost:8001");
    PortrConfig remote = load("tunnel_url: example.com:8443\n");
    assertThat(remote.httpTunnelUrl("abc")).isEqualTo("https://abc.example.com:8443");
    assertThat(remote.tcpTunnelAddr(30123)).isEqualTo("example.com:30123");
    assertThat(remote.tcpTunnelAddr(0)).isEqualTo("example.com:0");
    assertThat(load("tunnel_url: example.com\n").httpTunnelUrl("abc")).isEqualTo("https://abc.example.com");
  }

  @Test
  @DisplayName("§11.28 a tunnel_url with a scheme yields https:<port> for TCP")
  void tcpAddrWithScheme() throws IOException {
    assertThat(load("tunnel_url: https://example.com\n").tcpTunnelAddr(30123)).isEqualTo("https:30123");
  }

  @Test
  @DisplayName("§1.1 relative static dirs resolve against the config file's directory")
  void relativeDirResolved() throws IOException {
    Files.createDirectories(dir.resolve("site"));
    PortrConfig c = tunnel("type: static", "subdomain: docs", "dir: site");
    assertThat(c.tunnels.get(0).dir).isEqualTo(dir.toAbsolutePath().resolve("site").toString());
    assertThat(c.tunnels.get(0).poolSize).isEqualTo(1);
    assertThat(c.validate()).isNull();
  }

  @Test
  @DisplayName("§1.1/§11.33 a missing config file is an error")
  void missingFile() {
    assertThatThrownBy(() -> PortrConfig.load(dir.resolve("nope").resolve("config.yaml")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> PortrConfig.load(dir.resolve("config.yaml"))).isInstanceOf(NoSuchFileException.class);
  }
}
