package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.OpenApiDoc;
import dev.porthole.testsupport.OpenApiDoc.Op;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The OpenAPI document against the real router: valid OpenAPI 3.1, every route the router serves
 * is documented and every documented operation is routed, and the document is served, without a
 * credential, as the file in the jar. The jar's answers are validated by {@code it/OpenApiContractIT}.
 */
@ExtendWith(VertxExtension.class)
class OpenApiRoutesTest {
  private static final Duration WAIT = Timeouts.scaled(Duration.ofSeconds(10));

  // ------------------------------------------------------------------ the allow-lists (the lead edits these)

  /**
   * Documented, served by parts merged separately (issue 18's metrics, the dashboard, the SockJS
   * bridge): tolerated while this branch has no route for them, checked like any other once it
   * has. Remove an entry once its route is merged.
   */
  static final Set<String> DOCUMENTED_BEFORE_ROUTED = Set.of();

  /** Documented, and served outside the router: WebSocket handshakes go to the server's handshake handler. */
  static final Set<String> SERVED_OUTSIDE_ROUTER = Set.of("GET /ws/port-forward/{id}",
      "GET /eventbus/{server}/{session}/websocket");

  /**
   * Routed, not documented yet, as "METHOD /sample/path": a stop-gap while a route is being
   * merged, empty otherwise.
   */
  static final Set<String> ROUTED_BEFORE_DOCUMENTED = Set.of();

  /** Sub-routers whose own routes follow another protocol (SockJS): only their mount point is checked. */
  static final Set<String> OPAQUE_MOUNTS = Set.of("/eventbus/");

  // ------------------------------------------------------------------

