package dev.porthole.api;

import dev.porthole.bus.LeaseRenewal;
import dev.porthole.bus.TunnelRequest;
import dev.porthole.config.GoQuote;
import dev.porthole.config.PortrTunnel;
import dev.porthole.json.GoJson;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Path;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** {@code POST /api/v1/tunnels} bodies → {@link TunnelRequest}, in portr-protocol §6.4's order and words. */
final class TunnelRequests {
  static final String INVALID_JSON = "invalid JSON body";
  /** Not in Portr, which would start that many SSH sessions: a bound against absurd input. */
  static final int MAX_POOL_SIZE = 64;
  /** Not in Portr: names and hosts end up in logs, events and pages, so they are kept printable. */
  static final int MAX_TEXT = 253;
  /** Not in Portr: a template file on a hung file system must not hold the POST forever. */
  static final long TEMPLATE_READ_LIMIT_MS = 5_000;

  /** The request is refused with this message (400). */
  static final class BadRequest extends Exception {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }

  private TunnelRequests() {
  }

  /** A decoded body after Portr's SetDefaults and the stub template source check (§6.4 steps 1–2). */
  static final class Draft {
    final PortrTunnel tunnel = new PortrTunnel();
    long port;
    String callbackUrl;
    List<String> callbackUrls;
    /** porthole's lease fields, null when absent; a problem with their types waits for {@link #finish}. */
    Long ttlSeconds;
    Long ownerPid;
    String leaseProblem;

    /** The template still has to be read from its file (blocking I/O) before {@link #finish}. */
    boolean needsTemplateFile() {
      return tunnel.needsTemplateFile();
    }
  }

  /**
   * Parses and validates a body whose template file, if any, is read on this thread: for tests and
   * for callers off the event loop. {@link #parse(Vertx, String, Buffer)} is the event loop's.
   */
  static TunnelRequest parse(String contentType, Buffer body) throws BadRequest {
    Draft d = decode(contentType, body);
    if (d.needsTemplateFile()) {
      readTemplate(d);
    }
    return finish(d);
  }

  /**
   * As {@link #parse(String, Buffer)}, with a {@code response_tmpl_file} read on a worker thread,
   * bounded in time; fails with {@link BadRequest}.
   */
  static Future<TunnelRequest> parse(Vertx vertx, String contentType, Buffer body) {
    Draft d;
    try {
      d = decode(contentType, body);
      if (!d.needsTemplateFile()) {
        return Future.succeededFuture(finish(d));
      }
    } catch (BadRequest e) {
      return Future.failedFuture(e);
    }
    return vertx.executeBlocking(() -> {
      readTemplate(d);
      return finish(d);
    }, false).timeout(TEMPLATE_READ_LIMIT_MS, TimeUnit.MILLISECONDS).recover(err -> {
      if (err instanceof BadRequest) {
        return Future.failedFuture(err);
      }
      // Vert.x's timeout fails with its own (internal) timeout exception.
      String why = err.getClass().getSimpleName().contains("Timeout") ? "timed out after " + TEMPLATE_READ_LIMIT_MS + " ms"
          : String.valueOf(err.getMessage());
      return Future.failedFuture(new BadRequest("failed to read response_tmpl_file " + GoQuote.q(d.tunnel.responseTmplFile)
          + ": " + why));
    });
  }

