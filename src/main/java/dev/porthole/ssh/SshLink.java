package dev.porthole.ssh;

/** An established SSH session with its one remote forward. Blocking methods; never on an event loop. */
public interface SshLink {
  /** The port the relay granted. */
  int remotePort();

  /**
   * {@code keepalive@openssh.com} with a 5 s reply limit (portr-protocol §3.3).
   *
   * @throws SshFailure {@code ssh keepalive timed out}, {@code ssh keepalive rejected}, or the
   *     transport's error when the session is gone
   */
  void keepalive() throws SshFailure;

  boolean isOpen();

  /** Closes the session (and so the forward and every forwarded connection). Idempotent. */
  void close();
}
