package dev.porthole.cli;

import dev.porthole.bus.Addresses;
import dev.porthole.bus.TunnelEvent;
import dev.porthole.bus.TunnelRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The one tunnel of {@code porthole http} / {@code porthole tcp}: asks the manager to start it,
 * follows its lifecycle events and the captured-request feed ({@code porthole.requests.captured}),
 * and hands what a user sees to the {@link LiveView}: the public URL first, the machine-readable
 * line, then one line per request through the tunnel and per lifecycle change. Event loop only;
 * owns no tunnel state (the manager does), only what it has shown.
 */
final class ForegroundTunnel extends VerticleBase {
  /** Events and requests that arrive before the tunnel's id or its start is known, at most. */
  static final int EARLY_LIMIT = 1_000;

  private final TunnelRequest request;
  private final String apiUrl;
  private final LiveView view;
  private final Promise<String> ready = Promise.promise();
  private final Promise<Void> ended = Promise.promise();
  private final List<TunnelEvent> earlyEvents = new ArrayList<>();
  private final List<JsonObject> earlyRequests = new ArrayList<>();
  private String tunnelId;
  private boolean running;
  private long startTimer = -1;

  /**
   * @param apiUrl where this process serves the app-server API, for the machine-readable line
   */
  ForegroundTunnel(TunnelRequest request, String apiUrl, LiveView view) {
    this.request = request;
    this.apiUrl = apiUrl;
    this.view = view;
  }

  /** Completes with the public URL once the tunnel runs; fails with the reason it did not start. */
  Future<String> ready() {
    return ready.future();
  }

  /** Completes when the tunnel stopped by other means than this process (e.g. the API's DELETE). */
  Future<Void> ended() {
    return ended.future();
  }

  @Override
  public Future<?> start() {
    var bus = vertx.eventBus();
    return Future.all(
            bus.<JsonObject>localConsumer(Addresses.TUNNELS_LIFECYCLE, m -> onEvent(TunnelEvent.fromJson(m.body())))
                .completion(),
            bus.<JsonObject>localConsumer(Addresses.REQUESTS_CAPTURED, m -> onCaptured(m.body())).completion())
        .onSuccess(v -> startTunnel());
  }

  private void startTunnel() {
    // Registered first, then its events: the reply names the id the events carry.
    vertx.eventBus().<JsonObject>request(Addresses.TUNNELS_START, request.toJson(),
            new DeliveryOptions().setSendTimeout(Addresses.START_TIMEOUT_MS)
                .addHeader(Addresses.REPLY_ON_HEADER, Addresses.REPLY_ON_REGISTERED))
        .map(Message::body)
        .onFailure(err -> ready.tryFail(err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
            ? "the tunnel did not start within " + Addresses.START_TIMEOUT_MS / 1000 + " s" : err.getMessage()))
        .onSuccess(status -> {
          tunnelId = status.getString("id");
          startTimer = vertx.setTimer(Addresses.START_TIMEOUT_MS, t -> ready.tryFail(
              "the tunnel did not start within " + Addresses.START_TIMEOUT_MS / 1000 + " s"));
          List<TunnelEvent> events = new ArrayList<>(earlyEvents);
          earlyEvents.clear();
          events.forEach(this::onEvent);
        });
  }

  private void onEvent(TunnelEvent e) {
    if (tunnelId == null) {
      if (earlyEvents.size() < EARLY_LIMIT) {
        earlyEvents.add(e);
      }
      return;
    }
    if (!e.tunnelId().equals(tunnelId)) {
      return;
    }
    if (!running) {
      switch (e.type()) {
        case "started", "reconnected" -> onRunning(e);
        case "failed" -> ready.tryFail(e.error());
        case "stopped" -> ready.tryFail("the tunnel was stopped before it started");
        default -> { }
      }
      return;
    }
    String detail = switch (e.type()) {
      case "reconnected" -> e.tunnelUrl();
      case "unhealthy", "failed" -> e.error();
      default -> "";
    };
    view.event(e.at(), e.type(), detail);
    if (e.type().equals("stopped")) {
      ended.tryComplete();
    }
  }

  private void onRunning(TunnelEvent e) {
    running = true;
    vertx.cancelTimer(startTimer);
    view.line(e.tunnelUrl());
    view.line("porthole: url=" + e.tunnelUrl() + " id=" + tunnelId + " type=" + request.type() + " local="
        + request.host() + ":" + request.port() + " api=" + apiUrl);
    ready.tryComplete(e.tunnelUrl());
    if (request.isHttp()) {
      vertx.eventBus().<JsonObject>request(Addresses.REQUESTS_STATE, new JsonObject(),
              new DeliveryOptions().setSendTimeout(Addresses.QUERY_TIMEOUT_MS))
          .onSuccess(m -> {
            if (!m.body().getBoolean("enabled", true)) {
              view.line("porthole: request logging is off (enable_request_logging, request_log.enabled): "
                  + "requests are not shown");
            }
          });
    }
    List<JsonObject> backlog = new ArrayList<>(earlyRequests);
    earlyRequests.clear();
    backlog.forEach(this::onCaptured);
  }

  private void onCaptured(JsonObject summary) {
    if (!running) {
      if (earlyRequests.size() < EARLY_LIMIT && (tunnelId == null || tunnelId.equals(summary.getString("tunnel_id")))) {
        earlyRequests.add(summary);
      }
      return;
    }
    if (tunnelId.equals(summary.getString("tunnel_id"))) {
      view.request(summary);
    }
  }
}
