package dev.porthole.relay;

import dev.porthole.relay.ConnectionRegistry.Backend;
import dev.porthole.relay.ConnectionRegistry.Type;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.sshd.common.forward.DefaultForwarder;
import org.apache.sshd.common.io.IoAcceptor;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per SSH session: grants {@code tcpip-forward} by Portr's rules (portr-protocol §3.1) and keeps
 * the registry in step with the listeners it binds.
 *
 * <p>Where a listener binds is the relay's choice, not the client's: an HTTP connection's forward is
 * reached only by the edge, so it binds loopback; a TCP connection's forward is the public endpoint
 * and binds {@code relay.public_host}. The {@code forwarded-tcpip} channels still announce the
 * address the client asked for, which is how clients match them to their forwards. Port 0 allocates
 * a free port; the reply always carries the bound port.
 */
final class PortrForwarder extends DefaultForwarder {
  // Not named after this class: MINA's inherited logging uses the class name, and follows MINA's levels.
  private static final Logger LOG = LoggerFactory.getLogger("dev.porthole.relay.forward");
  static final String HTTP_BIND_HOST = "127.0.0.1";

  private final ConnectionRegistry registry;
  private final String publicHost;
  /** bound port → lease key, for the forwards this session holds. Guarded by this. */
  private final Map<Integer, String> leases = new HashMap<>();
  private final String sessionKey = UUID.randomUUID().toString();

  PortrForwarder(ConnectionService service, ConnectionRegistry registry, String publicHost) {
    super(service);
    this.registry = registry;
    this.publicHost = publicHost;
  }

  private String connectionId() {
    String id = getSession().getAttribute(RelaySshServer.CONNECTION_ID);
    if (id == null) {
      throw new IllegalStateException("forward requested on a session with no authenticated connection");
    }
    return id;
  }

  @Override
  public synchronized SshdSocketAddress localPortForwardingRequested(SshdSocketAddress requested) throws IOException {
    String connectionId = connectionId();
    String pendingKey = sessionKey + "/pending/" + UUID.randomUUID();
    String refusal = registry.acquire(connectionId, pendingKey);
    if (refusal != null) {
      LOG.info("forward(connection={}, port={}) refused: {}", connectionId, requested.getPort(), refusal);
      return null;
    }
    SshdSocketAddress bound;
    try {
      bound = super.localPortForwardingRequested(requested);
    } catch (IOException | RuntimeException e) {
      registry.abandon(connectionId, pendingKey);
      LOG.info("forward(connection={}, port={}) refused: cannot listen: {}", connectionId, requested.getPort(),
          e.getMessage());
      throw e;
    }
    if (bound == null) {
      registry.abandon(connectionId, pendingKey);
      return null;
    }
    String leaseKey = sessionKey + "/" + bound.getPort();
    leases.put(bound.getPort(), leaseKey);
    registry.activate(connectionId, pendingKey, leaseKey, new Backend(bindHostFor(connectionId), bound.getPort()));
    LOG.info("forward(connection={}, type={}) listening on {}:{}", connectionId,
        registry.typeOf(connectionId) == Type.HTTP ? "http" : "tcp", bindHostFor(connectionId), bound.getPort());
    return bound;
  }

  @Override
  public synchronized void localPortForwardingCancelled(SshdSocketAddress local) throws IOException {
    super.localPortForwardingCancelled(local);
    String leaseKey = leases.remove(local.getPort());
    if (leaseKey != null) {
      registry.release(connectionId(), leaseKey);
      LOG.info("forward(connection={}, port={}) cancelled", connectionId(), local.getPort());
    }
  }

  @Override
  protected InetSocketAddress doBind(SshdSocketAddress requested, IoAcceptor acceptor) throws IOException {
    return super.doBind(new SshdSocketAddress(bindHostFor(connectionId()), requested.getPort()), acceptor);
  }

  private String bindHostFor(String connectionId) {
    return registry.typeOf(connectionId) == Type.HTTP ? HTTP_BIND_HOST : publicHost;
  }

  /** The session is ending: every forward it held goes with it. */
  @Override
  protected void preClose() {
    List<String> held;
    synchronized (this) {
      held = List.copyOf(leases.values());
      leases.clear();
    }
    String connectionId = getSession().getAttribute(RelaySshServer.CONNECTION_ID);
    if (connectionId != null && !held.isEmpty()) {
      for (String leaseKey : held) {
        registry.release(connectionId, leaseKey);
      }
      LOG.info("forward(connection={}) {} forward(s) torn down with the SSH session", connectionId, held.size());
    }
    super.preClose();
  }

}
