package dev.porthole.ssh;

import com.jcraft.jsch.GlobalRequests;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JschChannels;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.Slf4jLogger;
import dev.porthole.config.SshClientConfig;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens Portr tunnel sessions with JSch (portr-protocol §3.1): user {@code <connection_id>:<secret>},
 * empty password, then {@code tcpip-forward} on {@code 0.0.0.0} over ten random candidate ports.
 * Error texts follow Portr's Go client where the two can be compared.
 */
public final class JschConnector implements SshConnector {
  private static final Logger log = LoggerFactory.getLogger(JschConnector.class);
  static final int CANDIDATES = 10;
  static final long FORWARD_REPLY_MS = 11_000;
  static final String KEEPALIVE = "keepalive@openssh.com";
  static final long KEEPALIVE_TIMEOUT_MS = 5_000;
  static final String DEADLINE = "context deadline exceeded";

  static {
    JSch.setLogger(new Slf4jLogger());
    // Before the first session: JSch keeps one source of random bytes for all of them.
    JSch.setConfig("random", PooledRandom.class.getName());
  }

  private final SessionThreads threads;

  /** With the default settings ({@code ssh.virtual_threads: auto}). */
  public JschConnector() {
    this(new SshClientConfig(SshClientConfig.VirtualThreads.AUTO));
  }

  public JschConnector(SshClientConfig config) {
    threads = SessionThreads.of(config.virtualThreads());
    log.info("app-server: JSch sessions run on {}", threads.describe());
  }

  /**
   * Checks, once, that the JSch on the class path has the internals porthole reaches into (the
   * keepalive reply slot, the channel's window and streams). Run it before any tunnel starts: a JSch
   * without them would otherwise fail every health check and reconnect every tunnel, forever.
   *
   * @throws IllegalStateException naming what is missing and the JSch porthole was built with
   */
  public static void selfCheck() {
    GlobalRequests.selfCheck();
    JschChannels.selfCheck();
  }

  @Override
  public SshLink open(LinkSpec spec, Cancellation cancel) throws SshFailure {
    long deadline = System.nanoTime() + spec.establishTimeoutMs() * 1_000_000L;
    cancel.check();
    int colon = spec.sshUrl().lastIndexOf(':');
    if (colon <= 0 || colon == spec.sshUrl().length() - 1) {
      throw new SshFailure("dial tcp: address " + spec.sshUrl() + ": missing port in address");
    }
    String host = spec.sshUrl().substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(spec.sshUrl().substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new SshFailure("dial tcp: address " + spec.sshUrl() + ": invalid port");
    }
    JSch jsch = new JSch();
    KnownHostsTofu tofu = spec.knownHosts() == null ? null : new KnownHostsTofu(spec.knownHosts(), host);
    Session session;
    try {
      if (tofu != null) {
        jsch.setHostKeyRepository(tofu);
      }
      session = jsch.getSession(spec.connectionId() + ":" + spec.secretKey(), host, port);
    } catch (JSchException e) {
      throw new SshFailure("ssh: " + e.getMessage());
    }
    session.setPassword("");
    session.setConfig("PreferredAuthentications", "password");
    session.setConfig("StrictHostKeyChecking", tofu == null ? "no" : "yes");
    session.setDaemonThread(true);
    session.setThreadFactory(threads.factory());
    int connectTimeoutMs = (int) Math.max(1, Math.min(10_000, remainingMs(deadline)));
    Sockets.Session socket = new Sockets.Session(connectTimeoutMs, cancel);
    session.setSocketFactory(socket);
    Pump pump = new Pump(spec.targetHost(), spec.targetPort(), spec.localEnd(), spec.connectionId(), spec.traffic());
    // Until the link is closed, a stop closes this session and its connections at once, whatever
    // the worker is blocked in (the connect, a forward request, a keepalive).
    Runnable unregister = cancel.onCancel(() -> {
      GlobalRequests.abandon(session); // a forward request in flight ends at its next wake-up
      socket.close();
      session.disconnect();
      pump.close();
    });
    try {
      return forward(spec, session, socket, pump, tofu, cancel, deadline, connectTimeoutMs, unregister);
    } catch (SshFailure | RuntimeException e) {
      unregister.run();
      throw e;
    }
  }

