package dev.tandem.runtime.http;

import dev.tandem.api.Addresses;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.bus.BusMessages;
import dev.tandem.runtime.bus.BusRequest;
import dev.tandem.runtime.fullsync.FullSyncCoordinatorVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The full synchronization review: {@code GET /api/v1/full-sync}, {@code POST /api/v1/full-sync/start} and the
 * live progress stream {@code GET /api/v1/full-sync/events} (server-sent events). The work is the node's
 * {@link FullSyncCoordinatorVerticle}'s, asked over the event bus.
 */
final class FullSyncApi {

  private static final long HEARTBEAT_MS = 10_000;
  private static final DeliveryOptions SLOW = new DeliveryOptions().setSendTimeout(60_000);
  private final Vertx vertx;
  private final java.util.function.BooleanSupplier available;
  private final long eventIntervalMs;
  private final int maxStreams;
  private final java.util.concurrent.atomic.AtomicInteger streams;

  /**
   * @param vertx Vert.x
   * @param available whether this node has both connections (and so a coordinator)
   * @param eventIntervalMs how often the event stream looks for progress
   * @param maxStreams event streams open at once at most (each holds a connection and a timer)
   * @param streams the node's count of open event streams (shared with {@code /api/v1/events})
   */
  FullSyncApi(Vertx vertx, java.util.function.BooleanSupplier available, long eventIntervalMs, int maxStreams,
      java.util.concurrent.atomic.AtomicInteger streams) {
    this.vertx = vertx;
    this.streams = streams;
    this.available = available;
    this.eventIntervalMs = eventIntervalMs;
    this.maxStreams = maxStreams;
  }

  void mount(Router r) {
    r.route("/api/v1/full-sync*").handler(ctx -> {
      if (!available.getAsBoolean()) {
        ApiError.send(ctx, 503, "unavailable", "full synchronization needs both the ERP and the CRM connection "
            + "configured on this node (connections.erp and connections.crm)");
      } else {
        ctx.next();
      }
    });
    // ?counts=false leaves out the endpoint counts and recommendations: a cheap read for polling.
    r.get("/api/v1/full-sync").handler(ctx -> ask(ctx,
        new BusMessages.FullSyncReview(!"false".equals(ctx.request().getParam("counts"))), 200));
    r.post("/api/v1/full-sync/start").handler(ctx -> {
      JsonObject body;
      try {
        body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
      } catch (RuntimeException e) {
        ApiError.send(ctx, 400, "bad_request", "the body must be a JSON object: " + e.getMessage());
        return;
      }
      ask(ctx, BusMessages.FullSyncStart.from(body), 202);
    });
    r.get("/api/v1/full-sync/events").handler(this::events);
  }

  private void ask(RoutingContext ctx, BusRequest<JsonObject> request, int status) {
    Bus.request(vertx, request, SLOW).onSuccess(out -> {
      if (status == 202) {
        out.put("review", "/api/v1/full-sync").put("events", "/api/v1/full-sync/events");
      }
      ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(out.encode());
    }).onFailure(e -> ctx.fail(BusError.of(request.address(), e)));
  }

  /**
   * Server-sent events: {@code progress} with the review's lines (without endpoint counts) whenever they change,
   * read from PostgreSQL so it covers every node's jobs, and {@code page} for each page this node commits.
   */
  private void events(RoutingContext ctx) {
    if (streams.incrementAndGet() > maxStreams) {
      streams.decrementAndGet();
      ctx.response().putHeader("Retry-After", "10");
      ApiError.send(ctx, 503, "unavailable", "too many event streams are open on this node (at most " + maxStreams
          + "); poll GET /api/v1/full-sync?counts=false instead, or try again later");
      return;
    }
    HttpServerResponse res = ctx.response().setChunked(true).putHeader("Content-Type", "text/event-stream")
        .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
    res.write(": full synchronization progress\n\n");
    String[] last = {null};
    MessageConsumer<JsonObject> pages = vertx.eventBus().consumer(Addresses.FULL_SYNC_EVENTS,
        m -> res.write("event: page\ndata: " + m.body().encode() + "\n\n"));
    long timer = vertx.setPeriodic(1, eventIntervalMs, id -> Bus.request(vertx, new BusMessages.FullSyncProgress(),
        SLOW).onSuccess(body -> {
          String now = body.encode();
          if (!now.equals(last[0]) && !res.closed()) {
            last[0] = now;
            res.write("event: progress\ndata: " + now + "\n\n");
          }
        }));
    // A comment line now and then keeps the stream from looking idle to the server's idle timeout and to proxies.
    long heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> {
      if (!res.closed()) {
        res.write(":\n\n");
      }
    });
    res.closeHandler(v -> {
      streams.decrementAndGet();
      vertx.cancelTimer(heartbeat);
      vertx.cancelTimer(timer);
      pages.unregister();
    });
  }
}
