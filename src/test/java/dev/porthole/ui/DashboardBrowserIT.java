package dev.porthole.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.BrowserFailures;
import dev.porthole.testsupport.Chromium;
import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard at {@code /ui/} in a real headless Chromium against the fat jar (an app-server
 * with its embedded relay), a real local service and real tunnels. One app-server for the tests
 * that need no special start; the token and restart tests run their own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  Vertx vertx;
  HttpServer local;
  HttpClient client;
  final List<String> seen = new CopyOnWriteArrayList<>();
  Path home;
  JarProcess app;
  String api;
  int edgePort;
  final List<JarProcess> extra = new ArrayList<>();
  Chromium browser;
  final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
      .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @RegisterExtension
  final BrowserFailures failures = new BrowserFailures(() -> browser);

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Chromium.assumeInstalled();
    home = dir;
    vertx = Vertx.vertx();
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    local = vertx.createHttpServer()
        .requestHandler(req -> req.body().onSuccess(body -> {
          seen.add(req.method().name() + " " + req.uri());
          req.response().putHeader("Content-Type", "application/json").end("{\"hello\":\"from the local service\",\"n\":"
              + seen.size() + "}");
        }))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    app = startApp(home.resolve("shared"), 0, List.of());
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    String domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
    edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
  }

  @AfterEach
  void closeBrowser() throws Exception {
    if (browser != null) {
      browser.close();
      browser = null;
    }
    for (JarProcess p : extra) {
      p.close();
    }
    extra.clear();
  }

  @AfterAll
  void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------- tests

  @Test
  void aTunnelCreatedThroughTheApiAppearsWithoutReload() throws Exception {
    WebDriver page = open(api);
    ((JavascriptExecutor) page).executeScript("window.__sameDocument = true;");

    String id = create(api, null, "seen-live");
    WebElement row = row(page, id);
    waitFor(page, d -> status(row).equals("running"));
    assertThat(row.findElement(By.cssSelector("td.col-url a")).getText()).startsWith("http://seen-live.");
    assertThat(row.findElement(By.cssSelector("td.col-target")).getText()).isEqualTo("127.0.0.1:" + local.actualPort());
    assertThat(row.findElement(By.cssSelector("td.col-type")).getText()).isEqualTo("http");
    assertThat(((JavascriptExecutor) page).executeScript("return window.__sameDocument === true")).isEqualTo(true);
    // The timeline got the started event live too.
    waitFor(page, d -> !d.findElements(By.cssSelector("#event-list li[data-tunnel='" + id + "'][data-type='started']"))
        .isEmpty());
  }

  @Test
  void stopInThePageStopsTheTunnelInTheApi() throws Exception {
    WebDriver page = open(api);
    String id = create(api, null, "stop-from-page");
    WebElement row = row(page, id);
    waitFor(page, d -> status(row).equals("running"));

    row.findElement(By.cssSelector("button[data-action='stop']")).click();

    Timeouts.pollUntil(WAIT, "tunnel " + id + " stopped in the API", () -> "stopped".equals(apiStatus(api, null, id)));
    waitFor(page, d -> status(row).equals("stopped"));
    assertThat(row.findElement(By.cssSelector("button[data-action='stop']")).isEnabled()).isFalse();
  }

  @Test
  void aRequestThroughTheTunnelShowsInTheInspectorAndReplayReachesTheLocalService() throws Exception {
    WebDriver page = open(api);
    String id = create(api, null, "inspect-me");
    create(api, null, "another-one");
    waitFor(page, d -> status(row(d, id)).equals("running"));
    new Select(page.findElement(By.id("request-filter"))).selectByValue(id);

    String uri = "/inspect/" + System.nanoTime() + "?q=1";
    int code = through("inspect-me", uri);
    assertThat(code).isEqualTo(200);
    assertThat(seen).containsOnlyOnce("GET " + uri);

    // The captured-request feed puts it in the list without a reload; its detail comes from the log.
    By item = By.xpath("//ol[@id='request-list']//button[.//span[@class='path' and text()='" + uri + "']]");
    new WebDriverWait(page, Timeouts.scaled(WAIT)).until(ExpectedConditions.elementToBeClickable(item)).click();
    WebElement detail = page.findElement(By.id("request-detail"));
    waitFor(page, d -> detail.isDisplayed() && page.findElement(By.id("detail-title")).getText().equals("GET " + uri));
    // JSON bodies are pretty-printed.
    assertThat(page.findElement(By.id("detail-resp-body")).getText()).contains("\"hello\": \"from the local service\"");
    assertThat(page.findElement(By.id("detail-req-headers")).getText()).contains("X-Forwarded-For");

    page.findElement(By.id("replay")).click();
    Timeouts.pollUntil(WAIT, "the replay at the local service", () -> seen.stream().filter(("GET " + uri)::equals).count() == 2);
    waitFor(page, d -> d.findElement(By.id("replay-result")).getText().startsWith("Replayed as "));
    waitFor(page, d -> d.findElements(item).size() == 2);

    // The dashboard with a few tunnels and a request open: docs/img/dashboard.png comes from here.
    HttpResponse<String> stub = call(api, null, "POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", "fake-api").put("response_format", "application/json").put("response_tmpl", "{\"ok\":true}")
        .encode());
    assertThat(stub.statusCode()).as(stub.body()).isEqualTo(201);
    String stubId = new JsonObject(stub.body()).getString("id");
    waitFor(page, d -> status(row(d, stubId)).equals("running"));
    assertThat(row(page, stubId).findElement(By.cssSelector("td.col-target")).getText()).isEqualTo("stub (application/json)");
    Files.createDirectories(Path.of("target"));
    Files.copy(browser.driver().getScreenshotAs(OutputType.FILE).toPath(), Path.of("target", "dashboard.png"),
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void createFromThePageShowsTheApisMessageInline() throws Exception {
    WebDriver page = open(api);
    page.findElement(By.cssSelector("#create summary")).click();
    page.findElement(By.id("create-port")).sendKeys("70000");
    page.findElement(By.id("create-submit")).click();
    waitFor(page, d -> d.findElement(By.id("create-error")).getText().equals("port must be between 1 and 65535"));

    page.findElement(By.id("create-port")).clear();
    page.findElement(By.id("create-port")).sendKeys(String.valueOf(local.actualPort()));
    page.findElement(By.id("create-host")).sendKeys("127.0.0.1");
    page.findElement(By.id("create-subdomain")).sendKeys("made-in-page");
    page.findElement(By.id("create-submit")).click();
    waitFor(page, d -> d.findElement(By.id("create-result")).getText().startsWith("Created made-in-page (running)"));
    assertThat(page.findElement(By.id("create-error")).getText()).isEmpty();
    String id = new JsonObject(call(api, null, "GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels").stream()
        .map(JsonObject.class::cast).filter(t -> "made-in-page".equals(t.getString("subdomain"))).findFirst()
        .orElseThrow().getString("id");
    waitFor(page, d -> status(row(d, id)).equals("running"));
  }

  @Test
  void theTokenPromptConnectsWithTheToken() throws Exception {
    String token = "dashboard-test-token-" + System.nanoTime();
    JarProcess guarded = startApp(home.resolve("token"), 0, List.of("--token", token));
    extra.add(guarded);
    String guardedApi = guarded.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    String id = create(guardedApi, token, "behind-token");

    browser = Chromium.start(1280, 900);
    WebDriver page = browser.driver();
    page.get(guardedApi + "/ui/");
    WebElement dialog = page.findElement(By.id("token-dialog"));
    waitFor(page, d -> dialog.isDisplayed());
    assertThat(page.findElements(By.cssSelector("#tunnel-rows tr"))).isEmpty();

    page.findElement(By.id("token-input")).sendKeys("not-the-token");
    page.findElement(By.id("token-submit")).click();
    waitFor(page, d -> d.findElement(By.id("token-error")).getText().equals("The app-server refused this token."));
    assertThat(dialog.isDisplayed()).isTrue();

    page.findElement(By.id("token-input")).sendKeys(token);
    page.findElement(By.id("token-submit")).click();
    waitFor(page, d -> "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    assertThat(dialog.isDisplayed()).isFalse();
    waitFor(page, d -> status(row(d, id)).equals("running"));

    // Kept for the tab: a reload connects without asking again.
    page.navigate().refresh();
    waitFor(page, d -> "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    assertThat(page.findElement(By.id("token-dialog")).isDisplayed()).isFalse();
    assertThat(page.getCurrentUrl()).doesNotContain(token);
  }

  @Test
  void theBannerShowsWhileTheAppServerIsGoneAndClearsWhenItIsBack() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path dir = home.resolve("restart");
    JarProcess first = startApp(dir, port, List.of());
    extra.add(first);
    String restartApi = first.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    WebDriver page = open(restartApi);
    WebElement banner = page.findElement(By.id("banner"));
    assertThat(banner.isDisplayed()).isFalse();

    assertThat(first.terminate(Duration.ofSeconds(30))).isEqualTo(0);
    waitFor(page, d -> banner.isDisplayed() && banner.getText().contains("Reconnecting"));
    assertThat(banner.getAttribute("role")).isEqualTo("alert");
    assertThat(page.findElement(By.id("conn")).getAttribute("data-state")).isEqualTo("down");

    JarProcess second = startApp(dir, port, List.of());
    extra.add(second);
    second.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    waitFor(page, d -> !banner.isDisplayed() && "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    // Handlers are registered again on the new socket: a new tunnel still shows up live.
    String id = create(restartApi, null, "after-restart");
    waitFor(page, d -> status(row(d, id)).equals("running"));
  }

  // ---------------------------------------------------------------- helpers

  private JarProcess startApp(Path dir, int port, List<String> args) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("porthole.yaml"), String.join("\n", "app_server:", "  port: " + port,
        "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    List<String> all = new ArrayList<>(List.of("app-server", "--conf", "porthole.yaml"));
    all.addAll(args);
    return JarProcess.start(dir, List.of(), Map.of(), all.toArray(String[]::new));
  }

  private WebDriver open(String base) throws Exception {
    browser = Chromium.start(1280, 900);
    WebDriver page = browser.driver();
    page.get(base + "/");
    assertThat(page.getCurrentUrl()).isEqualTo(base + "/ui/");
    waitFor(page, d -> "live".equals(d.findElement(By.id("conn")).getAttribute("data-state")));
    waitFor(page, d -> "true".equals(d.findElement(By.id("tunnel-table")).getAttribute("data-loaded")));
    return page;
  }

  private static void waitFor(WebDriver page, java.util.function.Function<WebDriver, Boolean> condition) {
    new WebDriverWait(page, Timeouts.scaled(WAIT)).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
        .until(condition::apply);
  }

  private static WebElement row(WebDriver page, String id) {
    By by = By.cssSelector("#tunnel-rows tr[data-id='" + id + "']");
    new WebDriverWait(page, Timeouts.scaled(WAIT)).until(ExpectedConditions.presenceOfElementLocated(by));
    return page.findElement(by);
  }

  private static String status(WebElement row) {
    return row.findElement(By.cssSelector("td.col-status .status")).getText();
  }

  private String create(String base, String token, String subdomain) throws Exception {
    HttpResponse<String> r = call(base, token, "POST", "/api/v1/tunnels", new JsonObject().put("type", "http")
        .put("host", "127.0.0.1").put("port", local.actualPort()).put("subdomain", subdomain).put("pool_size", 1)
        .encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return new JsonObject(r.body()).getString("id");
  }

  private String apiStatus(String base, String token, String id) {
    try {
      return new JsonObject(call(base, token, "GET", "/api/v1/tunnels/" + id, null).body()).getString("status");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private HttpResponse<String> call(String base, String token, String method, String path, String json)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(45));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A GET through the relay's public edge to the tunnel of {@code subdomain}; its status. */
  private int through(String subdomain, String uri) throws Exception {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET)
        .setServer(SocketAddress.inetSocketAddress(edgePort, "127.0.0.1")).setHost(subdomain + ".localhost")
        .setPort(edgePort).setURI(uri).setTimeout(20_000);
    return client.request(o).compose(req -> req.send().compose(resp -> resp.body().map(b -> resp.statusCode())))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
