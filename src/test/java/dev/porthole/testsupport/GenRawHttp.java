package dev.porthole.testsupport;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately dumb HTTP/1.1 client over a plain socket, for requests no real client would send
 * (invalid methods, bytes in headers, overlong lines, invalid UTF-8, garbage): writes the given
 * bytes exactly, reads one response (skipping 1xx), and keeps the connection for the next request
 * when the server did. Large requests are written from a second thread while the response is read,
 * so a server that answers early (413, 431) and closes is seen answering. Not thread-safe: one per
 * thread.
 */
public final class GenRawHttp implements AutoCloseable {
  /**
   * One response; header names lower case (the last value of a repeated header wins). {@code hung}:
   * its body had neither length nor chunks and the server kept the connection open (2 s), so the
   * body never ended.
   */
  public record Response(int status, Map<String, String> headers, byte[] body, boolean closed, boolean hung) {
    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private static final int LARGE = 64 * 1024;
  private final String host;
  private final int port;
  private final int timeoutMs;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  public GenRawHttp(String host, int port, int timeoutMs) {
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Sends {@code request} and reads the answer; null when the server closed the connection without
   * answering. {@code head}: the request's method is HEAD (no body follows). {@code fresh}: on a
   * new connection, closed afterwards (for requests that may leave the connection out of step).
   */
  public Response exchange(byte[] request, boolean head, boolean fresh) throws IOException {
    boolean reused = socket != null && !fresh;
    if (fresh) {
      closeSocket();
    }
    try {
      Response r = once(request, head);
      if (r == null && reused) {
        // The server may have closed an idle kept-alive connection just before we wrote.
        closeSocket();
        r = once(request, head);
      }
      if (r == null || r.closed() || fresh || request.length > LARGE) {
        closeSocket();
      }
      return r;
    } catch (IOException e) {
      closeSocket();
      if (reused) {
        return exchange(request, head, true);
      }
      throw e;
    }
  }

  private Response once(byte[] request, boolean head) throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.connect(new InetSocketAddress(host, port), timeoutMs);
      socket.setSoTimeout(timeoutMs);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
    }
    if (request.length <= LARGE) {
      out.write(request);
      out.flush();
      return read(head);
    }
    OutputStream o = out;
    IOException[] writeError = new IOException[1];
    Thread writer = new Thread(() -> {
      try {
        o.write(request);
        o.flush();
      } catch (IOException e) {
        writeError[0] = e;
      }
    }, "raw-http-writer");
    writer.setDaemon(true);
    writer.start();
    try {
      return read(head);
    } finally {
      closeSocket();
      try {
        writer.join(timeoutMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Response read(boolean head) throws IOException {
    while (true) {
      String statusLine = line();
      if (statusLine == null) {
        return null;
      }
      String[] parts = statusLine.split(" ", 3);
      // Any PROTOCOL/x.y: a server may echo the client's odd version back.
      if (parts.length < 2 || !parts[0].matches("[!-~]+/\\d+\\.\\d+") || !parts[1].matches("\\d{3}")) {
        throw new IOException("not an HTTP status line: " + statusLine);
      }
      int status = Integer.parseInt(parts[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      String h;
      while ((h = line()) != null && !h.isEmpty()) {
        int colon = h.indexOf(':');
        if (colon > 0) {
          headers.put(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
        }
      }
      if (h == null) {
        throw new IOException("connection closed inside the response headers after " + statusLine);
      }
      if (status >= 100 && status < 200 && status != 101) {
        continue;
      }
      boolean close = "close".equalsIgnoreCase(headers.get("connection"));
      boolean hung = false;
      byte[] body;
      if (head || status == 204 || status == 304) {
        body = new byte[0];
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = chunked();
      } else if (headers.containsKey("content-length")) {
        int n = Integer.parseInt(headers.get("content-length"));
        body = in.readNBytes(n);
        if (body.length < n) {
          throw new IOException("body cut short: " + body.length + " of " + n + " bytes");
        }
      } else {
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        int old = socket.getSoTimeout();
        socket.setSoTimeout(Math.min(old, 2_000));
        try {
          byte[] buf = new byte[8192];
          int n;
          while ((n = in.read(buf)) != -1) {
            rest.write(buf, 0, n);
          }
        } catch (SocketTimeoutException e) {
          hung = true;
        } finally {
          socket.setSoTimeout(old);
        }
        body = rest.toByteArray();
        close = true;
      }
      return new Response(status, headers, body, close, hung);
    }
  }

  private byte[] chunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line();
      if (size == null) {
        throw new IOException("connection closed inside a chunked body");
      }
      int semi = size.indexOf(';');
      int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
      if (n == 0) {
        String t;
        while ((t = line()) != null && !t.isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(n));
      line();
    }
  }

  /** A line without its CR LF, ISO-8859-1; null at the end of the stream before any byte. */
  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128);
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        break;
      }
      b.write(c);
      if (b.size() > 256 * 1024) {
        throw new IOException("response line over 256 KiB");
      }
    }
    if (c == -1 && b.size() == 0) {
      return null;
    }
    String s = b.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  private void closeSocket() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Closing anyway.
      }
      socket = null;
      in = null;
      out = null;
    }
  }

  @Override
  public void close() {
    closeSocket();
  }
}
