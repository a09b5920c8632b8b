package dev.porthole.stub;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Portr's renderTemplate (stubresponder/responder_test.go), case by case. */
class StubTemplateTest {

  private static String render(String template, String rawQuery, Map<String, String> body, String format) {
    return StubTemplate.render(template, StubValues.query(rawQuery).values, body, StubTemplate.isJson(format));
  }

  @Test
  @DisplayName("query values fill placeholders; a missing one renders empty")
  void queryValues() {
    assertThat(render("message: {{message}}\nmissing: {{missing}}\n", "message=hello", Map.of(), "application/yml"))
        .isEqualTo("message: hello\nmissing: \n");
  }

  @Test
  @DisplayName("JSON: quoted placeholders become JSON strings, numbers and booleans from the body included")
  void jsonBodyValues() {
    assertThat(render("{\"name\":\"{{name}}\",\"count\":\"{{count}}\",\"enabled\":\"{{enabled}}\"}", "",
        Map.of("name", "portr", "count", "3", "enabled", "true"), "application/json"))
        .isEqualTo("{\"name\":\"portr\",\"count\":\"3\",\"enabled\":\"true\"}");
  }

  @Test
  @DisplayName("JSON: quoted casts drop their quotes when the value parses")
  void typedJson() {
    assertThat(render("{\"status\":\"{{status|int}}\",\"active\":\"{{active|bool}}\",\"score\":\"{{score|float}}\","
        + "\"message\":\"{{message}}\"}", "status=200&active=true&score=12.5&message=ok", Map.of(), "application/json"))
        .isEqualTo("{\"status\":200,\"active\":true,\"score\":12.5,\"message\":\"ok\"}");
  }

  @Test
  @DisplayName("JSON: quotes and backslashes are escaped, quoted or not, so the result stays valid JSON")
  void escapesJson() {
    String out = render("{\"message\":\"{{message}}\",\"raw\":{{raw}}}",
        "message=hello+%22portr%22+%5C+ok&raw=x%22y", Map.of(), "application/json");
    JsonObject j = new JsonObject(out);
    assertThat(j.getString("message")).isEqualTo("hello \"portr\" \\ ok");
    assertThat(j.getString("raw")).isEqualTo("x\"y");
  }

  @Test
  @DisplayName("JSON: a cast that fails keeps the value as a JSON string, quoted or not")
  void failedCasts() {
    assertThat(render("{\"status\":\"{{status|int}}\"}", "status=queued", Map.of(), "application/json"))
        .isEqualTo("{\"status\":\"queued\"}");
    assertThat(render("{\"status\":{{status|int}}}", "status=queued", Map.of(), "application/json"))
        .isEqualTo("{\"status\":\"queued\"}");
  }

  @Test
  @DisplayName("text: casts format the value, a failed one leaves it as it is")
  void typedText() {
    assertThat(render("status={{status|int}} active={{active|bool}} score={{score|float}}",
        "status=200&active=true&score=12.5", Map.of(), "text/plain"))
        .isEqualTo("status=200 active=true score=12.5");
    assertThat(render("s={{ s | int }}", "s=queued", Map.of(), "text/plain")).isEqualTo("s=queued");
  }

  @Test
  @DisplayName("a quoted cast drops its quotes even in a text response; a failed one becomes a JSON string")
  void quotedCastInText() {
    assertThat(render("n=\"{{n|int}}\" m=\"{{m|int}}\" q=\"{{q}}\"", "n=7&m=x&q=a", Map.of(), "text/plain"))
        .isEqualTo("n=7 m=\"x\" q=\"a\"");
  }

  @Test
  @DisplayName("the query wins over the body; an empty query value still wins")
  void queryFirst() {
    assertThat(render("{\"name\":\"{{name}}\"}", "name=query", Map.of("name", "body"), "application/json"))
        .isEqualTo("{\"name\":\"query\"}");
    assertThat(render("[{{name}}]", "name=", Map.of("name", "body"), "text/plain")).isEqualTo("[]");
  }

  @Test
  @DisplayName("JSON is application/json or any +json, case and parameters aside")
  void jsonFormats() {
    assertThat(StubTemplate.isJson("application/json")).isTrue();
    assertThat(StubTemplate.isJson(" Application/JSON; charset=utf-8")).isTrue();
    assertThat(StubTemplate.isJson("application/problem+json")).isTrue();
    assertThat(StubTemplate.isJson("json")).isFalse();
    assertThat(StubTemplate.isJson("text/plain")).isFalse();
  }

  @Test
  @DisplayName("Go's json.Marshal string escapes: HTML characters, controls, line separators")
  void goEscapes() {
    assertThat(StubTemplate.jsonString("<a&b>\n\t\u0001\b\f\u2028")).isEqualTo(
        "\"\\u003ca\\u0026b\\u003e\\n\\t\\u0001\\b\\f\\u2028\"");
  }

  @ParameterizedTest(name = "{1}: {0} → {2}")
  @CsvSource(delimiter = '|', value = {
      "42|int|42", "+7|int|7", "007|int|7", "' 5 '|int|5", "-3|int|-3", "1.5|int|", "9223372036854775808|int|",
      "t|bool|true", "TRUE|bool|true", "0|bool|false", "False|bool|false", "yes|bool|",
      "12.5|float|12.5", "1e6|float|1e+06", "1234567|float|1.234567e+06", "123456|float|123456",
      "0.0001|float|0.0001", "0.00001|float|1e-05", "-0|float|-0", "inf|float|+Inf", "-Infinity|float|-Inf",
      "NaN|float|NaN", "1e400|float|", "x|float|", ".5|float|0.5", "5.|float|5"})
  void casts(String in, String format, String out) {
    assertThat(StubTemplate.cast(in, format)).isEqualTo(out);
  }

  @Test
  @DisplayName("Go's url.ParseQuery: '+' is a space, bad escapes and semicolons are dropped and flagged")
  void query() {
    StubValues.Query q = StubValues.query("a=1&a=2&b=x+y&c=%zz&d;e=1&f");
    assertThat(q.values).containsEntry("a", List.of("1", "2")).containsEntry("b", List.of("x y"))
        .containsEntry("f", List.of("")).doesNotContainKeys("c", "d;e");
    assertThat(q.malformed).isTrue();
    assertThat(StubValues.query("a=%41").malformed).isFalse();
  }
}
