package com.jcraft.jsch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The start-up self-check of the JSch internals porthole reaches into. */
class JschLinkageTest {
  @Test
  @DisplayName("the pinned JSch has every internal GlobalRequests and JschChannels use")
  void pinnedJschPasses() {
    GlobalRequests.selfCheck();
    JschChannels.selfCheck();
    GlobalRequests.Handles h = GlobalRequests.resolve(Session.class, "grr");
    assertThat(h.grr().getDeclaringClass()).isEqualTo(Session.class);
    assertThat(h.getReply().getReturnType()).isEqualTo(int.class);
    assertThat(Linkage.runningVersion()).isEqualTo(Linkage.BUILT_WITH).isNotBlank();
  }

  @Test
  @DisplayName("a JSch without Session.grr is refused with a message naming the field, its use and the versions")
  void missingField() {
    assertThatThrownBy(() -> GlobalRequests.resolve(Session.class, "grr_renamed"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the JSch library in use (" + JSch.VERSION + ") lacks com.jcraft.jsch.Session.grr_renamed (a field), "
            + "which porthole uses for the health check's keepalive@openssh.com request (GlobalRequests); "
            + "porthole needs the JSch it was built with (" + JSch.VERSION + ")")
        .hasCauseInstanceOf(NoSuchFieldException.class);
  }

  @Test
  @DisplayName("a reply slot without the expected methods is refused naming the method")
  void missingMethod() {
    // Session.jsch is a field whose type (JSch) has none of the reply slot's methods.
    assertThatThrownBy(() -> GlobalRequests.resolve(Session.class, "jsch"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lacks com.jcraft.jsch.JSch.setThread(Thread), which porthole uses for the health check")
        .hasCauseInstanceOf(NoSuchMethodException.class);
  }
}
