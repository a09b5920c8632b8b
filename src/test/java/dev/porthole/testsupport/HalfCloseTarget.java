package dev.porthole.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * A local TCP service for half-close tests: each connection is read to its end of stream (the
 * client's half-close), the SHA-256 of what arrived is recorded, then {@code reply} is written back
 * and the connection closed. Connections that send nothing (reachability checks) are ignored.
 */
public final class HalfCloseTarget implements AutoCloseable {
  private final ServerSocket server;
  private final byte[] reply;
  private final CompletableFuture<String> received = new CompletableFuture<>();
  private final Thread acceptor;

  public HalfCloseTarget(byte[] reply) throws IOException {
    this.reply = reply;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::acceptLoop, "half-close-target");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Hex SHA-256 of the first non-empty request. */
  public CompletableFuture<String> received() {
    return received;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread t = new Thread(() -> serve(s), "half-close-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      s.setSoTimeout(30_000);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        sha.update(buf, 0, n);
        total += n;
      }
      if (total == 0) {
        return;
      }
      received.complete(HexFormat.of().formatHex(sha.digest()));
      OutputStream out = s.getOutputStream();
      out.write(reply);
      out.flush();
    } catch (Exception e) {
      received.completeExceptionally(e);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
