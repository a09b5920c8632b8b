package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.OpenApiDoc;
import dev.porthole.testsupport.OpenApiDoc.Op;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI contract against the fat jar: an app-server with a token and its embedded relay,
 * real tunnels to a real local service, and every answer, success and error, checked against the
 * document it serves: the status is documented for the operation, the Content-Type is one of its
 * media types, JSON bodies pass vertx-openapi's {@link ResponseValidator}, and every key of a JSON
 * body is documented and comes in the documented order (Portr's key order). The operations the
 * scenario reaches are counted; each must be reached at least once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiContractIT {
  private static final String TOKEN = "contract-token";
  /** Documented operations this test does not call, with why. */
  private static final Set<String> NOT_CALLED = Set.of(
      "openEventBusWebSocket", // a WebSocket (EventBusBridgeIT, NodeBridgeIT)
      "openPortForward", "proxyPut", "proxyPatch", "proxyDelete", "proxyRedirect"); // WebSocket; the same proxy route as proxyGet/proxyPost

  Path home;
  Vertx vertx;
  HttpServer local;
  JarProcess app;
  String api;
  int edgePort;
  OpenApiDoc doc;
  OpenAPIContract contract;
  ResponseValidator validator;
  final Set<String> reached = new TreeSet<>();
  final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
      .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  record Answer(int status, String contentType, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    home = dir;
    vertx = Vertx.vertx();
    local = vertx.createHttpServer()
        .requestHandler(req -> req.body().onSuccess(body -> req.response().putHeader("Content-Type", "text/plain")
            .end("hello " + req.method() + " " + req.uri())))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml", "--token", TOKEN);
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    String domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));

    Answer spec = send("GET", "/api/v1/openapi.json", null, null, Map.of());
    assertThat(spec.status()).as(spec.body()).isEqualTo(200);
    doc = new OpenApiDoc(spec.json());
    assertThat(doc.validityErrors(vertx)).isEmpty();
    contract = doc.contractForValidator(vertx);
    validator = ResponseValidator.create(vertx, contract);
  }

  @AfterAll
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private Answer send(String method, String pathAndQuery, String json, String token, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + pathAndQuery)).timeout(Duration.ofSeconds(45));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    headers.forEach(b::header);
    HttpResponse<String> r = http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  /** A call with the token, checked against the contract. */
  private Answer call(String method, String pathAndQuery, String json) throws Exception {
    return checked(method, pathAndQuery, send(method, pathAndQuery, json, TOKEN, Map.of()));
  }

  private Op op(String method, String pathAndQuery) {
    String path = pathAndQuery.replaceFirst("\\?.*", "");
    Operation found = contract.findOperation(path, HttpMethod.valueOf(method));
    assertThat(found).as("an operation for %s %s in the document", method, path).isNotNull();
    return doc.operations().stream().filter(o -> o.operationId().equals(found.getOperationId())).findFirst()
        .orElseThrow();
  }

  /** The answer's status, media type and JSON body against the operation's documented response. */
  private Answer checked(String method, String pathAndQuery, Answer a) throws Exception {
    Op op = op(method, pathAndQuery);
    reached.add(op.operationId());
    JsonObject response = doc.response(op, a.status());
    assertThat(response).as("%s %s answered %d, which %s does not document: %s", method, pathAndQuery, a.status(),
        op.operationId(), a.body()).isNotNull();
    String mediaType = a.contentType().replaceFirst(";.*", "").strip().toLowerCase(Locale.ROOT);
    List<String> documented = doc.mediaTypes(response);
    if (!documented.isEmpty()) {
      assertThat(documented).as("media types of %s %d", op.operationId(), a.status())
          .anyMatch(t -> t.equals(mediaType) || t.equals("*/*"));
    }
    // Bodies are validated where they are JSON; vertx-openapi hands a text/plain one to the JSON
    // schema validator as a Buffer, which it cannot read.
    if (mediaType.equals("application/json") && documented.contains(mediaType)) {
      Map<String, String> headers = new HashMap<>();
      headers.put("Content-Type", mediaType);
      validator.validate(ValidatableResponse.create(a.status(), headers, Buffer.buffer(a.body()), mediaType),
          op.operationId()).await(20, TimeUnit.SECONDS);
      JsonObject schema = response.getJsonObject("content").getJsonObject(mediaType).getJsonObject("schema");
      if (mediaType.equals("application/json") && a.body().startsWith("{")) {
        assertThat(doc.keyProblems(schema, a.json(), op.operationId())).isEmpty();
      }
    }
    return a;
  }

  /** The first {@code n} events of a Server-Sent Events answer ({@code data:} lines), checked as the operation documents. */
  private List<JsonObject> events(String pathAndQuery, int n) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(api + pathAndQuery)).timeout(Duration.ofSeconds(20))
        .header("Authorization", "Bearer " + TOKEN).GET().build();
    HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
    try (Stream<String> lines = r.body()) {
      checked("GET", pathAndQuery, new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), ""));
      CompletableFuture<List<JsonObject>> read = CompletableFuture.supplyAsync(() -> lines
          .filter(l -> l.startsWith("data:")).limit(n).map(l -> new JsonObject(l.substring(5).strip())).toList());
      return read.get(Timeouts.scaled(Duration.ofSeconds(20)).toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** A body the JSON operation documents, validated as that operation's 200 answer. */
  private void validAs(String method, String path, JsonObject body) throws Exception {
    checked(method, path, new Answer(200, "application/json", body.encode()));
  }

  @Test
  @DisplayName("the jar's answers on success and error paths match the document it serves")
  void answersMatchTheContract() throws Exception {
    // The description itself, without a credential.
    checked("GET", "/api/v1/openapi.json", send("GET", "/api/v1/openapi.json", null, null, Map.of()));
    Answer yaml = checked("GET", "/api/v1/openapi.yaml", send("GET", "/api/v1/openapi.yaml", null, null, Map.of()));
    assertThat(yaml.body()).startsWith("# The app-server's HTTP API as OpenAPI 3.1");

    // Credentials.
    assertThat(checked("GET", "/api/v1/health", send("GET", "/api/v1/health", null, null, Map.of())).status()).isEqualTo(401);
    assertThat(checked("GET", "/api/v1/tunnels", send("GET", "/api/v1/tunnels", null, "wrong", Map.of())).status())
        .isEqualTo(401);
    assertThat(call("GET", "/api/v1/health", null).json().getString("relay")).isEqualTo("embedded");

    // Bad input changes nothing.
    assertThat(call("POST", "/api/v1/tunnels", "{").status()).isEqualTo(400);
    assertThat(call("POST", "/api/v1/tunnels", "{\"port\":0}").json().getString("message"))
        .isEqualTo("port must be between 1 and 65535");
    assertThat(call("POST", "/api/v1/tunnels?wait=soon", "{\"port\":3000}").status()).isEqualTo(400);
    assertThat(call("GET", "/api/v1/tunnels", null).json().getJsonArray("tunnels")).isEmpty();

    // Tunnels.
    JsonObject web = call("POST", "/api/v1/tunnels?wait=ready", new JsonObject().put("name", "web")
        .put("host", "127.0.0.1").put("port", local.actualPort()).put("subdomain", "oa-web").put("pool_size", 1)
        .put("callback_url", "http://127.0.0.1:9/hook").encode()).json();
    assertThat(web.getString("status")).isEqualTo("running");
    JsonObject tcp = call("POST", "/api/v1/tunnels", new JsonObject().put("name", "raw").put("type", "tcp")
        .put("host", "127.0.0.1").put("port", local.actualPort()).put("ttl_seconds", 3600)
        .put("owner_pid", ProcessHandle.current().pid()).encode()).json();
    assertThat(tcp.getString("expires_at")).isNotEmpty();
    assertThat(call("POST", "/api/v1/tunnels/" + tcp.getString("id") + "/renew", "{\"ttl_seconds\":7200}").json()
        .getString("expires_at")).isGreaterThan(tcp.getString("expires_at"));
    assertThat(call("POST", "/api/v1/tunnels/" + tcp.getString("id") + "/renew", "{\"ttl_seconds\":0}").status())
        .isEqualTo(400);
    assertThat(call("POST", "/api/v1/tunnels/01NOPE/renew", "{\"ttl_seconds\":60}").status()).isEqualTo(404);
    assertThat(tcp.getInteger("remote_port")).isPositive();
    assertThat(call("GET", "/api/v1/tunnels", null).json().getJsonArray("tunnels")).hasSize(2);
    assertThat(call("GET", "/api/v1/tunnels/" + web.getString("id"), null).status()).isEqualTo(200);
    assertThat(call("GET", "/api/v1/tunnels/01NOPE", null).json().getString("message")).isEqualTo("tunnel not found");

    // Through the tunnel, then the request log.
    HttpRequest through = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort + "/hello?x=1"))
        .header("Host", "oa-web.localhost:" + edgePort).timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString("{\"ok\":true}")).build();
    assertThat(http.send(through, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    AtomicReference<JsonArray> listed = new AtomicReference<>();
    Timeouts.pollUntil(Duration.ofSeconds(15), "the request in the log", () -> {
      try {
        listed.set(call("GET", "/api/v1/requests?subdomain=oa-web&limit=10", null).json().getJsonArray("requests"));
        return !listed.get().isEmpty();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    String requestId = listed.get().getJsonObject(0).getString("id");
    assertThat(call("GET", "/api/v1/requests/" + requestId, null).json().getString("body_text")).isEqualTo("{\"ok\":true}");
    assertThat(call("GET", "/api/v1/requests/01NOPE", null).status()).isEqualTo(404);
    assertThat(call("GET", "/api/v1/requests?limit=0", null).status()).isEqualTo(400);
    JsonObject replayed = call("POST", "/api/v1/requests/" + requestId + "/replay", "{\"url\":\"/again\"}").json();
    assertThat(replayed.getString("parent_id")).isEqualTo(requestId);
    assertThat(call("POST", "/api/v1/requests/" + requestId + "/replay", "{\"verb\":\"GET\"}").status()).isEqualTo(400);

    // Through the app-server's own view of the tunnel.
    assertThat(call("GET", "/p/" + web.getString("id") + "/hello", null).body()).isEqualTo("hello GET /hello");
    assertThat(call("POST", "/p/" + web.getString("id") + "/form", "{}").status()).isEqualTo(200);
    assertThat(call("GET", "/p/01NOPE/x", null).status()).isEqualTo(404);

    // Events, their stream, the request stream, deliveries.
    assertThat(call("GET", "/api/v1/events", null).json().getJsonArray("events")).isNotEmpty();
    assertThat(call("GET", "/metrics", null).body()).contains("porthole_tunnels");
    assertThat(call("GET", "/api/v1/cluster", null).json().getBoolean("clustered")).isFalse();
    assertThat(call("GET", "/", null).status()).isEqualTo(302);
    assertThat(call("GET", "/ui", null).status()).isEqualTo(301);
    assertThat(call("GET", "/ui/", null).body()).contains("<html");
    assertThat(call("GET", "/ui/app.js", null).status()).isEqualTo(200);
    assertThat(call("GET", "/ui/nope.js", null).status()).isEqualTo(404);
    assertThat(call("GET", "/eventbus/info", null).status()).isEqualTo(200);
    assertThat(call("GET", "/api/v1/events?since=-1", null).status()).isEqualTo(400);
    for (JsonObject e : events("/api/v1/events/stream?since=0", 2)) {
      validAs("GET", "/api/v1/events", new JsonObject().put("events", new JsonArray().add(e)));
    }
    assertThat(call("GET", "/api/v1/events/stream?since=x", null).status()).isEqualTo(400);
    for (JsonObject item : events("/api/v1/requests/stream?since=0", 1)) {
      validAs("GET", "/api/v1/requests", new JsonObject().put("requests", new JsonArray().add(item)).putNull("next"));
    }
    assertThat(call("GET", "/api/v1/requests/stream?since=-2", null).status()).isEqualTo(400);
    Timeouts.pollUntil(Duration.ofSeconds(15), "a failed callback delivery", () -> {
      try {
        return !call("GET", "/api/v1/webhooks/deliveries?tunnel_id=" + web.getString("id"), null).json()
            .getJsonArray("deliveries").isEmpty();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });

    // Stops, and the request log's delete.
    assertThat(call("DELETE", "/api/v1/tunnels/" + web.getString("id"), null).json().getString("status")).isEqualTo("stopped");
    assertThat(call("POST", "/api/v1/tunnels/" + tcp.getString("id") + "/shutdown", null).json().getString("status"))
        .isEqualTo("stopped");
    assertThat(call("DELETE", "/api/v1/tunnels/01NOPE", null).status()).isEqualTo(404);
    assertThat(call("POST", "/api/v1/tunnels/01NOPE/shutdown", null).status()).isEqualTo(404);
    assertThat(call("POST", "/api/v1/tunnels/" + tcp.getString("id") + "/renew", "{\"ttl_seconds\":60}").status())
        .isEqualTo(409);
    assertThat(call("POST", "/api/v1/requests/" + requestId + "/replay", null).status()).isEqualTo(409);
    assertThat(call("DELETE", "/api/v1/requests", null).status()).isEqualTo(400);
    assertThat(call("DELETE", "/api/v1/requests?subdomain=oa-web", null).json().getInteger("deleted")).isEqualTo(2);

    // The checks bite: a wrong type, an undocumented key, Portr's key order broken, an undocumented status.
    String path = "/api/v1/tunnels/" + web.getString("id");
    JsonObject wrongType = web.copy().put("port", "3000");
    assertThatThrownBy(() -> checked("GET", path, new Answer(200, "application/json", wrongType.encode())))
        .hasMessageContaining("port");
    JsonObject extraKey = web.copy().put("owner", "me");
    assertThatThrownBy(() -> checked("GET", path, new Answer(200, "application/json", extraKey.encode())))
        .hasMessageContaining("owner is not documented");
    JsonObject reordered = new JsonObject().put("status", web.getString("status"));
    web.forEach(e -> reordered.put(e.getKey(), e.getValue()));
    assertThatThrownBy(() -> checked("GET", path, new Answer(200, "application/json", reordered.encode())))
        .hasMessageContaining("against the documented order");
    assertThatThrownBy(() -> checked("GET", path, new Answer(418, "application/json", "{\"message\":\"x\"}")))
        .hasMessageContaining("does not document");

    List<String> unreached = new ArrayList<>();
    doc.operations().stream().map(Op::operationId).filter(id -> !reached.contains(id) && !NOT_CALLED.contains(id))
        .forEach(unreached::add);
    assertThat(unreached).as("documented operations this test never called").isEmpty();
  }
}
