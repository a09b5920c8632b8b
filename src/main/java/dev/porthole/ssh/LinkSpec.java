package dev.porthole.ssh;

import java.nio.file.Path;

/**
 * One SSH session of a tunnel (portr-protocol §3.1).
 *
 * @param sshUrl {@code host:port} dialled verbatim
 * @param connectionId the Portr connection id; with the secret key it forms the SSH user
 * @param httpWire true for http tunnels (candidate ports 20000–29999), false for tcp (30001–40000)
 * @param targetHost where each forwarded connection is dialled (an HTTP tunnel's loopback edge, or
 *     a TCP tunnel's local service)
 * @param knownHosts null for insecure mode, else Portr's known_hosts file for trust on first use
 * @param establishTimeoutMs bound on dial + handshake + forwards
 * @param traffic where the forwarded connections count their bytes (the tunnel's)
 * @param localEnd opens each forwarded connection's local end in the process (an HTTP tunnel's
 *     direct edge), or null: each is dialled at {@code targetHost:targetPort}
 */
public record LinkSpec(String sshUrl, String connectionId, String secretKey, boolean httpWire, String targetHost,
    int targetPort, Path knownHosts, long establishTimeoutMs, Traffic traffic, LocalEnd.Opener localEnd) {

  @Override
  public String toString() {
    return "LinkSpec[sshUrl=" + sshUrl + ", connection=" + connectionId + ", http=" + httpWire
        + ", target=" + targetHost + ":" + targetPort + "]";
  }
}