  private Vertx vertx;
  private HttpVerticle verticle;
  private OpenApiDoc doc;
  private byte[] yaml;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    yaml = OpenApiSpec.read();
    doc = new OpenApiDoc(OpenApiSpec.toJson(new String(yaml, StandardCharsets.UTF_8)));
    verticle = new HttpVerticle();
    JsonObject config = new JsonObject().put("host", "127.0.0.1").put("port", 0).put("token", "sekrit")
        .put("relay", "embedded");
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config)).await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A route of the router, with the mount prefix of the sub-router it is in ("" at the top). */
  record Served(String prefix, Route route, boolean opaque) {
    boolean catchAll() {
      return route.getPath() == null && !route.isRegexPath();
    }

    boolean anyMethod() {
      return route.methods() == null || route.methods().isEmpty();
    }

    boolean matchesPath(String sample) {
      if (!sample.startsWith(prefix)) {
        return false;
      }
      String rest = sample.substring(prefix.length());
      if (route.isRegexPath()) {
        return Pattern.compile(route.getName()).matcher(rest).matches();
      }
      if (route.getPath() == null) {
        return true;
      }
      return opaque || !route.isExactPath() ? rest.startsWith(route.getPath()) : rest.equals(route.getPath());
    }

    @Override
    public String toString() {
      return (route.methods() == null ? "*" : route.methods()) + " " + prefix + route.getName();
    }
  }

  static List<Served> served(Router router) {
    List<Served> out = new ArrayList<>();
    walk(router, "", out);
    return out;
  }

  private static void walk(Router router, String prefix, List<Served> out) {
    for (Route r : router.getRoutes()) {
      if (r.getSubRouter() != null && !OPAQUE_MOUNTS.contains(r.getPath())) {
        String mount = r.getPath().endsWith("/") ? r.getPath().substring(0, r.getPath().length() - 1) : r.getPath();
        walk(r.getSubRouter(), prefix + mount, out);
      } else {
        out.add(new Served(prefix, r, r.getSubRouter() != null));
      }
    }
  }

  /** What is wrong between the router and the document; empty when they agree. */
  static List<String> drift(Router router, List<Op> ops) {
    List<Served> served = served(router);
    List<String> problems = new ArrayList<>();
    // Every route the router serves is documented.
    for (Served s : served) {
      if (s.catchAll()) {
        continue; // the front door, the credential step, the failure handler: every request passes them
      }
      if (s.anyMethod()) {
        if (ops.stream().noneMatch(op -> s.matchesPath(op.sample()))
            && ROUTED_BEFORE_DOCUMENTED.stream().noneMatch(a -> s.matchesPath(a.substring(a.indexOf(' ') + 1)))) {
          problems.add("route " + s + " serves no documented path");
        }
        continue;
      }
      for (HttpMethod m : s.route.methods()) {
        String method = (m == HttpMethod.HEAD ? HttpMethod.GET : m).name().toLowerCase(Locale.ROOT);
        boolean documented = ops.stream().anyMatch(op -> op.method().equals(method) && s.matchesPath(op.sample()));
        boolean allowed = ROUTED_BEFORE_DOCUMENTED.stream().anyMatch(a -> a.startsWith(m.name() + " ")
            && s.matchesPath(a.substring(a.indexOf(' ') + 1)));
        if (!documented && !allowed) {
          problems.add("route " + s + ": " + m + " is not in the OpenAPI document");
        }
      }
    }
    // Every documented operation is routed.
    for (Op op : ops) {
      if (SERVED_OUTSIDE_ROUTER.contains(op.toString())) {
        continue;
      }
      HttpMethod m = HttpMethod.valueOf(op.method().toUpperCase(Locale.ROOT));
      boolean routed = served.stream().anyMatch(s -> !s.catchAll() && s.matchesPath(op.sample())
          && (s.anyMethod() ? !s.prefix().isEmpty() || s.opaque() : s.route.methods().contains(m)));
      if (!routed && !DOCUMENTED_BEFORE_ROUTED.contains(op.toString())) {
        problems.add(op + " (" + op.operationId() + ") is documented but no route serves it");
      }
    }
    return problems;
  }

  @Test
  @DisplayName("the document is valid OpenAPI 3.1, loads in vertx-openapi, and its operation ids are unique")
  void valid() throws Exception {
    assertThat(doc.validityErrors(vertx)).isEmpty();
    assertThat(doc.contractForValidator(vertx).operations()).hasSize(doc.operations().size());
    assertThat(doc.operations()).extracting(Op::operationId).doesNotContainNull().doesNotHaveDuplicates();
  }

  @Test
  @DisplayName("every route of the router is documented and every documented operation is routed")
  void routesMatchTheDocument() {
    assertThat(drift(verticle.router(), doc.operations())).isEmpty();
  }

  @Test
  @DisplayName("the check fails for an undocumented route and for a documented path with no route")
  void driftIsCaught() {
    Router router = verticle.router();
    router.routeWithRegex(HttpMethod.POST, HttpVerticle.path("/api/v1/tunnels/([^/]+)/pause")).handler(rc -> rc.end());
    List<Op> ops = new ArrayList<>(doc.operations());
    ops.add(new Op("get", "/api/v1/tunnels/{id}/logs", "getTunnelLogs", new JsonObject()));
    assertThat(drift(router, ops)).anySatisfy(p -> assertThat(p).contains("/pause").contains("POST is not in"))
        .anySatisfy(p -> assertThat(p).startsWith("GET /api/v1/tunnels/{id}/logs"));
    // Removing a documented operation (here the stop by DELETE) leaves its route undocumented.
    List<Op> fewer = doc.operations().stream().filter(op -> !op.operationId().equals("stopTunnel")).toList();
    assertThat(drift(verticle.router(), fewer)).anySatisfy(p -> assertThat(p).contains("DELETE is not in"));
  }

  @Test
  @DisplayName("GET/HEAD /api/v1/openapi.json and .yaml need no credential and serve the file; other methods 405")
  void served() throws Exception {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    Object[] json = call(client, HttpMethod.GET, "/api/v1/openapi.json");
    assertThat(json[0]).isEqualTo(200);
    assertThat(json[1]).isEqualTo("application/json");
    assertThat(new JsonObject((Buffer) json[2])).isEqualTo(doc.raw());
    Object[] yml = call(client, HttpMethod.GET, "/API/v1/openapi.yaml/");
    assertThat(yml[0]).isEqualTo(200);
    assertThat(yml[1]).isEqualTo("application/yaml");
    assertThat(((Buffer) yml[2]).getBytes()).isEqualTo(yaml);
    Object[] head = call(client, HttpMethod.HEAD, "/api/v1/openapi.json");
    assertThat(head[0]).isEqualTo(200);
    assertThat(((Buffer) head[2]).length()).isZero();
    assertThat(call(client, HttpMethod.POST, "/api/v1/openapi.json")[0]).isEqualTo(405);
    // The rest of the API still wants the token.
    assertThat(call(client, HttpMethod.GET, "/api/v1/health")[0]).isEqualTo(401);
    // The document's strings stay strings: YAML 1.1 would make "on" a boolean and a date a Date.
    assertThat(doc.raw().getJsonObject("components").getJsonObject("schemas").getJsonObject("RequestLogState")
        .getJsonObject("properties").getJsonObject("state").getJsonArray("enum").getValue(0)).isEqualTo("on");
  }

  private Object[] call(HttpClient client, HttpMethod method, String uri) throws Exception {
    return client.request(new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(verticle.actualPort())
            .setURI(uri))
        .compose(req -> req.send().compose(res -> res.body()
            .map(b -> new Object[] {res.statusCode(), res.getHeader("Content-Type"), b})))
        .await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
