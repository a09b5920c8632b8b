package dev.porthole.tunnel;

import java.io.File;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every live tunnel's lease, indexed for one schedule: expiry times in order (the manager keeps one
 * timer, armed to {@link #earliest()}), and owner processes by pid (the manager checks each distinct
 * owner once per tick, however many tunnels it owns). Plain Java, confined to the manager's event
 * loop, except {@link #exited}, which is pure and runs on a worker thread.
 *
 * <p>Bounded by the live tunnels: the manager {@link #forget}s a tunnel when it stops.
 */
final class LeaseSchedule {
  private record Expiry(Instant at, String id) {
  }

  private static final Comparator<Expiry> ORDER = Comparator.comparing(Expiry::at).thenComparing(Expiry::id);

  /** A process that owns tunnels: its handle (taken at registration, so a reused pid is told apart) and its tunnels. */
  private record Owner(ProcessHandle handle, Set<String> tunnels) {
  }

  private final TreeSet<Expiry> byTime = new TreeSet<>(ORDER);
  private final Map<String, Expiry> expiries = new HashMap<>();
  private final Map<Long, Owner> owners = new HashMap<>();
  private final Map<String, Long> ownerOf = new HashMap<>();

  /** Sets or moves the tunnel's expiry. */
  void expireAt(String id, Instant at) {
    Expiry old = expiries.put(id, new Expiry(at, id));
    if (old != null) {
      byTime.remove(old);
    }
    byTime.add(expiries.get(id));
  }

  /** The tunnel stops when {@code owner} exits. */
  void own(String id, ProcessHandle owner) {
    dropOwner(id);
    owners.computeIfAbsent(owner.pid(), pid -> new Owner(owner, new LinkedHashSet<>())).tunnels().add(id);
    ownerOf.put(id, owner.pid());
  }

  /** The tunnel has no lease any more (it stops); idempotent. */
  void forget(String id) {
    Expiry e = expiries.remove(id);
    if (e != null) {
      byTime.remove(e);
    }
    dropOwner(id);
  }

  private void dropOwner(String id) {
    Long pid = ownerOf.remove(id);
    if (pid == null) {
      return;
    }
    Owner o = owners.get(pid);
    o.tunnels().remove(id);
    if (o.tunnels().isEmpty()) {
      owners.remove(pid);
    }
  }

  /** The next expiry, or null when no tunnel has a ttl. */
  Instant earliest() {
    return byTime.isEmpty() ? null : byTime.first().at();
  }

  /** The tunnels whose lease ended at or before {@code now}, earliest first; their expiry is removed. */
  List<String> due(Instant now) {
    List<String> out = new ArrayList<>();
    while (!byTime.isEmpty() && !byTime.first().at().isAfter(now)) {
      Expiry e = byTime.pollFirst();
      expiries.remove(e.id());
      out.add(e.id());
    }
    return out;
  }

  boolean hasOwners() {
    return !owners.isEmpty();
  }

  /** One handle per distinct owner process, a snapshot for {@link #exited}. */
  List<ProcessHandle> owners() {
    List<ProcessHandle> out = new ArrayList<>(owners.size());
    owners.values().forEach(o -> out.add(o.handle()));
    return out;
  }

  /** The tunnels {@code pid} owns, in the order they were leased. */
  List<String> ownedBy(long pid) {
    Owner o = owners.get(pid);
    return o == null ? List.of() : new ArrayList<>(o.tunnels());
  }

  /** Tunnels with a ttl, and distinct owner processes: what the schedule holds. */
  int expiries() {
    return expiries.size();
  }

  int ownerCount() {
    return owners.size();
  }

  private static final File PROC = new File("/proc");
  private static final boolean HAS_PROC = new File(PROC, "self").isDirectory();

  /**
   * The pids of those processes that have exited. Blocking (file system), so off the event loop.
   * On Linux a process is alive while {@code /proc/<pid>} exists: one {@code stat} call, about a
   * fifth of what {@link ProcessHandle#isAlive()} costs (it reads and parses {@code
   * /proc/<pid>/stat}), which counts with a thousand owners checked every second. A pid reused by a
   * new process within one check interval would go unnoticed; the handle's own check (start time
   * included) is what other systems get.
   */
  static List<Long> exited(List<ProcessHandle> handles) {
    List<Long> out = new ArrayList<>();
    for (ProcessHandle h : handles) {
      boolean alive = HAS_PROC ? new File(PROC, Long.toString(h.pid())).exists() : h.isAlive();
      if (!alive) {
        out.add(h.pid());
      }
    }
    return out;
  }
}
