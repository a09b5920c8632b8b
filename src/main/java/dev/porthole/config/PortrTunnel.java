package dev.porthole.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

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

  /** Not in Portr, which reads any size: a stub template is read whole and kept in memory. */
  public static final int MAX_TEMPLATE_BYTES = 1 << 20;

  /** Portr's ValidateStubTemplateSource: exactly one of response_tmpl and response_tmpl_file; null when fine. */
  public String stubTemplateSourceProblem() {
    if (!type.equals("stub")) {
      return null;
    }
    boolean inline = !responseTmpl.isBlank();
    boolean file = !responseTmplFile.isBlank();
    if (inline && file) {
      return "only one of response_tmpl or response_tmpl_file can be provided for stub tunnels";
    }
    if (!inline && !file) {
      return "response_tmpl or response_tmpl_file is required for stub tunnels";
    }
    return null;
  }

  /** A stub whose template is still to be read from {@link #responseTmplFile}. */
  public boolean needsTemplateFile() {
    return type.equals("stub") && stubTemplateSourceProblem() == null && !responseTmplFile.isBlank();
  }

  /**
   * Portr's ResolveStubTemplate after the source check: reads {@link #responseTmplFile} (relative
   * to {@code baseDir}) into {@link #responseTmpl}, at most {@link #MAX_TEMPLATE_BYTES}. Blocking
   * file I/O: never on an event loop. Returns the problem's exact message, or null.
   */
  public String readTemplateFile(Path baseDir) {
    String shown = GoQuote.q(responseTmplFile);
    Path given = Path.of(responseTmplFile);
    // Go's filepath.Join(baseDir, rel) cleans the path; its error messages name the joined path.
    String goPath = given.isAbsolute() ? responseTmplFile
        : goClean(baseDir.toString().equals(".") ? responseTmplFile : baseDir + "/" + responseTmplFile);
    Path path = given.isAbsolute() ? given : baseDir.resolve(given);
    String fail = "failed to read response_tmpl_file " + shown + ": ";
    if (Files.isDirectory(path)) {
      return fail + "read " + goPath + ": is a directory";
    }
    if (Files.exists(path) && !Files.isRegularFile(path)) {
      return "response_tmpl_file " + shown + " is not a regular file"; // a FIFO or a device could block forever
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(path)) {
      bytes = in.readNBytes(MAX_TEMPLATE_BYTES + 1);
    } catch (NoSuchFileException e) {
      return fail + "open " + goPath + ": no such file or directory";
    } catch (AccessDeniedException e) {
      return fail + "open " + goPath + ": permission denied";
    } catch (FileSystemException e) {
      String reason = e.getReason() == null ? "input/output error" : e.getReason();
      return fail + "open " + goPath + ": " + reason.substring(0, 1).toLowerCase(Locale.ROOT) + reason.substring(1);
    } catch (IOException e) {
      return fail + "read " + goPath + ": " + e.getMessage();
    }
    if (bytes.length > MAX_TEMPLATE_BYTES) {
      return "response_tmpl_file " + shown + " is larger than " + MAX_TEMPLATE_BYTES + " bytes";
    }
    responseTmpl = new String(bytes, StandardCharsets.UTF_8);
    if (responseTmpl.isBlank()) {
      return "response_tmpl_file " + shown + " is empty";
    }
    return null;
  }

  /** Go's path/filepath.Clean for slash-separated paths. */
  static String goClean(String p) {
    if (p.isEmpty()) {
      return ".";
    }
    boolean rooted = p.startsWith("/");
    Deque<String> out = new ArrayDeque<>();
    for (String part : p.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (!out.isEmpty() && !out.peekLast().equals("..")) {
          out.removeLast();
        } else if (!rooted) {
          out.addLast("..");
        }
        continue;
      }
      out.addLast(part);
    }
    String joined = String.join("/", out);
    if (rooted) {
      return "/" + joined;
    }
    return joined.isEmpty() ? "." : joined;
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
