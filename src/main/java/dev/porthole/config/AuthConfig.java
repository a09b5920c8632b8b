package dev.porthole.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Who may use the app-server API beyond the static token ({@code auth.jwt.*}), and which hosts and
 * browser origins may reach it ({@code http.*}). Secret values never appear in messages.
 *
 * @param jwtAlgorithm {@code HS256}, {@code RS256}, {@code ES256}, or empty for no JWTs
 * @param jwtKey the HS256 secret or the PEM public key text
 */
public record AuthConfig(String jwtAlgorithm, String jwtKey, String audience, List<String> allowedHosts,
    List<String> allowedOrigins) {

  public static final String READ = "tunnels:read";
  public static final String WRITE = "tunnels:write";
  public static final String ACCESS = "access";
  /** {@code GET /metrics}. */
  public static final String METRICS = "metrics";
  public static final List<String> SCOPES = List.of(READ, WRITE, ACCESS, METRICS);

  public AuthConfig {
    allowedHosts = List.copyOf(allowedHosts);
    allowedOrigins = List.copyOf(allowedOrigins);
  }

  public boolean jwtEnabled() {
    return !jwtAlgorithm.isEmpty();
  }

  public boolean canMint() {
    return jwtAlgorithm.equals("HS256");
  }

  /** Reads and checks the settings; a PEM file named by {@code public_key} is read here (blocking). */
  public static AuthConfig from(JsonObject root) {
    JsonObject jwt = root.getJsonObject("auth", new JsonObject()).getJsonObject("jwt", new JsonObject());
    Reader in = new Reader("auth.jwt", jwt);
    String algorithm = in.string("algorithm", true).strip().toUpperCase(Locale.ROOT);
    String secret = in.string("secret", true);
    String publicKey = in.string("public_key", true).strip();
    String audience = in.string("audience", true).strip();
    String key = "";
    switch (algorithm) {
      case "" -> {
      }
      case "HS256" -> {
        if (secret.getBytes(StandardCharsets.UTF_8).length < 32) {
          throw new ConfigException("auth.jwt.secret", "HS256 needs a secret of at least 32 bytes");
        }
        key = secret;
      }
      case "RS256", "ES256" -> {
        if (publicKey.isEmpty()) {
          throw new ConfigException("auth.jwt.public_key", algorithm + " needs a public key (PEM text or file)");
        }
        key = publicKey.startsWith("-----BEGIN") ? publicKey : readPem(publicKey);
      }
      default -> throw new ConfigException("auth.jwt.algorithm", "must be HS256, RS256 or ES256 (or empty), got \""
          + algorithm + "\"");
    }
    JsonObject http = root.getJsonObject("http", new JsonObject());
    List<String> hosts = strings("http.allowed_hosts", http.getValue("allowed_hosts"));
    List<String> origins = strings("http.cors.allowed_origins",
        http.getJsonObject("cors", new JsonObject()).getValue("allowed_origins"));
    return new AuthConfig(algorithm, key, audience, lower(hosts), lower(origins));
  }

  private static String readPem(String path) {
    try {
      String pem = Files.readString(Paths.expandHome(path), StandardCharsets.UTF_8);
      if (!pem.contains("-----BEGIN")) {
        throw new ConfigException("auth.jwt.public_key", "file " + path + " does not hold a PEM key");
      }
      return pem;
    } catch (IOException e) {
      throw new ConfigException("auth.jwt.public_key", "cannot read " + path + ": " + e.getMessage());
    }
  }

  private static List<String> strings(String key, Object value) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray arr)) {
      throw new ConfigException(key, "must be a list");
    }
    List<String> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof String s) || s.isBlank()) {
        throw new ConfigException(key, "must be a list of non-empty strings");
      }
      out.add(s.strip());
    }
    return out;
  }

  private static List<String> lower(List<String> in) {
    return in.stream().map(s -> s.toLowerCase(Locale.ROOT)).toList();
  }

  @Override
  public String toString() {
    return "AuthConfig[jwt=" + (jwtAlgorithm.isEmpty() ? "off" : jwtAlgorithm) + ", audience=" + audience
        + ", allowedHosts=" + allowedHosts + ", allowedOrigins=" + allowedOrigins + "]";
  }
}
