package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code porthole completion bash|zsh}: picocli's script for the whole command tree. */
class CompletionCommandTest {
  private record Run(int code, String out, String err) {
  }

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    PrintStream saved = System.out;
    int code;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      code = new CommandLine(new PortholeCommand()).setErr(new PrintWriter(err, true)).execute(args);
    } finally {
      System.setOut(saved);
    }
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
  }

  @Test
  @DisplayName("bash: a complete script that registers `porthole` and offers every subcommand and the http/tcp flags")
  void bash() {
    Run r = run("completion", "bash");
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("#!/usr/bin/env bash")
        .contains("complete -F _complete_porthole")
        .contains("_picocli_porthole_http()", "_picocli_porthole_tcp()", "_picocli_porthole_appserver()",
            "_picocli_porthole_relay()", "_picocli_porthole_logs()", "_picocli_porthole_completion()")
        .contains("--subdomain", "--basic-auth", "--pool-size", "--api-port");
    // The root's command list names each subcommand.
    assertThat(r.out()).containsPattern("commands=\"[^\"]*\\bhttp\\b[^\"]*\\btcp\\b");
  }

  @Test
  @DisplayName("zsh: the same script, which loads bashcompinit itself")
  void zsh() {
    Run r = run("completion", "zsh");
    assertThat(r.code()).isZero();
    assertThat(r.out()).startsWith("# porthole completion for zsh")
        .contains("autoload -U +X bashcompinit && bashcompinit")
        .contains("complete -F _complete_porthole")
        .contains("_picocli_porthole_http()");
  }

  @Test
  @DisplayName("another shell: usage error (2) naming the shells, no script")
  void unknownShell() {
    Run r = run("completion", "fish");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("expected one of [bash, zsh]").contains("Usage: porthole completion");
  }
}
