package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a tunnel's worker leaves behind once the tunnel is gone: nothing. Counted on the live heap
 * of this JVM (a class histogram forces a full GC), so a worker verticle kept by anything (Vert.x
 * keeps every failed deployment in its deployment manager) shows up here.
 */
class WorkerLifecycleIT {
  private static final String WORKER = TunnelWorkerVerticle.class.getName();
  private static final int STARTS = 20;

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static int deadPort;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = probe.getLocalPort();
    }
    // The admin API answers, the SSH server is nowhere: every start fails at its SSH connect.
    app = TestAppServer.start(relay, c -> c.sshUrl = "127.0.0.1:" + deadPort);
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, relay);
  }

  @Test
  @DisplayName("20 starts that fail (SSH refused): 400 with Portr's message, listed failed until stopped, and no worker left on the heap, before or after the stop")
  void failedStartsLeaveNoWorker() throws Exception {
    long before = liveInstances(WORKER);
    for (int i = 0; i < STARTS; i++) {
      HttpResponse<String> r = app.send("POST", "/api/v1/tunnels",
          new JsonObject().put("name", "doomed-" + i).put("type", "tcp").put("port", 4000 + i).encode());
      assertThat(r.statusCode()).as("POST %d: %s", i, r.body()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("message"))
          .startsWith("failed to start tunnel 'doomed-" + i + "': dial tcp 127.0.0.1:" + deadPort);
    }
    // Listed as failed until stopped, as Portr does, but nothing of their workers is left running
    // (each undeploys itself right after reporting its failed start, so the last may still be going).
    Timeouts.pollUntil(Duration.ofSeconds(10), "no live worker while the failed tunnels are still listed",
        () -> liveInstancesUnchecked(WORKER) <= before);
    JsonArray listed = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels");
    assertThat(listed).hasSize(STARTS);
    for (int i = 0; i < listed.size(); i++) {
      JsonObject t = listed.getJsonObject(i);
      assertThat(t.getString("status")).isEqualTo("failed");
      assertThat(app.send("DELETE", "/api/v1/tunnels/" + t.getString("id"), null).statusCode()).isEqualTo(200);
    }
    assertThat(liveInstances(WORKER)).as("live %s after every tunnel stopped", WORKER).isLessThanOrEqualTo(before);
  }

  private static long liveInstancesUnchecked(String className) {
    try {
      return liveInstances(className);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Live instances of a class in this JVM, after the full GC that a class histogram makes. */
  static long liveInstances(String className) throws Exception {
    String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
        new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
        new Object[] {new String[0]}, new String[] {String[].class.getName()});
    for (String line : histogram.split("\n")) {
      String[] cols = line.trim().split("\\s+");
      if (cols.length >= 4 && cols[3].equals(className)) {
        return Long.parseLong(cols[1]);
      }
    }
    return 0;
  }
}
