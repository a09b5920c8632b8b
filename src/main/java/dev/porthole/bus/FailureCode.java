package dev.porthole.bus;

/**
 * Why a request on the bus failed: the code of {@code msg.fail(code, text)}, where the text is the
 * user-facing message. The HTTP layer maps codes to statuses in one place ({@code httpkit.ApiResponses.status}).
 */
public enum FailureCode {
  /** The request is not acceptable (a validation message). */
  INVALID_REQUEST(1),
  /** The tunnel could not start (the worker's message, e.g. {@code failed to start tunnel 'web': …}). */
  START_FAILED(2),
  TUNNEL_NOT_FOUND(3),
  /** The app-server is shutting down and takes no new tunnels. */
  SHUTTING_DOWN(4),
  /** porthole.limits reached. */
  LIMIT_REACHED(5),
  /** No stored request has that id. */
  REQUEST_NOT_FOUND(6),
  /**
   * The request's tunnel is not running in this process (a replay needs it), or is stopped or
   * failed (a lease renewal needs it live).
   */
  TUNNEL_NOT_RUNNING(7),
  /** The request log is off (disabled, or its database cannot be used; the text says why). */
  LOG_UNAVAILABLE(8),
  /**
   * Clustered: the node that owns the tunnel (or was asked to start it) did not answer in time or
   * has left the cluster (503; the text names the node).
   */
  NODE_UNAVAILABLE(9),
  INTERNAL(99);

  private final int code;

  FailureCode(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static FailureCode of(int code) {
    for (FailureCode c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return INTERNAL;
  }
}
