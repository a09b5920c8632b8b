package dev.porthole.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.Version;
import dev.porthole.testsupport.TestRelay;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay's admin API against portr-protocol §2.1/§2.2, row by row, exact statuses and bodies. */
class AdminApiIT {
  @TempDir
  static Path dir;
  static TestRelay relay;

  @BeforeAll
  static void start() throws Exception {
    relay = TestRelay.start(dir);
  }

  @AfterAll
  static void stop() throws Exception {
    relay.close();
  }

  private static HttpResponse<String> post(String body) throws Exception {
    return relay.postConnection("application/json", body);
  }

  private static String body(String type, String secret, Object subdomain) {
    return new JsonObject().put("connection_type", type).put("secret_key", secret).put("subdomain", subdomain).encode();
  }

  private static void assertJson(HttpResponse<String> r, int status, String json) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.body()).isEqualTo(json);
  }

  @Test
  @DisplayName("200 {connection_id} for http and tcp, with and without the trailing slash")
  void created() throws Exception {
    HttpResponse<String> r = post(body("http", TestRelay.SECRET, "created"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(r.body()).fieldNames()).containsExactly("connection_id");
    assertThat(new JsonObject(r.body()).getString("connection_id")).matches("[0-9A-HJKMNP-TV-Z]{26}");
    HttpResponse<String> noSlash = relay.http().send(HttpRequest.newBuilder(URI.create(relay.adminUrl() + "/api/v1/connections"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body("tcp", TestRelay.SECRET, null)))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(noSlash.statusCode()).isEqualTo(200);
  }

  @Test
  @DisplayName("400 {\"error\":\"Invalid input\"} for malformed JSON, a non-JSON content type, wrong types")
  void invalidInput() throws Exception {
    String invalid = "{\"error\":\"Invalid input\"}";
    assertJson(post("{not json"), 400, invalid);
    assertJson(post("[]"), 400, invalid);
    assertJson(relay.postConnection("text/plain", body("http", TestRelay.SECRET, "plain")), 400, invalid);
    assertJson(relay.postConnection(null, body("http", TestRelay.SECRET, "none")), 400, invalid);
    assertJson(post("{\"connection_type\":\"http\",\"secret_key\":\"" + TestRelay.SECRET + "\",\"subdomain\":5}"), 400, invalid);
  }

  @Test
  @DisplayName("400 messages: secret required, connection type, subdomain required, invalid subdomain")
  void validation() throws Exception {
    assertJson(post(body("http", "  ", "x")), 400, "{\"message\":\"Secret key is required\"}");
    assertJson(post("{\"connection_type\":\"http\",\"subdomain\":\"x\"}"), 400, "{\"message\":\"Secret key is required\"}");
    assertJson(post(body("udp", TestRelay.SECRET, "x")), 400,
        "{\"message\":\"Connection type must be either 'http' or 'tcp'\"}");
    assertJson(post(body("HTTP", TestRelay.SECRET, "x")), 400,
        "{\"message\":\"Connection type must be either 'http' or 'tcp'\"}");
    for (String blank : new String[] {null, "", "   "}) {
      assertJson(post(body("http", TestRelay.SECRET, blank)), 400,
          "{\"message\":\"Subdomain is required for HTTP connections\"}");
    }
    for (String bad : new String[] {"a_b", "-ab", "a.b", "x".repeat(64)}) {
      assertJson(post(body("http", TestRelay.SECRET, bad)), 400, "{\"message\":\"Invalid subdomain\"}");
    }
  }

  @Test
  @DisplayName("401 Invalid secret key; 409 reserved_subdomain; 409 subdomain_in_use, case- and space-insensitive")
  void authAndClaims() throws Exception {
    assertJson(post(body("http", "not-a-known-secret-key", "x")), 401, "{\"message\":\"Invalid secret key\"}");
    assertJson(post(body("tcp", "not-a-known-secret-key", null)), 401, "{\"message\":\"Invalid secret key\"}");
    assertJson(post(body("http", TestRelay.SECRET, "vip")), 409,
        "{\"code\":\"reserved_subdomain\",\"message\":\"This is a reserved subdomain\"}");
    assertThat(post(body("http", TestRelay.OTHER_SECRET, "vip")).statusCode()).isEqualTo(200);
    assertThat(post(body("http", TestRelay.SECRET, " Taken ")).statusCode()).isEqualTo(200);
    assertJson(post(body("http", TestRelay.SECRET, "taken")), 409,
        "{\"code\":\"subdomain_in_use\",\"message\":\"Subdomain already in use\"}");
    assertJson(post(body("http", TestRelay.OTHER_SECRET, "TAKEN")), 409,
        "{\"code\":\"subdomain_in_use\",\"message\":\"Subdomain already in use\"}");
  }

  @Test
  @DisplayName("GET /api/v1/version answers porthole's version (>= 1.0.0, so Portr clients pool)")
  void version() throws Exception {
    HttpResponse<String> r = relay.http().send(HttpRequest.newBuilder(URI.create(relay.adminUrl() + "/api/v1/version")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertJson(r, 200, "{\"version\":\"" + Version.get() + "\"}");
    assertThat(Version.get()).matches("[1-9][0-9]*\\.[0-9]+\\.[0-9]+");
  }

  @Test
  @DisplayName("oversized, unknown and wrong-method requests get JSON errors and the relay keeps serving")
  void badRequests() throws Exception {
    HttpResponse<String> big = post("{\"secret_key\":\"" + "x".repeat(70_000) + "\"}");
    assertJson(big, 413, "{\"message\":\"request body too large\"}");
    HttpResponse<String> unknown = relay.http().send(HttpRequest.newBuilder(URI.create(relay.adminUrl() + "/nope")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertJson(unknown, 404, "{\"message\":\"Cannot GET /nope\"}");
    HttpResponse<String> get = relay.http().send(HttpRequest.newBuilder(URI.create(relay.adminUrl() + "/api/v1/connections/")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertJson(get, 405, "{\"message\":\"method must be one of: POST\"}");
    assertThat(get.headers().firstValue("Allow")).hasValue("POST");
    assertThat(post(body("http", TestRelay.SECRET, "still-serving")).statusCode()).isEqualTo(200);
  }

  @Test
  @DisplayName("a reserved connection never activated expires and frees its subdomain")
  void reservationsExpire(@TempDir Path other) throws Exception {
    try (TestRelay quick = TestRelay.start(other, r -> r.put("reserved_connection_ttl_seconds", 1))) {
      String body = body("http", TestRelay.SECRET, "expiring");
      assertThat(quick.postConnection("application/json", body).statusCode()).isEqualTo(200);
      assertThat(quick.postConnection("application/json", body).statusCode()).isEqualTo(409);
      Timeouts.pollUntil(Duration.ofSeconds(10), "the reservation to expire", () -> {
        try {
          return quick.postConnection("application/json", body).statusCode() == 200;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }
  }
}
