package dev.porthole.cli;

import dev.porthole.Version;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "version", mixinStandardHelpOptions = true,
    description = "Print porthole's version and exit.")
public final class VersionCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.println("porthole " + Version.get());
    return 0;
  }
}
