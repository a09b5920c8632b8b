package dev.porthole.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.HttpVerticle;
import dev.porthole.bridge.EventBusBridge;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The dashboard's static routes in the real router: what is served, with which headers, and what is not. */
@ExtendWith(VertxExtension.class)
class DashboardTest {
  private static final Duration WAIT = Timeouts.scaled(Duration.ofSeconds(10));
  private static final String TOKEN = "ui-test-token";
  /** @vertx/eventbus-bridge-client.js 1.0.0's vertx-eventbus.js from the npm registry, unchanged. */
  private static final String BRIDGE_CLIENT_SHA256 = "d2c17cc01b039c05afe9f3a1cb32f3980a9562843a1ede5c91f2acea3641d658";

  private HttpClient client;
  private int port;

  record Resp(int status, MultiMap headers, String body) {
  }

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    HttpVerticle verticle = new HttpVerticle();
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(new JsonObject().put("host", "127.0.0.1")
        .put("port", 0).put("token", TOKEN).put("relay", "embedded")))
        .await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    port = verticle.actualPort();
  }

  private Resp get(String uri, Map<String, String> headers) throws Exception {
    return client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI(uri))
        .compose(req -> {
          headers.forEach(req::putHeader);
          return req.send().compose(r -> r.body().map(b -> new Resp(r.statusCode(), r.headers(), b.toString())));
        })
        .await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private Resp get(String uri) throws Exception {
    return get(uri, Map.of());
  }

  @Test
  void rootAndUiRedirectToThePage() throws Exception {
    Resp root = get("/");
    assertThat(root.status()).isEqualTo(302);
    assertThat(root.headers().get("Location")).isEqualTo("/ui/");
    Resp ui = get("/ui");
    assertThat(ui.status()).isEqualTo(301);
    assertThat(ui.headers().get("Location")).isEqualTo("/ui/");
  }

  @Test
  void thePageAndItsScriptsAreServedWithoutTheCredential() throws Exception {
    Resp page = get("/ui/");
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.headers().get("Content-Type")).startsWith("text/html");
    assertThat(page.body()).contains("<title>porthole</title>").doesNotContain(TOKEN);
    assertThat(page.headers().get("Cache-Control")).isEqualTo("no-cache");
    assertThat(page.headers().get("Content-Security-Policy")).contains("script-src 'self'")
        .contains("frame-ancestors 'none'").doesNotContain("unsafe");
    assertThat(page.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(page.headers().get("Last-Modified")).isNotBlank();

    for (String script : new String[] {"/ui/app.js", "/ui/vertx-eventbus.js", EventBusBridge.LIBRARY_URL}) {
      Resp r = get(script);
      assertThat(r.status()).as(script).isEqualTo(200);
      assertThat(r.headers().get("Content-Type")).as(script).startsWith("text/javascript");
      assertThat(r.headers().get("Cache-Control")).as(script).isEqualTo("no-cache");
    }
    assertThat(get(EventBusBridge.LIBRARY_URL).body()).contains("SockJS");
    // The API behind it still needs the token.
    assertThat(get("/api/v1/tunnels").status()).isEqualTo(401);
  }

  @Test
  void nothingElseOfTheClasspathIsReachable() throws Exception {
    for (String uri : new String[] {"/ui/sockjs.js", "/ui/sockjs.min.js.map",
        "/ui/..%2fporthole-version.properties", "/ui/..%2flogback.xml",
        "/ui/porthole-version.properties", "/ui/dev/porthole/Main.class", "/ui/.hidden", "/ui/nothing.js"}) {
      Resp r = get(uri);
      assertThat(r.status()).as(uri).isEqualTo(404);
      assertThat(r.headers().get("Content-Type")).as(uri).isEqualTo("application/json");
      assertThat(r.body()).as(uri).doesNotContain("version=").doesNotContain("<configuration");
    }
    // A ../ (plain or %2e%2e) leaves /ui/ when the router normalizes the path: the API's then, behind its token.
    assertThat(get("/ui/../porthole-version.properties").status()).isEqualTo(401);
    assertThat(get("/ui/%2e%2e/porthole-version.properties").status()).isEqualTo(401);
  }

  @Test
  void theFrontDoorStillGuardsThePage() throws Exception {
    assertThat(get("/ui/", Map.of("Host", "evil.example")).status()).isEqualTo(403);
    assertThat(get("/ui/", Map.of("Origin", "http://evil.example")).status()).isEqualTo(403);
  }

  @Test
  void theVendoredBridgeClientIsThePublishedOne() throws Exception {
    try (InputStream in = Dashboard.class.getResourceAsStream("/" + Dashboard.WEBROOT + "/vertx-eventbus.js")) {
      assertThat(in).isNotNull();
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
      assertThat(sha).isEqualTo(BRIDGE_CLIENT_SHA256);
    }
  }
}
