package dev.porthole.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback that can {@link #hold()} its clients: from then on it drops every byte in
 * both directions and, when the target goes away, keeps the client's side open and silent, so the
 * client notices nothing until {@link #sever()} closes it. Lets a test take a server down and put
 * something else in its place before the client sees the loss.
 */
public final class HealthHoldProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean held;

  public HealthHoldProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "health-hold-proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Stops moving bytes and hides the target's end from the clients. */
  public void hold() {
    held = true;
  }

  /** Closes every connection, client sides included. */
  public void sever() {
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(client);
        sockets.add(target);
        pipe(client, target);
        pipe(target, client);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (!held) {
            out.write(buf, 0, n);
          }
        }
      } catch (IOException e) {
        // Connection over.
      } finally {
        if (!held) {
          closeQuietly(from);
          closeQuietly(to);
        }
      }
    }, "health-hold-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Closing.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    sever();
  }
}
