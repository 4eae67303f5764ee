package dev.tandem.runtime.http;

import dev.tandem.runtime.store.PgScheduleStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /api/v1/schedules/{mapping}/pause}: an operator pauses a mapping's schedules with a reason (stored with
 * who and when). The state is in PostgreSQL, so every node's tick skips them; {@code POST .../wake} resumes them.
 */
final class SchedulesApi {

  static final int MAX_REASON = 500;
  static final int MAX_BY = 100;

  private final PgScheduleStore schedules;

  SchedulesApi(PgScheduleStore schedules) {
    this.schedules = schedules;
  }

  void mount(Router r) {
    r.post("/api/v1/schedules/:mapping/pause").handler(this::pause);
  }

  private void pause(RoutingContext ctx) {
    String mapping = ctx.pathParam("mapping");
    JsonObject body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
    String reason = body.getValue("reason") instanceof String s ? s.trim() : null;
    if (reason == null || reason.isEmpty() || reason.length() > MAX_REASON) {
      ApiError.send(ctx, 400, "bad_request", "reason: say why the schedule is paused (1 to " + MAX_REASON
          + " characters), e.g. {\"reason\":\"ERP upgrade tonight\",\"by\":\"anna\"}");
      return;
    }
    String by = body.getValue("by") instanceof String s ? s.trim() : null;
    if (by != null && by.length() > MAX_BY) {
      ApiError.send(ctx, 400, "bad_request", "by: at most " + MAX_BY + " characters, got " + by.length());
      return;
    }
    // Who: the name given, and the credential it came with (the console's session or the bearer token).
    String channel = ctx.request().getHeader("Authorization") == null ? "console" : "admin token";
    String who = by == null || by.isEmpty() ? channel : by + " (" + channel + ")";
    schedules.pause(mapping, reason, who).compose(n -> n == 0 ? Future.succeededFuture((JsonArray) null)
        : schedules.list())
        .onSuccess(all -> {
          if (all == null) {
            ApiError.send(ctx, 404, "not_found", "mapping " + mapping + " has no schedule to pause (none, or only "
                + "disabled ones)");
            return;
          }
          JsonArray mine = new JsonArray();
          all.forEach(o -> {
            if (mapping.equals(((JsonObject) o).getString("mapping"))) {
              mine.add(o);
            }
          });
          ctx.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("mapping", mapping)
              .put("paused", mine.stream().filter(o -> "PAUSED".equals(((JsonObject) o).getString("state"))).count())
              .put("schedules", mine).encode());
        }).onFailure(ctx::fail);
  }
}
