package dev.porthole.requestlog;

import dev.porthole.bus.Capture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * The one thread that writes the request log: a bounded queue (captures and bytes), batched
 * transactions, the running row count and its cap, retention, and the database's state. Callers
 * never wait: {@link #offer} queues or drops (and counts). While the database cannot be used, the
 * writer tries again every {@code retryMs}, the queue fills up to its bound, and the rest is dropped.
 */
final class CaptureWriter {
  private static final Logger log = LoggerFactory.getLogger(CaptureWriter.class);
  static final String THREAD = "porthole-requestlog-writer";
  /** At most this many captures per transaction: {@link #LINGER_MS} at 10 000 requests a second. */
  static final int BATCH = 1_000;
  /**
   * How long the writer lets captures gather before a transaction: each commit writes every page it
   * touched to the WAL (the table's and each index's newest pages again), so one transaction per
   * request cost several times the insert itself. 100 ms cost 15 % less per capture than 25 ms
   * (bench W1: 37 against 44-49 µs; 250 ms gained 1 µs more). A capture is visible (API, live
   * feed) at most this much later.
   */
  static final long LINGER_MS = 100;
  static final long MAX_QUEUED_BYTES = 64L << 20;
  static final long MAINTENANCE_MS = 3_600_000;

  /** What {@code porthole.requests.state} reports. */
  record State(String state, String reason, int queued, long dropped, long written) {
  }

  /**
   * The live feed's numbering of committed requests, from 1 in this process (kept nowhere: the
   * database would pay a B-tree write per request for it). Process-wide, so a request log that
   * is deployed again goes on from where the last one stopped.
   */
  private static final AtomicLong SEQ = new AtomicLong();

  /** A request row committed, with its commit order and the time it was stored with. */
  record Committed(Capture.Exchange exchange, long seq, Instant loggedAt) {
  }

  /** Work for the writer's connection (a delete from the API), run in its own transaction. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  interface Listener {
    /** Called on the writer thread after each commit that stored requests. */
    void committed(List<Committed> batch);
  }

  private final Path path;
  private final int maxQueued;
  private final long maxBytes;
  private final long maxRows;
  private final int retentionDays;
  private final Listener listener;
  private final Clock clock;
  final long retryMs;
  final int busyTimeoutMs;
  /** Test hook: while set, the writer waits on it before taking a batch. */
  volatile CountDownLatch stall;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final ArrayDeque<Capture> queue = new ArrayDeque<>();
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private long queuedBytes;
  private boolean running = true;
  private boolean dropping;
  private boolean stoppingLogged;
  private long burstDrops;

  /** Exchanges committed from a shared insert ({@link Store#insertExchanges}); for tests. */
  final AtomicLong sharedRows = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private volatile String state = "off";
  private volatile String reason;
  private volatile int pendingCount;

  // writer thread only
  private Connection conn;
  /** {@link #conn} with its statements. */
  private Prepared prepared;
  private long rowCount;
  private long nextOpenAt;
  private long nextMaintenanceAt;
  private List<Capture> pending;
  /** The pending batch that already failed once unexpectedly: failing again, it is dropped. */
  private List<Capture> failedOnce;
  /** Whether the connection was open before (sessions left open are closed at the first open only). */
  private boolean openedBefore;
  private boolean loggedRefusal;
  private final Thread thread;

  CaptureWriter(Path path, int maxQueued, long maxRows, int retentionDays, Listener listener, Clock clock,
      long retryMs, int busyTimeoutMs) {
    this.path = path;
    this.maxQueued = maxQueued;
    this.maxBytes = MAX_QUEUED_BYTES;
    this.maxRows = maxRows;
    this.retentionDays = retentionDays;
    this.listener = listener;
    this.clock = clock;
    this.retryMs = retryMs;
    this.busyTimeoutMs = busyTimeoutMs;
    this.reason = "opening " + path;
    this.thread = new Thread(this::loop, THREAD);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /**
   * Queues a capture, or drops and counts it when the queue is at its bound; false when dropped.
   * Holds the queue's lock for a moment only.
   */
  boolean offer(Capture c) {
    long w = c.weight();
    boolean logStart = false;
    boolean stopped = false;
    boolean logStopping = false;
    long burstOver = -1;
    lock.lock();
    try {
      if (!running) {
        // not a full queue: the log is stopping and takes nothing more
        dropped.incrementAndGet();
        stopped = true;
        logStopping = !stoppingLogged;
        stoppingLogged = true;
      } else if (queue.size() >= maxQueued || queuedBytes + w > maxBytes) {
        dropped.incrementAndGet();
        burstDrops++;
        if (!dropping) {
          dropping = true;
          logStart = true;
        }
      } else {
        if (dropping) {
          dropping = false;
          burstOver = burstDrops;
          burstDrops = 0;
        }
        queue.add(c);
        queuedBytes += w;
        if (queue.size() == 1 || queue.size() >= BATCH) {
          // the first wakes the writer, a full batch ends its linger; the ones between need no signal
          wake.signal();
        }
      }
    } finally {
      lock.unlock();
    }
    if (stopped) {
      if (logStopping) {
        log.info("request log stopping: captures from now on are counted as dropped");
      }
      return false;
    }
    if (logStart) {
      log.warn("request log: the capture queue is full ({} captures, {} bytes at most): dropping captures",
          maxQueued, maxBytes);
    }
    if (burstOver >= 0) {
      log.info("request log: the capture queue takes captures again; {} were dropped", burstOver);
    }
    return !logStart && (burstOver >= 0 || !dropping);
  }

  /** Runs work on the writer's connection; fails with the state's reason while it is off. */
  <T> CompletableFuture<T> submit(Work<T> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable task = () -> {
      if (conn == null) {
        result.completeExceptionally(new IllegalStateException(reason));
        return;
      }
      try {
        conn.setAutoCommit(false);
        T value = work.run(conn);
        conn.commit();
        result.complete(value);
      } catch (SQLException | RuntimeException | Error e) {
        rollback();
        result.completeExceptionally(new IllegalStateException("cannot write " + path + ": " + message(e)));
        if (e instanceof Error err) {
          throw err;
        }
      } finally {
        autoCommit();
      }
    };
    lock.lock();
    try {
      if (!running) {
        result.completeExceptionally(new IllegalStateException("the request log is stopping"));
      } else {
        tasks.add(task);
        wake.signal();
      }
    } finally {
      lock.unlock();
    }
    return result;
  }

  /** Captures dropped so far (queue full, stopping, refused by the database); any thread, no lock. */
  long dropped() {
    return dropped.get();
  }

  /** Captures written so far; any thread, no lock. */
  long written() {
    return written.get();
  }

  State state() {
    int queued;
    lock.lock();
    try {
      queued = queue.size();
    } finally {
      lock.unlock();
    }
    return new State(state, "on".equals(state) ? null : reason, queued + pendingCount, dropped.get(), written.get());
  }

  /**
   * Stops taking captures, writes what is queued while the database works and time remains, closes
   * the connection and joins the thread. Blocking.
   */
  boolean stop(long timeoutMs) throws InterruptedException {
    lock.lock();
    try {
      running = false;
      wake.signal();
    } finally {
      lock.unlock();
    }
    CountDownLatch s = stall;
    if (s != null) {
      s.countDown();
    }
    thread.join(timeoutMs);
    return !thread.isAlive();
  }

  private void loop() {
    try {
      while (true) {
        try {
          if (!round()) {
            return;
          }
        } catch (RuntimeException | Error e) {
          if (!unexpected(e)) {
            return;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeConnection();
    }
  }

  /** One round of waiting, opening, tasks, a batch and maintenance; false when the writer is done. */
  private boolean round() throws InterruptedException {
    List<Runnable> work = new ArrayList<>();
    boolean stopping;
    lock.lock();
    try {
      while (running && queue.isEmpty() && tasks.isEmpty() && pending == null && !maintenanceDue()
          && !(conn == null && now() >= nextOpenAt)) {
        long waitMs = Math.max(1, (conn == null ? nextOpenAt : nextMaintenanceAt) - now());
        wake.await(Math.min(waitMs, 60_000), TimeUnit.MILLISECONDS);
      }
      linger();
      stopping = !running;
      work.addAll(tasks);
      tasks.clear();
    } finally {
      lock.unlock();
    }
    CountDownLatch s = stall;
    if (s != null && !stopping) {
      s.await(30, TimeUnit.SECONDS);
    }
    if (conn == null && (!stopping || !work.isEmpty()) && now() >= nextOpenAt) {
      open();
    }
    work.forEach(Runnable::run);
    if (conn == null) {
      if (stopping) {
        return false;
      }
      waitForRetry();
      return true;
    }
    if (pending == null) {
      pending = take();
    }
    if (!pending.isEmpty() && !write(pending)) {
      return !stopping;
    }
    pending = null;
    pendingCount = 0;
    failedOnce = null;
    if (maintenanceDue()) {
      maintain();
    }
    return !(stopping && queueEmpty());
  }

  /**
   * A failure nothing else caught (a bug, an Error): the connection goes, the state says why, and
   * the writer tries again after {@code retryMs} like after any failure; a batch that fails this way
   * twice is dropped (and counted). False when stopping.
   */
  private boolean unexpected(Throwable e) {
    log.error("request log: the writer failed", e);
    closeConnection();
    setOff("the writer failed: " + e);
    nextOpenAt = now() + retryMs;
    if (pending != null && pending == failedOnce) {
      dropped.addAndGet(pending.size());
      log.warn("request log: dropped {} captures the writer failed on twice", pending.size());
      pending = null;
      pendingCount = 0;
    }
    failedOnce = pending;
    lock.lock();
    try {
      return running;
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: with captures queued and the database open, waits up to {@link #LINGER_MS} for a full batch. */
  private void linger() throws InterruptedException {
    if (conn == null || pending != null || queue.isEmpty()) {
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MS);
    long left;
    while (running && tasks.isEmpty() && queue.size() < BATCH && (left = deadline - System.nanoTime()) > 0) {
      wake.awaitNanos(left);
    }
  }

  private boolean queueEmpty() {
    lock.lock();
    try {
      return queue.isEmpty();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until the next open attempt, a stop, or new work for a stop to flush. */
  private void waitForRetry() throws InterruptedException {
    lock.lock();
    try {
      long wait = nextOpenAt - now();
      while (running && wait > 0 && tasks.isEmpty()) {
        wake.await(wait, TimeUnit.MILLISECONDS);
        wait = nextOpenAt - now();
      }
    } finally {
      lock.unlock();
    }
  }

  private List<Capture> take() {
    List<Capture> batch = new ArrayList<>();
    lock.lock();
    try {
      while (batch.size() < BATCH && !queue.isEmpty()) {
        Capture c = queue.poll();
        queuedBytes -= c.weight();
        batch.add(c);
      }
    } finally {
      lock.unlock();
    }
    pendingCount = batch.size();
    return batch;
  }

  /** Creates the missing directories of {@code dir} with mode 0700 (on POSIX file systems). */
  private static void createPrivateDirectories(Path dir) throws java.io.IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.getParent();
    if (parent != null) {
      createPrivateDirectories(parent);
    }
    try {
      Files.createDirectory(dir);
    } catch (java.nio.file.FileAlreadyExistsException raced) {
      if (!Files.isDirectory(dir)) {
        throw new java.io.IOException(dir + " is not a directory");
      }
      return;
    }
    restrict(dir, "rwx------");
  }

  private static void restrict(Path p, String mode) throws java.io.IOException {
    try {
      Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
    } catch (UnsupportedOperationException notPosix) {
      // Windows: the user's profile directory is private already
    }
  }

  private void open() {
    try {
      Path parent = path.toAbsolutePath().getParent();
      if (parent != null) {
        createPrivateDirectories(parent);
      }
      boolean created = !Files.exists(path);
      conn = Schema.open(path.toString(), true, false, busyTimeoutMs);
      if (created) {
        // Request bodies and headers: readable by their owner only, as Portr keeps ~/.portr (SQLite
        // gives the -wal and -shm files the database file's mode).
        restrict(path, "rw-------");
      }
      prepared = new Prepared(conn);
      rowCount = Store.count(conn);
      if (!openedBefore) {
        closeLeftOpen();
        openedBefore = true;
      }
      nextMaintenanceAt = 0;
      maintain();
      if (conn != null) {
        setOn();
      }
    } catch (SQLException | java.io.IOException | RuntimeException e) {
      closeConnection();
      setOff("cannot open " + path + ": " + message(e));
      nextOpenAt = now() + retryMs;
    }
  }

  /**
   * Writes a batch in one transaction; false (state off, retry later) when the database fails. A
   * capture the database refuses (a duplicate id) or that cannot be written (a bug) is dropped and
   * counted, the others are written one by one; when the database fails on the way, those already
   * committed are reported and only the rest stays {@link #pending}.
   */
  private boolean write(List<Capture> batch) {
    List<Committed> committed = new ArrayList<>();
    int done = batch.size();
    int refused = 0;
    SQLException failure = null;
    try {
      conn.setAutoCommit(false);
      int shared = writeAll(batch, committed);
      conn.commit();
      number(committed, 0);
      sharedRows.addAndGet(shared);
    } catch (SQLException | RuntimeException e) {
      rollback();
      committed.clear();
      if (e instanceof SQLException sql && !isConstraint(sql)) {
        return failed(sql);
      }
      for (int i = 0; i < batch.size(); i++) {
        int before = committed.size();
        try {
          writeOne(batch.get(i), committed);
          conn.commit();
          number(committed, before);
        } catch (SQLException | RuntimeException one) {
          rollback();
          committed.subList(before, committed.size()).clear();
          if (one instanceof SQLException sql && !isConstraint(sql)) {
            failure = sql;
            done = i;
            break;
          }
          refused++;
          refused(one);
        }
      }
    } finally {
      autoCommit();
    }
    // Out of the queue and into the count in that order, so the state never shows a capture as both.
    pending = done < batch.size() ? new ArrayList<>(batch.subList(done, batch.size())) : null;
    pendingCount = pending == null ? 0 : pending.size();
    written.addAndGet(done - refused);
    if (failure != null) {
      failed(failure);
    } else if (!"on".equals(state)) {
      setOn();
    }
    if (!committed.isEmpty()) {
      rowCount += committed.size();
      try {
        listener.committed(committed);
      } catch (RuntimeException e) {
        log.warn("request log: a commit listener failed", e);
      }
      if (conn != null) {
        prune();
      }
    }
    return failure == null;
  }

  /** Counts a capture that was not written; a duplicate is logged each time, a bug once (with its trace). */
  private void refused(Exception e) {
    dropped.incrementAndGet();
    if (e instanceof SQLException sql) {
      log.warn("request log: a capture was refused: {}", message(sql));
    } else if (!loggedRefusal) {
      loggedRefusal = true;
      log.error("request log: a capture could not be written and was dropped (later ones are only counted)", e);
    }
  }

  /**
   * Writes a batch in the open transaction: runs of {@link Store#ROWS_PER_INSERT} exchanges in one
   * statement each, everything else one by one, in the batch's order; returns how many went in
   * shared statements.
   */
  private int writeAll(List<Capture> batch, List<Committed> committed) throws SQLException {
    int n = Store.ROWS_PER_INSERT;
    List<Capture.Exchange> run = new ArrayList<>(n);
    List<String> times = new ArrayList<>(n);
    int shared = 0;
    int i = 0;
    while (i < batch.size()) {
      run.clear();
      for (int j = i; j < batch.size() && run.size() < n && batch.get(j) instanceof Capture.Exchange e; j++) {
        run.add(e);
      }
      if (run.size() < n) {
        writeOne(batch.get(i), committed);
        i++;
        continue;
      }
      times.clear();
      for (Capture.Exchange e : run) {
        Instant at = clock.instant();
        times.add(GoFormats.dbTime(at));
        committed.add(new Committed(e, 0, at)); // the caller drops them all if the transaction fails
      }
      Store.insertExchanges(prepared, run, times);
      shared += n;
      i += n;
    }
    return shared;
  }

  private void writeOne(Capture c, List<Committed> committed) throws SQLException {
    Instant at = clock.instant();
    String now = GoFormats.dbTime(at);
    if (c instanceof Capture.Exchange e) {
      Store.insertExchange(prepared, e, now);
      committed.add(new Committed(e, 0, at));
    } else if (c instanceof Capture.WsOpen o) {
      Store.insertSession(prepared, o, now);
    } else if (c instanceof Capture.WsFrame f) {
      Store.insertFrame(prepared, f, now);
    } else if (c instanceof Capture.WsClose w) {
      Store.closeSession(prepared, w, now);
    }
  }

  /** Once committed: gives the exchanges from index {@code from} on their seqs, in commit order. */
  private static void number(List<Committed> committed, int from) {
    for (int i = from; i < committed.size(); i++) {
      Committed c = committed.get(i);
      committed.set(i, new Committed(c.exchange(), SEQ.incrementAndGet(), c.loggedAt()));
    }
  }

  private boolean failed(SQLException e) {
    setOff("cannot write " + path + ": " + message(e));
    closeConnection();
    nextOpenAt = now() + retryMs;
    return false;
  }

  /** The row cap: the oldest rows beyond it go, a chunk per transaction. */
  private void prune() {
    // In chunks of 1 % over the cap: deleting a few rows after every batch cost as much as writing them.
    if (maxRows <= 0 || rowCount <= maxRows + Math.max(1, maxRows / 100)) {
      return;
    }
    try {
      while (rowCount > maxRows) {
        conn.setAutoCommit(false);
        int n = Store.deleteOldest(conn, Math.min(rowCount - maxRows, 5_000));
        conn.commit();
        if (n == 0) {
          rowCount = Store.count(conn);
          break;
        }
        rowCount -= n;
      }
    } catch (SQLException e) {
      rollback();
      log.warn("request log: pruning beyond {} rows failed: {}", maxRows, message(e));
    } finally {
      autoCommit();
    }
  }

  private boolean maintenanceDue() {
    return conn != null && now() >= nextMaintenanceAt;
  }

  /** At open and hourly: retention, orphan sessions and events, the count again, the cap. */
  private void maintain() {
    nextMaintenanceAt = now() + MAINTENANCE_MS;
    try {
      conn.setAutoCommit(false);
      if (retentionDays > 0) {
        int n = Store.deleteOlderThan(conn, clock.instant().minus(Duration.ofDays(retentionDays)));
        if (n > 0) {
          log.info("request log: deleted {} rows older than {} days", n, retentionDays);
        }
      }
      Store.deleteOrphans(conn);
      conn.commit();
      rowCount = Store.count(conn);
    } catch (SQLException e) {
      rollback();
      log.warn("request log: retention failed: {}", message(e));
    } finally {
      autoCommit();
    }
    prune();
  }

  /** At the first open: porthole's sessions an earlier process left open end at their last activity. */
  private void closeLeftOpen() {
    try {
      int n = Store.closeLeftOpen(conn);
      if (n > 0) {
        log.info("request log: closed {} WebSocket sessions an earlier run left open", n);
      }
    } catch (SQLException e) {
      log.warn("request log: closing sessions left open failed: {}", message(e));
    }
  }

  /** Runs a delete for the API and keeps the count. */
  CompletableFuture<Integer> delete(Work<Integer> work) {
    return submit(c -> {
      int n = work.run(c);
      rowCount -= n;
      return n;
    });
  }

  private void setOn() {
    if (!"on".equals(state)) {
      state = "on";
      reason = null;
      log.info("request log: on, writing to {}", path);
    }
  }

  private void setOff(String why) {
    if (!"off".equals(state) || !why.equals(reason)) {
      state = "off";
      reason = why;
      log.warn("request log: off: {} (trying again every {} s)", why, retryMs / 1000);
    }
  }

  private static boolean isConstraint(SQLException e) {
    return e instanceof SQLiteException s && (s.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT
        || s.getResultCode().name().startsWith("SQLITE_CONSTRAINT"));
  }

  static String message(Throwable e) {
    if (e instanceof SQLException s) {
      return Schema.message(s);
    }
    if (e instanceof java.nio.file.AccessDeniedException a) {
      return "permission denied: " + a.getFile();
    }
    if (e instanceof java.nio.file.FileSystemException f) {
      return f.getReason() == null ? f.toString() : f.getFile() + ": " + f.getReason();
    }
    return String.valueOf(e.getMessage());
  }

  private void rollback() {
    try {
      if (conn != null && !conn.getAutoCommit()) {
        conn.rollback();
      }
    } catch (SQLException ignored) {
      // the connection is closed or broken; the next open starts over
    }
  }

  private void autoCommit() {
    try {
      if (conn != null) {
        conn.setAutoCommit(true);
      }
    } catch (SQLException ignored) {
      // as above
    }
  }

  private void closeConnection() {
    if (conn != null) {
      try {
        if (prepared != null) {
          prepared.close();
        } else {
          conn.close();
        }
      } catch (SQLException ignored) {
        // closing a broken connection
      }
      conn = null;
      prepared = null;
    }
  }

  private long now() {
    return System.nanoTime() / 1_000_000;
  }
}
