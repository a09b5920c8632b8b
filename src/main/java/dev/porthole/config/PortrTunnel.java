package dev.porthole.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One tunnel as Portr describes it (portr-protocol §1.3): a mutable bag of fields with Portr's
 * {@code SetDefaults} and {@code Validate}, shared by the config file and the app-server API.
 */
public final class PortrTunnel {
  public String name = "";
  public String subdomain = "";
  public int port;
  public String host = "";
  public String dir = "";
  public String type = "";
  public String responseFormat = "";
  public String responseTmpl = "";
  public String responseTmplFile = "";
  public int poolSize;
  public String hostHeader = "";
  public String basicAuth = "";

  public static final String INVALID_SUBDOMAIN = "invalid subdomain %s: use 1-63 lowercase letters, numbers, or internal hyphens";

  public boolean isHttpLike() {
    return type.equals("http") || type.equals("stub") || type.equals("static");
  }

  /** Portr's SetDefaults, in its order. */
  public void setDefaults() {
    if (type.isEmpty()) {
      type = "http";
    }
    if ((type.equals("http") || type.equals("static")) && subdomain.isEmpty()) {
      subdomain = Subdomains.generate();
    }
    if (isHttpLike()) {
      subdomain = Subdomains.normalize(subdomain);
    }
    if (host.isEmpty() && !type.equals("stub") && !type.equals("static")) {
      host = "localhost";
    }
    if (type.equals("stub") || type.equals("static")) {
      poolSize = 1;
    } else if (poolSize <= 0) {
      poolSize = 2;
    }
  }

  /** The basic-auth value as compared: outer whitespace trimmed; empty means none. */
  public String trimmedBasicAuth() {
    return basicAuth.strip();
  }

  /** Portr's Validate; returns the first problem's exact message, or null. */
  public String validate() {
    if (!hostHeader.isBlank() && !type.equals("http")) {
      return "host_header is only supported for http tunnels";
    }
    String auth = trimmedBasicAuth();
    if (!auth.isEmpty()) {
      if (type.equals("tcp")) {
        return "basic_auth is not supported for " + type + " tunnels";
      }
      int colon = auth.indexOf(':');
      if (colon < 0) {
        return "basic_auth must be in user:password format";
      }
      if (colon == 0) {
        return "basic_auth username cannot be empty";
      }
      if (colon == auth.length() - 1) {
        return "basic_auth password cannot be empty";
      }
    }
    if (type.equals("stub") && subdomain.isBlank()) {
      return "subdomain is required for stub tunnels";
    }
    if (isHttpLike() && !Subdomains.isValid(subdomain)) {
      return String.format(INVALID_SUBDOMAIN, GoQuote.q(subdomain));
    }
    if (type.equals("stub")) {
      if (responseFormat.isBlank()) {
        return "response_format is required for stub tunnels";
      }
      if (responseTmpl.isBlank()) {
        return "response_tmpl or response_tmpl_file is required for stub tunnels";
      }
    }
    if (type.equals("static")) {
      if (dir.isBlank()) {
        return "dir is required for static tunnels";
      }
      Path d = Path.of(dir);
      if (!Files.exists(d)) {
        return "failed to read dir " + GoQuote.q(dir) + ": stat " + dir + ": no such file or directory";
      }
      if (!Files.isDirectory(d)) {
        return "dir " + GoQuote.q(dir) + " is not a directory";
      }
    }
    return null;
  }

  /** YAML's type mapping: http, tcp, stub, static; any other string becomes http. */
  public static String yamlType(String raw) {
    String t = raw == null ? "" : raw;
    return switch (t) {
      case "http", "tcp", "stub", "static", "" -> t;
      default -> "http";
    };
  }

  public String displayName() {
    if (!name.isEmpty()) {
      return name;
    }
    if ((type.equals("stub") || type.equals("static")) && !subdomain.isEmpty()) {
      return subdomain;
    }
    return String.valueOf(port);
  }

}
