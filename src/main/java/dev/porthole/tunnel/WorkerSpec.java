package dev.porthole.tunnel;

import dev.porthole.bus.TunnelRequest;
import dev.porthole.config.PortrConfig;
import dev.porthole.edge.CaptureSettings;
import dev.porthole.ssh.Traffic;
import java.nio.file.Path;

/**
 * What one tunnel's worker needs. Built by the manager and handed to the worker's constructor,
 * never sent over the bus: the Portr config holds the secret key.
 *
 * @param workers SSH sessions to open (pool size when the server supports pooling, else 1)
 * @param sharedConnectionId the pool's connection id, or null: each (re)connect reserves a new one
 * @param knownHosts Portr's known_hosts for trust on first use, or null for insecure mode
 * @param targetHost where forwarded connections go: the request's host, or for a stub the shared
 *     stub responder (127.0.0.1)
 * @param targetPort the request's port, or the stub responder's
 * @param traffic the tunnel's byte counts, which every session's forwarded connections add to
 * @param directEdge HTTP: forwarded connections go to the edge's {@code DirectEdge}, not its loopback server
 */
record WorkerSpec(String tunnelId, TunnelRequest request, int workers, String sharedConnectionId,
    PortrConfig config, Path knownHosts, String targetHost, int targetPort, Traffic traffic, boolean directEdge) {

  String wireType() {
    return request.wireType();
  }

  /** The public address once a remote port is known (portr-protocol §1.4). */
  String tunnelUrl(int remotePort) {
    return request.isHttp() ? config.httpTunnelUrl(request.subdomain()) : config.tcpTunnelAddr(remotePort);
  }

  /** What the tunnel's edge records: Portr's request-logging settings, the redact list with Authorization under basic auth. */
  CaptureSettings captureSettings() {
    return new CaptureSettings(config.enableRequestLogging, tunnelId, request.subdomain(), targetPort,
        config.redactHeadersFor(!request.basicAuth().isEmpty()));
  }

  @Override
  public String toString() {
    return "WorkerSpec[tunnel=" + tunnelId + ", type=" + request.type() + ", workers=" + workers + "]";
  }
}
