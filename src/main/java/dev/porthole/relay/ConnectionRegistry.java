package dev.porthole.relay;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.config.RelayConfig.SecretKeyEntry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The relay's connection records and HTTP routes (portr-protocol §2.1, §3.1, §8): the single owner
 * of that state. Connections go reserved → active (first forward registered) → closed (last
 * forward gone); a closed id can be re-activated by a new SSH login with the same id (pooled
 * workers reconnecting). Subdomain claims are held by reserved and active connections only.
 *
 * <p>It is a monitor rather than a verticle because MINA's authentication and forwarding callbacks
 * are synchronous: every change happens under this object's lock, in short critical sections with
 * no I/O. The edge reads routes on every request without taking the lock.
 */
public final class ConnectionRegistry {
  public enum Type { HTTP, TCP }

  public enum Status { RESERVED, ACTIVE, CLOSED }

  /** What {@link #reserve} decided. */
  public enum Outcome { CREATED, INVALID_SECRET, RESERVED_SUBDOMAIN, SUBDOMAIN_IN_USE, TOO_MANY_RESERVED }

  public record Reservation(Outcome outcome, String connectionId) {
  }

  /** A forward's listener, as the edge dials it. */
  public record Backend(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /** A read-only view of one record, for the admin API, pings and tests. */
  public record ConnectionView(String id, Type type, String subdomain, Status status, Integer port,
      int forwards, Instant createdAt, Instant startedAt, Instant closedAt) {
  }

  /** The backends of one subdomain, in registration order, with its round-robin position. */
  public static final class Route {
    private final List<Backend> backends;
    private final AtomicInteger next;

    private Route(List<Backend> backends, AtomicInteger next) {
      this.backends = List.copyOf(backends);
      this.next = next;
    }

    public List<Backend> backends() {
      return backends;
    }

    /** Up to {@code max} backends starting at the round-robin index, which advances by one per call. */
    public List<Backend> pick(int max) {
      int size = backends.size();
      int start = Math.floorMod(next.getAndIncrement(), size);
      List<Backend> out = new ArrayList<>(Math.min(max, size));
      for (int i = 0; i < Math.min(max, size); i++) {
        out.add(backends.get((start + i) % size));
      }
      return out;
    }
  }

  private static final class Conn {
    final String id;
    final Type type;
    final String subdomain;
    final String ownerKey;
    final Instant createdAt;
    Status status = Status.RESERVED;
    Instant startedAt;
    Instant closedAt;
    Integer port;
    /** Forwards bound or being bound, by lease key. */
    final Set<String> pending = new HashSet<>();
    final Map<String, Backend> leases = new HashMap<>();

    Conn(String id, Type type, String subdomain, String ownerKey, Instant createdAt) {
      this.id = id;
      this.type = type;
      this.subdomain = subdomain;
      this.ownerKey = ownerKey;
      this.createdAt = createdAt;
    }

    ConnectionView view() {
      return new ConnectionView(id, type, subdomain, status, port, leases.size(), createdAt, startedAt, closedAt);
    }
  }

  private final Clock clock;
  private final List<SecretKeyEntry> keys;
  private final Map<String, Conn> byId = new HashMap<>();
  /** subdomain → id of the reserved or active connection that holds it. */
  private final Map<String, String> claims = new HashMap<>();
  private final ConcurrentHashMap<String, Route> routes = new ConcurrentHashMap<>();
  /** Open SSH sessions per owner key. */
  private final Map<String, Integer> sessions = new HashMap<>();
  private final int maxSessionsPerKey;
  private final int maxReservedPerKey;

  public ConnectionRegistry(List<SecretKeyEntry> keys, Clock clock) {
    this(keys, clock, Integer.MAX_VALUE, Integer.MAX_VALUE);
  }

  public ConnectionRegistry(List<SecretKeyEntry> keys, Clock clock, int maxSessionsPerKey, int maxReservedPerKey) {
    this.keys = List.copyOf(keys);
    this.clock = clock;
    this.maxSessionsPerKey = maxSessionsPerKey;
    this.maxReservedPerKey = maxReservedPerKey;
  }

  /** Creates a reserved connection (portr-protocol §2.1); the caller has validated the input's shape. */
  public synchronized Reservation reserve(String secretKey, Type type, String subdomain) {
    SecretKeyEntry owner = keyEntry(secretKey);
    if (owner == null) {
      return new Reservation(Outcome.INVALID_SECRET, null);
    }
    if (type == Type.HTTP) {
      for (SecretKeyEntry other : keys) {
        if (other != owner && other.reservedSubdomains().contains(subdomain)) {
          return new Reservation(Outcome.RESERVED_SUBDOMAIN, null);
        }
      }
      if (claims.containsKey(subdomain)) {
        return new Reservation(Outcome.SUBDOMAIN_IN_USE, null);
      }
    }
    long reserved = byId.values().stream()
        .filter(c -> c.status == Status.RESERVED && c.ownerKey.equals(owner.key())).count();
    if (reserved >= maxReservedPerKey) {
      return new Reservation(Outcome.TOO_MANY_RESERVED, null);
    }
    String id = UlidCreator.getMonotonicUlid().toString();
    Conn conn = new Conn(id, type, type == Type.HTTP ? subdomain : null, owner.key(), clock.instant());
    byId.put(id, conn);
    if (type == Type.HTTP) {
      claims.put(subdomain, id);
    }
    return new Reservation(Outcome.CREATED, id);
  }

  /**
   * SSH authentication (portr-protocol §3.1): the user is {@code <connection_id>:<secret_key>}; the
   * connection may be in any state, and its creator's key must equal the second half.
   */
  public synchronized boolean authenticate(String user) {
    int colon = user == null ? -1 : user.indexOf(':');
    if (colon < 0) {
      return false;
    }
    Conn conn = byId.get(user.substring(0, colon));
    return conn != null && constantTimeEquals(conn.ownerKey, user.substring(colon + 1));
  }

  /**
   * Counts an authenticated SSH session against its key's limit. Returns a handle for {@link
   * #closeSession}, or null when the key already has {@code max_connections_per_key} sessions open
   * (or the connection is unknown).
   */
  public synchronized String openSession(String connectionId) {
    Conn conn = byId.get(connectionId);
    if (conn == null) {
      return null;
    }
    int open = sessions.getOrDefault(conn.ownerKey, 0);
    if (open >= maxSessionsPerKey) {
      return null;
    }
    sessions.put(conn.ownerKey, open + 1);
    return conn.ownerKey;
  }

  /** Releases a session counted by {@link #openSession}; {@code handle} is what that returned. */
  public synchronized void closeSession(String handle) {
    sessions.computeIfPresent(handle, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** The connection id part of an SSH user name (never log the whole user: it holds the secret). */
  public static String connectionIdOf(String user) {
    int colon = user == null ? -1 : user.indexOf(':');
    return colon < 0 ? "" : user.substring(0, colon);
  }

  public synchronized Type typeOf(String connectionId) {
    Conn conn = byId.get(connectionId);
    return conn == null ? null : conn.type;
  }

  /**
   * Claims a forward slot before binding. Returns null when the forward may go ahead, else the
   * reason it may not (tcp connections carry exactly one forward; an http subdomain held by another
   * connection cannot be re-activated).
   */
  public synchronized String acquire(String connectionId, String leaseKey) {
    Conn conn = byId.get(connectionId);
    if (conn == null) {
      return "unknown connection";
    }
    if (conn.pending.contains(leaseKey) || conn.leases.containsKey(leaseKey)) {
      return null;
    }
    if (conn.type == Type.TCP && (!conn.pending.isEmpty() || !conn.leases.isEmpty())) {
      return "tcp connection already has an active forward";
    }
    if (conn.type == Type.HTTP) {
      String holder = claims.get(conn.subdomain);
      if (holder != null && !holder.equals(connectionId)) {
        return "subdomain already in use";
      }
    }
    conn.pending.add(leaseKey);
    return null;
  }

  /**
   * The forward's listener is bound: register it under {@code leaseKey} (it was acquired as {@code
   * pendingKey}, before the port was known), activate the connection, route HTTP traffic.
   */
  public synchronized void activate(String connectionId, String pendingKey, String leaseKey, Backend backend) {
    Conn conn = byId.get(connectionId);
    if (conn == null || !conn.pending.remove(pendingKey)) {
      return;
    }
    boolean first = conn.leases.isEmpty();
    conn.leases.put(leaseKey, backend);
    if (first) {
      conn.status = Status.ACTIVE;
      conn.startedAt = clock.instant();
      conn.closedAt = null;
      if (conn.type == Type.TCP) {
        conn.port = backend.port();
      } else {
        claims.put(conn.subdomain, conn.id);
      }
    }
    if (conn.type == Type.HTTP) {
      routes.compute(conn.subdomain, (sub, route) -> {
        List<Backend> list = new ArrayList<>(route == null ? List.of() : route.backends);
        if (!list.contains(backend)) {
          list.add(backend);
        }
        return new Route(list, route == null ? new AtomicInteger() : route.next);
      });
    }
  }

  /** Undoes {@link #acquire} when binding failed. */
  public synchronized void abandon(String connectionId, String leaseKey) {
    Conn conn = byId.get(connectionId);
    if (conn != null) {
      conn.pending.remove(leaseKey);
    }
  }

  /**
   * A forward went away (cancelled, or its SSH session ended). Idempotent. The last one closes the
   * connection and frees its subdomain.
   */
  public synchronized void release(String connectionId, String leaseKey) {
    Conn conn = byId.get(connectionId);
    if (conn == null) {
      return;
    }
    conn.pending.remove(leaseKey);
    Backend backend = conn.leases.remove(leaseKey);
    if (backend == null) {
      return;
    }
    if (conn.type == Type.HTTP) {
      routes.computeIfPresent(conn.subdomain, (sub, route) -> {
        List<Backend> list = new ArrayList<>(route.backends);
        list.remove(backend);
        return list.isEmpty() ? null : new Route(list, route.next);
      });
    }
    if (conn.leases.isEmpty()) {
      close(conn);
    }
  }

  private void close(Conn conn) {
    conn.status = Status.CLOSED;
    conn.closedAt = clock.instant();
    if (conn.subdomain != null && conn.id.equals(claims.get(conn.subdomain))) {
      claims.remove(conn.subdomain);
    }
  }

  /**
   * Forgets a subdomain's route while its forwards stay up: what a relay that lost its routing
   * state looks like from outside (a Portr server whose proxy and database disagree). porthole's
   * relay never does this itself; tests use it to check that clients notice and repair it.
   */
  public synchronized void simulateLostRoute(String subdomain) {
    routes.remove(subdomain);
  }

  /** The HTTP route of a subdomain, or null. Lock-free: called by the edge on every request. */
  public Route route(String subdomain) {
    return routes.get(subdomain);
  }

  public synchronized ConnectionView get(String connectionId) {
    Conn conn = byId.get(connectionId);
    return conn == null ? null : conn.view();
  }

  public synchronized List<ConnectionView> active() {
    List<ConnectionView> out = new ArrayList<>();
    for (Conn conn : byId.values()) {
      if (conn.status == Status.ACTIVE) {
        out.add(conn.view());
      }
    }
    return out;
  }

  /**
   * The reconciliation ping found no route for an active connection: close its record, unless a
   * forward was registered in the meantime.
   */
  public synchronized boolean closeUnrouted(String connectionId) {
    Conn conn = byId.get(connectionId);
    if (conn == null || conn.status != Status.ACTIVE || !conn.leases.isEmpty()) {
      return false;
    }
    close(conn);
    return true;
  }

  /**
   * Deletes reserved connections never used within {@code reservedTtl} (freeing their subdomains),
   * closed records older than {@code closedTtl}, and the least recently closed records beyond
   * {@code closedKept} (0: no such bound). Returns how many were deleted.
   */
  public synchronized int sweep(Duration reservedTtl, Duration closedTtl, int closedKept) {
    Instant now = clock.instant();
    int removed = 0;
    for (var it = byId.values().iterator(); it.hasNext(); ) {
      Conn conn = it.next();
      boolean expired = switch (conn.status) {
        case RESERVED -> conn.pending.isEmpty() && conn.createdAt.plus(reservedTtl).isBefore(now);
        case CLOSED -> conn.pending.isEmpty() && conn.closedAt.plus(closedTtl).isBefore(now);
        case ACTIVE -> false;
      };
      if (expired) {
        forget(conn);
        it.remove();
        removed++;
      }
    }
    if (closedKept > 0) {
      List<Conn> closed = new ArrayList<>();
      for (Conn conn : byId.values()) {
        if (conn.status == Status.CLOSED && conn.pending.isEmpty()) {
          closed.add(conn);
        }
      }
      if (closed.size() > closedKept) {
        closed.sort(Comparator.comparing((Conn c) -> c.closedAt));
        for (Conn conn : closed.subList(0, closed.size() - closedKept)) {
          forget(conn);
          byId.remove(conn.id);
          removed++;
        }
      }
    }
    return removed;
  }

  private void forget(Conn conn) {
    if (conn.subdomain != null && conn.id.equals(claims.get(conn.subdomain))) {
      claims.remove(conn.subdomain);
    }
  }

  private SecretKeyEntry keyEntry(String secret) {
    SecretKeyEntry found = null;
    for (SecretKeyEntry entry : keys) {
      // Compare against every key so the time taken does not tell which one matched.
      if (constantTimeEquals(entry.key(), secret)) {
        found = entry;
      }
    }
    return found;
  }

  static boolean constantTimeEquals(String expected, String actual) {
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
        actual.getBytes(StandardCharsets.UTF_8));
  }
}
