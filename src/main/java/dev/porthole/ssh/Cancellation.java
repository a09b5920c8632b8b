package dev.porthole.ssh;

/**
 * Lets another thread abort a blocking connect: {@link #cancel()} marks it cancelled and closes
 * whatever the connect registered (the SSH session), so a blocked call returns promptly.
 */
public final class Cancellation {
  public static final String SHUTTING_DOWN = "client is shutting down";

  private volatile boolean cancelled;
  private Runnable onCancel;

  public synchronized void cancel() {
    cancelled = true;
    Runnable r = onCancel;
    onCancel = null;
    if (r != null) {
      r.run();
    }
  }

  public boolean isCancelled() {
    return cancelled;
  }

  /** Registers what cancelling closes; runs it at once when already cancelled. */
  synchronized void onCancel(Runnable r) {
    if (cancelled) {
      r.run();
    } else {
      onCancel = r;
    }
  }

  synchronized void clear() {
    onCancel = null;
  }

  void check() throws SshFailure {
    if (cancelled) {
      throw new SshFailure(SHUTTING_DOWN);
    }
  }
}
