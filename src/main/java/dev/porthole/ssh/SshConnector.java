package dev.porthole.ssh;

/** Opens SSH links. Blocking, bounded by the spec's timeout; cancellable from another thread. */
public interface SshConnector {
  SshLink open(LinkSpec spec, Cancellation cancellation) throws SshFailure;
}
