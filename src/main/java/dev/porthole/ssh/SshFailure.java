package dev.porthole.ssh;

/** An SSH step failed; the message is the user-facing text (Portr's wording where it has one). */
public final class SshFailure extends Exception {
  public SshFailure(String message) {
    super(message, null, false, false);
  }
}
