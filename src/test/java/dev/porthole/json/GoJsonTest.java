package dev.porthole.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GoJsonTest {
  private static GoJson.Body parse(String contentType, String body) throws GoJson.InvalidBody {
    return GoJson.object(contentType, Buffer.buffer(body));
  }

  @Test
  @DisplayName("only JSON content types are decoded (parameters and vendor types allowed)")
  void contentTypes() throws Exception {
    assertThat(GoJson.isJsonContentType("application/json")).isTrue();
    assertThat(GoJson.isJsonContentType("Application/JSON; charset=utf-8")).isTrue();
    assertThat(GoJson.isJsonContentType("application/vnd.x+json")).isTrue();
    assertThat(GoJson.isJsonContentType("text/plain")).isFalse();
    assertThat(GoJson.isJsonContentType(null)).isFalse();
    assertThatThrownBy(() -> parse("text/plain", "{}")).isInstanceOf(GoJson.InvalidBody.class);
  }

  @Test
  @DisplayName("malformed JSON, trailing data and non-objects are invalid; a null body is an empty object")
  void shapes() throws Exception {
    assertThatThrownBy(() -> parse("application/json", "{")).isInstanceOf(GoJson.InvalidBody.class);
    assertThatThrownBy(() -> parse("application/json", "{} {}")).isInstanceOf(GoJson.InvalidBody.class);
    assertThatThrownBy(() -> parse("application/json", "[1]")).isInstanceOf(GoJson.InvalidBody.class);
    assertThatThrownBy(() -> parse("application/json", "")).isInstanceOf(GoJson.InvalidBody.class);
    assertThat(parse("application/json", "null").json()).isEmpty();
    assertThatThrownBy(() -> parse("application/json", "{\"a\":1} // comment")).isInstanceOf(GoJson.InvalidBody.class);
    assertThatThrownBy(() -> parse("application/json", "/* c */ {\"a\":1}")).isInstanceOf(GoJson.InvalidBody.class);
  }

  @Test
  @DisplayName("keys match case-insensitively, null is absent, types are strict")
  void fields() throws Exception {
    GoJson.Body o = parse("application/json", "{\"Secret_Key\":\"s\",\"port\":3000,\"pool_size\":null,\"f\":1.5,\"big\":123456789012345678901234567890}");
    assertThat(GoJson.string(o, "secret_key", "")).isEqualTo("s");
    assertThat(GoJson.integer(o, "PORT")).isEqualTo(3000L);
    assertThat(GoJson.integer(o, "pool_size")).isNull();
    assertThatThrownBy(() -> GoJson.integer(o, "f")).isInstanceOf(GoJson.InvalidBody.class);
    assertThatThrownBy(() -> GoJson.integer(o, "big")).isInstanceOf(GoJson.InvalidBody.class);
    assertThatThrownBy(() -> GoJson.string(o, "port", "")).isInstanceOf(GoJson.InvalidBody.class);
    assertThat(GoJson.string(o, "missing", "dflt")).isEqualTo("dflt");
  }

  @Test
  @DisplayName("duplicate keys: the last wins, as in Go, but a wrong type in any occurrence fails")
  void duplicates() throws Exception {
    GoJson.Body ok = parse("application/json", "{\"port\":1,\"PORT\":3000}");
    assertThat(GoJson.integer(ok, "port")).isEqualTo(3000L);
    GoJson.Body bad = parse("application/json", "{\"port\":\"x\",\"port\":3000}");
    assertThatThrownBy(() -> GoJson.integer(bad, "port")).isInstanceOf(GoJson.InvalidBody.class);
    GoJson.Body nested = parse("application/json", "{\"name\":{},\"name\":\"a\"}");
    assertThatThrownBy(() -> GoJson.string(nested, "name", "")).isInstanceOf(GoJson.InvalidBody.class);
  }
}
