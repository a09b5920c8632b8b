package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class RequestRoutesTest {
  private static final String JSON = "application/json";

  private static JsonObject replay(String body) throws RequestRoutes.BadParam {
    return RequestRoutes.replayBody(JSON, body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anEmptyReplayBodyReplaysAsStored() throws Exception {
    assertThat(RequestRoutes.replayBody(null, null)).isEqualTo(new JsonObject());
    assertThat(RequestRoutes.replayBody(JSON, new byte[0])).isEqualTo(new JsonObject());
  }

  @Test
  void editsAreNormalised() throws Exception {
    JsonObject out = replay("{\"method\":\"put\",\"url\":\"/x?y=1\",\"headers\":{\"X-A\":\"1\",\"X-B\":[\"2\",\"3\"],"
        + "\"Cookie\":null},\"body\":\"héllo\"}");
    assertThat(out.getString("method")).isEqualTo("PUT");
    assertThat(out.getString("url")).isEqualTo("/x?y=1");
    assertThat(out.getJsonObject("headers").getJsonArray("X-A")).isEqualTo(new JsonArray().add("1"));
    assertThat(out.getJsonObject("headers").getJsonArray("X-B")).isEqualTo(new JsonArray().add("2").add("3"));
    assertThat(out.getJsonObject("headers").containsKey("Cookie")).isTrue();
    assertThat(out.getJsonObject("headers").getValue("Cookie")).isNull();
    assertThat(Base64.getDecoder().decode(out.getString("body"))).isEqualTo("héllo".getBytes(StandardCharsets.UTF_8));
    assertThat(replay("{\"body_base64\":\"AAEC\"}").getString("body")).isEqualTo("AAEC");
  }

  @Test
  void badEditsAreRefusedWithAClearMessage() {
    assertThatThrownBy(() -> RequestRoutes.replayBody("text/plain", "{}".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("the replay body must be JSON (Content-Type: application/json)");
    assertThatThrownBy(() -> replay("{")).hasMessage("invalid JSON body");
    assertThatThrownBy(() -> replay("{\"verb\":\"GET\"}"))
        .hasMessage("unknown replay field \"verb\": use method, url, headers, body or body_base64");
    assertThatThrownBy(() -> replay("{\"method\":\"BREW\"}"))
        .hasMessage("method must be one of: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE");
    assertThatThrownBy(() -> replay("{\"url\":\"http://elsewhere/\"}")).hasMessageStartingWith("url must be a path");
    assertThatThrownBy(() -> replay("{\"url\":\"/a\\nb\"}")).hasMessageStartingWith("url must be a path");
    assertThatThrownBy(() -> replay("{\"headers\":[]}")).hasMessageStartingWith("headers must be an object");
    assertThatThrownBy(() -> replay("{\"headers\":{\"Bad Name\":\"x\"}}")).hasMessage("invalid header name \"Bad Name\"");
    assertThatThrownBy(() -> replay("{\"headers\":{\"Host\":\"x\"}}"))
        .hasMessage("header \"Host\" is set by the replay itself and cannot be edited");
    assertThatThrownBy(() -> replay("{\"headers\":{\"X-A\":1}}"))
        .hasMessage("header \"X-A\" must be a string, a list of strings, or null");
    assertThatThrownBy(() -> replay("{\"headers\":{\"X-A\":\"a\\r\\nX-B: b\"}}"))
        .hasMessage("header \"X-A\" must not contain control characters");
    assertThatThrownBy(() -> replay("{\"body\":\"a\",\"body_base64\":\"YQ==\"}")).hasMessage("give body or body_base64, not both");
    assertThatThrownBy(() -> replay("{\"body\":1}")).hasMessage("body must be a string (use body_base64 for bytes)");
    assertThatThrownBy(() -> replay("{\"body_base64\":\"***\"}")).hasMessage("body_base64 must be a base64 string");
  }

  @Test
  void limitAndSinceBounds() throws Exception {
    assertThat(RequestRoutes.limit(null)).isEqualTo(50);
    assertThat(RequestRoutes.limit(" 500 ")).isEqualTo(500);
    assertThat(RequestRoutes.limit("1")).isEqualTo(1);
    for (String bad : new String[] {"0", "501", "-1", "ten", "1.5"}) {
      assertThatThrownBy(() -> RequestRoutes.limit(bad)).hasMessage("limit must be an integer between 1 and 500");
    }
    assertThat(RequestRoutes.seq(null)).isNull();
    assertThat(RequestRoutes.seq("17")).isEqualTo(17L);
    assertThatThrownBy(() -> RequestRoutes.seq("-3")).hasMessage("since must be a non-negative integer");
  }
}
