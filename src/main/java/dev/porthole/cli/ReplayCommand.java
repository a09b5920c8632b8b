package dev.porthole.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Send a logged request again to its tunnel's local service, through the app-server "
        + "(POST /api/v1/requests/{id}/replay); the replay is logged as a new request linked to the "
        + "original. Prints `replayed <id> <METHOD> <url> -> <status> as <new id>`, or the new "
        + "request's JSON with --json. Exit codes: 0 replayed, 1 refused or failed, 2 usage.")
public final class ReplayCommand implements Callable<Integer> {
  static final int FAILED = 1;
  static final int USAGE = 2;
  /** The app-server gives a replay 60 s (its answer, then its log entry). */
  static final Duration TIMEOUT = Duration.ofSeconds(75);
  /** Bodies read from a file or stdin: sent as base64 (4/3 larger) in an API body of at most 4 MiB. */
  static final long MAX_BODY = (4L << 20) * 3 / 4 - 64 * 1024;

  @Parameters(index = "0", paramLabel = "REQUEST-ID", description = "the logged request's id")
  String id;

  @Option(names = {"-X", "--method"}, paramLabel = "METHOD", description = "send with this method instead")
  String method;

  @Option(names = "--url", paramLabel = "PATH", description = "send to this path (and query) instead, e.g. /hooks?x=1")
  String url;

  @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'",
      description = "set a header (replaces the logged values; repeat it for several values)")
  List<String> headers = new ArrayList<>();

  @Option(names = "--drop-header", paramLabel = "NAME", description = "leave this logged header out")
  List<String> dropHeaders = new ArrayList<>();

  @Option(names = "--body", paramLabel = "TEXT", description = "send this body instead")
  String body;

  @Option(names = "--body-file", paramLabel = "FILE", description = "send this file's bytes as the body (- for stdin)")
  String bodyFile;

  @Option(names = "--json", description = "print the new request's JSON (as GET /api/v1/requests/{id} gives it)")
  boolean json;

  @Mixin
  AppServerAccess server = new AppServerAccess();

  @Override
  public Integer call() throws Exception {
    JsonObject edits;
    try {
      edits = edits();
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("porthole: " + e.getMessage());
      return USAGE;
    }
    String credential = server.credential();
    String base = server.api();
    HttpRequest.Builder request = HttpRequest.newBuilder(
            URI.create(base + "/api/v1/requests/" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "/replay"))
        .timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(edits.encode()));
    if (!credential.isEmpty()) {
      request.header("Authorization", "Bearer " + credential);
    }
    HttpResponse<String> response;
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    try {
      response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      System.err.println("porthole: cannot reach the app-server at " + base + ": " + e);
      return FAILED;
    }
    JsonObject answer;
    try {
      answer = new JsonObject(response.body());
    } catch (RuntimeException e) {
      answer = new JsonObject();
    }
    if (response.statusCode() != 201) {
      System.err.println("porthole: replay refused (" + response.statusCode() + "): "
          + answer.getString("message", response.body()));
      return FAILED;
    }
    if (json) {
      System.out.println(answer.encode());
    } else {
      System.out.println("replayed " + id + " " + answer.getString("method") + " " + answer.getString("url")
          + " -> " + answer.getInteger("status") + " as " + answer.getString("id"));
    }
    return 0;
  }

  /** The replay body of the API from the options. */
  JsonObject edits() throws IOException {
    JsonObject out = new JsonObject();
    if (method != null) {
      out.put("method", method);
    }
    if (url != null) {
      out.put("url", url);
    }
    JsonObject h = new JsonObject();
    for (String name : dropHeaders) {
      h.putNull(name.strip());
    }
    for (String line : headers) {
      int colon = line.indexOf(':');
      if (colon <= 0 || line.substring(0, colon).isBlank()) {
        throw new IllegalArgumentException("invalid header \"" + line + "\": use 'Name: value'");
      }
      String name = line.substring(0, colon).strip();
      JsonArray values = h.getValue(name) instanceof JsonArray a ? a : new JsonArray();
      h.put(name, values.add(line.substring(colon + 1).strip()));
    }
    if (!h.isEmpty()) {
      out.put("headers", h);
    }
    if (body != null && bodyFile != null) {
      throw new IllegalArgumentException("give --body or --body-file, not both");
    }
    if (body != null) {
      out.put("body", body);
    } else if (bodyFile != null) {
      out.put("body_base64", Base64.getEncoder().encodeToString(readBody(bodyFile)));
    }
    return out;
  }

  private static byte[] readBody(String source) throws IOException {
    try (InputStream in = source.equals("-") ? System.in : Files.newInputStream(Path.of(source))) {
      byte[] bytes = in.readNBytes((int) MAX_BODY + 1);
      if (bytes.length > MAX_BODY) {
        throw new IllegalArgumentException("the body is larger than " + MAX_BODY + " bytes");
      }
      return bytes;
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("cannot read " + source + ": no such file");
    }
  }
}
