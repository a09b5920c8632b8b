package dev.porthole.relay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.RequestHandler.Result;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.session.helpers.AbstractConnectionServiceRequestHandler;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.keyboard.InteractiveChallenge;
import org.apache.sshd.server.auth.keyboard.KeyboardInteractiveAuthenticator;
import org.apache.sshd.server.auth.keyboard.UserAuthKeyboardInteractiveFactory;
import org.apache.sshd.server.auth.password.UserAuthPasswordFactory;
import org.apache.sshd.server.forward.TcpForwardingFilter;
import org.apache.sshd.server.global.CancelTcpipForwardHandler;
import org.apache.sshd.server.global.TcpipForwardHandler;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's SSH server (Apache MINA SSHD), with the Portr server's semantics (portr-protocol §3.1):
 * the user is {@code <connection_id>:<secret_key>} and the password is ignored; only remote
 * forwards ({@code ssh -R}) are granted, by {@link PortrForwarder}; {@code keepalive@openssh.com}
 * succeeds and every other global request fails. No shells, no local forwards.
 *
 * <p>Besides Portr's password method it offers keyboard-interactive with no prompts, so a stock
 * OpenSSH client connects without asking for the (ignored) password.
 */
public final class RelaySshServer {
  private static final Logger log = LoggerFactory.getLogger(RelaySshServer.class);
  /** The connection id of an authenticated session (never the user name: it holds the secret). */
  static final AttributeKey<String> CONNECTION_ID = new AttributeKey<>();
  /** The handle of the session's slot in its key's session limit. */
  static final AttributeKey<String> SESSION_SLOT = new AttributeKey<>();
  static final String KEEPALIVE = "keepalive@openssh.com";

  private final SshServer sshd;
  private final SimpleGeneratorHostKeyProvider hostKeys;

  private final ConnectionRegistry registry;
  private final AuthThrottle throttle;

  /**
   * @param windowBytes the receive window each channel advertises ({@code relay.ssh_window_bytes})
   * @param packetBytes the largest data packet a channel takes ({@code relay.ssh_packet_bytes})
   */
  public RelaySshServer(ConnectionRegistry registry, String bindHost, int port, Path hostKey, String publicHost,
      Duration authTimeout, int maxAuthFailuresPerMinute, long windowBytes, int packetBytes) {
    this.registry = registry;
    this.throttle = new AuthThrottle(maxAuthFailuresPerMinute, System::currentTimeMillis);
    sshd = SshServer.setUpDefaultServer();
    sshd.setIoServiceFactoryFactory(new HalfCloseNio2());
    sshd.setHost(bindHost);
    sshd.setPort(port);
    hostKeys = new SimpleGeneratorHostKeyProvider(hostKey);
    hostKeys.setAlgorithm(KeyUtils.EC_ALGORITHM);
    hostKeys.setKeySize(256);
    sshd.setKeyPairProvider(hostKeys);

    sshd.setUserAuthFactories(List.of(UserAuthKeyboardInteractiveFactory.INSTANCE, UserAuthPasswordFactory.INSTANCE));
    sshd.setPublickeyAuthenticator(null);
    sshd.setPasswordAuthenticator((user, password, session) -> authenticate(user, session));
    sshd.setKeyboardInteractiveAuthenticator(new KeyboardInteractiveAuthenticator() {
      @Override
      public InteractiveChallenge generateChallenge(ServerSession session, String user, String lang, String sub) {
        return new InteractiveChallenge();
      }

      @Override
      public boolean authenticate(ServerSession session, String user, List<String> responses) {
        return RelaySshServer.this.authenticate(user, session);
      }
    });

    sshd.setForwardingFilter(org.apache.sshd.server.forward.ForwardingFilter.asForwardingFilter(null, null,
        new TcpForwardingFilter() {
          @Override
          public boolean canListen(SshdSocketAddress address, Session session) {
            return session.getAttribute(CONNECTION_ID) != null;
          }

          @Override
          public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
            return false;
          }
        }));
    sshd.setForwarderFactory(service -> new PortrForwarder(service, registry, publicHost));
    sshd.setGlobalRequestHandlers(List.of(new PortrKeepAlive(),
        TcpipForwardHandler.INSTANCE, CancelTcpipForwardHandler.INSTANCE));
    sshd.setChannelFactories(List.of(new NoChannels()));

