package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Input porthole refuses where Portr would have accepted or crashed (issue "Trust": bad input). */
class InputHardeningTest {
  private Vertx vertx;
  private int port;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    HttpVerticle http = new HttpVerticle();
    vertx.deployVerticle(http, new io.vertx.core.DeploymentOptions().setConfig(new JsonObject()
        .put("host", "127.0.0.1").put("port", 0).put("token", "").put("relay", "configured")))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = http.actualPort();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Buffer json(JsonObject o) {
    return o.toBuffer();
  }

  @Test
  @DisplayName("control characters in name or host are refused; so are names and hosts over 253 characters")
  void textFields() {
    assertThatThrownBy(() -> TunnelRequests.parse("application/json",
        json(new JsonObject().put("port", 3000).put("name", "web\u0000"))))
        .hasMessage("name must not contain control characters");
    assertThatThrownBy(() -> TunnelRequests.parse("application/json",
        json(new JsonObject().put("port", 3000).put("name", "line\nbreak"))))
        .hasMessage("name must not contain control characters");
    assertThatThrownBy(() -> TunnelRequests.parse("application/json",
        json(new JsonObject().put("port", 3000).put("host", "local\rhost"))))
        .hasMessage("host must not contain control characters");
    assertThatThrownBy(() -> TunnelRequests.parse("application/json",
        json(new JsonObject().put("port", 3000).put("name", "n".repeat(254)))))
        .hasMessage("name must be at most 253 characters");
  }

  @Test
  @DisplayName("names with ordinary Unicode are kept")
  void unicodeNames() throws Exception {
    assertThat(TunnelRequests.parse("application/json",
        json(new JsonObject().put("port", 3000).put("name", "café ☕ web"))).name()).isEqualTo("café ☕ web");
  }

  private String raw(String request) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  @DisplayName("an overlong request line → 414 JSON, oversized headers → 431 JSON, garbage → 400 JSON, connection closed")
  void unparseable() throws Exception {
    String longLine = raw("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assertThat(longLine).matches("(?s)HTTP/1\\.[01] 414.*").contains("application/json").endsWith("{\"message\":\"request line too long\"}");
    String bigHeader = raw("GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n");
    assertThat(bigHeader).matches("(?s)HTTP/1\\.[01] 431.*").endsWith("{\"message\":\"request headers too large\"}");
    String garbage = raw("\u0001\u0002 nonsense\r\n\r\n");
    assertThat(garbage).matches("(?s)HTTP/1\\.[01] 400.*").endsWith("{\"message\":\"malformed HTTP request\"}");
  }
}
