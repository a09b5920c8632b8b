package dev.porthole.tunnel;

import com.github.f4b6a3.ulid.UlidCreator;
import dev.porthole.bus.TunnelEvent;
import dev.porthole.bus.TunnelRequest;
import dev.porthole.bus.TunnelStatus;
import dev.porthole.bus.WorkerSignal;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every tunnel's status and the event log, with Portr's rules for what a worker signal changes and
 * what gets recorded (portr-protocol §6.6). Plain Java, confined to the manager's event loop.
 *
 * <p>Bounded: at most {@code stoppedKept} stopped tunnels are kept (the most recently stopped), so
 * a daemon that has created a hundred thousand tunnels lists and holds only what is recent. Live
 * tunnels are bounded by {@code limits.max_tunnels}, events by {@link #EVENT_CAP}.
 */
final class TunnelRegistry {
  static final int EVENT_CAP = 200;

  static final class Tunnel {
    final String id;
    final TunnelRequest request;
    final Instant startedAt;
    String status = TunnelStatus.STARTING;
    int remotePort;
    String tunnelUrl = "";
    Instant updatedAt;
    Instant stoppedAt;
    String lastError = "";
    boolean stopping;
    /** The lease: when it ends (null: no ttl), whose exit ends it (0: none), and why it ended ("" until then). */
    Instant expiresAt;
    long ownerPid;
    String stopReason = "";

    Tunnel(String id, TunnelRequest request, Instant now) {
      this.id = id;
      this.request = request;
      this.startedAt = now;
      this.updatedAt = now;
    }

    TunnelStatus view() {
      return new TunnelStatus(id, request.name(), status, request.type(), request.host(), request.port(),
          request.subdomain(), remotePort, tunnelUrl, request.responseFormat(), request.callbackUrls(), startedAt,
          updatedAt, stoppedAt, lastError, expiresAt, ownerPid);
    }

    boolean isLive() {
      return !stopping && !status.equals(TunnelStatus.STOPPED);
    }
  }

  private final Map<String, Tunnel> tunnels = new LinkedHashMap<>();
  /** Ids of stopped tunnels, least recently stopped first. */
  private final LinkedHashSet<String> stopped = new LinkedHashSet<>();
  /** Stopped tunnels kept; 0 keeps all. */
  private final int stoppedKept;
  private final Deque<TunnelEvent> events = new ArrayDeque<>();
  private final TunnelCounts counts = new TunnelCounts();
  private long nextSeq = 1;
  private final String node;
  /** Counts every change that a {@link #list()} could show; the version a caller of porthole.tunnels.list holds ({@code if_version}). */
  private long version;

  TunnelRegistry() {
    this(0);
  }

  /** @param stoppedKept stopped tunnels kept for the list ({@code limits.stopped_tunnels_kept}); 0 keeps all */
  TunnelRegistry(int stoppedKept) {
    this(stoppedKept, "");
  }

  /** @param node clustered: this node's name, written into each event; "" for a single app-server */
  TunnelRegistry(int stoppedKept, String node) {
    this.stoppedKept = stoppedKept;
    this.node = node;
  }

  Tunnel create(TunnelRequest request, Instant now) {
    Tunnel t = new Tunnel(UlidCreator.getMonotonicUlid().toString(), request, now);
    tunnels.put(t.id, t);
    counts.move(request.type(), null, t.status);
    version++;
    return t;
  }

  /**
   * Sets the tunnel's lease fields (at registration, and {@code expiresAt} again at each renew); a
   * change the list shows. {@code updated_at} stays: it dates lifecycle changes, as in Portr.
   */
  void lease(Tunnel t, Instant expiresAt, long ownerPid) {
    t.expiresAt = expiresAt;
    t.ownerPid = ownerPid;
    version++;
  }

  Tunnel get(String id) {
    return tunnels.get(id);
  }

  /** Changes whenever what {@link #list()} returns may have changed. */
  long version() {
    return version;
  }

  /** Newest first (started_at descending). */
  List<TunnelStatus> list() {
    List<TunnelStatus> out = new ArrayList<>();
    for (Tunnel t : tunnels.values()) {
      out.add(t.view());
    }
    out.sort(Comparator.comparing(TunnelStatus::startedAt).reversed());
    return out;
  }

  /** Oldest first; all tunnels when {@code tunnelId} is null or empty. */
  List<TunnelEvent> events(String tunnelId) {
    return events(tunnelId, 0);
  }

  /** Oldest first, only those with a sequence number above {@code since}. */
  List<TunnelEvent> events(String tunnelId, long since) {
    List<TunnelEvent> out = new ArrayList<>();
    for (TunnelEvent e : events) {
      if (e.seq() > since && (tunnelId == null || tunnelId.isEmpty() || e.tunnelId().equals(tunnelId))) {
        out.add(e);
      }
    }
    return out;
  }

  int liveCount() {
    int n = 0;
    for (Tunnel t : tunnels.values()) {
      if (t.isLive()) {
        n++;
      }
    }
    return n;
  }

  List<Tunnel> all() {
    return new ArrayList<>(tunnels.values());
  }

  /**
   * Applies a worker signal; returns the event when it is recorded. Signals for unknown tunnels
   * are dropped; after a stop began only {@code stopped} counts.
   */
  Optional<TunnelEvent> apply(WorkerSignal s) {
    Tunnel t = tunnels.get(s.tunnelId());
    if (t == null) {
      return Optional.empty();
    }
    boolean halted = t.stopping || t.status.equals(TunnelStatus.STOPPED);
    if (halted && !s.type().equals(WorkerSignal.STOPPED)) {
      return Optional.empty();
    }
    t.updatedAt = s.at();
    version++;
    boolean record;
    switch (s.type()) {
      case WorkerSignal.STARTED -> {
        record = !t.status.equals(TunnelStatus.RUNNING);
        if (record) {
          setStatus(t, TunnelStatus.RUNNING);
          t.remotePort = s.remotePort();
          t.tunnelUrl = s.tunnelUrl();
          t.lastError = "";
        }
      }
      case WorkerSignal.UNHEALTHY -> {
        record = !(t.status.equals(TunnelStatus.UNHEALTHY) && t.lastError.equals(s.error()));
        if (record) {
          setStatus(t, TunnelStatus.UNHEALTHY);
          t.lastError = s.error();
        }
      }
      case WorkerSignal.RECONNECTED -> {
        record = true;
        setStatus(t, TunnelStatus.RUNNING);
        t.remotePort = s.remotePort();
        t.tunnelUrl = s.tunnelUrl();
        t.lastError = "";
      }
      case WorkerSignal.STOPPED -> {
        record = !t.status.equals(TunnelStatus.STOPPED);
        if (record) {
          setStatus(t, TunnelStatus.STOPPED);
          t.stoppedAt = s.at();
        }
      }
      case WorkerSignal.FAILED -> {
        record = !(t.status.equals(TunnelStatus.FAILED) && t.lastError.equals(s.error()));
        if (record) {
          setStatus(t, TunnelStatus.FAILED);
          t.lastError = s.error();
        }
      }
      default -> record = false;
    }
    if (!record) {
      return Optional.empty();
    }
    TunnelEvent e = new TunnelEvent(UlidCreator.getMonotonicUlid().toString(), t.id, s.type(), t.request.name(),
        t.request.type(), t.request.host(), t.request.port(), t.request.subdomain(), t.remotePort, t.tunnelUrl,
        s.error(), s.at(), nextSeq++, s.type().equals(WorkerSignal.STOPPED) ? t.stopReason : "", node);
    append(e);
    return Optional.of(e);
  }

  /**
   * Clustered: another node's event (relayed, or made up when its owner left) joins this node's
   * list, numbered in this node's order; returns it as recorded.
   */
  TunnelEvent recordRelayed(TunnelEvent foreign) {
    TunnelEvent e = foreign.withSeq(nextSeq++);
    append(e);
    return e;
  }

  private void append(TunnelEvent e) {
    events.addLast(e);
    while (events.size() > EVENT_CAP) {
      events.removeFirst();
    }
  }

  /**
   * The last step of a stop: stopped, with stopped_at = updated_at = now (also on a repeated stop,
   * which makes it the most recently stopped). Forgets the least recently stopped tunnels beyond
   * the bound and returns their ids; a forgotten id is unknown from then on.
   */
  List<String> finishStop(Tunnel t, Instant now) {
    setStatus(t, TunnelStatus.STOPPED);
    t.stoppedAt = now;
    t.updatedAt = now;
    version++;
    stopped.remove(t.id);
    stopped.add(t.id);
    if (stoppedKept <= 0 || stopped.size() <= stoppedKept) {
      return List.of();
    }
    List<String> forgotten = new ArrayList<>();
    Iterator<String> oldest = stopped.iterator();
    while (stopped.size() > stoppedKept) {
      String id = oldest.next();
      oldest.remove();
      Tunnel gone = tunnels.remove(id);
      counts.move(gone.request.type(), gone.status, null);
      forgotten.add(id);
    }
    return forgotten;
  }

  /** The only place a status changes, so that the counts follow. */
  private void setStatus(Tunnel t, String status) {
    counts.move(t.request.type(), t.status, status);
    t.status = status;
  }

  /** Tunnels held by status and type, for the metrics scrape (any thread). */
  TunnelCounts counts() {
    return counts;
  }

  /** Tunnels held, live and stopped. */
  int size() {
    return tunnels.size();
  }
}
