package dev.porthole.httpkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.bus.FailureCode;
import dev.porthole.httpkit.ApiResponses.Route;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ApiResponsesTest {
  private static ReplyException failed(FailureCode code) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code.code(), "x");
  }

  @Test
  @DisplayName("the one mapping from bus failures to statuses, by route")
  void statusByCodeAndRoute() {
    assertThat(ApiResponses.status(failed(FailureCode.START_FAILED), Route.START)).isEqualTo(400);
    assertThat(ApiResponses.status(failed(FailureCode.INVALID_REQUEST), Route.START)).isEqualTo(400);
    assertThat(ApiResponses.status(failed(FailureCode.START_FAILED), Route.TUNNEL)).isEqualTo(500);
    assertThat(ApiResponses.status(failed(FailureCode.TUNNEL_NOT_FOUND), Route.TUNNEL)).isEqualTo(404);
    assertThat(ApiResponses.status(failed(FailureCode.SHUTTING_DOWN), Route.START)).isEqualTo(503);
    assertThat(ApiResponses.status(failed(FailureCode.LIMIT_REACHED), Route.START)).isEqualTo(429);
    assertThat(ApiResponses.status(failed(FailureCode.INTERNAL), Route.QUERY)).isEqualTo(500);
    assertThat(ApiResponses.status(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 12345, "x"), Route.QUERY))
        .as("an unknown code is internal").isEqualTo(500);
    assertThat(ApiResponses.status(new ReplyException(ReplyFailure.TIMEOUT, "t"), Route.TUNNEL)).isEqualTo(503);
    assertThat(ApiResponses.status(new ReplyException(ReplyFailure.NO_HANDLERS, "n"), Route.START)).isEqualTo(503);
    assertThat(ApiResponses.status(new IllegalStateException("boom"), Route.QUERY)).isEqualTo(500);
  }

  private HttpServer server;
  private HttpClient client;

  @BeforeEach
  void serve(Vertx vertx, VertxTestContext ctx) {
    Router router = Router.router(vertx);
    router.route("/json").handler(rc -> ApiResponses.json(rc, 200, new JsonObject().put("message", "<a & b>")));
    router.route("/only-post").handler(rc -> ApiResponses.methodNotAllowed(rc, "POST"));
    ApiResponses.routerErrors(router, "test API");
    client = vertx.createHttpClient();
    vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .onComplete(ctx.succeeding(s -> {
          server = s;
          ctx.completeNow();
        }));
  }

  private record Resp(HttpClientResponse head, Buffer body) {
  }

  /**
   * body() is asked for inside send()'s own callback: Vert.x 5.0.10 drops a response's end when
   * body() comes a tick after a response that arrived in one read (vert.x#6038), and a chain built
   * from the test thread can get its callback that late.
   */
  private Future<Resp> call(HttpMethod method, String path) {
    return client.request(method, server.actualPort(), "127.0.0.1", path)
        .compose(req -> req.send().compose(r -> r.body().map(b -> new Resp(r, b))));
  }

  @Test
  @DisplayName("JSON bodies are encoded as Go does; HEAD gets the length and no body")
  void goEncodingAndHead(VertxTestContext ctx) {
    String expected = "{\"message\":\"\\u003ca \\u0026 b\\u003e\"}";
    call(HttpMethod.GET, "/json").map(get -> {
      ctx.verify(() -> {
        assertThat(get.head().getHeader("Content-Type")).isEqualTo("application/json");
        assertThat(get.body().toString()).isEqualTo(expected);
      });
      return get.body().length();
    }).compose(length -> call(HttpMethod.HEAD, "/json").map(head -> {
      ctx.verify(() -> {
        assertThat(head.head().statusCode()).isEqualTo(200);
        assertThat(head.head().getHeader("Content-Length")).isEqualTo(String.valueOf(length));
        assertThat(head.body().length()).isZero();
      });
      return null;
    })).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("405 names the allowed methods in Allow and in the message; unknown paths get 404 JSON")
  void routerStatuses(VertxTestContext ctx) {
    call(HttpMethod.GET, "/only-post").map(r -> {
      ctx.verify(() -> {
        assertThat(r.head().statusCode()).isEqualTo(405);
        assertThat(r.head().getHeader("Allow")).isEqualTo("POST");
        assertThat(r.body().toJsonObject().getString("message")).isEqualTo("method must be one of: POST");
      });
      return null;
    }).compose(v -> call(HttpMethod.DELETE, "/nowhere").map(r -> {
      ctx.verify(() -> {
        assertThat(r.head().statusCode()).isEqualTo(404);
        assertThat(r.body().toJsonObject().getString("message")).isEqualTo("Cannot DELETE /nowhere");
      });
      return null;
    })).onComplete(ctx.succeedingThenComplete());
  }
}
