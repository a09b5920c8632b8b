package dev.porthole.health;

import dev.porthole.edge.TunnelEdgeVerticle;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import java.net.URI;
import java.util.Locale;

/** End-to-end checks of a tunnel from outside, through the relay's public side. */
public final class Probes {
  private Probes() {
  }

  /**
   * @param definitive true when the relay itself said the tunnel is unreachable (its 404
   *     unregistered-subdomain or 503 connection-lost), as opposed to this machine failing to reach
   *     the public URL at all (DNS, firewalls, NAT hairpinning), which says nothing about the tunnel
   */
  public record Result(boolean ok, boolean definitive, String reason) {
    static final Result OK = new Result(true, false, "");
  }

  /**
   * {@code GET <tunnel_url>/} with {@code X-Portr-Ping-Request: true}: porthole's own edge answers
   * 200, so a 200 without {@code X-Portr-Error} proves relay → SSH → client edge works. Hosts under
   * {@code localhost} are dialled on 127.0.0.1, as browsers do.
   */
  public static Future<Result> http(HttpClient client, String tunnelUrl, long timeoutMs) {
    URI uri;
    try {
      uri = URI.create(tunnelUrl);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(new Result(false, false, "bad tunnel_url " + tunnelUrl));
    }
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    String host = uri.getHost() == null ? "" : uri.getHost();
    int port = uri.getPort() > 0 ? uri.getPort() : (tls ? 443 : 80);
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port).setSsl(tls)
        .setURI("/").setTimeout(timeoutMs).putHeader(TunnelEdgeVerticle.PING_HEADER, "true");
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost") || h.endsWith(".localhost")) {
      options.setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1"));
    }
    return client.request(options)
        // body() attached in send()'s own callback: chained one step later, a response that has
        // already ended can be missed when callbacks hop threads.
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> {
          String reason = resp.getHeader("X-Portr-Error-Reason");
          if (resp.statusCode() == 200 && resp.getHeader("X-Portr-Error") == null) {
            return Result.OK;
          }
          if (resp.statusCode() == 404 && "unregistered-subdomain".equals(reason)) {
            return new Result(false, true, "the relay lost the tunnel's route (404 unregistered-subdomain)");
          }
          if (resp.statusCode() == 503 && "connection-lost".equals(reason)) {
            return new Result(false, true, "the relay cannot reach the tunnel (503 connection-lost)");
          }
          return new Result(false, false, "public URL answered " + resp.statusCode());
        })))
        .otherwise(err -> new Result(false, false, "public URL unreachable: " + err.getMessage()));
  }

  /** Connects to a TCP tunnel's public {@code host:port} and closes at once. */
  public static Future<Result> tcp(NetClient client, String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      return Future.succeededFuture(new Result(false, false, "bad tunnel address " + address));
    }
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      return Future.succeededFuture(new Result(false, false, "bad tunnel address " + address));
    }
    return client.connect(port, address.substring(0, colon))
        .compose(socket -> socket.close().map(Result.OK))
        .otherwise(err -> new Result(false, false, "public port unreachable: " + err.getMessage()));
  }
}
