package dev.porthole.requestlog;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class ReplayerTest {
  private static JsonObject headers(String name, String... values) {
    JsonArray a = new JsonArray();
    for (String v : values) {
      a.add(v);
    }
    return new JsonObject().put(name, a);
  }

  @Test
  void storedRequestsGetTheChecksEditsGet() {
    assertThat(Replayer.unfit("POST", "/hooks?x=1", headers("X-A", "1", "two\tparts"))).isNull();
    assertThat(Replayer.unfit("CONNECT", "/", new JsonObject())).startsWith("method CONNECT is not one of");
    assertThat(Replayer.unfit("GET", "http://elsewhere/", new JsonObject())).isEqualTo("its URL is not a path");
    assertThat(Replayer.unfit("GET", "/a\r\nb", new JsonObject())).isEqualTo("its URL is not a path");
    assertThat(Replayer.unfit("GET", "/", headers("Bad Name", "x"))).isEqualTo("a header name is not a token");
    assertThat(Replayer.unfit("GET", "/", headers("X-A", "a\r\nX-B: b"))).isEqualTo("header X-A has a control character");
  }

  @Test
  void redactedFramingAndMarkerHeadersAreLeftOutAndEditsApplied() {
    JsonObject stored = new JsonObject()
        .put("Authorization", new JsonArray().add("[redacted]"))
        .put("Content-Length", new JsonArray().add("7"))
        .put("X-Portr-Replayed-Request-Id", new JsonArray().add("01OLD"))
        .put("Accept", new JsonArray().add("a").add("b"))
        .put("Cookie", new JsonArray().add("c=1"))
        .put("X-Keep", new JsonArray().add("k"));
    JsonObject edits = new JsonObject().put("Cookie", (Object) null).put("X-New", new JsonArray().add("n"))
        .put("X-Keep", new JsonArray().add("k2"));
    MultiMap out = Replayer.headers(stored, edits);
    assertThat(out.names()).containsExactlyInAnyOrder("Accept", "X-Keep", "X-New");
    assertThat(out.getAll("Accept")).containsExactly("a", "b");
    assertThat(out.getAll("X-Keep")).containsExactly("k2");
  }
}
