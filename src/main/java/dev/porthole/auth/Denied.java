package dev.porthole.auth;

/**
 * Why the guard refused: the HTTP status (401 no valid credential, 403 missing scope or refused
 * host/origin) and the message an API body carries. No stack trace: it is an answer, not a fault.
 */
public final class Denied extends RuntimeException {
  public static final Denied UNAUTHORIZED = new Denied(401, "unauthorized");
  public static final Denied FORBIDDEN = new Denied(403, "forbidden");
  public static final Denied HOST = new Denied(403, "host not allowed");
  public static final Denied ORIGIN = new Denied(403, "origin not allowed");

  private final int status;

  private Denied(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
