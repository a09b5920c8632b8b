package dev.porthole.config;

import io.vertx.core.json.JsonObject;

/**
 * porthole's configuration tree for {@code app-server}, parsed once into the slice each verticle
 * gets. Parsing checks every section (a bad relay setting fails even when the relay is not
 * embedded), and may read a PEM file ({@link AuthConfig#from}): call it off the event loop.
 */
public record AppServerSettings(AppServerConfig app, AuthConfig auth, AccessConfig access, LimitsConfig limits,
    WebhookConfig webhooks, RequestLogConfig requestLog, MetricsConfig metrics, JsonObject relayTree,
    ClusterConfig cluster, EdgeConfig edge, SshClientConfig ssh) {

  public AppServerSettings {
    relayTree = relayTree.copy();
  }

  public static AppServerSettings parse(JsonObject tree) {
    RelayConfig.from(tree);
    EmbeddedRelayConfig.from(tree);
    JsonObject relayTree = new JsonObject().put("relay", tree.getJsonObject("relay", new JsonObject()).copy());
    if (tree.containsKey("embedded_relay")) {
      relayTree.put("embedded_relay", tree.getJsonObject("embedded_relay").copy());
    }
    AppServerConfig app = AppServerConfig.from(tree);
    return new AppServerSettings(app, AuthConfig.from(tree), AccessConfig.from(tree),
        LimitsConfig.from(tree), WebhookConfig.from(tree), RequestLogConfig.from(tree), MetricsConfig.from(tree),
        relayTree, ClusterConfig.from(tree, app.port()), EdgeConfig.from(tree), SshClientConfig.from(tree));
  }

  /** The embedded relay's slice: the {@code relay} and {@code embedded_relay} sections (a copy). */
  public JsonObject embeddedRelay() {
    return relayTree.copy();
  }
}
