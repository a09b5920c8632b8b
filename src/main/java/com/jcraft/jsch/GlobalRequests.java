package com.jcraft.jsch;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Sends an SSH global request with want-reply and reports the answer, which JSch has no public API
 * for. Portr's health check needs it: {@code keepalive@openssh.com} must be answered within 5 s
 * (portr-protocol §3.3), and JSch's own keepalive ({@code keepalive@jcraft.com}) ignores the answer.
 *
 * <p>It lives in JSch's package because it writes a packet through package-private API, and waits
 * on JSch's private global-request reply slot under the same lock as {@code setPortForwardingR},
 * so the two never take each other's reply. Tied to JSch's internals: pinned JSch version, a
 * start-up {@link #selfCheck()} that refuses to run on a JSch without them, and a test that fails
 * if they change.
 */
public final class GlobalRequests {
  static final String USED_FOR = "the health check's keepalive@openssh.com request (GlobalRequests)";
  private static volatile Handles handles;

  private GlobalRequests() {
  }

  /** JSch's private reply slot: {@code Session.grr} and the methods of its class. */
  public record Handles(Field grr, Method setThread, Method getReply, Method setReply, Method setPort) {
  }

  /**
   * Finds the reply slot {@code fieldName} of {@code sessionClass} and its methods. Parameterised so
   * that a test can ask for a field that is not there.
   *
   * @throws IllegalStateException naming the missing member and the JSch versions
   */
  public static Handles resolve(Class<?> sessionClass, String fieldName) {
    Field grr = Linkage.field(sessionClass, fieldName, USED_FOR);
    Class<?> slot = grr.getType();
    return new Handles(grr,
        Linkage.method(slot, "setThread", USED_FOR, Thread.class),
        Linkage.method(slot, "getReply", USED_FOR),
        Linkage.method(slot, "setReply", USED_FOR, int.class),
        Linkage.method(slot, "setPort", USED_FOR, int.class));
  }

  /**
   * Resolves the internals once and keeps them; also checks the package-private {@code
   * Session.write(Packet)} this class calls. Idempotent.
   *
   * @throws IllegalStateException when this JSch lacks one of them
   */
  public static void selfCheck() {
    handles();
  }

  private static Handles handles() {
    Handles h = handles;
    if (h == null) {
      h = resolve(Session.class, "grr");
      Linkage.method(Session.class, "write", USED_FOR, Packet.class);
      handles = h;
    }
    return h;
  }

  /**
   * Ends a global request that is waiting for its reply on a session being closed: JSch's own
   * {@code tcpip-forward} waits for the reply in ten 1 s sleeps that neither a disconnect nor one
   * interrupt ends, so the thread (and the session it holds) would stay up to 10 s after a stop.
   * Marks the reply slot failed; the waiter sees it at its next wake-up (interrupt it). Call only
   * for a session that is being closed.
   */
  public static void abandon(Session session) {
    try {
      Handles h = handles();
      h.setReply().invoke(h.grr().get(session), 0);
    } catch (ReflectiveOperationException e) {
      // Resolved by the start-up self-check; nothing to end otherwise.
    }
  }

  /**
   * Blocking, bounded by {@code timeoutMs}. Call from a thread that may block (never an event loop).
   *
   * @return TRUE for success, FALSE for failure, null when no reply came in time
   */
  public static Boolean request(Session session, String name, long timeoutMs) throws Exception {
    Handles h = handles();
    Object grr = h.grr().get(session);
    synchronized (grr) {
      h.setThread().invoke(grr, Thread.currentThread());
      // Any non-zero value: the reply handler parses a port from the reply only when this is 0.
      h.setPort().invoke(grr, -1);
      try {
        Buffer buf = new Buffer(100);
        Packet packet = new Packet(buf);
        packet.reset();
        buf.putByte((byte) Session.SSH_MSG_GLOBAL_REQUEST);
        buf.putString(Util.str2byte(name));
        buf.putByte((byte) 1);
        session.write(packet);
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        int reply;
        while ((reply = (int) h.getReply().invoke(grr)) == -1) {
          long left = (deadline - System.nanoTime()) / 1_000_000L;
          if (left <= 0 || !session.isConnected()) {
            break; // no reply will come on a session that is gone (a stop closed it)
          }
          try {
            // The session thread interrupts this thread when the reply arrives.
            Thread.sleep(Math.min(50, left));
          } catch (InterruptedException woken) {
            // Reply arrived (or shutdown): loop re-reads the slot.
          }
        }
        return reply == -1 ? null : reply == 1;
      } finally {
        h.setThread().invoke(grr, (Object) null);
        Thread.interrupted();
      }
    }
  }
}
