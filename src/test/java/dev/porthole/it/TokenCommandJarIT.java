package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `porthole token` from the shaded jar, as a process: minting HS256 JWTs and refusing what it cannot mint. */
class TokenCommandJarIT {
  private static final Duration EXIT = Duration.ofSeconds(60);
  private static final String SECRET = "jar-it-secret-that-is-longer-than-32-bytes-xyz";
  private static final String JWT_SHAPE = "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$";

  private static Path hs256Settings(Path dir) throws Exception {
    return write(dir, "s.yaml", """
        auth:
          jwt:
            algorithm: HS256
            secret: "%s"
            audience: porthole-api
        """.formatted(SECRET));
  }

  private static Path write(Path dir, String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text, StandardCharsets.UTF_8);
    return file;
  }

  /** Runs {@code porthole args…} to its end; returns the exit code and the (merged) output. */
  private record Run(int exit, List<String> lines, String output) {
  }

  private static Run run(Path dir, String... args) throws Exception {
    try (JarProcess p = JarProcess.start(dir, args)) {
      int exit = p.waitFor(EXIT);
      return new Run(exit, List.copyOf(p.lines()), p.output());
    }
  }

  @Test
  @DisplayName("HS256: `token --scope tunnels:read --scope tunnels:write --ttl 2h` prints one JWT with scope, exp, aud, iss; never the secret")
  void mintsVerifiableToken(@TempDir Path dir) throws Exception {
    hs256Settings(dir);
    Run r = run(dir, "token", "--scope", "tunnels:read", "--scope", "tunnels:write", "--ttl", "2h", "--conf", "s.yaml");
    long now = Instant.now().getEpochSecond();

    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.lines()).as(r.output()).hasSize(1);
    String token = r.lines().get(0).strip();
    assertThat(token).matches(JWT_SHAPE);
    assertThat(r.output()).doesNotContain(SECRET);

    Vertx vertx = Vertx.vertx();
    try {
      JWTAuth verifier = JWTAuth.create(vertx, new JWTAuthOptions()
          .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET))
          .setJWTOptions(new JWTOptions().setAudience(List.of("porthole-api"))));
      User user = verifier.authenticate(new TokenCredentials(token)).await(30, TimeUnit.SECONDS);
      assertThat(user).isNotNull();
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }

    JsonObject header = decode(token, 0);
    JsonObject claims = decode(token, 1);
    assertThat(header.getString("alg")).isEqualTo("HS256");
    assertThat(claims.getString("scope")).isEqualTo("tunnels:read tunnels:write");
    assertThat(claims.getLong("exp")).isBetween(now + 7200 - 60, now + 7200 + 60);
    Object aud = claims.getValue("aud");
    assertThat(aud instanceof JsonArray arr ? arr.getList() : List.of(aud)).containsExactly("porthole-api");
    assertThat(claims.getString("iss")).isEqualTo("porthole");
  }

  @Test
  @DisplayName("`token --scope nope` → exit 2 with a line naming the unknown scope")
  void unknownScope(@TempDir Path dir) throws Exception {
    hs256Settings(dir);
    Run r = run(dir, "token", "--scope", "nope", "--conf", "s.yaml");

    assertThat(r.exit()).as(r.output()).isEqualTo(2);
    assertThat(r.lines()).as(r.output()).anyMatch(l -> l.contains("unknown scope") && l.contains("\"nope\""));
    assertThat(r.output()).doesNotContain(SECRET);
  }

  @Test
  @DisplayName("`token --ttl 5x` → exit 2 with a line about --ttl")
  void badTtl(@TempDir Path dir) throws Exception {
    hs256Settings(dir);
    Run r = run(dir, "token", "--scope", "tunnels:read", "--ttl", "5x", "--conf", "s.yaml");

    assertThat(r.exit()).as(r.output()).isEqualTo(2);
    assertThat(r.output()).contains("--ttl").contains("5x");
  }

  @Test
  @DisplayName("no auth.jwt configured → exit 2, \"auth.jwt is not configured\"")
  void jwtNotConfigured(@TempDir Path dir) throws Exception {
    write(dir, "s.yaml", "app_server:\n  port: 7778\n");
    Run r = run(dir, "token", "--scope", "tunnels:read", "--conf", "s.yaml");

    assertThat(r.exit()).as(r.output()).isEqualTo(2);
    assertThat(r.output()).contains("auth.jwt is not configured");
  }

  @Test
  @DisplayName("RS256 with only a public key (PEM file) → exit 2, \"public key only\"")
  void publicKeyOnly(@TempDir Path dir) throws Exception {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    byte[] der = gen.generateKeyPair().getPublic().getEncoded();
    Path pem = write(dir, "jwt.pub.pem", "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END PUBLIC KEY-----\n");
    write(dir, "s.yaml", """
        auth:
          jwt:
            algorithm: RS256
            public_key: "%s"
        """.formatted(pem.toAbsolutePath()));
    Run r = run(dir, "token", "--scope", "tunnels:read", "--conf", "s.yaml");

    assertThat(r.exit()).as(r.output()).isEqualTo(2);
    assertThat(r.output()).contains("public key only");
  }

  @Test
  @DisplayName("an HS256 secret shorter than 32 bytes → exit 2, one line naming auth.jwt.secret, never the secret")
  void shortSecret(@TempDir Path dir) throws Exception {
    String shortSecret = "too-short-secret-x7q";
    write(dir, "s.yaml", """
        auth:
          jwt:
            algorithm: HS256
            secret: "%s"
        """.formatted(shortSecret));
    Run r = run(dir, "token", "--scope", "tunnels:read", "--conf", "s.yaml");

    assertThat(r.exit()).as(r.output()).isEqualTo(2);
    assertThat(r.lines()).as(r.output())
        .contains("porthole: auth.jwt.secret: HS256 needs a secret of at least 32 bytes");
    assertThat(r.output()).doesNotContain(shortSecret);
  }

  private static JsonObject decode(String token, int part) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[part]), StandardCharsets.UTF_8));
  }
}
