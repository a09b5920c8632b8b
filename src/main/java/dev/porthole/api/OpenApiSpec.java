package dev.porthole.api;

import dev.porthole.httpkit.ApiResponses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * The API's OpenAPI 3.1 description, {@value #RESOURCE} in the jar, served as it is at {@code
 * /api/v1/openapi.yaml} and converted once to JSON for {@code /api/v1/openapi.json}. Both need no
 * credential (docs/api.md#openapi): the document is the same for every porthole of a version and
 * names no tunnel, setting or secret; the front door's Host and Origin rules still apply.
 *
 * <p>Read and converted on the first request for either path, not at start: the conversion (54 KB
 * of YAML through SnakeYAML in a cold JVM) took about half a second of CPU, which every app-server
 * start paid before it listened (a three-node cluster starting together, three times).
 */
final class OpenApiSpec {
  static final String RESOURCE = "openapi/porthole.yaml";
  static final String JSON_PATH = "/api/v1/openapi.json";
  static final String YAML_PATH = "/api/v1/openapi.yaml";

  private final Buffer yaml;
  private final Buffer json;

  private OpenApiSpec(Buffer yaml, Buffer json) {
    this.yaml = yaml;
    this.json = json;
  }

  /** Reads and converts the resource on a worker thread (a classpath read is blocking I/O). */
  static Future<OpenApiSpec> load(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      byte[] raw = read();
      return new OpenApiSpec(Buffer.buffer(raw), Buffer.buffer(toJson(new String(raw, StandardCharsets.UTF_8)).encode()));
    });
  }

  static byte[] read() {
    try (InputStream in = OpenApiSpec.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The YAML document as JSON, keys in the file's order. Scalars resolve as YAML 1.2's core schema
   * does, as OpenAPI tools read them: {@code on}, {@code no} or a date stay strings.
   */
  static JsonObject toJson(String yamlText) {
    LoaderOptions options = new LoaderOptions();
    Yaml parser = new Yaml(new SafeConstructor(options), new Representer(new DumperOptions()), new DumperOptions(),
        options, new CoreSchema());
    Object root = parser.load(yamlText);
    if (!(root instanceof Map<?, ?> map)) {
      throw new IllegalStateException(RESOURCE + " is not a YAML mapping");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> doc = (Map<String, Object>) map;
    return new JsonObject(doc);
  }

  /**
   * GET and HEAD of both paths, the document loaded by the first of them; mount before the
   * credential step. The routes run on the router's event loop, which alone touches the loader.
   */
  static void mount(Vertx vertx, Router router) {
    Loader loader = new Loader(vertx);
    HttpVerticle.get(router, JSON_PATH, rc -> loader.get().onComplete(ar -> {
      if (ar.succeeded()) {
        send(rc, "application/json", ar.result().json);
      } else {
        rc.fail(ar.cause());
      }
    }));
    router.routeWithRegex(HttpVerticle.path(JSON_PATH)).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, HEAD"));
    HttpVerticle.get(router, YAML_PATH, rc -> loader.get().onComplete(ar -> {
      if (ar.succeeded()) {
        send(rc, "application/yaml", ar.result().yaml);
      } else {
        rc.fail(ar.cause());
      }
    }));
    router.routeWithRegex(HttpVerticle.path(YAML_PATH)).handler(rc -> ApiResponses.methodNotAllowed(rc, "GET, HEAD"));
  }

  /** The document, loaded once when first asked for (again after a failed load). */
  private static final class Loader {
    private final Vertx vertx;
    private Future<OpenApiSpec> spec;

    Loader(Vertx vertx) {
      this.vertx = vertx;
    }

    Future<OpenApiSpec> get() {
      if (spec == null) {
        Future<OpenApiSpec> loading = load(vertx);
        spec = loading;
        loading.onFailure(e -> {
          if (spec == loading) {
            spec = null;
          }
        });
      }
      return spec;
    }
  }

  private static void send(RoutingContext rc, String contentType, Buffer body) {
    rc.response().putHeader("Content-Type", contentType);
    if (rc.request().method() == HttpMethod.HEAD) {
      rc.response().putHeader("Content-Length", String.valueOf(body.length())).end();
    } else {
      rc.response().end(body);
    }
  }

  /** YAML 1.2 core schema booleans (true/false only), no timestamps; ints, floats, nulls, merges as usual. */
  private static final class CoreSchema extends Resolver {
    private static final Pattern BOOL = Pattern.compile("^(?:true|True|TRUE|false|False|FALSE)$");

    @Override
    protected void addImplicitResolvers() {
      addImplicitResolver(Tag.BOOL, BOOL, "tTfF");
      addImplicitResolver(Tag.INT, INT, "-+0123456789");
      addImplicitResolver(Tag.FLOAT, FLOAT, "-+0123456789.");
      addImplicitResolver(Tag.MERGE, MERGE, "<");
      addImplicitResolver(Tag.NULL, NULL, "~nN\0");
      addImplicitResolver(Tag.NULL, EMPTY, null);
    }
  }
}
