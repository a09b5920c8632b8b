package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/**
 * porthole's configuration tree for {@code app-server}, parsed once into the slice each verticle
 * gets. Parsing checks every section (a bad relay setting fails even when the relay is not
 * embedded), and may read a PEM file ({@link AuthConfig#from}): call it off the event loop.
 */
public record AppServerSettings(AppServerConfig app, AuthConfig auth, AccessConfig access, LimitsConfig limits,
    WebhookConfig webhooks, JsonObject relay) {

  public AppServerSettings {
    relay = relay.copy();
  }

  public static AppServerSettings parse(JsonObject tree) {
    RelayConfig.from(tree);
    return new AppServerSettings(AppServerConfig.from(tree), AuthConfig.from(tree), AccessConfig.from(tree),
        LimitsConfig.from(tree), WebhookConfig.from(tree), tree.getJsonObject("relay", new JsonObject()));
  }

  /** The embedded relay's configuration ({@code config()} of {@code RelayVerticle}): the relay section, on loopback. */
  public JsonObject embeddedRelay() {
    return new JsonObject().put("relay", relay.copy().put("bind_host", "127.0.0.1"));
  }
}
