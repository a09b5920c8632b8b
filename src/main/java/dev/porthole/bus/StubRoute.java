package dev.porthole.bus;

import io.vertx.core.json.JsonObject;

/**
 * One stub tunnel's route on the shared stub responder (portr-protocol §6.4 step 7): requests whose
 * Host names {@code subdomain} are answered with {@code responseTmpl} rendered, as {@code
 * responseFormat}.
 */
public record StubRoute(String subdomain, String responseFormat, String responseTmpl) {

  public JsonObject toJson() {
    return new JsonObject().put("subdomain", subdomain).put("response_format", responseFormat)
        .put("response_tmpl", responseTmpl);
  }

  public static StubRoute fromJson(JsonObject j) {
    return new StubRoute(j.getString("subdomain", ""), j.getString("response_format", ""),
        j.getString("response_tmpl", ""));
  }

  public static JsonObject unregister(String subdomain) {
    return new JsonObject().put("subdomain", subdomain);
  }
}
