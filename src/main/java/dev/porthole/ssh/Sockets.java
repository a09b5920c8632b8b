package dev.porthole.ssh;

import com.jcraft.jsch.SocketFactory;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
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
  static SocketFactory session(int connectTimeoutMs) {
    return new SocketFactory() {
      @Override
      public Socket createSocket(String host, int port) throws IOException {
        Socket socket = new Socket();
        try {
          socket.setTcpNoDelay(true);
          socket.connect(new InetSocketAddress(host, port), connectTimeoutMs);
          return socket;
        } catch (IOException | RuntimeException e) {
          socket.close();
          throw e;
        }
      }

      @Override
      public InputStream getInputStream(Socket socket) throws IOException {
        return new BufferedInputStream(socket.getInputStream(), SESSION_READ_BUFFER);
      }

      @Override
      public OutputStream getOutputStream(Socket socket) throws IOException {
        return socket.getOutputStream();
      }
    };
  }
}
