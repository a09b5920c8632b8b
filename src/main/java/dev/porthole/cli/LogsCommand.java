package dev.porthole.cli;

import dev.porthole.config.Paths;
import dev.porthole.requestlog.PortrLogs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code porthole logs <subdomain> [filter…] [-n|--count N] [--since RFC3339|YYYY-MM-DD] [--json]
 * [--db PATH]}: Portr's {@code portr logs}. Like Portr (urfave/cli with flag parsing skipped), the
 * arguments are parsed by the command itself ({@link PortrLogs#parse}), so flags may come anywhere.
 */
@Command(name = "logs",
    description = {"Read local request logs for a subdomain, newest first.",
        "",
        "Usage: porthole logs <subdomain> [filter] [-n|--count N] [--since RFC3339|YYYY-MM-DD] [--json] [--db PATH]",
        "",
        "  -n, --count N   Number of logs to return (default: 20)",
        "  --since T       Only include logs on or after the given RFC3339 timestamp or YYYY-MM-DD date",
        "  --json          Emit full stored request records as JSON; body bytes stay base64-encoded and text "
            + "payloads also include BodyText/ResponseBodyText",
        "  --db PATH       The request log database (default: $HOME/.portr/db.sqlite)"})
public final class LogsCommand implements Callable<Integer> {
  @Unmatched
  List<String> args = new ArrayList<>();

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return PortrLogs.run(args, Paths.home().resolve(".portr").resolve("db.sqlite"), System.out, System.err,
        () -> spec.commandLine().usage(System.out));
  }
}
