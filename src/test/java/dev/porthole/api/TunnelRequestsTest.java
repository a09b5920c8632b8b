package dev.porthole.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.bus.TunnelRequest;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TunnelRequestsTest {
  private static final String JSON = "application/json";
  private static final String INVALID_SUBDOMAIN_EMPTY =
      "invalid subdomain \"\": use 1-63 lowercase letters, numbers, or internal hyphens";

  private static TunnelRequest parse(String body) throws TunnelRequests.BadRequest {
    return TunnelRequests.parse(JSON, Buffer.buffer(body));
  }

  private static void assertRejected(String contentType, String body, String message) {
    assertThatThrownBy(() -> TunnelRequests.parse(contentType, Buffer.buffer(body)))
        .isInstanceOf(TunnelRequests.BadRequest.class)
        .hasMessage(message);
  }

  private static void assertRejected(String body, String message) {
    assertRejected(JSON, body, message);
  }

  // §11.1 / §6.4: content type

  @Test
  @DisplayName("§11.1 no Content-Type → invalid JSON body, even with a valid body")
  void noContentType() {
    assertRejected(null, "{\"port\":3000}", "invalid JSON body");
  }

  @Test
  @DisplayName("§11.1 a non-JSON Content-Type → invalid JSON body, even with a valid body")
  void otherContentType() {
    assertRejected("text/plain", "{\"port\":3000}", "invalid JSON body");
    assertRejected("application/x-www-form-urlencoded", "{\"port\":3000}", "invalid JSON body");
  }

  @Test
  @DisplayName("§6.4 vendor +json content types (with parameters) are decoded")
  void vendorJsonContentType() throws Exception {
    TunnelRequest r = TunnelRequests.parse("application/vnd.porthole+json; charset=utf-8",
        Buffer.buffer("{\"port\":3000}"));
    assertThat(r.port()).isEqualTo(3000);
  }

  // §6.4: decoding failures

  @Test
  @DisplayName("§6.4 malformed JSON → invalid JSON body")
  void malformedJson() {
    assertRejected("{\"port\":3000", "invalid JSON body");
  }

  @Test
  @DisplayName("§6.4 trailing data after the object → invalid JSON body")
  void trailingData() {
    assertRejected("{\"port\":3000} {}", "invalid JSON body");
  }

  @Test
  @DisplayName("§6.4 \"port\":\"3000\" (a string) → invalid JSON body")
  void portAsString() {
    assertRejected("{\"port\":\"3000\"}", "invalid JSON body");
  }

  @Test
  @DisplayName("§11.2 \"port\":3000.5 (not an integer) → invalid JSON body")
  void portAsFloat() {
    assertRejected("{\"port\":3000.5}", "invalid JSON body");
  }

  @Test
  @DisplayName("§6.4 a number beyond int64 → invalid JSON body")
  void portBeyondInt64() {
    assertRejected("{\"port\":92233720368547758070}", "invalid JSON body");
  }

  // §11.2: keys

  @Test
  @DisplayName("§11.2 keys match case-insensitively (\"PORT\")")
  void caseInsensitiveKeys() throws Exception {
    TunnelRequest r = parse("{\"PORT\":3000,\"Name\":\"api\"}");
    assertThat(r.port()).isEqualTo(3000);
    assertThat(r.name()).isEqualTo("api");
  }

  @Test
  @DisplayName("§11.2 unknown keys are ignored")
  void unknownKeysIgnored() throws Exception {
    TunnelRequest r = parse("{\"port\":3000,\"host_header\":\"x\",\"whatever\":[1,2,{}]}");
    assertThat(r.port()).isEqualTo(3000);
  }

  @Test
  @DisplayName("§11.2 null fields are absent: defaults apply")
  void nullIsAbsent() throws Exception {
    TunnelRequest r = parse("{\"port\":3000,\"type\":null,\"host\":null,\"pool_size\":null,\"subdomain\":null,"
        + "\"name\":null,\"basic_auth\":null,\"callback_url\":null,\"callback_urls\":null}");
    assertThat(r.type()).isEqualTo("http");
    assertThat(r.host()).isEqualTo("localhost");
    assertThat(r.poolSize()).isEqualTo(2);
    assertThat(r.subdomain()).matches("[a-z]{6}");
    assertThat(r.name()).isEmpty();
    assertThat(r.basicAuth()).isEmpty();
    assertThat(r.callbackUrls()).isEmpty();
  }

  // §6.4 step 1: defaults

  @Test
  @DisplayName("§6.4 defaults: type http, host localhost, pool_size 2")
  void defaults() throws Exception {
    TunnelRequest r = parse("{\"port\":3000}");
    assertThat(r.type()).isEqualTo("http");
    assertThat(r.host()).isEqualTo("localhost");
    assertThat(r.poolSize()).isEqualTo(2);
    assertThat(r.name()).isEmpty();
    assertThat(r.callbackUrls()).isEmpty();
  }

  @ParameterizedTest(name = "pool_size {0} → 2")
  @ValueSource(ints = {0, -1, -100})
  @DisplayName("§6.4 pool_size ≤ 0 → 2")
  void poolSizeNonPositiveDefaults(int poolSize) throws Exception {
    assertThat(parse("{\"port\":3000,\"pool_size\":" + poolSize + "}").poolSize()).isEqualTo(2);
  }

  @Test
  @DisplayName("§6.4 an explicit pool_size is kept")
  void poolSizeKept() throws Exception {
    assertThat(parse("{\"port\":3000,\"pool_size\":5}").poolSize()).isEqualTo(5);
  }

  @Test
  @DisplayName("§6.4 absent http subdomain → 6 generated letters")
  void subdomainGeneratedWhenAbsent() throws Exception {
    assertThat(parse("{\"port\":3000}").subdomain()).matches("[a-z]{6}");
  }

  @Test
  @DisplayName("§6.4 empty http subdomain \"\" → 6 generated letters")
  void subdomainGeneratedWhenEmpty() throws Exception {
    assertThat(parse("{\"port\":3000,\"subdomain\":\"\"}").subdomain()).matches("[a-z]{6}");
  }

  @Test
  @DisplayName("§11.4 http subdomain \"  My-App \" is normalised to my-app")
  void subdomainNormalised() throws Exception {
    assertThat(parse("{\"port\":3000,\"subdomain\":\"  My-App \"}").subdomain()).isEqualTo("my-app");
  }

  @Test
  @DisplayName("§11.4 http subdomain of only spaces is not regenerated: invalid subdomain \"\"")
  void subdomainOnlySpaces() {
    assertRejected("{\"port\":3000,\"subdomain\":\"   \"}", INVALID_SUBDOMAIN_EMPTY);
  }

  // §6.4 step 3: type

  @Test
  @DisplayName("§11.3 type is case-sensitive: \"HTTP\" → type must be http, tcp, or stub")
  void typeUpperCase() {
    assertRejected("{\"port\":3000,\"type\":\"HTTP\"}", "type must be http, tcp, or stub");
  }

  @Test
  @DisplayName("§11.3 type \"static\" → type must be http, tcp, or stub")
  void typeStatic() {
    assertRejected("{\"port\":3000,\"type\":\"static\"}", "type must be http, tcp, or stub");
  }

  @Test
  @DisplayName("§6.4 type tcp is accepted")
  void typeTcp() throws Exception {
    TunnelRequest r = parse("{\"port\":5432,\"type\":\"tcp\"}");
    assertThat(r.type()).isEqualTo("tcp");
    assertThat(r.host()).isEqualTo("localhost");
    assertThat(r.poolSize()).isEqualTo(2);
  }

  // §6.4 step 4: port

  @ParameterizedTest(name = "port {0} rejected")
  @ValueSource(strings = {"0", "-1", "65536"})
  @DisplayName("§10.2 #5 port outside 1..65535 → port must be between 1 and 65535")
  void portOutOfRange(String port) {
    assertRejected("{\"port\":" + port + "}", "port must be between 1 and 65535");
  }

  @Test
  @DisplayName("§10.2 #5 absent port → port must be between 1 and 65535")
  void portAbsent() {
    assertRejected("{\"name\":\"api\"}", "port must be between 1 and 65535");
  }

  @Test
  @DisplayName("§6.4 ports 1 and 65535 are accepted")
  void portBounds() throws Exception {
    assertThat(parse("{\"port\":1}").port()).isEqualTo(1);
    assertThat(parse("{\"port\":65535}").port()).isEqualTo(65535);
  }

  // §6.4 step 5: basic auth

  @Test
  @DisplayName("§10.2 #6 basic_auth \"admin:\" → basic_auth password cannot be empty")
  void basicAuthEmptyPassword() {
    assertRejected("{\"port\":3000,\"basic_auth\":\"admin:\"}", "basic_auth password cannot be empty");
  }

  @Test
  @DisplayName("§6.4 basic_auth \"  :x\" → basic_auth username cannot be empty")
  void basicAuthEmptyUser() {
    assertRejected("{\"port\":3000,\"basic_auth\":\"  :x\"}", "basic_auth username cannot be empty");
  }

  @Test
  @DisplayName("§6.4 basic_auth without a colon → basic_auth must be in user:password format")
  void basicAuthNoColon() {
    assertRejected("{\"port\":3000,\"basic_auth\":\"nocolon\"}", "basic_auth must be in user:password format");
  }

  @Test
  @DisplayName("§11.5 basic_auth on a tcp tunnel → basic_auth is not supported for tcp tunnels")
  void basicAuthOnTcp() {
    assertRejected("{\"port\":3000,\"type\":\"tcp\",\"basic_auth\":\"user:pass\"}",
        "basic_auth is not supported for tcp tunnels");
  }

  @Test
  @DisplayName("§4.3 basic_auth is trimmed: \"  user:pass  \" → user:pass")
  void basicAuthTrimmed() throws Exception {
    assertThat(parse("{\"port\":3000,\"basic_auth\":\"  user:pass  \"}").basicAuth()).isEqualTo("user:pass");
  }

  @Test
  @DisplayName("§4.3 a password containing a colon is valid (admin:pa:ss)")
  void basicAuthPasswordWithColon() throws Exception {
    assertThat(parse("{\"port\":3000,\"basic_auth\":\"admin:pa:ss\"}").basicAuth()).isEqualTo("admin:pa:ss");
  }

  // §11.5: tcp subdomain

  @Test
  @DisplayName("§11.5 a tcp subdomain is accepted untouched (\"  Keep Me \")")
  void tcpSubdomainUntouched() throws Exception {
    TunnelRequest r = parse("{\"port\":5432,\"type\":\"tcp\",\"subdomain\":\"  Keep Me \"}");
    assertThat(r.subdomain()).isEqualTo("  Keep Me ");
  }

  @Test
  @DisplayName("§6.4 an absent tcp subdomain stays empty (not generated)")
  void tcpSubdomainNotGenerated() throws Exception {
    assertThat(parse("{\"port\":5432,\"type\":\"tcp\"}").subdomain()).isEmpty();
  }

  // §6.4 step 6 / §6.7: callback URLs

  @Test
  @DisplayName("§10.2 #4 callback URLs: callback_url first, trimmed, exact duplicates dropped")
  void callbackUrlsDeduplicated() throws Exception {
    TunnelRequest r = parse("{\"port\":3000,\"callback_url\":\"http://example.test/a\","
        + "\"callback_urls\":[\"http://example.test/a\",\" http://example.test/b \"]}");
    assertThat(r.callbackUrls()).containsExactly("http://example.test/a", "http://example.test/b");
  }

  @Test
  @DisplayName("§6.7 empty callback URLs are dropped")
  void callbackUrlsEmptyDropped() throws Exception {
    TunnelRequest r = parse("{\"port\":3000,\"callback_url\":\"  \",\"callback_urls\":[\"\",\"https://x.test/h\"]}");
    assertThat(r.callbackUrls()).containsExactly("https://x.test/h");
  }

  @Test
  @DisplayName("§10.2 #7 ftp callback on a tcp tunnel → callback_url must use http or https")
  void callbackUrlFtp() {
    assertRejected("{\"port\":5432,\"type\":\"tcp\",\"callback_url\":\"ftp://example.test/hook\"}",
        "callback_url must use http or https");
  }

  @Test
  @DisplayName("§11.13 mailto:x → callback_url must be a valid absolute URL")
  void callbackUrlMailto() {
    assertRejected("{\"port\":3000,\"callback_url\":\"mailto:x\"}", "callback_url must be a valid absolute URL");
  }

  @Test
  @DisplayName("§6.4 \"http://\" (no host) → callback_url must be a valid absolute URL")
  void callbackUrlNoHost() {
    assertRejected("{\"port\":3000,\"callback_url\":\"http://\"}", "callback_url must be a valid absolute URL");
  }

  @Test
  @DisplayName("§6.4 an invalid entry in callback_urls is rejected too")
  void callbackUrlsListChecked() {
    assertRejected("{\"port\":3000,\"callback_urls\":[\"https://ok.test/\",\"ftp://example.test/x\"]}",
        "callback_url must use http or https");
  }

  @Test
  @DisplayName("§11.13 scheme checked case-insensitively, URL stored verbatim (HTTP://EXAMPLE.test/x)")
  void callbackUrlSchemeCaseInsensitive() throws Exception {
    TunnelRequest r = parse("{\"port\":3000,\"callback_url\":\"HTTP://EXAMPLE.test/x\"}");
    assertThat(r.callbackUrls()).containsExactly("HTTP://EXAMPLE.test/x");
  }

  // porthole deviation: pool_size bound

  @Test
  @DisplayName("porthole deviation: pool_size 65 → pool_size must be at most 64")
  void poolSizeTooLarge() {
    assertRejected("{\"port\":3000,\"pool_size\":65}", "pool_size must be at most 64");
  }

  @Test
  @DisplayName("porthole deviation: pool_size 64 is accepted")
  void poolSizeAtMost64() throws Exception {
    assertThat(parse("{\"port\":3000,\"pool_size\":64}").poolSize()).isEqualTo(64);
  }

  @Test
  @DisplayName("§6.4 a fully specified request is carried through")
  void fullRequest() throws Exception {
    TunnelRequest r = parse("{\"name\":\"api\",\"type\":\"http\",\"host\":\"127.0.0.1\",\"port\":8080,"
        + "\"subdomain\":\"my-api\",\"pool_size\":3,\"basic_auth\":\"u:p\",\"callback_url\":\"https://h.test/x\"}");
    assertThat(r).isEqualTo(new TunnelRequest("api", "http", "127.0.0.1", 8080, "my-api", 3, "u:p",
        java.util.List.of("https://h.test/x")));
  }

  // porthole's leases: ttl_seconds and owner_pid

  @Test
  @DisplayName("lease: ttl_seconds 1 and 604800 and a running owner_pid are kept; absent means none")
  void leaseAccepted() throws Exception {
    long me = ProcessHandle.current().pid();
    TunnelRequest r = parse("{\"port\":3000,\"ttl_seconds\":1,\"owner_pid\":" + me + "}");
    assertThat(r.ttlSeconds()).isEqualTo(1);
    assertThat(r.ownerPid()).isEqualTo(me);
    assertThat(parse("{\"port\":3000,\"ttl_seconds\":604800}").ttlSeconds()).isEqualTo(604_800);
    TunnelRequest none = parse("{\"port\":3000,\"ttl_seconds\":null}");
    assertThat(none.ttlSeconds()).isZero();
    assertThat(none.ownerPid()).isZero();
    assertThat(none.toJson().containsKey("ttl_seconds")).isFalse();
    assertThat(TunnelRequest.fromJson(r.toJson())).isEqualTo(r);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "604801", "1.5", "\"60\"", "true", "[60]", "99999999999999999999999"})
  @DisplayName("lease: ttl_seconds out of range or not an integer → its own 400 message")
  void badTtl(String value) {
    assertRejected("{\"port\":3000,\"ttl_seconds\":" + value + "}",
        "ttl_seconds must be an integer between 1 and 604800");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "-5", "1.0", "\"1\"", "{}"})
  @DisplayName("lease: owner_pid not a positive integer → 400")
  void badOwnerPid(String value) {
    assertRejected("{\"port\":3000,\"owner_pid\":" + value + "}", "owner_pid must be a positive integer");
  }

  @Test
  @DisplayName("lease: an owner_pid that names no running process → 400 naming it")
  void deadOwnerPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long gone = p.pid();
    assertRejected("{\"port\":3000,\"owner_pid\":" + gone + "}", "owner_pid " + gone + " is not a running process");
  }

  @Test
  @DisplayName("lease: Portr's own checks come first (a bad port wins over a bad ttl)")
  void portrFirst() {
    assertRejected("{\"port\":0,\"ttl_seconds\":0}", "port must be between 1 and 65535");
  }

  @Test
  @DisplayName("renew body: {\"ttl_seconds\":n} → n; missing, wrong or out of range → 400; not JSON → invalid JSON body")
  void renewal() throws Exception {
    assertThat(TunnelRequests.renewal(JSON, Buffer.buffer("{\"ttl_seconds\":90}"))).isEqualTo(90);
    assertThatThrownBy(() -> TunnelRequests.renewal(JSON, Buffer.buffer("{}")))
        .hasMessage("ttl_seconds is required");
    assertThatThrownBy(() -> TunnelRequests.renewal(JSON, Buffer.buffer("{\"ttl_seconds\":0}")))
        .hasMessage("ttl_seconds must be an integer between 1 and 604800");
    assertThatThrownBy(() -> TunnelRequests.renewal(JSON, Buffer.buffer("{\"ttl_seconds\":\"9\"}")))
        .hasMessage("ttl_seconds must be an integer between 1 and 604800");
    assertThatThrownBy(() -> TunnelRequests.renewal("text/plain", Buffer.buffer("{\"ttl_seconds\":9}")))
        .hasMessage("invalid JSON body");
    assertThatThrownBy(() -> TunnelRequests.renewal(JSON, Buffer.buffer("[9]")))
        .hasMessage("invalid JSON body");
  }
}