  private static SshLink forward(LinkSpec spec, Session session, Sockets.Session socket, Pump pump,
      KnownHostsTofu tofu, Cancellation cancel, long deadline, int connectTimeoutMs, Runnable unregister)
      throws SshFailure {
    try {
      session.connect(connectTimeoutMs);
    } catch (JSchException e) {
      session.disconnect();
      cancel.check();
      throw new SshFailure(describeConnect(e, spec.sshUrl(), tofu));
    }
    String last = "ssh: tcpip-forward request denied by peer";
    for (int candidate : candidates(spec.httpWire())) {
      try {
        cancel.check();
        if (remainingMs(deadline) <= 0) {
          throw new SshFailure(DEADLINE);
        }
        // JSch waits for the reply in ten 1 s sleeps that a disconnect does not end: a stop must
        // not wait for them, so the cancellation abandons the call (its thread finishes alone).
        JschThreads.call(() -> {
          try {
            session.setPortForwardingR("0.0.0.0", candidate, ForwardDaemon.class.getName(), new Object[] {pump});
          } finally {
            if (!session.isConnected()) {
              JschChannels.forgetForwards(session); // registered after the disconnect had cleared them
            }
          }
          return null;
        }, Math.min(remainingMs(deadline), FORWARD_REPLY_MS), DEADLINE, cancel);
        log.debug("forward(connection={}) granted remote port {}", spec.connectionId(), candidate);
        return new JschLink(session, candidate, pump, unregister);
      } catch (JSchException e) {
        if (!session.isConnected()) {
          cancel.check();
          throw new SshFailure("failed to listen on remote endpoint: EOF");
        }
        last = "ssh: tcpip-forward request denied by peer";
      } catch (SshFailure e) {
        session.disconnect();
        throw e;
      } catch (Exception e) {
        session.disconnect();
        cancel.check();
        throw new SshFailure("failed to listen on remote endpoint: " + e.getMessage());
      }
    }
    session.disconnect();
    throw new SshFailure("failed to listen on remote endpoint: " + last);
  }

  /** Ten distinct random ports: [20000, 30000) for http, [30001, 40001) for tcp. Never 0. */
  static Set<Integer> candidates(boolean http) {
    int from = http ? 20000 : 30001;
    int to = http ? 30000 : 40001;
    Set<Integer> out = new LinkedHashSet<>();
    while (out.size() < CANDIDATES) {
      out.add(ThreadLocalRandom.current().nextInt(from, to));
    }
    return out;
  }

  private static long remainingMs(long deadline) {
    return (deadline - System.nanoTime()) / 1_000_000L;
  }

  static String describeConnect(JSchException e, String addr, KnownHostsTofu tofu) {
    if (e instanceof JSchChangedHostKeyException && tofu != null && tofu.mismatchMessage() != null) {
      return tofu.mismatchMessage();
    }
    Throwable cause = e.getCause();
    if (cause instanceof ConnectException) {
      return "dial tcp " + addr + ": connect: connection refused";
    }
    if (cause instanceof UnknownHostException) {
      return "dial tcp: lookup " + addr.substring(0, addr.lastIndexOf(':')) + ": no such host";
    }
    if (cause instanceof SocketTimeoutException || String.valueOf(e.getMessage()).startsWith("timeout")) {
      return "dial tcp " + addr + ": i/o timeout";
    }
    String msg = String.valueOf(e.getMessage());
    if (msg.startsWith("Auth fail") || msg.startsWith("Auth cancel")) {
      return "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none password], no supported methods remain";
    }
    return "ssh: handshake failed: " + msg;
  }

  /** An open session with its forward. */
  static final class JschLink implements SshLink {
    private final Session session;
    private final int remotePort;
    private final Pump pump;
    private final Runnable unregister;

    JschLink(Session session, int remotePort, Pump pump, Runnable unregister) {
      this.session = session;
      this.remotePort = remotePort;
      this.pump = pump;
      this.unregister = unregister;
    }

    @Override
    public int remotePort() {
      return remotePort;
    }

    @Override
    public void keepalive() throws SshFailure {
      if (!session.isConnected()) {
        throw new SshFailure("failed to accept connection: EOF");
      }
      Boolean reply;
      try {
        reply = JschThreads.call(() -> GlobalRequests.request(session, KEEPALIVE, KEEPALIVE_TIMEOUT_MS),
            KEEPALIVE_TIMEOUT_MS + 1_000, "ssh keepalive timed out");
      } catch (SshFailure e) {
        throw e;
      } catch (Exception e) {
        throw new SshFailure(session.isConnected() ? "ssh keepalive failed: " + e.getMessage()
            : "failed to accept connection: EOF");
      }
      if (reply == null) {
        throw new SshFailure(session.isConnected() ? "ssh keepalive timed out" : "failed to accept connection: EOF");
      }
      if (!reply) {
        throw new SshFailure("ssh keepalive rejected");
      }
    }

    @Override
    public boolean isOpen() {
      return session.isConnected();
    }

    @Override
    public void close() {
      session.disconnect();
      pump.close();
      unregister.run();
    }
  }
}
