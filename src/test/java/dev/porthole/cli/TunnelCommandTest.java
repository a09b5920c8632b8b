package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.bus.TunnelRequest;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The flags of {@code porthole http} / {@code tcp} → the tunnel request, with Portr's defaults and messages. */
class TunnelCommandTest {
  private static <T extends TunnelCommand> T parsed(T cmd, String... args) {
    new CommandLine(cmd).parseArgs(args);
    return cmd;
  }

  @Test
  @DisplayName("http: Portr's defaults (host localhost, pool 2, a generated subdomain), the flags taken as given")
  void httpDefaultsAndFlags() throws Exception {
    TunnelRequest r = parsed(new HttpCommand(), "3000").request();
    assertThat(r.type()).isEqualTo("http");
    assertThat(r.host()).isEqualTo("localhost");
    assertThat(r.port()).isEqualTo(3000);
    assertThat(r.poolSize()).isEqualTo(2);
    assertThat(r.subdomain()).matches("[a-z0-9-]{1,63}");
    assertThat(r.basicAuth()).isEmpty();

    r = parsed(new HttpCommand(), "8080", "-s", "MyApp", "--host", "127.0.0.1", "--pool-size", "1",
        "--basic-auth", " me:s3cret ").request();
    assertThat(r.subdomain()).isEqualTo("myapp");
    assertThat(r.host()).isEqualTo("127.0.0.1");
    assertThat(r.poolSize()).isEqualTo(1);
    assertThat(r.basicAuth()).isEqualTo("me:s3cret");
  }

  @Test
  @DisplayName("tcp: no subdomain, no basic auth")
  void tcp() throws Exception {
    TunnelRequest r = parsed(new TcpCommand(), "5432").request();
    assertThat(r.type()).isEqualTo("tcp");
    assertThat(r.subdomain()).isEmpty();
    assertThat(r.host()).isEqualTo("localhost");
    assertThatThrownBy(() -> parsed(new TcpCommand(), "5432", "--basic-auth", "a:b"))
        .isInstanceOf(CommandLine.UnmatchedArgumentException.class);
  }

  @Test
  @DisplayName("bad values: the API's and Portr's messages, exit code 2")
  void badValues() {
    assertRefused(new HttpCommand(), "port must be between 1 and 65535", "0");
    assertRefused(new TcpCommand(), "port must be between 1 and 65535", "65536");
    assertRefused(new HttpCommand(), "basic_auth must be in user:password format", "3000", "--basic-auth", "nocolon");
    assertRefused(new HttpCommand(), "basic_auth username cannot be empty", "3000", "--basic-auth", ":pw");
    assertRefused(new HttpCommand(), "invalid subdomain \"bad_sub\": use 1-63 lowercase letters, numbers, or internal hyphens",
        "3000", "-s", "bad_sub");
    assertRefused(new HttpCommand(), "--pool-size must be between 1 and 64", "3000", "--pool-size", "65");
    assertRefused(new HttpCommand(), "--pool-size must be between 1 and 64", "3000", "--pool-size", "0");
  }

  private static void assertRefused(TunnelCommand cmd, String message, String... args) {
    assertThatThrownBy(() -> parsed(cmd, args).request())
        .isInstanceOfSatisfying(AppServerLaunch.Failure.class, f -> assertThat(f.code).isEqualTo(2))
        .hasMessage(message);
  }
}