    // Portr clients keep their sessions busy with keepalives; a plain `ssh -R` may stay silent for
    // hours, so sessions never idle out. Dead peers are found by the server's own heartbeat instead.
    CoreModuleProperties.IDLE_TIMEOUT.set(sshd, Duration.ZERO);
    CoreModuleProperties.HEARTBEAT_INTERVAL.set(sshd, Duration.ofSeconds(15));
    CoreModuleProperties.HEARTBEAT_REPLY_WAIT.set(sshd, Duration.ofSeconds(10));
    CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(sshd, 3);
    CoreModuleProperties.AUTH_TIMEOUT.set(sshd, authTimeout);
    CoreModuleProperties.SOCKET_KEEPALIVE.set(sshd, true);
    // Both the SSH connections and the sockets accepted on forward listeners: with Nagle on, a
    // response that leaves in two writes waits for the peer's delayed ACK (40 ms per request
    // through the HTTP edge, bench P3).
    CoreModuleProperties.TCP_NODELAY.set(sshd, true);
    // What a client may send on one forwarded connection per round trip: downloads through a tunnel
    // (local service → public) run at about window / RTT. MINA's 2 MiB held them to ~100 MB/s at
    // 20 ms (bench P2), where porthole's own client already advertises 8 MiB the other way.
    CoreModuleProperties.WINDOW_SIZE.set(sshd, windowBytes);
    CoreModuleProperties.MAX_PACKET_SIZE.set(sshd, (long) packetBytes);
    // MINA 2.20 fails a key exchange that both sides start at once: the client's next KEX message
    // is handled before the server has finished negotiating (NullPointerException on "this.kex"),
    // and the session is closed with every tunnel on it. OpenSSH clients rekey after 1 GiB with
    // chacha20-poly1305, which is also where MINA's own limits (bytes, and blocks of that cipher)
    // lie, so a bulk transfer through `ssh -R` hit it every few GiB (bench P1). The relay's limits
    // sit past the clients': a client that rekeys resets both counters first, and the relay still
    // rekeys sessions whose client never does (JSch) after 4 GiB.
    CoreModuleProperties.REKEY_BYTES_LIMIT.set(sshd, 4L << 30);
    CoreModuleProperties.REKEY_BLOCKS_LIMIT.set(sshd, 1L << 29);
    sshd.addSessionListener(new SessionListener() {
      @Override
      public void sessionCreated(Session session) {
        String address = addressOf(session);
        if (throttle.blocked(address)) {
          log.info("connect(from={}) refused: too many failed logins from this address", address);
          session.close(true);
        }
      }

      @Override
      public void sessionClosed(Session session) {
        String slot = session.getAttribute(SESSION_SLOT);
        if (slot != null) {
          registry.closeSession(slot);
        }
      }
    });
  }

  static String addressOf(Session session) {
    return session.getIoSession().getRemoteAddress() instanceof InetSocketAddress a
        ? a.getAddress().getHostAddress() : String.valueOf(session.getIoSession().getRemoteAddress());
  }

  private boolean authenticate(String user, ServerSession session) {
    String connectionId = ConnectionRegistry.connectionIdOf(user);
    String shown = connectionId.isEmpty() ? "-" : connectionId;
    String address = addressOf(session);
    if (throttle.blocked(address)) {
      log.info("auth(connection={}) from {} refused: too many failed logins from this address", shown, address);
      session.close(true);
      return false;
    }
    if (!registry.authenticate(user)) {
      int failures = throttle.failed(address);
      log.info("auth(connection={}) from {} refused: unknown connection or wrong secret key ({} failure(s) this minute)",
          shown, address, failures);
      return false;
    }
    String slot = registry.openSession(connectionId);
    if (slot == null) {
      log.warn("auth(connection={}) from {} refused: its secret key has reached relay.max_connections_per_key",
          shown, address);
      return false;
    }
    session.setAttribute(CONNECTION_ID, connectionId);
    session.setAttribute(SESSION_SLOT, slot);
    log.info("auth(connection={}) from {} accepted", shown, address);
    return true;
  }

  /** Binds the SSH port. Blocking. */
  public void start() throws IOException {
    sshd.start();
  }

  public int port() {
    return sshd.getPort();
  }

  /** The host key (generated and saved on first start). Blocking file I/O. */
  public PublicKey hostKey() throws IOException, GeneralSecurityException {
    Iterator<KeyPair> it = hostKeys.loadKeys(null).iterator();
    if (!it.hasNext()) {
      throw new GeneralSecurityException("no host key could be loaded or generated");
    }
    return it.next().getPublic();
  }

  public static String fingerprint(PublicKey key) {
    return KeyUtils.getFingerPrint(key);
  }

  /** {@code <type> <base64>}, as a known_hosts or authorized_keys line carries it. */
  public static String publicKeyLine(PublicKey key) {
    return PublicKeyEntry.toString(key);
  }

  /** Closes the listener and every session (and so every forward). Blocking, bounded. */
  public void stop() {
    try {
      sshd.stop(true);
    } catch (IOException e) {
      log.warn("ssh server stop failed: {}", e.getMessage());
    }
  }

  /** {@code keepalive@openssh.com} succeeds, as on Portr's server; other names fall through. */
  private static final class PortrKeepAlive extends AbstractConnectionServiceRequestHandler {
    @Override
    public Result process(ConnectionService service, String request, boolean wantReply, Buffer buffer) {
      return KEEPALIVE.equals(request) ? Result.ReplySuccess : Result.Unsupported;
    }
  }

  /** Refuses every channel a client opens (shells, exec, local forwards): this server only forwards. */
  private static final class NoChannels implements ChannelFactory {
    @Override
    public String getName() {
      return "porthole-no-channels";
    }

    @Override
    public Channel createChannel(Session session) {
      return null;
    }
  }
}
