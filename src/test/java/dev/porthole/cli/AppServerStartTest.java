package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.jcraft.jsch.GlobalRequests;
import com.jcraft.jsch.Session;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The app-server's start path, up to what can run without opening ports. */
class AppServerStartTest {
  @Test
  @DisplayName("a JSch without the reply slot stops start-up: exit 1 and one line naming what is missing")
  void refusesBrokenJsch() throws Exception {
    AppServerCommand cmd = new AppServerCommand();
    cmd.jschCheck = () -> GlobalRequests.resolve(Session.class, "grr_renamed");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    int code;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      code = cmd.call();
    } finally {
      System.setErr(saved);
    }
    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("porthole: the app-server cannot start: the JSch library in use (")
        .contains("lacks com.jcraft.jsch.Session.grr_renamed (a field), which porthole uses for the health check")
        .contains("porthole needs the JSch it was built with (");
  }

  @Test
  @DisplayName("the real check is the default, and passes on the JSch porthole ships with")
  void defaultCheckPasses() {
    assertThatCode(() -> new AppServerCommand().jschCheck.run()).doesNotThrowAnyException();
  }
}
