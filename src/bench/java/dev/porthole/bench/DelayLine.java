package dev.porthole.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP forwarder that holds every chunk for a fixed delay in each direction while reading on at
 * full speed, so the path gets a round-trip time without losing bandwidth (up to the queue it
 * keeps: {@code QUEUE_CHUNKS} chunks of at most 64 KiB per direction, far above 100 MB/s × 10 ms).
 *
 * <p>Written by hand because the packaged ways to add latency do not fit a benchmark that must run
 * as an ordinary process on loopback: {@code tc netem} changes the whole loopback interface (every
 * other leg of the benchmark, and anything else on the machine, would be delayed too) and needs
 * network namespaces to be confined; socat and similar forwarders have no delay option.
 */
final class DelayLine implements AutoCloseable {
  private static final int CHUNK = 64 * 1024;
  private static final int QUEUE_CHUNKS = 1024;
  private static final byte[] EOF = new byte[0];

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final long delayNanos;
  private final List<Socket> sockets = new ArrayList<>();
  private final Thread acceptor;

  DelayLine(int targetPort, long delayMillis) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
    this.delayNanos = delayMillis * 1_000_000L;
    this.acceptor = new Thread(this::accept, "delay-line-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Socket out = new Socket();
        out.connect(target, 5_000);
        for (Socket s : new Socket[] {in, out}) {
          s.setTcpNoDelay(true);
        }
        synchronized (sockets) {
          sockets.add(in);
          sockets.add(out);
        }
        direction(in, out, "up");
        direction(out, in, "down");
      } catch (IOException e) {
        if (!server.isClosed()) {
          System.err.println("delay line: " + e);
        }
      }
    }
  }

  /** One reader that timestamps chunks and one writer that sends each once its delay is over. */
  private void direction(Socket from, Socket to, String name) {
    BlockingQueue<Object[]> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
    Thread reader = new Thread(() -> {
      try (InputStream in = from.getInputStream()) {
        while (true) {
          byte[] buf = new byte[CHUNK];
          int n = in.read(buf);
          if (n < 0) {
            break;
          }
          byte[] chunk = n == CHUNK ? buf : java.util.Arrays.copyOf(buf, n);
          queue.put(new Object[] {System.nanoTime() + delayNanos, chunk});
        }
      } catch (IOException | InterruptedException e) {
        // Connection gone: pass the end on.
      }
      try {
        queue.put(new Object[] {System.nanoTime() + delayNanos, EOF});
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }, "delay-line-read-" + name);
    Thread writer = new Thread(() -> {
      try {
        OutputStream out = to.getOutputStream();
        while (true) {
          Object[] item = queue.take();
          long wait = (long) item[0] - System.nanoTime();
          while (wait > 0) {
            LockSupport.parkNanos(wait);
            wait = (long) item[0] - System.nanoTime();
          }
          byte[] chunk = (byte[]) item[1];
          if (chunk == EOF) {
            to.shutdownOutput();
            return;
          }
          out.write(chunk);
        }
      } catch (IOException | InterruptedException e) {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "delay-line-write-" + name);
    reader.setDaemon(true);
    writer.setDaemon(true);
    reader.start();
    writer.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Closing anyway.
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (sockets) {
      sockets.forEach(DelayLine::closeQuietly);
    }
  }
}
