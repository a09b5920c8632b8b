package dev.porthole.cli;

import dev.porthole.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** The root command; every job is a subcommand. */
@Command(name = "porthole",
    mixinStandardHelpOptions = true,
    versionProvider = PortholeCommand.VersionProvider.class,
    description = "A local control plane for Portr-compatible tunnels, and a Portr-compatible relay.",
    subcommands = {AppServerCommand.class, HttpCommand.class, TcpCommand.class, RelayCommand.class, ConnectCommand.class, LogsCommand.class, ReplayCommand.class,
        TokenCommand.class, VersionCommand.class, CompletionCommand.class, picocli.CommandLine.HelpCommand.class})
public final class PortholeCommand implements Runnable {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"porthole " + Version.get()};
    }
  }
}
