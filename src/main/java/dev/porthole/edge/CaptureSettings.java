package dev.porthole.edge;

import java.util.List;

/**
 * What an HTTP tunnel's edge records about its traffic (portr-protocol §7).
 *
 * @param enabled Portr's {@code enable_request_logging}; when false the edge captures nothing and
 *     its data path carries no capture code at all
 * @param tunnelId the tunnel of this process
 * @param subdomain the tunnel's subdomain, as stored with each request
 * @param localport the port the edge proxies to (the tunnel's local port)
 * @param redactHeaders header names whose values are stored as {@code [redacted]}, matched
 *     case-insensitively ({@code PortrConfig.redactHeadersFor})
 */
public record CaptureSettings(boolean enabled, String tunnelId, String subdomain, int localport,
    List<String> redactHeaders) {

  public CaptureSettings {
    redactHeaders = List.copyOf(redactHeaders);
  }

  /** Nothing is captured. */
  public static CaptureSettings off(String tunnelId) {
    return new CaptureSettings(false, tunnelId, "", 0, List.of());
  }
}
