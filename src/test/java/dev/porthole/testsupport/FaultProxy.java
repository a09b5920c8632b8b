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
 * A TCP relay between a client and a target on loopback that injects link faults:
 * {@link #stall()} stops moving bytes in both directions without closing anything (no FIN, no
 * RST), as a dead NAT entry or a frozen link does, and {@link #resume()} moves them again;
 * {@link #hold()} drops every byte from then on and, when the target goes away, keeps the client's
 * side open and silent until {@link #sever()}, so a test can take a server down and put something
 * else in its place before the client notices.
 */
public final class FaultProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Object gate = new Object();
  private volatile boolean stalled;
  private volatile boolean held;

  public FaultProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "fault-proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public void stall() {
    stalled = true;
  }

  /** Drops every byte from now on and hides the target's end from the clients. */
  public void hold() {
    held = true;
  }

  /** Closes every connection, client sides included. */
  public void sever() {
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  public void resume() {
    synchronized (gate) {
      stalled = false;
      gate.notifyAll();
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
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          synchronized (gate) {
            while (stalled) {
              gate.wait();
            }
          }
          if (!held) {
            out.write(buf, 0, n);
          }
        }
      } catch (IOException | InterruptedException e) {
        // Connection over.
      } finally {
        if (!held) {
          closeQuietly(from);
          closeQuietly(to);
        }
      }
    }, "fault-proxy-pipe");
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
    resume();
    server.close();
    sever();
  }
}
