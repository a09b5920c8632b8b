package dev.porthole.access;

import io.vertx.core.Vertx;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

/**
 * {@code access.ws_max_bytes_per_second} for one direction of one WebSocket tunnel. Every byte
 * passed on is counted, in 100 ms slices; a slice's unused share is not saved up, but bytes over it
 * are a debt paid by the following slices. While the share is spent the reading side stays paused
 * (backpressure), so nothing is ever dropped. Event-loop confined: use it from the socket's
 * context only.
 */
final class Throttle {
  static final long TICK_MS = 100;

  private final Vertx vertx;
  private final long bytesPerSecond;
  private long sliceStart = System.nanoTime();
  private long used;

  /** @param bytesPerSecond the cap; 0 or less: none */
  Throttle(Vertx vertx, long bytesPerSecond) {
    this.vertx = vertx;
    this.bytesPerSecond = bytesPerSecond;
  }

  /**
   * After {@code bytes} read from {@code from} were written to {@code to}: counts them, whatever
   * the state of {@code to}'s queue, and pauses {@code from} while {@code to} is full or the share
   * is spent. A write that finds the queue full is counted like any other: otherwise a slow reader
   * on the other side would let the cap be exceeded.
   */
  void passed(int bytes, ReadStream<?> from, WriteStream<?> to) {
    boolean overShare = spend(bytes);
    if (to.writeQueueFull()) {
      from.pause();
      to.drainHandler(v -> resumeWhenAllowed(from::resume));
    } else if (overShare) {
      from.pause();
      resumeWhenAllowed(from::resume);
    }
  }

  /** Counts bytes; true when the current slice is now over its share. */
  boolean spend(long bytes) {
    if (bytesPerSecond <= 0) {
      return false;
    }
    roll();
    used += bytes;
    return exhausted();
  }

  /** The share is spent (including any debt carried from earlier slices). */
  boolean exhausted() {
    if (bytesPerSecond <= 0) {
      return false;
    }
    roll();
    return used >= share();
  }

  /** Runs {@code resume} now if the share allows it, else at the first slice that does. */
  void resumeWhenAllowed(Runnable resume) {
    if (!exhausted()) {
      resume.run();
      return;
    }
    long elapsedMs = (System.nanoTime() - sliceStart) / 1_000_000;
    vertx.setTimer(Math.max(1, TICK_MS - elapsedMs), id -> resumeWhenAllowed(resume));
  }

  private long share() {
    return bytesPerSecond * TICK_MS / 1000;
  }

  private void roll() {
    long now = System.nanoTime();
    long slices = (now - sliceStart) / (TICK_MS * 1_000_000);
    if (slices > 0) {
      used = Math.max(0, used - slices * share());
      sliceStart += slices * TICK_MS * 1_000_000;
    }
  }
}
