package dev.porthole.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.config.LimitsConfig;
import dev.porthole.testsupport.Fixtures;
import dev.porthole.testsupport.TestAppServer;
import dev.porthole.testsupport.TestRelay;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.max_tunnels} (docs/api.md#limits): live
 * tunnels per app-server, POST beyond it → 429 {@code {"message":"tunnel limit reached (N)"}} with
 * {@code Retry-After}. HTTP tunnels with {@code pool_size} 2 go through the asynchronous pool step
 * (a version probe and a reservation on the relay), where concurrent POSTs used to slip past the check.
 */
class TunnelLimitIT {
  static final int LIMIT = 2;
  static final int CONCURRENT = 8;

  @TempDir
  static Path dir;
  static TestRelay relay;
  static TestAppServer app;
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
    app = TestAppServer.start(relay, new LimitsConfig(LIMIT, 0));
  }

  @AfterAll
  static void stop() throws Exception {
    Fixtures.closeAll(app, relay);
  }

  @Test
  @DisplayName("max_tunnels 2: of 8 concurrent POSTs exactly 2 get 201, the others 429 with Retry-After and "
      + "the exact message; never more than 2 live tunnels; after a DELETE a new POST succeeds")
  void limitHoldsUnderConcurrentPosts() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < CONCURRENT; i++) {
      posts.add(post(new JsonObject().put("port", 3000 + i).put("subdomain", "limit-" + i).put("pool_size", 2)));
    }
    List<JsonObject> created = new ArrayList<>();
    int refused = 0;
    for (CompletableFuture<HttpResponse<String>> f : posts) {
      HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
      if (r.statusCode() == 201) {
        created.add(new JsonObject(r.body()));
        continue;
      }
      assertThat(r.statusCode()).as("status of a refused POST: %s", r.body()).isEqualTo(429);
      assertThat(r.body()).isEqualTo("{\"message\":\"tunnel limit reached (" + LIMIT + ")\"}");
      assertThat(r.headers().firstValue("Retry-After")).as("Retry-After").hasValueSatisfying(v ->
          assertThat(Integer.parseInt(v)).isPositive());
      refused++;
    }
    assertThat(created).as("tunnels created").hasSize(LIMIT);
    assertThat(refused).isEqualTo(CONCURRENT - LIMIT);
    assertThat(live()).as("live tunnels in the list").hasSize(LIMIT);

    HttpResponse<String> more = post(new JsonObject().put("port", 4000).put("subdomain", "limit-more"))
        .get(30, TimeUnit.SECONDS);
    assertThat(more.statusCode()).isEqualTo(429);

    String first = created.get(0).getString("id");
    assertThat(app.send("DELETE", "/api/v1/tunnels/" + first, null).statusCode()).isEqualTo(200);
    HttpResponse<String> again = post(new JsonObject().put("port", 4001).put("subdomain", "limit-again"))
        .get(30, TimeUnit.SECONDS);
    assertThat(again.statusCode()).as("POST after a DELETE: %s", again.body()).isEqualTo(201);
    assertThat(live()).hasSize(LIMIT);
  }

  @Test
  @DisplayName("stopped_tunnels_kept 2: after 4 tunnels stopped the list holds the 2 most recently stopped and the "
      + "live one; an evicted id answers 404 to GET and DELETE, like an unknown one")
  void stoppedHistoryIsBounded() throws Exception {
    try (ServerSocket local = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         TestAppServer bounded = TestAppServer.start(relay, new LimitsConfig(16, 2))) {
      String live = bounded.tcpTunnel(local.getLocalPort());
      List<String> stopped = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        String id = bounded.tcpTunnel(local.getLocalPort());
        assertThat(bounded.send("DELETE", "/api/v1/tunnels/" + id, null).statusCode()).isEqualTo(200);
        stopped.add(id);
      }
      JsonArray listed = new JsonObject(bounded.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels");
      List<String> ids = new ArrayList<>();
      listed.forEach(o -> ids.add(((JsonObject) o).getString("id")));
      assertThat(ids).containsExactlyInAnyOrder(live, stopped.get(2), stopped.get(3));
      for (String evicted : stopped.subList(0, 2)) {
        for (String method : List.of("GET", "DELETE")) {
          HttpResponse<String> r = bounded.send(method, "/api/v1/tunnels/" + evicted, null);
          assertThat(r.statusCode()).as(method + " of an evicted tunnel").isEqualTo(404);
          assertThat(r.body()).isEqualTo("{\"message\":\"tunnel not found\"}");
        }
      }
      assertThat(bounded.get(stopped.get(3)).getString("status")).isEqualTo("stopped");
      assertThat(bounded.get(live).getString("status")).isEqualTo("running");
    }
  }

  private static CompletableFuture<HttpResponse<String>> post(JsonObject body) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create(app.base() + "/api/v1/tunnels"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> live() throws Exception {
    JsonArray tunnels = new JsonObject(app.send("GET", "/api/v1/tunnels", null).body()).getJsonArray("tunnels");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < tunnels.size(); i++) {
      JsonObject t = tunnels.getJsonObject(i);
      if (!t.getString("status").equals("stopped")) {
        ids.add(t.getString("id"));
      }
    }
    return ids;
  }
}
