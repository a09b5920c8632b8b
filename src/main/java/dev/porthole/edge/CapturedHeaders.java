package dev.porthole.edge;

import dev.porthole.httpkit.HttpTokens;
import io.vertx.core.MultiMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Headers in the form Portr stores them (portr-protocol §7): what Go's {@code net/http} would hand
 * its handler, names in {@code textproto.CanonicalMIMEHeaderKey} form, values in arrival order,
 * names sorted (as {@code json.Marshal} writes a map), the tunnel's redact list applied.
 *
 * <p>Go's server takes {@code Host} out of the request headers and {@code Transfer-Encoding} (with
 * {@code Content-Length} and {@code Trailer} when chunked) into its own fields, and turns {@code
 * Pragma: no-cache} without {@code Cache-Control} into both. Its client does the same to response
 * headers, and its reverse proxy drops the hop-by-hop response headers before Portr sees them.
 */
final class CapturedHeaders {
  static final String REDACTED = "[redacted]";
  private static final Set<String> HOP_BY_HOP = Set.of("Connection", "Proxy-Connection", "Keep-Alive",
      "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade");

  private final Set<String> redact = new HashSet<>();

  CapturedHeaders(List<String> redactNames) {
    for (String name : redactNames) {
      redact.add(canonical(name));
    }
  }

  /**
   * The request headers of a recording; sets its {@code parentId} from the first {@code
   * X-Portr-Replayed-Request-Id} (which is not stored), and leaves out the replay key.
   */
  Map<String, List<String>> request(MultiMap headers, Recording r) {
    TreeMap<String, List<String>> out = new TreeMap<>();
    boolean chunked = headers.contains("Transfer-Encoding");
    for (Map.Entry<String, String> e : headers) {
      String name = canonical(e.getKey());
      switch (name) {
        case "Host", "Transfer-Encoding", TunnelEdgeVerticle.REPLAY_KEY_HEADER -> {
          continue;
        }
        case TunnelEdgeVerticle.REPLAYED_HEADER -> {
          if (r.parentId.isEmpty()) {
            r.parentId = e.getValue();
          }
          continue;
        }
        case "Content-Length", "Trailer" -> {
          if (chunked) {
            continue;
          }
        }
        default -> {
        }
      }
      put(out, name, e.getValue());
    }
    List<String> pragma = out.get("Pragma");
    if (pragma != null && "no-cache".equals(pragma.get(0)) && !out.containsKey("Cache-Control")) {
      put(out, "Cache-Control", "no-cache");
    }
    return out;
  }

  /**
   * Response headers as the local service sent them, after Go's client ({@code Transfer-Encoding}
   * out) and, for proxied responses ({@code hopByHop} true), its reverse proxy (hop-by-hop headers
   * and those named in {@code Connection} out). WebSocket handshakes keep them all.
   */
  Map<String, List<String>> response(MultiMap headers, boolean hopByHop) {
    TreeMap<String, List<String>> out = new TreeMap<>();
    boolean chunked = headers.contains("Transfer-Encoding");
    Set<String> named = hopByHop ? connectionNamed(headers) : Set.of();
    for (Map.Entry<String, String> e : headers) {
      String name = canonical(e.getKey());
      if (name.equals("Transfer-Encoding")
          || chunked && (name.equals("Content-Length") || name.equals("Trailer"))
          || hopByHop && (HOP_BY_HOP.contains(name) || named.contains(name))) {
        continue;
      }
      put(out, name, e.getValue());
    }
    return out;
  }

  /** Headers of an answer the edge gives itself, as name/value pairs. */
  Map<String, List<String>> own(String... pairs) {
    TreeMap<String, List<String>> out = new TreeMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      put(out, canonical(pairs[i]), pairs[i + 1]);
    }
    return out;
  }

  private void put(TreeMap<String, List<String>> out, String name, String value) {
    out.computeIfAbsent(name, k -> new ArrayList<>(1)).add(redact.contains(name) ? REDACTED : value);
  }

  private static Set<String> connectionNamed(MultiMap headers) {
    List<String> values = headers.getAll("Connection");
    if (values.isEmpty()) {
      return Set.of();
    }
    Set<String> named = new HashSet<>();
    for (String v : values) {
      for (String token : v.split(",")) {
        String t = token.strip();
        if (!t.isEmpty()) {
          named.add(canonical(t));
        }
      }
    }
    return named;
  }

  /**
   * Go's {@code textproto.CanonicalMIMEHeaderKey}: the first letter and each letter after a hyphen
   * upper case, the rest lower case; a name with a byte that may not appear in a header name is
   * returned unchanged. An already canonical name is returned as it is (no copy).
   */
  static String canonical(String s) {
    boolean upper = true;
    boolean same = true;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (!HttpTokens.isTokenChar(c)) {
        return s;
      }
      if (upper ? c >= 'a' && c <= 'z' : c >= 'A' && c <= 'Z') {
        same = false;
      }
      upper = c == '-';
    }
    if (same) {
      return s;
    }
    char[] out = new char[n];
    upper = true;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (upper && c >= 'a' && c <= 'z') {
        c -= 32;
      } else if (!upper && c >= 'A' && c <= 'Z') {
        c += 32;
      }
      out[i] = c;
      upper = c == '-';
    }
    return new String(out);
  }
}
