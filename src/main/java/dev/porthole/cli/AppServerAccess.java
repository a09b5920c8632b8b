package dev.porthole.cli;

import dev.porthole.logging.Redactor;
import picocli.CommandLine.Option;

/**
 * How a client command reaches a running app-server: {@code --api} and {@code --token} (else
 * {@code PORTR_APP_SERVER_TOKEN}). A picocli mixin of {@code connect} and {@code replay}.
 */
public final class AppServerAccess {
  @Option(names = "--api", paramLabel = "URL", defaultValue = "http://127.0.0.1:7778",
      description = "the app-server (default http://127.0.0.1:7778)")
  String api;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "the API token or a JWT (also " + AppServerCommand.TOKEN_ENV + "); `connect` needs the access "
          + "scope, `replay` tunnels:write")
  String token;

  /** The app-server's base URL, without a trailing slash. */
  String api() {
    return api.endsWith("/") ? api.substring(0, api.length() - 1) : api;
  }

  /** The credential to send (empty for none), registered with the log redactor. */
  String credential() {
    String credential = token != null ? token.strip()
        : System.getenv().getOrDefault(AppServerCommand.TOKEN_ENV, "").strip();
    Redactor.register(credential);
    return credential;
  }
}
