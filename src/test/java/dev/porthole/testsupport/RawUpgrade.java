package dev.porthole.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * A WebSocket upgrade written byte by byte, for tests that must see the exact response head (which
 * subprotocol was answered, that no token is echoed) or send what Vert.x's client would not.
 */
public final class RawUpgrade {
  private RawUpgrade() {
  }

  /** Sends the upgrade of {@code path} with {@code extra} header lines (each ending in CRLF); the response head. */
  public static String send(int port, String path, String extra) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\n" + extra + "\r\n").getBytes(StandardCharsets.US_ASCII));
      return head(s.getInputStream());
    }
  }

  /** The values of header {@code name} in a response head. */
  public static List<String> header(String head, String name) {
    String prefix = name.toLowerCase(Locale.ROOT) + ":";
    return head.lines().filter(l -> l.toLowerCase(Locale.ROOT).startsWith(prefix))
        .map(l -> l.substring(prefix.length()).strip()).toList();
  }

  private static String head(InputStream in) throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      byte[] sofar = b.toByteArray();
      int n = sofar.length;
      if (n >= 4 && sofar[n - 4] == '\r' && sofar[n - 3] == '\n' && sofar[n - 2] == '\r' && sofar[n - 1] == '\n') {
        break;
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }
}
