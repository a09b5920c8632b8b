package dev.porthole.ssh;

import com.jcraft.jsch.SocketFactory;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.SocketChannel;

/**
 * The TCP sockets of the SSH data path: the session's socket to the relay and each forwarded
 * connection's socket to its local target.
 */
final class Sockets {
  /**
   * What the session's socket reads at once: small packets whole, often several. Every session
   * holds one (bench P5 keeps a thousand); larger reads bypass it.
   */
  private static final int SESSION_READ_BUFFER = 16 * 1024;

  private Sockets() {
  }

  /**
   * A connected socket whose reads are plain blocking reads. A {@code java.net.Socket} connected
   * with a timeout stays non-blocking on JDK 17 and makes every read that would wait a
   * read–poll–read; a channel's socket is back in blocking mode once its timed connect is done
   * (timed reads, while {@code SO_TIMEOUT} is set, still work). Only for sockets that no thread
   * JSch interrupts does I/O on: an interrupt closes a channel's socket.
   */
  static Socket dial(String host, int port, int timeoutMs) throws IOException {
    Socket socket = SocketChannel.open().socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), timeoutMs);
      return socket;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /**
   * The session socket for JSch, read through a buffer: JSch reads each packet in two or more
   * calls (its first cipher block, then the rest), which unbuffered is two or more system calls
   * per packet. A plain {@code java.net.Socket}, not a channel's: JSch interrupts the threads that
   * wait for its global-request replies, and an interrupt closes a {@code SocketChannel} for good.
   */
  static final class Session implements SocketFactory {
    private final int connectTimeoutMs;
    private final Cancellation cancel;
    private volatile Socket socket;

    Session(int connectTimeoutMs, Cancellation cancel) {
      this.connectTimeoutMs = connectTimeoutMs;
      this.cancel = cancel;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      Socket s = new Socket();
      socket = s;
      // After publishing the socket: a cancel from now on closes it (close()), one before is seen here.
      if (cancel.isCancelled()) {
        s.close();
        throw new SocketException(Cancellation.SHUTTING_DOWN);
      }
      try {
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), connectTimeoutMs);
        return s;
      } catch (IOException | RuntimeException e) {
        s.close();
        throw e;
      }
    }

    @Override
    public InputStream getInputStream(Socket s) throws IOException {
      return new BufferedInputStream(s.getInputStream(), SESSION_READ_BUFFER);
    }

    /** Writes gathered per round of a direct edge's thread ({@link SessionWrites}). */
    @Override
    public OutputStream getOutputStream(Socket s) throws IOException {
      return SessionWrites.of(s);
    }

    /**
     * Closes the socket, connected or not, so a connect or handshake blocked on it returns. JSch's
     * own {@code disconnect} does nothing until its connect has got that far.
     */
    void close() {
      Socket s = socket;
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // Closing.
        }
      }
    }
  }
}
