package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RelayEdgeTest {
  @Test
  @DisplayName("§8 the subdomain is the Host minus .<domain>; other hosts match nothing")
  void subdomainOf() {
    assertThat(RelayEdge.subdomainOf("web.localhost:8001", "localhost:8001")).isEqualTo("web");
    assertThat(RelayEdge.subdomainOf("WEB.Example.com", "example.com")).isEqualTo("web");
    assertThat(RelayEdge.subdomainOf("web.localhost:9999", "localhost:8001")).isNull();
    assertThat(RelayEdge.subdomainOf("localhost:8001", "localhost:8001")).isNull();
    assertThat(RelayEdge.subdomainOf(".localhost:8001", "localhost:8001")).isNull();
    assertThat(RelayEdge.subdomainOf(null, "localhost:8001")).isNull();
    assertThat(ErrorPages.unregisteredSubdomain("<x>")).contains("&lt;x&gt;").doesNotContain("<x>");
  }
}
