package dev.porthole.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class JsonBodyTest {
  /** Counts how often it was made JSON. */
  static final class Counted implements JsonBody {
    final AtomicInteger made = new AtomicInteger();

    @Override
    public JsonObject toJson() {
      made.incrementAndGet();
      return new JsonObject().put("n", 1);
    }
  }

  @Test
  void a_publish_no_one_listens_to_makes_no_json(Vertx vertx) {
    JsonBody.registerCodec(vertx.eventBus());
    JsonBody.registerCodec(vertx.eventBus()); // a second verticle registering finds it there
    Counted body = new Counted();
    vertx.eventBus().publish("json-body.nobody", body, JsonBody.LOCAL);
    assertThat(body.made).hasValue(0);
  }

  @Test
  void each_consumer_receives_a_json_object_of_its_own(Vertx vertx, VertxTestContext ctx) {
    JsonBody.registerCodec(vertx.eventBus());
    Counted body = new Counted();
    List<JsonObject> got = new CopyOnWriteArrayList<>();
    Future<Void> first = vertx.eventBus().<JsonObject>localConsumer("json-body.two", m -> got.add(m.body()))
        .completion();
    Future<Void> second = vertx.eventBus().<JsonObject>localConsumer("json-body.two", m -> {
      got.add(m.body());
      m.body().put("mine", true); // a consumer may change its own copy
    }).completion();
    Future.all(first, second).onComplete(ctx.succeeding(v -> {
      vertx.eventBus().publish("json-body.two", body, JsonBody.LOCAL);
      vertx.setPeriodic(5, id -> {
        if (got.size() == 2) {
          vertx.cancelTimer(id);
          ctx.verify(() -> {
            assertThat(body.made).hasValue(2);
            assertThat(got.get(0)).isNotSameAs(got.get(1));
            assertThat(got).extracting(j -> j.getInteger("n")).containsExactly(1, 1);
            assertThat(got).filteredOn(j -> j.containsKey("mine")).hasSize(1);
          });
          ctx.completeNow();
        }
      });
    }));
  }
}
