package dev.tandem.runtime.http;

import dev.tandem.api.ErrorKind;
import dev.tandem.api.JobKind;
import dev.tandem.api.Stage;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgRecordErrorStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.function.Function;

/**
 * {@code /api/v1/errors}: the per-record error log, and retrying one record or all of a mapping (the records go
 * first in a sync job enqueued at once).
 */
final class ErrorsApi {

  private final PgRecordErrorStore errors;
  private final PgCouplingStore couplings;
  private final Function<NewJob, Future<Long>> enqueue;

  ErrorsApi(Pool pool, Function<NewJob, Future<Long>> enqueue) {
    this.errors = new PgRecordErrorStore(pool);
    this.couplings = new PgCouplingStore(pool);
    this.enqueue = enqueue;
  }

  void mount(Router r) {
    r.get("/api/v1/errors").handler(this::list);
    r.post("/api/v1/errors/retry-all").handler(this::retryAll);
    r.post("/api/v1/errors/:id/retry").handler(this::retryOne);
    r.post("/api/v1/errors/:id/skip").handler(this::skipOne);
  }

  private void list(RoutingContext ctx) {
    String mapping = ctx.queryParams().get("mapping");
    boolean all = "true".equals(ctx.queryParams().get("all"));
    long before;
    int limit;
    ErrorKind kind;
    Stage stage;
    try {
      before = Long.parseLong(ctx.queryParams().get("before") == null ? String.valueOf(Long.MAX_VALUE)
          : ctx.queryParams().get("before"));
      limit = Integer.parseInt(ctx.queryParams().get("limit") == null ? "100" : ctx.queryParams().get("limit"));
      if (limit < 1 || limit > 1000) {
        throw new NumberFormatException("limit must be 1..1000");
      }
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "before and limit must be numbers (limit 1..1000): " + e.getMessage());
      return;
    }
    try {
      kind = enumParam(ctx, "kind", ErrorKind.class);
      stage = enumParam(ctx, "stage", Stage.class);
    } catch (IllegalArgumentException e) {
      ApiError.send(ctx, 400, "bad_request", e.getMessage());
      return;
    }
    errors.list(new PgRecordErrorStore.Filter(mapping, kind, stage, all, before, limit)).onSuccess(out -> {
      JsonObject body = new JsonObject().put("errors", out);
      if (out.size() == limit) {
        body.put("next", "/api/v1/errors?before=" + out.getJsonObject(out.size() - 1).getLong("id") + "&limit="
            + limit + (mapping == null ? "" : "&mapping=" + mapping) + (all ? "&all=true" : "")
            + (kind == null ? "" : "&kind=" + kind) + (stage == null ? "" : "&stage=" + stage));
      }
      ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
    }).onFailure(ctx::fail);
  }

  private static <E extends Enum<E>> E enumParam(RoutingContext ctx, String name, Class<E> type) {
    String v = ctx.queryParams().get(name);
    if (v == null) {
      return null;
    }
    try {
      return Enum.valueOf(type, v.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + " '" + v + "' is not one of "
          + java.util.Arrays.toString(type.getEnumConstants()));
    }
  }

  private void retryOne(RoutingContext ctx) {
    Long id = errorId(ctx);
    if (id == null) {
      return;
    }
    errors.owner(id).onSuccess(owner -> {
              if (owner.isEmpty()) {
                ApiError.send(ctx, 404, "not_found", "error " + id + " does not exist or its record is no longer known");
                return;
              }
              String mapping = owner.get().mapping();
              couplings.retry(mapping, List.of(owner.get().couplingId()))
                  .compose(n -> enqueue.apply(NewJob.of(JobKind.SYNC, mapping)).map(job -> new JsonObject()
                      .put("retried", n).put("jobId", job).put("job", "/api/v1/jobs/" + job)))
                  .onSuccess(body -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                      .end(body.encode()))
                  .onFailure(ctx::fail);
            }).onFailure(ctx::fail);
  }

  /** @return the path's error id, or null after answering 400 */
  private static Long errorId(RoutingContext ctx) {
    try {
      return Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "error id '" + ctx.pathParam("id") + "' is not a number");
      return null;
    }
  }

  /** Skips the error's record: no run touches it until it is retried; the error stays open. */
  private void skipOne(RoutingContext ctx) {
    Long id = errorId(ctx);
    if (id == null) {
      return;
    }
    errors.owner(id).compose(owner -> owner.isEmpty() ? Future.succeededFuture((JsonObject) null)
        : couplings.skip(owner.get().couplingId()).map(n -> n == 0 ? null : new JsonObject()
            .put("skipped", true).put("mapping", owner.get().mapping()).put("couplingId", owner.get().couplingId())))
        .onSuccess(body -> {
          if (body == null) {
            ApiError.send(ctx, 404, "not_found", "error " + id + " does not exist or its record is no longer known");
          } else {
            ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
          }
        }).onFailure(ctx::fail);
  }

  private void retryAll(RoutingContext ctx) {
    String mapping = ctx.queryParams().get("mapping");
    Future<List<String>> mappings = mapping != null ? Future.succeededFuture(List.of(mapping))
        : errors.mappingsWithFailures();
    mappings.compose(list -> {
      JsonArray jobs = new JsonArray();
      Future<Integer> chain = Future.succeededFuture(0);
      for (String m : list) {
        chain = chain.compose(total -> couplings.retry(m, null).compose(n -> enqueue.apply(NewJob.of(JobKind.SYNC, m))
            .map(job -> {
              jobs.add(new JsonObject().put("mapping", m).put("retried", n).put("jobId", job));
              return total + n;
            })));
      }
      return chain.map(total -> new JsonObject().put("retried", total).put("jobs", jobs));
    }).onSuccess(body -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
        .end(body.encode())).onFailure(ctx::fail);
  }
}
