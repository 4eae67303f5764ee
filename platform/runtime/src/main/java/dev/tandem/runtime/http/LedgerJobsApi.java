package dev.tandem.runtime.http;

import dev.tandem.api.JobKind;
import dev.tandem.api.LedgerJobDefinition;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgLedgerStore;
import dev.tandem.runtime.store.PgScheduleStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.function.Function;

/**
 * {@code /api/v1/ledger-jobs}: the ledger jobs (the Item Availability job) with their position in the ledger and
 * their schedule; PATCH enables, disables, re-times or repositions one; POST {@code …/run} runs one now.
 */
final class LedgerJobsApi {

  private final PluginHost plugins;
  private final PgLedgerStore ledger;
  private final PgScheduleStore schedules;
  private final Function<NewJob, Future<Long>> enqueue;

  LedgerJobsApi(PluginHost plugins, Pool pool, PgScheduleStore schedules, Function<NewJob, Future<Long>> enqueue) {
    this.plugins = plugins;
    this.ledger = new PgLedgerStore(pool);
    this.schedules = schedules;
    this.enqueue = enqueue;
  }

  void mount(Router r) {
    r.get("/api/v1/ledger-jobs").handler(this::list);
    r.get("/api/v1/ledger-jobs/:name").handler(ctx -> withJob(ctx, j -> view(j).onSuccess(v -> json(ctx, 200, v))
        .onFailure(ctx::fail)));
    r.patch("/api/v1/ledger-jobs/:name").handler(this::patch);
    r.post("/api/v1/ledger-jobs/:name/run").handler(this::run);
  }

  private void withJob(RoutingContext ctx, java.util.function.Consumer<LedgerJobDefinition> then) {
    LedgerJobDefinition j = plugins.ledgerJobs().get(ctx.pathParam("name"));
    if (j == null) {
      ApiError.send(ctx, 404, "not_found", "no installed plugin provides ledger job " + ctx.pathParam("name")
          + "; known: " + plugins.ledgerJobs().keySet());
    } else {
      then.accept(j);
    }
  }

  private void list(RoutingContext ctx) {
    Future<JsonArray> all = Future.succeededFuture(new JsonArray());
    for (LedgerJobDefinition j : plugins.ledgerJobs().values()) {
      all = all.compose(a -> view(j).map(a::add));
    }
    all.onSuccess(a -> json(ctx, 200, new JsonObject().put("ledgerJobs", a))).onFailure(ctx::fail);
  }

  /** The job's definition, whether its mapping lets it run, its position and its schedule. */
  private Future<JsonObject> view(LedgerJobDefinition j) {
    var m = plugins.mappings().get(j.mapping());
    JsonObject out = new JsonObject().put("name", j.name()).put("mapping", j.mapping()).put("ledger", j.ledger())
        .put("erpField", j.erpField()).put("crmField", j.crmField())
        .put("fields", new JsonObject(new java.util.LinkedHashMap<String, Object>(j.fields())))
        .put("follows", new io.vertx.core.json.JsonArray(j.feeds().stream().map(f -> new JsonObject()
            .put("service", f.service()).put("owner", f.owner())).toList()))
        .put("refreshEvery", j.refreshEvery() == null ? null : j.refreshEvery().toString())
        .put("runnable", m != null && m.enabled())
        .put("reason", m == null ? "mapping " + j.mapping() + " is not installed"
            : m.enabled() ? null : "mapping " + j.mapping() + " is disabled: " + m.disabledReason());
    return ledger.list().compose(positions -> {
      for (Object o : positions) {
        JsonObject p = (JsonObject) o;
        if (j.name().equals(p.getString("job"))) {
          out.put("lastEntryNo", p.getLong("lastEntryNo")).put("updatedAt", p.getString("updatedAt"))
              .put("pendingCouplings", p.getLong("pendingCouplings"));
        }
      }
      if (!out.containsKey("lastEntryNo")) {
        out.put("lastEntryNo", null).put("updatedAt", null).put("pendingCouplings", null);
      }
      return schedules.list();
    }).map(all -> {
      JsonObject schedule = null;
      for (Object o : all) {
        JsonObject s = (JsonObject) o;
        if (j.name().equals(s.getString("mapping")) && JobKind.LEDGER.name().equals(s.getString("kind"))) {
          schedule = s;
        }
      }
      return out.put("enabled", schedule != null && !"DISABLED".equals(schedule.getString("state")))
          .put("schedule", schedule);
    });
  }

  private void patch(RoutingContext ctx) {
    withJob(ctx, j -> {
      JsonObject body = ctx.body().asJsonObject();
      Boolean enabled = body.getBoolean("enabled");
      Long seconds = body.getLong("intervalSeconds");
      Long position = body.getLong("lastEntryNo");
      Future<Void> moved = position == null ? Future.succeededFuture()
          : ledger.reposition(j.name(), position).compose(found -> found ? Future.succeededFuture()
              : Future.failedFuture(new ApiError(409, "conflict", "ledger job " + j.name() + " has not run yet: "
                  + "its first run starts at the newest entry; reposition it after that")));
      moved.compose(v -> enabled == null && seconds == null ? Future.succeededFuture()
              : schedules.change(j.name(), JobKind.LEDGER.name(), enabled, seconds == null ? null : seconds * 1000)
                  .compose(s -> s != null ? Future.succeededFuture()
                      : Future.failedFuture(new ApiError(409, "conflict", "ledger job " + j.name()
                          + " has no schedule on this installation: its mapping " + j.mapping()
                          + " is not enabled, or no node has both connections"))))
          .compose(v -> view(j))
          .onSuccess(v -> json(ctx, 200, v)).onFailure(ctx::fail);
    });
  }

  private void run(RoutingContext ctx) {
    withJob(ctx, j -> {
      var m = plugins.mappings().get(j.mapping());
      if (m == null || !m.enabled()) {
        ApiError.send(ctx, 409, "conflict", "ledger job " + j.name() + " cannot run: its mapping " + j.mapping()
            + " is not enabled");
        return;
      }
      view(j).compose(v -> {
        if (v.getJsonObject("schedule") != null && !v.getBoolean("enabled")) {
          return Future.failedFuture(new ApiError(409, "conflict", "ledger job " + j.name() + " is disabled: "
              + "enable it first (PATCH {\"enabled\":true})"));
        }
        return enqueue.apply(new NewJob(JobKind.LEDGER, j.name(), null, new JsonObject(), 50, 0, null));
      }).onSuccess(id -> json(ctx, 202, new JsonObject().put("jobId", id).put("job", "/api/v1/jobs/" + id)))
          .onFailure(ctx::fail);
    });
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
