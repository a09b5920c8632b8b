package dev.porthole.ssh;

import java.util.ArrayList;
import java.util.List;

/**
 * Lets another thread abort a tunnel's blocking work: {@link #cancel()} marks it cancelled and runs
 * whatever was registered (closing the SSH sessions being opened or in use, abandoning a forward
 * request), so a blocked call returns promptly.
 */
public final class Cancellation {
  public static final String SHUTTING_DOWN = "client is shutting down";

  private volatile boolean cancelled;
  /** Bounded by the tunnel's live sessions and calls in flight: each removes itself when done. */
  private final List<Runnable> onCancel = new ArrayList<>();

  public void cancel() {
    List<Runnable> run;
    synchronized (this) {
      if (cancelled) {
        return;
      }
      cancelled = true;
      run = new ArrayList<>(onCancel);
      onCancel.clear();
    }
    run.forEach(Runnable::run);
  }

  public boolean isCancelled() {
    return cancelled;
  }

  /**
   * Registers what cancelling does, until the returned handle is run; runs it at once when already
   * cancelled.
   */
  Runnable onCancel(Runnable r) {
    synchronized (this) {
      if (!cancelled) {
        onCancel.add(r);
        return () -> {
          synchronized (this) {
            onCancel.remove(r);
          }
        };
      }
    }
    r.run();
    return () -> { };
  }

  void check() throws SshFailure {
    if (cancelled) {
      throw new SshFailure(SHUTTING_DOWN);
    }
  }
}
