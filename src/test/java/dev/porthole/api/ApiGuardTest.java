package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.Addresses;
import dev.porthole.config.AuthConfig;
import dev.porthole.config.ConfigDefaults;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ApiGuard} through the real {@link HttpVerticle}, in front of stub consumers on the bus:
 * the static token, JWT scopes and rules, the Host (DNS-rebinding) guard and the Origin/CORS guard.
 */
@ExtendWith(VertxExtension.class)
class ApiGuardTest {
  private static final Duration WAIT = Timeouts.scaled(Duration.ofSeconds(10));
  private static final String JSON = "application/json";
  private static final String SECRET = "a-test-secret-of-more-than-32-bytes-0123456789";
  private static final String OTHER_SECRET = "another-secret-of-more-than-32-bytes-9876543210";
  private static final String READ = "tunnels:read";
  private static final String WRITE = "tunnels:write";
  private static final String ACCESS = "access";
  private static final String TUNNEL_BODY = "{\"name\":\"api\",\"port\":3000}";

  private Vertx vertx;
  private HttpClient client;
  private int port;

  record Resp(int status, MultiMap headers, String body) {
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    JsonObject tunnel = new JsonObject().put("id", "x").put("name", "api").put("state", "running");
    replies(Addresses.TUNNELS_LIST, new JsonObject().put("tunnels", new JsonArray()));
    replies(Addresses.TUNNELS_GET, tunnel);
    replies(Addresses.TUNNELS_START, tunnel);
    replies(Addresses.TUNNELS_STOP, tunnel);
    replies(Addresses.EVENTS_LIST, new JsonObject().put("events", new JsonArray()));
  }

