package dev.porthole.httpkit;

import io.vertx.core.http.WebSocketBase;

/**
 * Two WebSockets joined: data frames go through as they are (text, binary, continuation), with
 * backpressure, and a close on either side closes the other with the same code and reason, after
 * the frames before it.
 *
 * <p>A socket that may receive frames before {@link #join} (the target speaks first while the
 * caller's handshake is still being accepted) must be paused as soon as it exists; {@link #join}
 * resumes both once their handlers are in place, so nothing said early is lost.
 */
public final class WebSocketSplice {
  private WebSocketSplice() {
  }

  public static void join(WebSocketBase a, WebSocketBase b) {
    pipe(a, b);
    pipe(b, a);
    a.resume();
    b.resume();
  }

  private static void pipe(WebSocketBase from, WebSocketBase to) {
    from.frameHandler(frame -> {
      if (!frame.isText() && !frame.isBinary() && !frame.isContinuation()) {
        return;
      }
      to.writeFrame(frame);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    });
    // A close frame is reported at once (the connection then drops), but the end only after the
    // frames still waiting in the paused socket: those go out first. Without a close frame there
    // is no end to wait for.
    from.endHandler(v -> closeWithSameCode(from, to));
    from.closeHandler(v -> {
      Short code = from.closeStatusCode();
      if (code == null || code == 1006) {
        closeWithSameCode(from, to);
      }
    });
  }

  private static void closeWithSameCode(WebSocketBase from, WebSocketBase to) {
    if (!to.isClosed()) {
      Short code = from.closeStatusCode();
      to.close(code == null || code == 1006 ? 1000 : code, from.closeReason());
    }
  }
}