  /** Steps 1–2: decoding, Portr's SetDefaults, the stub template's source (one of inline or file). */
  static Draft decode(String contentType, Buffer body) throws BadRequest {
    Draft d = new Draft();
    PortrTunnel t = d.tunnel;
    long poolSize;
    GoJson.Body o;
    try {
      o = GoJson.object(contentType, body);
      t.name = GoJson.string(o, "name", "");
      t.type = GoJson.string(o, "type", "");
      t.host = GoJson.string(o, "host", "");
      Long p = GoJson.integer(o, "port");
      d.port = p == null ? 0 : p;
      t.subdomain = GoJson.string(o, "subdomain", "");
      Long ps = GoJson.integer(o, "pool_size");
      poolSize = ps == null ? 0 : ps;
      t.responseFormat = GoJson.string(o, "response_format", "");
      t.responseTmpl = GoJson.string(o, "response_tmpl", "");
      t.responseTmplFile = GoJson.string(o, "response_tmpl_file", "");
      t.basicAuth = GoJson.string(o, "basic_auth", "");
      d.callbackUrl = GoJson.string(o, "callback_url", "");
      d.callbackUrls = GoJson.strings(o, "callback_urls");
    } catch (GoJson.InvalidBody e) {
      throw new BadRequest(INVALID_JSON);
    }
    // porthole's own fields: a Portr client never sends them, so a wrong type gets its own message.
    try {
      d.ttlSeconds = GoJson.integer(o, "ttl_seconds");
    } catch (GoJson.InvalidBody e) {
      d.leaseProblem = LeaseRenewal.TTL_PROBLEM;
    }
    try {
      d.ownerPid = GoJson.integer(o, "owner_pid");
    } catch (GoJson.InvalidBody e) {
      d.leaseProblem = d.leaseProblem != null ? d.leaseProblem : OWNER_PID_PROBLEM;
    }
    checkText("name", t.name);
    checkText("host", t.host);
    t.port = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, d.port));
    t.poolSize = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, poolSize));
    t.setDefaults();
    String problem = t.stubTemplateSourceProblem();
    if (problem != null) {
      throw new BadRequest(problem);
    }
    return d;
  }

  /** Step 2's file read, relative to the app-server's working directory. Blocking. */
  static void readTemplate(Draft d) throws BadRequest {
    String problem = d.tunnel.readTemplateFile(Path.of("."));
    if (problem != null) {
      throw new BadRequest(problem);
    }
  }

  /** Steps 3–6: type, port (not for stub), Portr's Validate, callback URLs. */
  static TunnelRequest finish(Draft d) throws BadRequest {
    PortrTunnel t = d.tunnel;
    if (!t.type.equals(TunnelRequest.HTTP) && !t.type.equals(TunnelRequest.TCP) && !t.type.equals(TunnelRequest.STUB)) {
      throw new BadRequest("type must be http, tcp, or stub");
    }
    if (!t.type.equals(TunnelRequest.STUB) && (d.port <= 0 || d.port > 65535)) {
      throw new BadRequest("port must be between 1 and 65535");
    }
    String problem = t.validate();
    if (problem != null) {
      throw new BadRequest(problem);
    }
    if (t.poolSize > MAX_POOL_SIZE) {
      throw new BadRequest("pool_size must be at most " + MAX_POOL_SIZE);
    }
    List<String> urls = callbackUrls(d.callbackUrl, d.callbackUrls);
    for (String url : urls) {
      checkCallbackUrl(url);
    }
    long ttl = d.ttlSeconds == null ? 0 : d.ttlSeconds;
    long owner = d.ownerPid == null ? 0 : d.ownerPid;
    checkLease(d.leaseProblem, d.ttlSeconds, d.ownerPid);
    boolean stub = t.type.equals(TunnelRequest.STUB);
    return new TunnelRequest(t.name, t.type, t.host, t.port, t.subdomain, t.poolSize, t.trimmedBasicAuth(), urls,
        stub ? t.responseFormat : "", stub ? t.responseTmpl : "", ttl, owner);
  }

  static final String OWNER_PID_PROBLEM = "owner_pid must be a positive integer";

  /**
   * The lease fields, after Portr's checks: {@code ttl_seconds} 1 … 604 800, {@code owner_pid} a
   * process that runs now (one cheap look at {@code /proc}).
   */
  static void checkLease(String typeProblem, Long ttlSeconds, Long ownerPid) throws BadRequest {
    if (typeProblem != null) {
      throw new BadRequest(typeProblem);
    }
    if (ttlSeconds != null && !LeaseRenewal.validTtl(ttlSeconds)) {
      throw new BadRequest(LeaseRenewal.TTL_PROBLEM);
    }
    if (ownerPid != null && ownerPid <= 0) {
      throw new BadRequest(OWNER_PID_PROBLEM);
    }
    if (ownerPid != null && ProcessHandle.of(ownerPid).isEmpty()) {
      throw new BadRequest("owner_pid " + ownerPid + " is not a running process");
    }
  }

  /** {@code POST /api/v1/tunnels/{id}/renew}'s body, {@code {"ttl_seconds":n}} → n. */
  static long renewal(String contentType, Buffer body) throws BadRequest {
    Long ttl;
    try {
      GoJson.Body o = GoJson.object(contentType, body);
      try {
        ttl = GoJson.integer(o, "ttl_seconds");
      } catch (GoJson.InvalidBody e) {
        throw new BadRequest(LeaseRenewal.TTL_PROBLEM);
      }
    } catch (GoJson.InvalidBody e) {
      throw new BadRequest(INVALID_JSON);
    }
    if (ttl == null) {
      throw new BadRequest("ttl_seconds is required");
    }
    checkLease(null, ttl, null);
    return ttl;
  }

  static void checkText(String field, String value) throws BadRequest {
    if (value.length() > MAX_TEXT) {
      throw new BadRequest(field + " must be at most " + MAX_TEXT + " characters");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
        throw new BadRequest(field + " must not contain control characters");
      }
    }
  }

  /** {@code callback_url} first, then {@code callback_urls}; trimmed, empties and exact duplicates dropped. */
  static List<String> callbackUrls(String first, List<String> rest) {
    Set<String> out = new LinkedHashSet<>();
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    for (String u : all) {
      String trimmed = u == null ? "" : u.strip();
      if (!trimmed.isEmpty()) {
        out.add(trimmed);
      }
    }
    return new ArrayList<>(out);
  }

  static void checkCallbackUrl(String url) throws BadRequest {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new BadRequest("callback_url must be a valid absolute URL");
    }
    String authority = uri.getRawAuthority();
    String host = authority == null ? "" : authority.replaceFirst("^[^@]*@", "").replaceFirst(":[0-9]*$", "");
    if (uri.getScheme() == null || host.isEmpty()) {
      throw new BadRequest("callback_url must be a valid absolute URL");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new BadRequest("callback_url must use http or https");
    }
  }
}
