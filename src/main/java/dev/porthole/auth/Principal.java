package dev.porthole.auth;

import dev.porthole.config.AuthConfig;
import java.util.Set;

/**
 * Who passed the guard and what they may do: the static token (or no credential required) holds
 * every scope; a JWT holds the scopes of its {@code scope} claim.
 */
public record Principal(Kind kind, Set<String> scopes) {
  public enum Kind { ANYONE, STATIC_TOKEN, JWT }

  static final Principal ANYONE = new Principal(Kind.ANYONE, Set.copyOf(AuthConfig.SCOPES));
  static final Principal STATIC_TOKEN = new Principal(Kind.STATIC_TOKEN, Set.copyOf(AuthConfig.SCOPES));

  public Principal {
    scopes = Set.copyOf(scopes);
  }

  public boolean has(String scope) {
    return scopes.contains(scope);
  }
}
