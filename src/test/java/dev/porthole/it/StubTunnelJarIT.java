package dev.porthole.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testsupport.JarProcess;
import dev.porthole.testsupport.Timeouts;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Portr's stub tunnels from the shaded jar, through its embedded relay: what a Portr client sees. */
class StubTunnelJarIT {
  @TempDir
  Path home;
  JarProcess app;
  String api;
  String domain;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    Files.writeString(home.resolve("porthole.yaml"), String.join("\n",
        "app_server:", "  port: 0", "embedded_relay:", "  admin_port: 0", "  ssh_port: 0", "  http_port: 0", ""));
    app = JarProcess.start(home, "app-server", "--conf", "porthole.yaml");
    api = app.await("Portr app server listening on (http://\\S+)", Duration.ofSeconds(60));
    domain = app.await("tunnels at http://<subdomain>\\.(\\S+)", Duration.ofSeconds(5));
  }

  @AfterEach
  void stop() throws Exception {
    app.close();
  }

  private HttpResponse<String> call(String method, String path, JsonObject json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A request to the relay's public edge with the tunnel's Host, as a browser would send it. */
  private HttpResponse<String> publicGet(String subdomain, String pathAndQuery, String... headers) throws Exception {
    int edgePort = Integer.parseInt(domain.substring(domain.lastIndexOf(':') + 1));
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort + pathAndQuery))
        .timeout(Duration.ofSeconds(15)).header("Host", subdomain + "." + domain);
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private int publicStatus(String subdomain) {
    try {
      return publicGet(subdomain, "/").statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  @DisplayName("POST a stub → 201 running in Portr's JSON; its public URL answers the rendered template and pings; "
      + "a duplicate subdomain is Portr's 400; after DELETE the route is gone and the subdomain can be reused")
  void stubLifecycle() throws Exception {
    HttpResponse<String> created = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", "Pay-Stub").put("response_format", "application/json")
        .put("response_tmpl", "{\"order\":\"{{order}}\",\"amount\":\"{{amount|float}}\",\"paid\":{{paid|bool}}}"));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonObject stub = new JsonObject(created.body());
    assertThat(stub.fieldNames()).startsWith("id", "status", "type", "host", "port", "subdomain", "remote_port",
        "tunnel_url", "response_format", "started_at", "updated_at");
    assertThat(stub.getString("status")).isEqualTo("running");
    assertThat(stub.getString("type")).isEqualTo("stub");
    assertThat(stub.getValue("host")).isEqualTo("");
    assertThat(stub.getValue("port")).isEqualTo(0);
    assertThat(stub.getString("subdomain")).isEqualTo("pay-stub");
    assertThat(stub.getString("tunnel_url")).isEqualTo("http://pay-stub." + domain);
    assertThat(stub.getString("response_format")).isEqualTo("application/json");

    HttpResponse<String> served = publicGet("pay-stub", "/checkout?order=A%2217&amount=12.50&paid=1");
    assertThat(served.statusCode()).isEqualTo(200);
    assertThat(served.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(served.body()).isEqualTo("{\"order\":\"A\\\"17\",\"amount\":12.5,\"paid\":true}");
    HttpResponse<String> ping = publicGet("pay-stub", "/", "X-Portr-Ping-Request", "true");
    assertThat(ping.statusCode()).isEqualTo(200);
    assertThat(ping.body()).isEmpty();

    HttpResponse<String> dup = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", "pay-stub").put("response_format", "text/plain").put("response_tmpl", "again"));
    assertThat(dup.statusCode()).isEqualTo(400);
    assertThat(dup.body()).isEqualTo("{\"message\":\"stub responder route for subdomain \\\"pay-stub\\\" already exists\"}");

    HttpResponse<String> stopped = call("DELETE", "/api/v1/tunnels/" + stub.getString("id"), null);
    assertThat(new JsonObject(stopped.body()).getString("status")).isEqualTo("stopped");
    Timeouts.pollUntil(Duration.ofSeconds(10), "the relay no longer routes pay-stub",
        () -> publicStatus("pay-stub") == 404);

    Files.writeString(home.resolve("again.txt"), "second {{ who }}\n");
    HttpResponse<String> reused = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", "pay-stub").put("response_format", "text/plain; charset=utf-8")
        .put("response_tmpl_file", "again.txt"));
    assertThat(reused.statusCode()).as(reused.body()).isEqualTo(201);
    assertThat(new JsonObject(reused.body()).getString("status")).isEqualTo("running");
    HttpResponse<String> second = publicGet("pay-stub", "/?who=me");
    assertThat(second.body()).isEqualTo("second me\n");
    assertThat(second.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
  }

  /** One HTTP/1.1 exchange, written raw to 127.0.0.1:port; the whole answer, read until the server closes. */
  private static String rawExchange(int port, String request) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private JsonObject stub(String subdomain, String format, String template) throws Exception {
    HttpResponse<String> created = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", subdomain).put("response_format", format).put("response_tmpl", template));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    return new JsonObject(created.body());
  }

  @Test
  @DisplayName("a stub through the app-server: its proxy_url (GET and POST) and a raw HTTP request over "
      + "porthole connect's WebSocket tunnel reach the stub responder and answer that stub's template; "
      + "its status keeps Portr's host \"\" and port 0")
  void stubThroughAccessRoom() throws Exception {
    // Two stubs: with one, the responder answers any Host with it and a wrong Host would go unseen.
    JsonObject alpha = stub("alpha", "text/plain; charset=utf-8", "alpha says {{who}}\n");
    JsonObject beta = stub("beta", "application/json", "{\"beta\":\"{{who}}\",\"n\":{{n|int}}}");
    assertThat(beta.getValue("host")).isEqualTo("");
    assertThat(beta.getValue("port")).isEqualTo(0);

    HttpResponse<String> a = http.send(HttpRequest.newBuilder(URI.create(alpha.getString("proxy_url") + "x?who=me"))
        .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
    assertThat(a.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(a.body()).isEqualTo("alpha says me\n");
    HttpResponse<String> b = http.send(HttpRequest.newBuilder(URI.create(beta.getString("proxy_url") + "?who=q"))
        .timeout(Duration.ofSeconds(15)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"n\":42}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
    assertThat(b.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(b.body()).isEqualTo("{\"beta\":\"q\",\"n\":42}");

    HttpResponse<String> again = call("GET", "/api/v1/tunnels/" + beta.getString("id"), null);
    JsonObject status = new JsonObject(again.body());
    assertThat(status.getValue("host")).as("the status still shows what the caller sent").isEqualTo("");
    assertThat(status.getValue("port")).isEqualTo(0);

    try (JarProcess p = JarProcess.start(home, "connect", beta.getString("id"), "--api", api)) {
      int port = Integer.parseInt(p.await("listening 127\\.0\\.0\\.1:(\\d+)", Duration.ofSeconds(30)));
      String answer = rawExchange(port, "GET /?who=raw&n=7 HTTP/1.1\r\nHost: beta\r\nConnection: close\r\n\r\n");
      assertThat(answer).as("stderr:\n%s", p.output()).startsWith("HTTP/1.1 200 OK\r\n")
          .contains("\r\nContent-Type: application/json\r\n").endsWith("\r\n\r\n{\"beta\":\"raw\",\"n\":7}");
      // The bytes are the caller's own: the responder routes by the Host they carry (Portr's rule), so
      // with two stubs a Host that names neither finds no route.
      String unrouted = rawExchange(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n");
      assertThat(unrouted).startsWith("HTTP/1.1 404 Not Found\r\n").endsWith("404 page not found\n");
    }
  }

  @Test
  @DisplayName("validation through the jar: the template file is read relative to the app-server's working directory")
  void validationFromTheJar() throws Exception {
    HttpResponse<String> missing = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", "x").put("response_format", "text/plain").put("response_tmpl_file", "./nope.json"));
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(missing.body()).getString("message"))
        .isEqualTo("failed to read response_tmpl_file \"./nope.json\": open nope.json: no such file or directory");
    HttpResponse<String> noFormat = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "stub")
        .put("subdomain", "x").put("response_tmpl", "hi"));
    assertThat(new JsonObject(noFormat.body()).getString("message")).isEqualTo("response_format is required for stub tunnels");
    HttpResponse<String> badType = call("POST", "/api/v1/tunnels", new JsonObject().put("type", "static").put("port", 1));
    assertThat(new JsonObject(badType.body()).getString("message")).isEqualTo("type must be http, tcp, or stub");
    HttpResponse<String> list = call("GET", "/api/v1/tunnels", null);
    assertThat(new JsonObject(list.body()).getJsonArray("tunnels")).as("nothing registered by refused POSTs").isEmpty();
  }
}
