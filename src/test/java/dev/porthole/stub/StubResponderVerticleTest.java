package dev.porthole.stub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.FailureCode;
import dev.porthole.bus.StubRoute;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The shared stub responder over real HTTP on loopback: routing, templates, bodies, limits, its bus API. */
class StubResponderVerticleTest {
  private Vertx vertx;
  private StubResponderVerticle responder;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    responder = new StubResponderVerticle();
    get(vertx.deployVerticle(responder));
  }

  @AfterEach
  void stop() throws Exception {
    get(vertx.close());
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private int register(String sub, String format, String tmpl) throws Exception {
    Message<JsonObject> m = get(vertx.eventBus().request(Addresses.STUB_REGISTER,
        new StubRoute(sub, format, tmpl).toJson()));
    return m.body().getInteger("port");
  }

  private HttpResponse<String> send(String host, String method, String pathAndQuery, String contentType, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + responder.port() + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).header("Host", host)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @DisplayName("registration answers the responder's port; Portr's 'stub responder' example: yaml by Host")
  void routesByHost() throws Exception {
    int port = register("json", "application/json", "{\"type\":\"json\"}");
    assertThat(port).isEqualTo(responder.port()).isPositive();
    assertThat(register("yaml", "application/yml", "name: {{name}}\n")).isEqualTo(port);
    HttpResponse<String> r = send("yaml.example.test", "GET", "/?name=portr", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("name: portr\n");
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/yml");
    assertThat(send("JSON.example.test:8001", "GET", "/", null, null).body()).isEqualTo("{\"type\":\"json\"}");
    assertThat(send("json", "GET", "/", null, null).body()).as("exact hostname").isEqualTo("{\"type\":\"json\"}");
    HttpResponse<String> unknown = send("nope.example.test", "GET", "/", null, null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("404 page not found\n");
  }

  @Test
  @DisplayName("with one route, any Host reaches it (a direct loopback request); a ping is 200 and empty")
  void soleRouteAndPing() throws Exception {
    HttpRequest ping = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + responder.port() + "/"))
        .header("X-Portr-Ping-Request", "true").build();
    HttpResponse<String> before = http.send(ping, HttpResponse.BodyHandlers.ofString());
    assertThat(before.statusCode()).as("ping without any route").isEqualTo(200);
    assertThat(before.body()).isEmpty();
    register("only", "text/plain", "ONLY");
    assertThat(send("127.0.0.1:54321", "GET", "/", null, null).body()).isEqualTo("ONLY");
  }

  @Test
  @DisplayName("a duplicate subdomain fails with Portr's message; after unregister it can be registered again")
  void duplicateAndUnregister() throws Exception {
    register("dup", "text/plain", "x");
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> register("  DUP ", "text/plain", "y"));
    assertThat(e.getCause()).isInstanceOf(ReplyException.class)
        .hasMessage("stub responder route for subdomain \"dup\" already exists");
    assertThat(((ReplyException) e.getCause()).failureCode()).isEqualTo(FailureCode.START_FAILED.code());
    register("other", "text/plain", "o");
    register("third", "text/plain", "3"); // two routes left: no sole-route fallback
    get(vertx.eventBus().request(Addresses.STUB_UNREGISTER, StubRoute.unregister("dup")));
    assertThat(send("dup.example.test", "GET", "/", null, null).statusCode()).isEqualTo(404);
    register("dup", "text/plain", "second");
    assertThat(send("dup.example.test", "GET", "/", null, null).body()).isEqualTo("second");
  }

  @Test
  @DisplayName("body values: JSON object, urlencoded form, multipart form; the query wins")
  void bodies() throws Exception {
    register("b", "application/json", "{\"name\":\"{{name}}\",\"n\":\"{{n|int}}\",\"obj\":\"{{obj}}\"}");
    HttpResponse<String> j = send("b.x", "POST", "/", "application/json; charset=utf-8",
        "{\"name\":\"portr\",\"n\":3,\"obj\":{\"z\":1,\"a\":[true,null,\"<\"]}}");
    assertThat(j.statusCode()).isEqualTo(200);
    assertThat(j.body()).isEqualTo("{\"name\":\"portr\",\"n\":3,\"obj\":\"{\\\"a\\\":[true,null,\\\"\\\\u003c\\\"],\\\"z\\\":1}\"}");
    assertThat(new JsonObject(j.body()).getString("obj")).isEqualTo("{\"a\":[true,null,\"\\u003c\"],\"z\":1}");
    assertThat(send("b.x", "POST", "/?name=query", "application/json", "{\"name\":\"body\"}").body())
        .startsWith("{\"name\":\"query\"");
    assertThat(send("b.x", "POST", "/", "application/x-www-form-urlencoded", "name=from-form&n=7").body())
        .startsWith("{\"name\":\"from-form\",\"n\":7");
    String multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nfrom-multipart\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"n\"; filename=\"n.txt\"\r\nContent-Type: text/plain\r\n\r\n99\r\n"
        + "--XyZ--\r\n";
    assertThat(send("b.x", "POST", "/", "multipart/form-data; boundary=XyZ", multipart).body())
        .isEqualTo("{\"name\":\"from-multipart\",\"n\":\"\",\"obj\":\"\"}");
    assertThat(send("b.x", "POST", "/", "text/plain", "name=ignored").body()).startsWith("{\"name\":\"\"");
  }

  @Test
  @DisplayName("a body that does not parse → 400 Bad Request; one over 1 MiB → 413")
  void badBodies() throws Exception {
    register("bad", "text/plain", "name={{name}}");
    for (String[] c : new String[][] {{"application/json", "{\"name\":"}, {"application/json", "[1]"},
        {"application/json", "{} {}"}, {"application/x-www-form-urlencoded", "%zz"},
        {"multipart/form-data", "--x\r\n\r\n"}, {"multipart/form-data; boundary=q", "garbage"}, {"a/b/c", "x"}}) {
      HttpResponse<String> r = send("bad.x", "POST", "/", c[0], c[1]);
      assertThat(r.statusCode()).as("%s %s", c[0], c[1]).isEqualTo(400);
      assertThat(r.body()).isEqualTo("Bad Request\n");
    }
    assertThat(send("bad.x", "POST", "/", "application/json", "null").body()).isEqualTo("name=");
    HttpResponse<String> big = send("bad.x", "POST", "/", "application/json",
        "{\"name\":\"" + "x".repeat(StubResponderVerticle.BODY_LIMIT) + "\"}");
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(send("bad.x", "GET", "/?name=still-up", null, null).body()).isEqualTo("name=still-up");
  }
}
