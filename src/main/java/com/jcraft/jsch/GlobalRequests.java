package com.jcraft.jsch;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Sends an SSH global request with want-reply and reports the answer, which JSch has no public API
 * for. Portr's health check needs it: {@code keepalive@openssh.com} must be answered within 5 s
 * (portr-compat §3.3), and JSch's own keepalive ({@code keepalive@jcraft.com}) ignores the answer.
 *
 * <p>It lives in JSch's package because it writes a packet through package-private API, and waits
 * on JSch's private global-request reply slot under the same lock as {@code setPortForwardingR},
 * so the two never take each other's reply. Tied to JSch's internals: pinned JSch version, and a
 * test that fails if they change.
 */
public final class GlobalRequests {
  private GlobalRequests() {
  }

  /**
   * Blocking, bounded by {@code timeoutMs}. Call from a thread that may block (never an event loop).
   *
   * @return TRUE for success, FALSE for failure, null when no reply came in time
   */
  public static Boolean request(Session session, String name, long timeoutMs) throws Exception {
    Field grrField = Session.class.getDeclaredField("grr");
    grrField.setAccessible(true);
    Object grr = grrField.get(session);
    Class<?> c = grr.getClass();
    Method setThread = c.getDeclaredMethod("setThread", Thread.class);
    Method getReply = c.getDeclaredMethod("getReply");
    Method setPort = c.getDeclaredMethod("setPort", int.class);
    setThread.setAccessible(true);
    getReply.setAccessible(true);
    setPort.setAccessible(true);
    synchronized (grr) {
      setThread.invoke(grr, Thread.currentThread());
      // Any non-zero value: the reply handler parses a port from the reply only when this is 0.
      setPort.invoke(grr, -1);
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
        while ((reply = (int) getReply.invoke(grr)) == -1) {
          long left = (deadline - System.nanoTime()) / 1_000_000L;
          if (left <= 0) {
            break;
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
        setThread.invoke(grr, (Object) null);
        Thread.interrupted();
      }
    }
  }
}
