package dev.porthole.connect;

/** Why the connect client cannot go on, in one line for the person at it. */
public final class ConnectFailure extends RuntimeException {
  /** What went wrong; the command turns it into its exit code. */
  public enum Kind {
    /** The app-server refused the credential (401/403): retrying is pointless. */
    UNAUTHORIZED,
    /** No such tunnel, or it is gone (404): retrying is pointless. */
    NOT_FOUND,
    /** The app-server or the tunnel cannot be reached right now. */
    UNREACHABLE
  }

  private final Kind kind;

  public ConnectFailure(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** True when further connections would be refused the same way. */
  public boolean isFinal() {
    return kind != Kind.UNREACHABLE;
  }
}
