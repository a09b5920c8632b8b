package dev.porthole.testsupport;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The app-server's OpenAPI document as the contract tests read it: its validity as OpenAPI 3.1,
 * its operations with a concrete path for each, a copy the Vert.x validator can load, and the
 * key check (every key of a JSON answer declared, in the declared order).
 */
public final class OpenApiDoc {
  public static final List<String> METHODS = List.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  /** One documented operation. */
  public record Op(String method, String template, String operationId, JsonObject raw) {
    /** A concrete path the template matches: {@code {path}}/{@code {file}} (may hold slashes) → {@code a/b}, others → {@code X1}. */
    public String sample() {
      return template.replaceAll("\\{(path|file)}", "a/b").replaceAll("\\{[^}]+}", "X1");
    }

    @Override
    public String toString() {
      return method.toUpperCase(Locale.ROOT) + " " + template;
    }
  }

  private final JsonObject raw;

  public OpenApiDoc(JsonObject raw) {
    // A private copy: YAML anchors may share objects, and the validator's copy is edited.
    this.raw = new JsonObject(raw.encode());
  }

  public JsonObject raw() {
    return raw;
  }

  /** The errors of validating the untouched document against the OpenAPI 3.1 schema; empty when valid. */
  public List<String> validityErrors(Vertx vertx) throws Exception {
    OpenAPIVersion version = OpenAPIVersion.fromContract(raw);
    if (version != OpenAPIVersion.V3_1) {
      return List.of("not OpenAPI 3.1: " + raw.getValue("openapi"));
    }
    SchemaRepository repo = version.getRepository(vertx, "app:///").await(30, TimeUnit.SECONDS);
    OutputUnit out = version.validateContract(vertx, repo, raw).await(30, TimeUnit.SECONDS);
    List<String> errors = new ArrayList<>();
    if (!Boolean.TRUE.equals(out.getValid())) {
      if (out.getErrors() != null) {
        out.getErrors().forEach(e -> errors.add(e.getInstanceLocation() + ": " + e.getError()));
      }
      if (errors.isEmpty()) {
        errors.add(out.toString());
      }
    }
    return errors;
  }

  public List<Op> operations() {
    List<Op> ops = new ArrayList<>();
    JsonObject paths = raw.getJsonObject("paths");
    for (String template : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(template);
      for (String m : METHODS) {
        if (item.getValue(m) instanceof JsonObject op) {
          ops.add(new Op(m, template, op.getString("operationId"), op));
        }
      }
    }
    return ops;
  }

  /**
   * The contract as vertx-openapi 5.0 can load it: it refuses media types it cannot validate
   * ({@code text/event-stream}, {@code text/html}, {@code application/yaml}, {@code *}{@code /*}),
   * so those are left out of this copy; callers check such answers' status and Content-Type against
   * {@link #mediaTypes} of the untouched document.
   */
  public OpenAPIContract contractForValidator(Vertx vertx) throws Exception {
    JsonObject copy = new JsonObject(raw.encode());
    dropUnsupportedContent(copy);
    return OpenAPIContract.from(vertx, copy).await(30, TimeUnit.SECONDS);
  }

  private static void dropUnsupportedContent(Object node) {
    if (node instanceof JsonObject o) {
      if (o.getValue("content") instanceof JsonObject content) {
        for (String type : new ArrayList<>(content.fieldNames())) {
          if (!MediaType.isMediaTypeSupported(type)) {
            content.remove(type);
          }
        }
        if (content.isEmpty()) {
          o.remove("content");
        }
      }
      for (String key : o.fieldNames()) {
        dropUnsupportedContent(o.getValue(key));
      }
      if (o.getValue("requestBody") instanceof JsonObject body && !body.containsKey("content")
          && !body.containsKey("$ref")) {
        o.remove("requestBody");
      }
    } else if (node instanceof JsonArray a) {
      a.forEach(OpenApiDoc::dropUnsupportedContent);
    }
  }

  /** The documented response of an operation for a status ({@code $ref} followed), or null. */
  public JsonObject response(Op op, int status) {
    JsonObject responses = op.raw().getJsonObject("responses");
    Object r = responses.getValue(String.valueOf(status));
    return r instanceof JsonObject o ? resolve(o) : null;
  }

  /** The media types documented for a response, or none. */
  public List<String> mediaTypes(JsonObject response) {
    JsonObject content = response.getJsonObject("content");
    return content == null ? List.of() : List.copyOf(content.fieldNames());
  }

  /** Follows a local {@code $ref} ({@code #/a/b}), repeatedly. */
  public JsonObject resolve(JsonObject node) {
    JsonObject n = node;
    while (n.getValue("$ref") instanceof String ref) {
      Object at = raw;
      for (String part : ref.substring(2).split("/")) {
        at = ((JsonObject) at).getValue(part.replace("~1", "/").replace("~0", "~"));
      }
      n = (JsonObject) at;
    }
    return n;
  }

  /**
   * Every key of {@code value}, at every depth, is declared in {@code schema}'s {@code properties}
   * (objects with only {@code additionalProperties} are maps and pass), and keys come in the order
   * the properties are listed: Portr's key order is part of the contract. Returns what is wrong.
   */
  public List<String> keyProblems(JsonObject schema, Object value, String where) {
    List<String> problems = new ArrayList<>();
    keys(resolve(schema), value, where, problems);
    return problems;
  }

  private void keys(JsonObject schema, Object value, String where, List<String> problems) {
    if (value instanceof JsonObject obj && schema.getValue("properties") instanceof JsonObject props) {
      List<String> declared = List.copyOf(props.fieldNames());
      int last = -1;
      for (Map.Entry<String, Object> e : obj) {
        int at = declared.indexOf(e.getKey());
        if (at < 0) {
          problems.add(where + "." + e.getKey() + " is not documented");
          continue;
        }
        if (at < last) {
          problems.add(where + "." + e.getKey() + " comes before " + declared.get(last) + ", against the documented order");
        }
        last = Math.max(last, at);
        keys(resolve(props.getJsonObject(e.getKey())), e.getValue(), where + "." + e.getKey(), problems);
      }
    } else if (value instanceof JsonArray arr && schema.getValue("items") instanceof JsonObject items) {
      for (int i = 0; i < arr.size(); i++) {
        keys(resolve(items), arr.getValue(i), where + "[" + i + "]", problems);
      }
    }
  }
}
