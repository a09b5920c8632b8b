package dev.porthole.edge;

import dev.porthole.httpkit.HttpTokens;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * The direct edge's short way for the common exchange: a whole request without a body, as one write
 * of the relay's channel, and a whole answer with a {@code Content-Length} body, as one read of the
 * local service. Netty's decoders and encoders, driven through embedded channels, cost about a
 * quarter of the edge's threads' time per exchange (bench P3). This decodes such messages into the
 * same objects Netty's decoders make and writes heads as Netty's encoders do, byte for byte.
 * Anything else (a partial read or write, more than one message, a body to frame, chunked, an
 * upgrade, an interim or bodiless status, a line out of the ordinary) is left to Netty, untouched.
 */
final class PlainHttp {
  private PlainHttp() {
  }

  /** The direct edge's decoder settings: headers not validated (as {@link DirectEdge#decoderConfig}). */
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  /** Longer heads go to Netty, whose limits (16 KiB status line, 64 KiB of headers) then apply. */
  static final int MAX_HEAD = 8 * 1024;
  private static final int MAX_LENGTH_DIGITS = 18;

  /** A decoded answer: its head and where its body lies in the bytes read. */
  record Response(HttpResponse head, int bodyStart, int bodyLength) {
  }

  /**
   * Decodes {@code a[off, off + len)} when it is exactly one whole request without a body, in
   * origin form ({@code /path?query}), not an upgrade; otherwise null, and nothing was consumed.
   */
  static HttpRequest decodeRequest(byte[] a, int off, int len) {
    int n = off + len;
    int i = off;
    while (i < n && HttpTokens.isTokenChar(a[i])) {
      i++;
    }
    if (i == off || i - off > 32 || i >= n || a[i] != ' ') {
      return null;
    }
    String method = new String(a, off, i - off, StandardCharsets.ISO_8859_1);
    int uriStart = ++i;
    if (i >= n || a[i] != '/') {
      return null;
    }
    while (i < n && a[i] > 0x20 && a[i] < 0x7f) {
      i++;
    }
    if (i >= n || a[i] != ' ' || i - uriStart > MAX_HEAD) {
      return null;
    }
    String uri = new String(a, uriStart, i - uriStart, StandardCharsets.ISO_8859_1);
    i++;
    if (n - i < 10 || a[i] != 'H' || a[i + 1] != 'T' || a[i + 2] != 'T' || a[i + 3] != 'P' || a[i + 4] != '/'
        || a[i + 5] != '1' || a[i + 6] != '.' || a[i + 8] != '\r' || a[i + 9] != '\n') {
      return null;
    }
    HttpVersion version = a[i + 7] == '1' ? HttpVersion.HTTP_1_1 : a[i + 7] == '0' ? HttpVersion.HTTP_1_0 : null;
    if (version == null) {
      return null;
    }
    HttpHeaders headers = HEADERS.newHeaders();
    int end = headers(a, i + 10, n, off, headers);
    if (end != n || headers.contains(HttpHeaderNames.UPGRADE)) {
      return null;
    }
    String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null && !length.equals("0")) {
      return null;
    }
    return new DefaultHttpRequest(version, HttpMethod.valueOf(method), uri, headers);
  }

  /**
   * Reads header lines from {@code i} up to and including the empty line into {@code headers}:
   * the index after it, or -1 when the lines are not all there or one is out of the ordinary, or
   * there is a Transfer-Encoding, or a Content-Length that is not one plain number given once.
   */
  private static int headers(byte[] a, int i, int n, int start, HttpHeaders headers) {
    boolean length = false;
    while (true) {
      if (i + 1 >= n || i - start > MAX_HEAD) {
        return -1;
      }
      if (a[i] == '\r') {
        return a[i + 1] == '\n' ? i + 2 : -1;
      }
      int nameStart = i;
      while (i < n && HttpTokens.isTokenChar(a[i])) {
        i++;
      }
      if (i == nameStart || i >= n || a[i] != ':') {
        return -1;
      }
      String name = new String(a, nameStart, i - nameStart, StandardCharsets.ISO_8859_1);
      i++;
      while (i < n && ows(a[i])) {
        i++;
      }
      int valueStart = i;
      int lineEnd = lineEnd(a, i, n);
      if (lineEnd < 0) {
        return -1;
      }
      int valueEnd = lineEnd;
      while (valueEnd > valueStart && ows(a[valueEnd - 1])) {
        valueEnd--;
      }
      String value = new String(a, valueStart, valueEnd - valueStart, StandardCharsets.ISO_8859_1);
      i = lineEnd + 2;
      if (HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
        return -1;
      }
      if (HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
        if (length || contentLength(value) < 0) {
          return -1; // one plain number, once; anything else Netty normalizes or refuses
        }
        length = true;
      }
      headers.add(name, value);
    }
  }

  /**
   * Decodes {@code a[0, n)} when it is exactly one whole answer this class takes (see the class
   * comment); otherwise null, and nothing was consumed.
   */
  static Response decodeResponse(byte[] a, int n) {
    HttpVersion version;
    if (n < 14 || a[0] != 'H' || a[1] != 'T' || a[2] != 'T' || a[3] != 'P' || a[4] != '/' || a[5] != '1'
        || a[6] != '.' || a[8] != ' ') {
      return null;
    }
    if (a[7] == '1') {
      version = HttpVersion.HTTP_1_1;
    } else if (a[7] == '0') {
      version = HttpVersion.HTTP_1_0;
    } else {
      return null;
    }
    int code = 0;
    for (int i = 9; i < 12; i++) {
      if (a[i] < '0' || a[i] > '9') {
        return null;
      }
      code = code * 10 + (a[i] - '0');
    }
    if (!withBody(code) || a[12] != ' ') {
      return null;
    }
    int i = 13;
    int reasonStart = i;
    int lineEnd = lineEnd(a, i, n);
    if (lineEnd < 0 || lineEnd == reasonStart || ows(a[reasonStart]) || ows(a[lineEnd - 1])) {
      return null;
    }
    String reason = new String(a, reasonStart, lineEnd - reasonStart, StandardCharsets.ISO_8859_1);
    i = lineEnd + 2;
    HttpHeaders headers = HEADERS.newHeaders();
    i = headers(a, i, n, 0, headers);
    String value = i < 0 ? null : headers.get(HttpHeaderNames.CONTENT_LENGTH);
    long length = value == null ? -1 : contentLength(value);
    if (length < 0 || n - i != length) {
      return null;
    }
    return new Response(new DefaultHttpResponse(version, HttpResponseStatus.valueOf(code, reason), headers), i,
        (int) length);
  }

  /** Statuses whose answers carry a body as their Content-Length says (to a request other than HEAD). */
  private static boolean withBody(int code) {
    return code >= 200 && code <= 599 && code != 204 && code != 205 && code != 304;
  }

  /**
   * Whether {@link #writeHead} may stand in for Netty's encoder for this answer's head, its body
   * then going as it is: a final answer framed by its Content-Length, not to a HEAD.
   */
  static boolean plainResponse(HttpResponse r, boolean toHead) {
    return !toHead && withBody(r.status().code()) && r.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
        && !HttpUtil.isTransferEncodingChunked(r);
  }

  /** The head as Netty's HttpResponseEncoder writes it (text as US-ASCII, as it does). */
  static void writeResponseHead(HttpResponse r, ByteBuf out) {
    out.writeCharSequence(r.protocolVersion().text(), StandardCharsets.US_ASCII);
    out.writeByte(' ');
    out.writeCharSequence(r.status().codeAsText(), StandardCharsets.US_ASCII);
    out.writeByte(' ');
    out.writeCharSequence(r.status().reasonPhrase(), StandardCharsets.US_ASCII);
    out.writeByte('\r').writeByte('\n');
    writeHeaders(r.headers(), out);
  }

  /**
   * Whether {@link #writeRequestHead} may stand in for Netty's encoder: a request in origin form
   * of visible ASCII (the bodiless ones only; the caller knows).
   */
  static boolean plainRequest(HttpRequest r) {
    String uri = r.uri();
    if (uri.isEmpty() || uri.charAt(0) != '/') {
      return false;
    }
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** The head as Netty's HttpRequestEncoder writes a {@link #plainRequest}'s. */
  static void writeRequestHead(HttpRequest r, ByteBuf out) {
    out.writeCharSequence(r.method().name(), StandardCharsets.US_ASCII);
    out.writeByte(' ');
    out.writeCharSequence(r.uri(), StandardCharsets.US_ASCII);
    out.writeByte(' ');
    out.writeCharSequence(r.protocolVersion().text(), StandardCharsets.US_ASCII);
    out.writeByte('\r').writeByte('\n');
    writeHeaders(r.headers(), out);
  }

  private static void writeHeaders(HttpHeaders headers, ByteBuf out) {
    Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
    while (it.hasNext()) {
      Map.Entry<CharSequence, CharSequence> h = it.next();
      out.writeCharSequence(h.getKey(), StandardCharsets.US_ASCII);
      out.writeByte(':').writeByte(' ');
      out.writeCharSequence(h.getValue(), StandardCharsets.US_ASCII);
      out.writeByte('\r').writeByte('\n');
    }
    out.writeByte('\r').writeByte('\n');
  }

  /** The index of the CR of the CRLF ending the line from {@code from}, or -1 (no end, a bare LF, a control byte). */
  private static int lineEnd(byte[] a, int from, int n) {
    for (int i = from; i < n; i++) {
      byte c = a[i];
      if (c == '\r') {
        return i + 1 < n && a[i + 1] == '\n' ? i : -1;
      }
      if ((c >= 0 && c < 0x20 && c != '\t') || c == 0x7f) {
        return -1;
      }
    }
    return -1;
  }

  private static long contentLength(String v) {
    if (v.isEmpty() || v.length() > MAX_LENGTH_DIGITS || (v.length() > 1 && v.charAt(0) == '0')) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static boolean ows(byte c) {
    return c == ' ' || c == '\t';
  }
}
