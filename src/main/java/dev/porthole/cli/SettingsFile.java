package dev.porthole.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --conf} option of every long-running command. */
final class SettingsFile {
  @Option(names = "--conf", paramLabel = "FILE", description = "porthole settings file (default: conf/porthole.yaml when present)")
  Path path;
}
