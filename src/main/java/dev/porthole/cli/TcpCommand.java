package dev.porthole.cli;

import picocli.CommandLine.Command;

@Command(name = "tcp", mixinStandardHelpOptions = true,
    description = {"Expose a local TCP port: one tunnel in the foreground through the Portr server of "
        + "~/.portr/config.yaml (or --config), else through an embedded relay on loopback. Prints the public "
        + "address (host:port), then `porthole: url=HOST:PORT id=ID type=tcp local=HOST:PORT api=URL`, then the "
        + "tunnel's health changes. Ctrl-C stops the tunnel.",
        "Exit codes: 0 stopped by a signal (or the tunnel stopped through the API), 1 the tunnel could not start, "
            + "2 bad flags or configuration."})
public final class TcpCommand extends TunnelCommand {
  @Override
  String type() {
    return "tcp";
  }
}