  @AfterEach
  void tearDown() throws Exception {
    // The VertxExtension closes the Vertx instance (and with it the verticle).
    client.close().await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ---------------------------------------------------------------- helpers

  private void replies(String address, JsonObject body) {
    vertx.eventBus().<JsonObject>consumer(address, msg -> msg.reply(body)).completion().await();
  }

  /** The default settings tree, changed by {@code edit}. */
  private static JsonObject settings(Consumer<JsonObject> edit) {
    JsonObject tree = ConfigDefaults.tree();
    edit.accept(tree);
    return tree;
  }

  private static JsonObject hs256Settings(String audience) {
    return settings(t -> t.getJsonObject("auth").put("jwt", new JsonObject().put("algorithm", "HS256")
        .put("secret", SECRET).put("public_key", "").put("audience", audience)));
  }

  private void start(String host, String token, JsonObject settings) throws Exception {
    HttpVerticle verticle = new HttpVerticle();
    JsonObject config = new JsonObject().put("host", host).put("port", 0).put("token", token)
        .put("relay", "configured").put("settings", settings);
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config))
        .await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    port = verticle.actualPort();
    assertThat(port).isPositive();
  }

  private void start(String token, JsonObject settings) throws Exception {
    start("127.0.0.1", token, settings);
  }

  private Resp call(HttpMethod method, String uri, Map<String, String> headers, Buffer body) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(uri);
    headers.forEach(options::putHeader);
    // body() nested inside send()'s callback: chained one level out, it can run a tick late, after a
    // response that arrived in one read has already ended, and then never completes (seen here).
    Future<Resp> f = client.request(options)
        .compose(req -> (body == null ? req.send() : req.send(body))
            .compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(), resp.headers(), b.toString()))));
    return f.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private Resp call(HttpMethod method, String uri, Map<String, String> headers) throws Exception {
    return call(method, uri, headers, null);
  }

  private Resp get(String uri, String bearer) throws Exception {
    return call(HttpMethod.GET, uri, auth(bearer));
  }

  private Resp post(String uri, String bearer) throws Exception {
    Map<String, String> h = new LinkedHashMap<>(auth(bearer));
    h.put("Content-Type", JSON);
    return call(HttpMethod.POST, uri, h, Buffer.buffer(TUNNEL_BODY));
  }

  private Resp delete(String uri, String bearer) throws Exception {
    return call(HttpMethod.DELETE, uri, auth(bearer));
  }

  /** An Authorization header with {@code "Bearer " + credential}, or none for null. */
  private static Map<String, String> auth(String credential) {
    return credential == null ? Map.of() : Map.of("Authorization", "Bearer " + credential);
  }

  private static Map<String, String> headers(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static void assertStatus(Resp r, int status) {
    assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
  }

  private static void assertMessage(Resp r, int status, String message) {
    assertStatus(r, status);
    assertThat(r.headers().get("Content-Type")).isEqualTo(JSON);
    assertThat(r.body()).isEqualTo(new JsonObject().put("message", message).encode());
  }

  private JWTAuth hs256(String secret) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
  }

  /** An HS256 token signed with {@link #SECRET}, valid for 5 minutes; {@code scope} null for none. */
  private String jwt(Object scope) {
    return hs256(SECRET).generateToken(claims(scope), new JWTOptions().setExpiresInSeconds(300));
  }

  private String jwtWithAudience(Object scope, String audience) {
    return hs256(SECRET).generateToken(claims(scope),
        new JWTOptions().setExpiresInSeconds(300).setAudience(List.of(audience)));
  }

  private static JsonObject claims(Object scope) {
    JsonObject claims = new JsonObject();
    if (scope != null) {
      claims.put("scope", scope);
    }
    return claims;
  }

  private static KeyPair rsaKeyPair() throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    return gen.generateKeyPair();
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private String rs256Token(KeyPair keys, Object scope) {
    JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions()
        .setAlgorithm("RS256").setBuffer(pem("PRIVATE KEY", keys.getPrivate().getEncoded()))));
    return signer.generateToken(claims(scope), new JWTOptions().setAlgorithm("RS256").setExpiresInSeconds(300));
  }

  private static JsonObject rs256Settings(KeyPair keys) {
    return settings(t -> t.getJsonObject("auth").put("jwt", new JsonObject().put("algorithm", "RS256")
        .put("secret", "").put("public_key", pem("PUBLIC KEY", keys.getPublic().getEncoded())).put("audience", "")));
  }

  // ---------------------------------------------------------------- static token

  @Test
  @DisplayName("static token: exactly \"Bearer <token>\" passes every route (list, create, stop)")
  void staticTokenPassesEveryRoute() throws Exception {
    start("secret", ConfigDefaults.tree());

    assertStatus(get("/api/v1/tunnels", "secret"), 200);
    assertStatus(post("/api/v1/tunnels", "secret"), 201);
    assertStatus(delete("/api/v1/tunnels/x", "secret"), 200);
    assertStatus(get("/api/v1/events", "secret"), 200);
    assertStatus(get("/api/v1/health", "secret"), 200);
  }

  @Test
  @DisplayName("static token: anything other than exactly \"Bearer <token>\" → 401 {\"message\":\"unauthorized\"}")
  void staticTokenAnythingElseIsUnauthorized() throws Exception {
    start("secret", ConfigDefaults.tree());

    assertMessage(call(HttpMethod.GET, "/api/v1/tunnels", Map.of()), 401, "unauthorized");
    for (String header : List.of("Bearer secre", "Bearer secretx", "bearer secret", "secret", "Bearer  secret",
        "Basic c2VjcmV0", "Bearer SECRET", "Bearer")) {
      assertMessage(call(HttpMethod.GET, "/api/v1/tunnels", Map.of("Authorization", header)), 401, "unauthorized");
    }
    assertMessage(post("/api/v1/tunnels", "wrong"), 401, "unauthorized");
    assertMessage(delete("/api/v1/tunnels/x", "wrong"), 401, "unauthorized");
  }

  // ---------------------------------------------------------------- JWT scopes

  @Test
  @DisplayName("JWT scope tunnels:read: GET /api/v1/tunnels and GET /api/v1/events → 200")
  void readScopeAllowsReads() throws Exception {
    start("", hs256Settings(""));
    String token = jwt(READ);

    assertStatus(get("/api/v1/tunnels", token), 200);
    assertStatus(get("/api/v1/events", token), 200);
    assertStatus(get("/api/v1/tunnels/x", token), 200);
  }

  @Test
  @DisplayName("JWT scope tunnels:read: POST /api/v1/tunnels and DELETE /api/v1/tunnels/x → 403 {\"message\":\"forbidden\"}")
  void readScopeForbidsWrites() throws Exception {
    start("", hs256Settings(""));
    String token = jwt(READ);

    assertMessage(post("/api/v1/tunnels", token), 403, "forbidden");
    assertMessage(delete("/api/v1/tunnels/x", token), 403, "forbidden");
  }

  @Test
  @DisplayName("JWT scope tunnels:write: POST /api/v1/tunnels → 201 and DELETE /api/v1/tunnels/x → 200")
  void writeScopeAllowsWrites() throws Exception {
    start("", hs256Settings(""));
    String token = jwt(WRITE);

    assertStatus(post("/api/v1/tunnels", token), 201);
    assertStatus(delete("/api/v1/tunnels/x", token), 200);
  }

  @Test
  @DisplayName("JWT scope tunnels:write: GET /api/v1/tunnels → 403 {\"message\":\"forbidden\"}")
  void writeScopeForbidsReads() throws Exception {
    start("", hs256Settings(""));

    assertMessage(get("/api/v1/tunnels", jwt(WRITE)), 403, "forbidden");
  }

  @Test
  @DisplayName("JWT scope claim as a JSON array of strings works like the space-separated string")
  void scopeAsArray() throws Exception {
    start("", hs256Settings(""));

    assertStatus(get("/api/v1/tunnels", jwt(new JsonArray().add(READ))), 200);
    assertMessage(post("/api/v1/tunnels", jwt(new JsonArray().add(READ))), 403, "forbidden");
    String both = jwt(new JsonArray().add(READ).add(WRITE));
    assertStatus(get("/api/v1/tunnels", both), 200);
    assertStatus(post("/api/v1/tunnels", both), 201);
  }

  @Test
  @DisplayName("JWT with \"tunnels:read tunnels:write\" (space-separated) can read and write")
  void bothScopesSpaceSeparated() throws Exception {
    start("", hs256Settings(""));
    String token = jwt(READ + " " + WRITE);

    assertStatus(get("/api/v1/tunnels", token), 200);
    assertStatus(get("/api/v1/events", token), 200);
    assertStatus(post("/api/v1/tunnels", token), 201);
    assertStatus(delete("/api/v1/tunnels/x", token), 200);
  }

  @Test
  @DisplayName("GET /api/v1/health needs a valid credential (401 without) but no scope (200)")
  void healthNeedsCredentialButNoScope() throws Exception {
    start("", hs256Settings(""));

    assertMessage(get("/api/v1/health", null), 401, "unauthorized");
    assertStatus(get("/api/v1/health", jwt(ACCESS)), 200);
    assertStatus(get("/api/v1/health", jwt(null)), 200);
  }

  @Test
  @DisplayName("an unknown path with a valid JWT → 404 JSON from the router (401 without a credential)")
  void unknownPathWithValidToken() throws Exception {
    start("", hs256Settings(""));

    assertMessage(get("/api/v1/nope", jwt(READ)), 404, "Cannot GET /api/v1/nope");
    assertMessage(get("/api/v1/nope", null), 401, "unauthorized");
  }

  @Test
  @DisplayName("/p/… and /ws/… need scope access: 403 without it; with it the guard passes (router 404: no such route yet)")
  void accessPathsNeedAccessScope() throws Exception {
    start("", hs256Settings(""));
    String noAccess = jwt(READ + " " + WRITE);
    String access = jwt(ACCESS);

    assertMessage(get("/p/x", noAccess), 403, "forbidden");
    assertMessage(get("/ws/port-forward/x", noAccess), 403, "forbidden");
    assertThat(get("/p/x", access).status()).as("/p/{id} redirects to /p/{id}/ once the guard lets it pass").isEqualTo(308);
    assertMessage(get("/ws/port-forward/x", access), 404, "Cannot GET /ws/port-forward/x");
  }

  @Test
  @DisplayName("GET /metrics needs scope metrics: 401 without a credential, 403 with tunnels:read, access; with it "
      + "(or the static token) the guard passes (404 here: this Vert.x has no metrics)")
  void metricsNeedsMetricsScope() throws Exception {
    start("static-token", hs256Settings(""));

    assertMessage(get("/metrics", null), 401, "unauthorized");
    assertMessage(get("/metrics", jwt(READ + " " + WRITE + " " + ACCESS)), 403, "forbidden");
    assertMessage(get("/METRICS/", jwt(READ)), 403, "forbidden");
    assertMessage(get("/metrics", jwt(AuthConfig.METRICS)), 404, "metrics are off (metrics.enabled: false)");
    assertMessage(get("/metrics", "static-token"), 404, "metrics are off (metrics.enabled: false)");
    assertMessage(get("/api/v1/tunnels", jwt(AuthConfig.METRICS)), 403, "forbidden");
  }

  // ---------------------------------------------------------------- JWT rules

  @Test
  @DisplayName("a JWT without an exp claim → 401")
  void jwtWithoutExpiry() throws Exception {
    start("", hs256Settings(""));
    String token = hs256(SECRET).generateToken(claims(READ), new JWTOptions().setNoTimestamp(true));
    assertThat(decodePayload(token).containsKey("exp")).isFalse();

    assertMessage(get("/api/v1/tunnels", token), 401, "unauthorized");
  }

  @Test
  @DisplayName("an expired JWT → 401")
  void expiredJwt() throws Exception {
    start("", hs256Settings(""));
    long past = Instant.now().minusSeconds(3600).getEpochSecond();
    String token = hs256(SECRET).generateToken(claims(READ).put("exp", past).put("iat", past - 60),
        new JWTOptions().setNoTimestamp(true));
    assertThat(decodePayload(token).getLong("exp")).isEqualTo(past);

    assertMessage(get("/api/v1/tunnels", token), 401, "unauthorized");
  }

  @Test
  @DisplayName("a JWT signed with another secret → 401")
  void wrongSignature() throws Exception {
    start("", hs256Settings(""));
    String token = hs256(OTHER_SECRET).generateToken(claims(READ), new JWTOptions().setExpiresInSeconds(300));

    assertMessage(get("/api/v1/tunnels", token), 401, "unauthorized");
  }

  @Test
  @DisplayName("a Bearer value that is not a JWT (\"Bearer abc\") → 401")
  void garbageBearer() throws Exception {
    start("", hs256Settings(""));

    assertMessage(get("/api/v1/tunnels", "abc"), 401, "unauthorized");
    assertMessage(get("/api/v1/tunnels", "a.b.c"), 401, "unauthorized");
    assertMessage(call(HttpMethod.GET, "/api/v1/tunnels", Map.of("Authorization", "Bearer ")), 401, "unauthorized");
  }

  @Test
  @DisplayName("audience configured: a JWT whose aud is that audience passes")
  void audienceMatches() throws Exception {
    start("", hs256Settings("porthole-api"));

    assertStatus(get("/api/v1/tunnels", jwtWithAudience(READ, "porthole-api")), 200);
  }

  @Test
  @DisplayName("audience configured: a JWT with another aud → 401")
  void audienceOther() throws Exception {
    start("", hs256Settings("porthole-api"));

    assertMessage(get("/api/v1/tunnels", jwtWithAudience(READ, "someone-else")), 401, "unauthorized");
  }

  @Test
  @DisplayName("audience configured: a JWT without aud → 401")
  void audienceMissing() throws Exception {
    start("", hs256Settings("porthole-api"));

    assertMessage(get("/api/v1/tunnels", jwt(READ)), 401, "unauthorized");
  }

  @Test
  @DisplayName("static token and JWT configured together: both are accepted")
  void staticTokenAndJwtTogether() throws Exception {
    start("secret", hs256Settings(""));

    assertStatus(get("/api/v1/tunnels", "secret"), 200);
    assertStatus(post("/api/v1/tunnels", "secret"), 201);
    assertStatus(get("/api/v1/tunnels", jwt(READ)), 200);
    assertMessage(post("/api/v1/tunnels", jwt(READ)), 403, "forbidden");
    assertMessage(get("/api/v1/tunnels", "wrong"), 401, "unauthorized");
  }

  @Test
  @DisplayName("RS256 with a public key: a JWT signed by the matching private key passes")
  void rs256MatchingKey() throws Exception {
    KeyPair keys = rsaKeyPair();
    start("", rs256Settings(keys));

    assertStatus(get("/api/v1/tunnels", rs256Token(keys, READ)), 200);
  }

  @Test
  @DisplayName("RS256 with a public key: a JWT signed by another private key → 401")
  void rs256OtherKey() throws Exception {
    KeyPair keys = rsaKeyPair();
    start("", rs256Settings(keys));

    assertMessage(get("/api/v1/tunnels", rs256Token(rsaKeyPair(), READ)), 401, "unauthorized");
  }

  @Test
  @DisplayName("RS256 configured: an HS256 JWT whose secret is the public key PEM (algorithm confusion) → 401")
  void rs256RefusesHs256() throws Exception {
    KeyPair keys = rsaKeyPair();
    start("", rs256Settings(keys));
    String forged = hs256(pem("PUBLIC KEY", keys.getPublic().getEncoded()))
        .generateToken(claims(READ), new JWTOptions().setExpiresInSeconds(300));

    assertMessage(get("/api/v1/tunnels", forged), 401, "unauthorized");
  }

  // ---------------------------------------------------------------- Host guard

  @Test
  @DisplayName("Host guard (loopback bind): Host 127.0.0.1:<port>, localhost:<port>, [::1]:<port> → 200")
  void loopbackHostsAllowed() throws Exception {
    start("", ConfigDefaults.tree());

    for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "LOCALHOST:" + port)) {
      assertStatus(call(HttpMethod.GET, "/api/v1/health", Map.of("Host", host)), 200);
    }
  }

  @Test
  @DisplayName("Host guard (loopback bind): a foreign Host → 403 {\"message\":\"host not allowed\"}")
  void foreignHostRefused() throws Exception {
    start("", ConfigDefaults.tree());

    assertMessage(call(HttpMethod.GET, "/api/v1/health", Map.of("Host", "evil.example.com")), 403,
        "host not allowed");
    assertMessage(call(HttpMethod.GET, "/api/v1/health", Map.of("Host", "evil.example.com:" + port)), 403,
        "host not allowed");
  }

  @Test
  @DisplayName("Host guard: a name listed in http.allowed_hosts is allowed (with or without port)")
  void allowedHostListed() throws Exception {
    start("", settings(t -> t.getJsonObject("http").put("allowed_hosts", new JsonArray().add("tunnels.internal"))));

    assertStatus(call(HttpMethod.GET, "/api/v1/health", Map.of("Host", "tunnels.internal:" + port)), 200);
    assertStatus(call(HttpMethod.GET, "/api/v1/health", Map.of("Host", "tunnels.internal")), 200);
    assertMessage(call(HttpMethod.GET, "/api/v1/health", Map.of("Host", "evil.example.com")), 403,
        "host not allowed");
  }

  @Test
  @DisplayName("Host guard does not apply when bound to 0.0.0.0 (a token is required there)")
  void bindAllSkipsHostGuard() throws Exception {
    start("0.0.0.0", "secret", ConfigDefaults.tree());

    assertStatus(call(HttpMethod.GET, "/api/v1/health",
        headers("Host", "evil.example.com", "Authorization", "Bearer secret")), 200);
  }

  // ---------------------------------------------------------------- Origin guard

  @Test
  @DisplayName("Origin guard: a request without Origin → 200")
  void noOrigin() throws Exception {
    start("", ConfigDefaults.tree());

    Resp r = get("/api/v1/health", null);
    assertStatus(r, 200);
    assertThat(r.headers().get("Access-Control-Allow-Origin")).isNull();
  }

  @Test
  @DisplayName("Origin guard: a foreign Origin → 403 {\"message\":\"origin not allowed\"}")
  void foreignOrigin() throws Exception {
    start("", ConfigDefaults.tree());

    assertMessage(call(HttpMethod.GET, "/api/v1/health", Map.of("Origin", "http://evil.example.com")), 403,
        "origin not allowed");
  }

  @Test
  @DisplayName("Origin guard: Origin equal to http:// + Host (same origin) → 200, without CORS headers")
  void sameOrigin() throws Exception {
    start("", ConfigDefaults.tree());

    Resp r = call(HttpMethod.GET, "/api/v1/health",
        headers("Host", "localhost:" + port, "Origin", "http://localhost:" + port));
    assertStatus(r, 200);
    assertThat(r.headers().get("Access-Control-Allow-Origin")).isNull();
  }

  private static JsonObject corsSettings() {
    return settings(t -> t.getJsonObject("http").getJsonObject("cors")
        .put("allowed_origins", new JsonArray().add("http://localhost:5173")));
  }

  @Test
  @DisplayName("CORS: a listed origin → 200 with Access-Control-Allow-Origin: <origin> and Vary: Origin")
  void listedOrigin() throws Exception {
    start("", corsSettings());

    Resp r = call(HttpMethod.GET, "/api/v1/health", Map.of("Origin", "http://localhost:5173"));
    assertStatus(r, 200);
    assertThat(r.headers().get("Access-Control-Allow-Origin")).isEqualTo("http://localhost:5173");
    assertThat(r.headers().get("Vary")).isEqualTo("Origin");
  }

  @Test
  @DisplayName("CORS: a preflight from a listed origin → 204 with allowed methods and headers, even with a token configured")
  void preflightListedOrigin() throws Exception {
    start("secret", corsSettings());

    Resp r = call(HttpMethod.OPTIONS, "/api/v1/tunnels",
        headers("Origin", "http://localhost:5173", "Access-Control-Request-Method", "POST",
            "Access-Control-Request-Headers", "authorization, content-type"));
    assertStatus(r, 204);
    assertThat(r.headers().get("Access-Control-Allow-Origin")).isEqualTo("http://localhost:5173");
    assertThat(r.headers().get("Access-Control-Allow-Methods")).contains("POST");
    assertThat(r.headers().get("Access-Control-Allow-Headers")).contains("Authorization");
    // The actual request after the preflight still needs the credential.
    Map<String, String> h = headers("Origin", "http://localhost:5173", "Content-Type", JSON);
    assertMessage(call(HttpMethod.POST, "/api/v1/tunnels", h, Buffer.buffer(TUNNEL_BODY)), 401, "unauthorized");
    h.put("Authorization", "Bearer secret");
    assertStatus(call(HttpMethod.POST, "/api/v1/tunnels", h, Buffer.buffer(TUNNEL_BODY)), 201);
  }

  @Test
  @DisplayName("CORS: a preflight from an unlisted origin → 403 {\"message\":\"origin not allowed\"}")
  void preflightUnlistedOrigin() throws Exception {
    start("secret", corsSettings());

    assertMessage(call(HttpMethod.OPTIONS, "/api/v1/tunnels",
        headers("Origin", "http://evil.example.com", "Access-Control-Request-Method", "POST")), 403,
        "origin not allowed");
  }

  private static JsonObject decodePayload(String token) {
    String[] parts = token.split("\\.");
    return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1])));
  }
}
