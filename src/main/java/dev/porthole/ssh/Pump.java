package dev.porthole.ssh;

import com.jcraft.jsch.ChannelForwardedTCPIP;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JschChannels;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries one forwarded connection between the SSH channel and a local TCP target (portr-compat
 * §4.1, §4.4): dial (5 s), copy both directions, pass each end of stream on as a half-close, close
 * both sides when both directions are done or either fails.
 */
final class Pump {
  private static final Logger log = LoggerFactory.getLogger(Pump.class);
  static final int DIAL_TIMEOUT_MS = 5_000;
  static final int CHANNEL_CHECK_MS = 1_000;
  private static final int BUFFER = 32 * 1024;

  private final String host;
  private final int port;
  private final String label;

  Pump(String host, int port, String label) {
    this.host = host;
    this.port = port;
    this.label = label;
  }

  /** Runs on the daemon thread JSch started for this connection. */
  void serve(ChannelForwardedTCPIP channel, InputStream fromRemote, OutputStream toRemote) {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.setKeepAlive(true);
      socket.connect(new InetSocketAddress(host, port), DIAL_TIMEOUT_MS);
      // Reads wake up every second so a channel the relay closed is noticed even when the local
      // side stays silent (JSch has no close callback).
      socket.setSoTimeout(CHANNEL_CHECK_MS);
    } catch (IOException e) {
      log.debug("pump({}) dial {}:{} failed: {}", label, host, port, e.getMessage());
      closeQuietly(socket);
      channel.disconnect();
      return;
    }
    AtomicBoolean failed = new AtomicBoolean();
    CountDownLatch upstreamDone = new CountDownLatch(1);
    JschThreads.PUMPS.execute(() -> {
      try (InputStream in = socket.getInputStream()) {
        JschChannels.Writer toTunnel = new JschChannels.Writer(channel);
        byte[] buf = new byte[BUFFER];
        int n;
        while (true) {
          try {
            n = in.read(buf);
          } catch (SocketTimeoutException idle) {
            if (channel.isClosed() || failed.get()) {
              throw new IOException("tunnel channel closed");
            }
            continue;
          }
          if (n < 0) {
            break;
          }
          toTunnel.write(buf, 0, n);
        }
        // Local end of stream: half-close the channel, keep reading the other way.
        JschChannels.sendEof(channel);
      } catch (IOException | JSchException e) {
        abort(failed, socket, channel, "local→tunnel", e);
      } finally {
        upstreamDone.countDown();
      }
    });
    try {
      OutputStream out = socket.getOutputStream();
      byte[] buf = new byte[BUFFER];
      int n;
      while ((n = fromRemote.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
      if (!failed.get()) {
        socket.shutdownOutput();
      }
    } catch (IOException e) {
      abort(failed, socket, channel, "tunnel→local", e);
    }
    try {
      upstreamDone.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeQuietly(socket);
    try {
      // JSch's channel thread waits on this (never written) stream; closing it lets that thread end.
      toRemote.close();
    } catch (IOException ignored) {
      // The channel is going away anyway.
    }
    channel.disconnect();
  }

  private void abort(AtomicBoolean failed, Socket socket, ChannelForwardedTCPIP channel, String direction, Exception e) {
    if (failed.compareAndSet(false, true)) {
      log.debug("pump({}) {} ended: {}", label, direction, e.getMessage());
      closeQuietly(socket);
      channel.disconnect();
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Closing.
    }
  }
}
