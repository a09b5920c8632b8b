package dev.porthole.testsupport;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A JSch session to a relay the way Portr's client opens it: user {@code <connection_id>:<secret>},
 * empty password, remote forwards on {@code 0.0.0.0} over random candidate ports.
 */
public final class JschTunnel implements AutoCloseable {
  private final Session session;
  private int remotePort;

  private JschTunnel(Session session) {
    this.session = session;
  }

  /** Connects and authenticates (10 s limit); throws JSchException when the relay refuses. */
  public static JschTunnel connect(int sshPort, String connectionId, String secret) throws JSchException {
    Session s = new JSch().getSession(connectionId + ":" + secret, "127.0.0.1", sshPort);
    s.setPassword("");
    s.setConfig("StrictHostKeyChecking", "no");
    s.setConfig("PreferredAuthentications", "password");
    s.setDaemonThread(true);
    s.connect(10_000);
    return new JschTunnel(s);
  }

  /**
   * Forwards a random port of [from, to) on the relay to {@code 127.0.0.1:localPort}, trying up to
   * ten candidates as Portr does; returns the port the relay granted.
   */
  public int forward(int from, int to, int localPort) throws JSchException {
    return forward(from, to, candidate -> session.setPortForwardingR("0.0.0.0", candidate, "127.0.0.1", localPort));
  }

  /**
   * Forwards a random tcp port of the relay to a JSch {@code ForwardedTCPIPDaemon} (made by class
   * name, one per connection, given {@code arg}); returns the port the relay granted.
   */
  public int forwardTcpToDaemon(Class<?> daemon, Object[] arg) throws JSchException {
    return forward(30001, 40001, candidate -> session.setPortForwardingR("0.0.0.0", candidate, daemon.getName(), arg));
  }

  private interface ForwardRequest {
    void request(int candidate) throws JSchException;
  }

  private int forward(int from, int to, ForwardRequest request) throws JSchException {
    JSchException last = null;
    for (int i = 0; i < 10; i++) {
      int candidate = ThreadLocalRandom.current().nextInt(from, to);
      try {
        request.request(candidate);
        remotePort = candidate;
        return candidate;
      } catch (JSchException e) {
        last = e;
      } finally {
        Thread.interrupted();
      }
    }
    throw last;
  }

  public int forwardHttp(int localPort) throws JSchException {
    return forward(20000, 30000, localPort);
  }

  public int forwardTcp(int localPort) throws JSchException {
    return forward(30001, 40001, localPort);
  }

  public int remotePort() {
    return remotePort;
  }

  public Session session() {
    return session;
  }

  @Override
  public void close() {
    session.disconnect();
  }
}
