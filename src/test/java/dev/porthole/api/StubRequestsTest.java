package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.bus.TunnelRequest;
import dev.porthole.config.PortrTunnel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code "type":"stub"} through portr-protocol §6.4 steps 1–6, in Portr's order and words. */
@ExtendWith(VertxExtension.class)
class StubRequestsTest {
  private static final String JSON = "application/json";
  private static final String REQUIRED = "response_tmpl or response_tmpl_file is required for stub tunnels";

  @TempDir
  Path dir;

  private static JsonObject stub() {
    return new JsonObject().put("type", "stub").put("subdomain", "pay").put("response_format", "application/json")
        .put("response_tmpl", "{\"ok\":true}");
  }

  private static TunnelRequest parse(JsonObject body) throws TunnelRequests.BadRequest {
    return TunnelRequests.parse(JSON, Buffer.buffer(body.encode()));
  }

  private static void assertRejected(JsonObject body, String message) {
    assertThatThrownBy(() -> parse(body)).isInstanceOf(TunnelRequests.BadRequest.class).hasMessage(message);
  }

  // Step 1: SetDefaults

  @Test
  @DisplayName("step 1: no host default, pool_size forced to 1, subdomain trimmed and lower-cased, port 0 kept")
  void defaults() throws Exception {
    TunnelRequest r = parse(stub().put("subdomain", "  My-Pay ").put("pool_size", 5));
    assertThat(r.type()).isEqualTo("stub");
    assertThat(r.host()).isEmpty();
    assertThat(r.port()).isZero();
    assertThat(r.poolSize()).isEqualTo(1);
    assertThat(r.subdomain()).isEqualTo("my-pay");
    assertThat(r.responseFormat()).isEqualTo("application/json");
    assertThat(r.responseTmpl()).isEqualTo("{\"ok\":true}");
    assertThat(r.isHttp()).as("the wire type is http").isTrue();
    assertThat(r.wireType()).isEqualTo("http");
  }

  @Test
  @DisplayName("step 1: a stub's subdomain is never generated, so an empty one fails in Validate")
  void noGeneratedSubdomain() {
    assertRejected(stub().put("subdomain", ""), "subdomain is required for stub tunnels");
    assertRejected(stub().putNull("subdomain"), "subdomain is required for stub tunnels");
    JsonObject absent = stub();
    absent.remove("subdomain");
    assertRejected(absent, "subdomain is required for stub tunnels");
  }

  // Step 2: the template's source

  @Test
  @DisplayName("step 2: both response_tmpl and response_tmpl_file → only one of …")
  void bothSources() {
    assertRejected(stub().put("response_tmpl_file", "x.json"),
        "only one of response_tmpl or response_tmpl_file can be provided for stub tunnels");
  }

  @Test
  @DisplayName("step 2: neither (or only blanks) → response_tmpl or response_tmpl_file is required")
  void noSource() {
    assertRejected(stub().put("response_tmpl", ""), REQUIRED);
    assertRejected(stub().put("response_tmpl", "  \n").put("response_tmpl_file", " "), REQUIRED);
  }

  @Test
  @DisplayName("step 2 comes before the type's other checks: no template beats a missing subdomain and bad basic_auth")
  void sourceFirst() {
    assertRejected(stub().put("response_tmpl", "").put("subdomain", "").put("basic_auth", "nocolon")
        .put("response_format", ""), REQUIRED);
  }

  @Test
  @DisplayName("step 2: a missing relative file → Go's open error, the path cleaned as filepath.Join does")
  void missingRelativeFile() {
    assertRejected(stub().put("response_tmpl", "").put("response_tmpl_file", "./nowhere/../no-such-stub.json")
            .put("subdomain", ""),
        "failed to read response_tmpl_file \"./nowhere/../no-such-stub.json\": open no-such-stub.json: no such file or directory");
  }

  @Test
  @DisplayName("step 2: a missing absolute file → its path as given")
  void missingAbsoluteFile() {
    String path = dir.resolve("gone.json").toString();
    assertRejected(stub().put("response_tmpl", "").put("response_tmpl_file", path),
        "failed to read response_tmpl_file \"" + path + "\": open " + path + ": no such file or directory");
  }

  @Test
  @DisplayName("step 2: a directory → read <path>: is a directory")
  void directory() {
    String path = dir.toString();
    assertRejected(stub().put("response_tmpl", "").put("response_tmpl_file", path),
        "failed to read response_tmpl_file \"" + path + "\": read " + path + ": is a directory");
  }

  @Test
  @DisplayName("step 2: a file of only whitespace → response_tmpl_file \"<path>\" is empty")
  void emptyFile() throws Exception {
    Path f = Files.writeString(dir.resolve("blank.json"), " \n\t\n");
    assertRejected(stub().put("response_tmpl", "").put("response_tmpl_file", f.toString()),
        "response_tmpl_file \"" + f + "\" is empty");
  }

  @Test
  @DisplayName("porthole bound: a template file over 1 MiB → a clear 400")
  void tooLarge() throws Exception {
    Path f = Files.write(dir.resolve("big.txt"), new byte[PortrTunnel.MAX_TEMPLATE_BYTES + 1]);
    assertRejected(stub().put("response_tmpl", "").put("response_tmpl_file", f.toString()),
        "response_tmpl_file \"" + f + "\" is larger than 1048576 bytes");
  }

