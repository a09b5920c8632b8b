package dev.porthole.connect;

import dev.porthole.connect.ConnectFailure.Kind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the connect client asks of the app-server: a tunnel's {@code websocket_url} (by id, else by
 * name), and the WebSocket tunnel itself. Every refusal becomes a {@link ConnectFailure}.
 */
public final class AppServerClient {
  private final Vertx vertx;
  private final String api;
  private final String credential;

  /** @param credential the API token or JWT, or empty for none */
  public AppServerClient(Vertx vertx, String api, String credential) {
    this.vertx = vertx;
    this.api = api;
    this.credential = credential;
  }

  /** The tunnel's websocket_url, by id or else by name (the newest tunnel with that name). */
  public Future<String> websocketUrl(String idOrName) {
    HttpClient http = vertx.createHttpClient();
    URI base = URI.create(api.endsWith("/") ? api.substring(0, api.length() - 1) : api);
    return get(http, base, "/api/v1/tunnels/" + URLEncoder.encode(idOrName, StandardCharsets.UTF_8))
        .compose(byId -> {
          if (byId.getInteger("status_code") == 200) {
            return Future.succeededFuture(byId.getJsonObject("body"));
          }
          return get(http, base, "/api/v1/tunnels").map(list -> {
            JsonArray tunnels = list.getJsonObject("body").getJsonArray("tunnels", new JsonArray());
            for (int i = 0; i < tunnels.size(); i++) {
              JsonObject t = tunnels.getJsonObject(i);
              if (idOrName.equals(t.getString("name"))) {
                return t;
              }
            }
            throw new ConnectFailure(Kind.NOT_FOUND, "no tunnel with id or name \"" + idOrName + "\" at " + api);
          });
        })
        .map(status -> {
          String url = status.getString("websocket_url");
          if (url == null) {
            throw new ConnectFailure(Kind.UNREACHABLE, "the app-server at " + api + " does not offer WebSocket tunnels");
          }
          return url;
        });
  }

  private Future<JsonObject> get(HttpClient http, URI base, String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(base.resolve(path).toString())
        .setTimeout(10_000);
    if (!credential.isEmpty()) {
      options.putHeader("Authorization", "Bearer " + credential);
    }
    return http.request(options)
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> {
          if (resp.statusCode() == 401 || resp.statusCode() == 403) {
            throw new ConnectFailure(Kind.UNAUTHORIZED, "the app-server refused the credential (" + resp.statusCode() + ")");
          }
          JsonObject json;
          try {
            json = body.toJsonObject();
          } catch (RuntimeException e) {
            json = new JsonObject();
          }
          return new JsonObject().put("status_code", resp.statusCode()).put("body", json);
        })))
        .recover(err -> Future.failedFuture(err instanceof ConnectFailure ? err
            : new ConnectFailure(Kind.UNREACHABLE, "cannot reach the app-server at " + base + ": " + err.getMessage())));
  }

  /** Opens one WebSocket tunnel ({@link PortForwardProtocol#SUBPROTOCOL}); a refused upgrade says why. */
  static Future<WebSocket> open(WebSocketClient client, String wsUrl, String credential) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setAbsoluteURI(wsUrl)
        .setSubProtocols(List.of(PortForwardProtocol.SUBPROTOCOL));
    if (!credential.isEmpty()) {
      options.addHeader("Authorization", "Bearer " + credential);
    }
    return client.connect(options).recover(err -> {
      if (err instanceof UpgradeRejectedException rejected) {
        int status = rejected.getStatus();
        if (status == 401 || status == 403) {
          return Future.failedFuture(new ConnectFailure(Kind.UNAUTHORIZED,
              "the app-server refused the credential (" + status + ")"));
        }
        if (status == 404) {
          return Future.failedFuture(new ConnectFailure(Kind.NOT_FOUND, "the tunnel is gone (404)"));
        }
        return Future.failedFuture(new ConnectFailure(Kind.UNREACHABLE, "the WebSocket tunnel was refused: " + status
            + (status == 409 ? " (the tunnel is not running)" : status == 429 ? " (too many connections)" : "")));
      }
      return Future.failedFuture(new ConnectFailure(Kind.UNREACHABLE, "cannot open the WebSocket tunnel: " + err.getMessage()));
    });
  }
}
