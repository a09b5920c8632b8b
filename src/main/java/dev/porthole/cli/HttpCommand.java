package dev.porthole.cli;

import dev.porthole.config.PortrTunnel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "http", mixinStandardHelpOptions = true,
    description = {"Expose a local HTTP/WebSocket port: one tunnel in the foreground through the Portr server of "
        + "~/.portr/config.yaml (or --config), else through an embedded relay on loopback. Prints the public URL, "
        + "then `porthole: url=URL id=ID type=http local=HOST:PORT api=URL`, then one line per request "
        + "(time, method, path, status, duration). Ctrl-C stops the tunnel.",
        "Exit codes: 0 stopped by a signal (or the tunnel stopped through the API), 1 the tunnel could not start, "
            + "2 bad flags or configuration."})
public final class HttpCommand extends TunnelCommand {
  @Option(names = {"-s", "--subdomain"}, paramLabel = "SUBDOMAIN",
      description = "subdomain to tunnel to (default: a generated one)")
  String subdomain;

  @Option(names = "--basic-auth", paramLabel = "USER:PASSWORD", defaultValue = "${env:PORTR_BASIC_AUTH}",
      description = "protect the tunnel with HTTP basic auth (also PORTR_BASIC_AUTH, which keeps it out of the "
          + "process table)")
  String basicAuth;

  @Override
  String type() {
    return "http";
  }

  @Override
  void fill(PortrTunnel t) {
    t.subdomain = subdomain == null ? "" : subdomain;
    t.basicAuth = basicAuth == null ? "" : basicAuth;
  }
}