  @Test
  @DisplayName("step 2: the file's content is the template; the file name does not travel")
  void fileRead() throws Exception {
    Path f = Files.writeString(dir.resolve("t.yaml"), "name: {{ name }}\n");
    TunnelRequest r = parse(stub().put("response_tmpl", "").put("response_tmpl_file", f.toString()));
    assertThat(r.responseTmpl()).isEqualTo("name: {{ name }}\n");
    assertThat(r.toJson().encode()).doesNotContain("t.yaml");
  }

  // Step 3: type; step 4: port

  @Test
  @DisplayName("step 3: type is case-sensitive: \"Stub\" → type must be http, tcp, or stub")
  void typeCase() {
    assertRejected(stub().put("type", "Stub").put("port", 3000), "type must be http, tcp, or stub");
  }

  @Test
  @DisplayName("step 4: no port check for stubs (0 and 70000 pass and are echoed)")
  void noPortCheck() throws Exception {
    assertThat(parse(stub().put("port", 0)).port()).isZero();
    assertThat(parse(stub().put("port", 70000)).port()).isEqualTo(70000);
    assertThat(parse(stub().put("port", 3000).put("host", "example.test")).host()).isEqualTo("example.test");
  }

  // Step 5: Validate

  @Test
  @DisplayName("step 5: basic_auth is checked before the subdomain")
  void basicAuthFirst() {
    assertRejected(stub().put("subdomain", "").put("basic_auth", "nocolon"), "basic_auth must be in user:password format");
    assertRejected(stub().put("basic_auth", "admin:"), "basic_auth password cannot be empty");
  }

  @Test
  @DisplayName("step 5: blank subdomain → subdomain is required for stub tunnels, before response_format")
  void subdomainRequired() {
    assertRejected(stub().put("subdomain", "   ").put("response_format", ""), "subdomain is required for stub tunnels");
  }

  @Test
  @DisplayName("step 5: an invalid subdomain names its normalised value")
  void invalidSubdomain() {
    assertRejected(stub().put("subdomain", " A_B ").put("response_format", ""),
        "invalid subdomain \"a_b\": use 1-63 lowercase letters, numbers, or internal hyphens");
  }

  @Test
  @DisplayName("step 5: blank response_format → response_format is required for stub tunnels")
  void responseFormatRequired() {
    assertRejected(stub().put("response_format", " "), "response_format is required for stub tunnels");
  }

  // Step 6: callback URLs

  @Test
  @DisplayName("step 6: callback URLs are checked last")
  void callbacksLast() throws Exception {
    assertRejected(stub().put("callback_url", "ftp://h.test/x"), "callback_url must use http or https");
    assertRejected(stub().put("callback_url", "mailto:x").put("response_format", ""),
        "response_format is required for stub tunnels");
    assertThat(parse(stub().put("callback_urls", List.of(" http://h.test/a ", "http://h.test/a"))).callbackUrls())
        .containsExactly("http://h.test/a");
  }

  @Test
  @DisplayName("an http tunnel carries no stub fields even when they are sent")
  void httpIgnoresStubFields() throws Exception {
    TunnelRequest r = parse(new JsonObject().put("port", 3000).put("response_format", "text/plain")
        .put("response_tmpl", "x").put("response_tmpl_file", "y"));
    assertThat(r.responseFormat()).isEmpty();
    assertThat(r.responseTmpl()).isEmpty();
    assertThat(r.toJson().containsKey("response_tmpl")).isFalse();
  }

  @Test
  @DisplayName("the bus shape round-trips a stub")
  void busRoundTrip() throws Exception {
    TunnelRequest r = parse(stub().put("name", "pay"));
    assertThat(TunnelRequest.fromJson(r.toJson())).isEqualTo(r);
    assertThat(r.displayName()).isEqualTo("pay");
    assertThat(parse(stub()).displayName()).isEqualTo("pay");
  }

  // The event loop's variant: the file is read on a worker thread

  @Test
  @DisplayName("parse(vertx, …) on an event loop reads the file off the loop and answers the same")
  void asyncParse(Vertx vertx, VertxTestContext ctx) throws Exception {
    Path f = Files.writeString(dir.resolve("async.txt"), "hi {{who}}");
    Buffer ok = Buffer.buffer(stub().put("response_tmpl", "").put("response_tmpl_file", f.toString()).encode());
    Buffer missing = Buffer.buffer(stub().put("response_tmpl", "").put("response_tmpl_file", f + ".gone").encode());
    vertx.runOnContext(v -> TunnelRequests.parse(vertx, JSON, ok)
        .compose(r -> {
          ctx.verify(() -> assertThat(r.responseTmpl()).isEqualTo("hi {{who}}"));
          return TunnelRequests.parse(vertx, JSON, missing);
        })
        .onComplete(ar -> ctx.verify(() -> {
          assertThat(ar.failed()).isTrue();
          assertThat(ar.cause()).isInstanceOf(TunnelRequests.BadRequest.class)
              .hasMessage("failed to read response_tmpl_file \"" + f + ".gone\": open " + f
                  + ".gone: no such file or directory");
          ctx.completeNow();
        })));
  }
}
