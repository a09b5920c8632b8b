package dev.porthole.relay;

import java.net.BindException;

/**
 * One of the relay's listeners could not bind; the message names the address and what the listener
 * is for ({@code 127.0.0.1:8001 (HTTP edge) is already in use}), so the user knows which setting to
 * change.
 */
public final class ListenFailure extends RuntimeException {
  /** The relay's listeners, with the setting (under {@code relay.} or {@code embedded_relay.}) of each port. */
  public enum Listener {
    ADMIN("admin API", "admin_port"),
    SSH("SSH server", "ssh_port"),
    EDGE("HTTP edge", "http_port");

    private final String label;
    private final String key;

    Listener(String label, String key) {
      this.label = label;
      this.key = key;
    }

    public String label() {
      return label;
    }

    /** The port's key within its config section. */
    public String key() {
      return key;
    }
  }

  private final Listener listener;
  private final int port;
  private final boolean inUse;

  ListenFailure(Listener listener, String host, int port, Throwable cause) {
    super(message(listener, host, port, cause), cause);
    this.listener = listener;
    this.port = port;
    this.inUse = addressInUse(cause);
  }

  public Listener listener() {
    return listener;
  }

  public int port() {
    return port;
  }

  /** True when another process holds the port (rather than, say, a host that is not ours). */
  public boolean inUse() {
    return inUse;
  }

  private static String message(Listener listener, String host, int port, Throwable cause) {
    String where = host + ":" + port + " (" + listener.label() + ")";
    if (addressInUse(cause)) {
      return where + " is already in use";
    }
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return "cannot listen on " + where + ": "
        + (root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage());
  }

  /** Netty's native transport reports EADDRINUSE as a plain IOException, so the text counts too. */
  static boolean addressInUse(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof BindException || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
        return true;
      }
    }
    return false;
  }
}
