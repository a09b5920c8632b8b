package dev.porthole.cli;

import dev.porthole.config.AuthConfig;
import dev.porthole.config.ConfigException;
import dev.porthole.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Mint a JWT for the app-server API from auth.jwt.secret (HS256) and print it.")
public final class TokenCommand implements Callable<Integer> {
  private static final Pattern TTL = Pattern.compile("^(\\d+)([smhd])$");

  @Option(names = "--scope", required = true, paramLabel = "SCOPE",
      description = "tunnels:read, tunnels:write, access or metrics; repeat for several")
  List<String> scopes;

  @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "1h",
      description = "lifetime: a number with s, m, h or d (default 1h)")
  String ttl;

  @Option(names = "--subject", paramLabel = "NAME", defaultValue = "porthole-token",
      description = "the token's sub claim, to tell tokens apart in your notes (default porthole-token)")
  String subject;

  @Mixin
  SettingsFile conf = new SettingsFile();

  @Override
  public Integer call() throws Exception {
    Set<String> wanted = new LinkedHashSet<>();
    for (String s : scopes) {
      for (String part : s.split("[,\\s]+")) {
        if (!part.isEmpty()) {
          if (!AuthConfig.SCOPES.contains(part)) {
            System.err.println("porthole: unknown scope \"" + part + "\" (use " + String.join(", ", AuthConfig.SCOPES) + ")");
            return 2;
          }
          wanted.add(part);
        }
      }
    }
    Duration lifetime = parseTtl(ttl);
    if (lifetime == null) {
      System.err.println("porthole: --ttl must be a number followed by s, m, h or d (like 30m or 1h), got \"" + ttl + "\"");
      return 2;
    }
    Vertx vertx = Vertx.vertx();
    try {
      AuthConfig auth;
      try {
        auth = AuthConfig.from(Service.await(ConfigLoader.load(vertx, conf.path, System.getenv(), new JsonObject()),
            30, "reading the configuration"));
      } catch (ConfigException e) {
        System.err.println("porthole: " + e.getMessage());
        return 2;
      }
      if (!auth.canMint()) {
        System.err.println("porthole: cannot mint tokens: " + (auth.jwtEnabled()
            ? "auth.jwt uses " + auth.jwtAlgorithm() + " with a public key only; tokens come from whoever holds its private key"
            : "auth.jwt is not configured (set auth.jwt.algorithm: HS256 and auth.jwt.secret)"));
        return 2;
      }
      JWTAuth jwt = JWTAuth.create(vertx, new JWTAuthOptions()
          .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(auth.jwtKey())));
      JWTOptions options = new JWTOptions().setExpiresInSeconds((int) Math.min(Integer.MAX_VALUE, lifetime.toSeconds()))
          .setSubject(subject).setIssuer("porthole");
      if (!auth.audience().isEmpty()) {
        options.setAudience(List.of(auth.audience()));
      }
      System.out.println(jwt.generateToken(new JsonObject().put("scope", String.join(" ", wanted)), options));
      return 0;
    } finally {
      vertx.close();
    }
  }

  static Duration parseTtl(String s) {
    Matcher m = TTL.matcher(s.strip());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    if (n <= 0 || n > 3650L * 86400) {
      return null;
    }
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
