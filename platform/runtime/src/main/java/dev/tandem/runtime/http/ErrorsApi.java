package dev.tandem.runtime.http;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgCouplingStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * {@code /api/v1/errors}: the per-record error log, and retrying one record or all of a mapping (the records go
 * first in a sync job enqueued at once).
 */
final class ErrorsApi {

  private final Pool pool;
  private final PgCouplingStore couplings;
  private final Function<NewJob, Future<Long>> enqueue;

  ErrorsApi(Pool pool, Function<NewJob, Future<Long>> enqueue) {
    this.pool = pool;
    this.couplings = new PgCouplingStore(pool);
    this.enqueue = enqueue;
  }

  void mount(Router r) {
    r.get("/api/v1/errors").handler(this::list);
    r.post("/api/v1/errors/retry-all").handler(this::retryAll);
    r.post("/api/v1/errors/:id/retry").handler(this::retryOne);
  }

  private void list(RoutingContext ctx) {
    String mapping = ctx.queryParams().get("mapping");
    boolean all = "true".equals(ctx.queryParams().get("all"));
    long before;
    int limit;
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
    pool.preparedQuery("SELECT id, job_id, mapping, direction, erp_id, crm_id, message, occurred_at, resolved_at "
            + "FROM record_error WHERE ($1::text IS NULL OR mapping = $1) AND ($2 OR resolved_at IS NULL) "
            + "AND id < $3 ORDER BY id DESC LIMIT $4")
        .execute(Tuple.of(mapping, all, before, limit)).onSuccess(rows -> {
          JsonArray out = new JsonArray();
          long last = 0;
          for (Row r : rows) {
            last = r.getLong("id");
            out.add(new JsonObject().put("id", last).put("jobId", r.getLong("job_id"))
                .put("mapping", r.getString("mapping")).put("direction", r.getString("direction"))
                .put("erpId", r.getString("erp_id")).put("crmId", r.getString("crm_id"))
                .put("message", r.getString("message"))
                .put("occurredAt", r.getOffsetDateTime("occurred_at").toInstant().toString())
                .put("resolvedAt", r.getOffsetDateTime("resolved_at") == null ? null
                    : r.getOffsetDateTime("resolved_at").toInstant().toString()));
          }
          JsonObject body = new JsonObject().put("errors", out);
          if (rows.rowCount() == limit) {
            body.put("next", "/api/v1/errors?before=" + last + "&limit=" + limit
                + (mapping == null ? "" : "&mapping=" + mapping) + (all ? "&all=true" : ""));
          }
          ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
        }).onFailure(ctx::fail);
  }

  private void retryOne(RoutingContext ctx) {
    long id;
    try {
      id = Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "error id '" + ctx.pathParam("id") + "' is not a number");
      return;
    }
    pool.preparedQuery("SELECT c.id, e.mapping FROM record_error e JOIN coupling c ON c.mapping = e.mapping AND "
            + "((e.direction = 'TO_CRM' AND c.erp_id = e.erp_id) OR (e.direction = 'FROM_CRM' AND c.crm_id = e.crm_id)) "
            + "WHERE e.id = $1").execute(Tuple.of(id)).onSuccess(rows -> {
              if (rows.rowCount() == 0) {
                ApiError.send(ctx, 404, "not_found", "error " + id + " does not exist or its record is no longer known");
                return;
              }
              Row r = rows.iterator().next();
              String mapping = r.getString("mapping");
              couplings.retry(mapping, List.of(r.getLong("id")))
                  .compose(n -> enqueue.apply(NewJob.of(JobKind.SYNC, mapping)).map(job -> new JsonObject()
                      .put("retried", n).put("jobId", job).put("job", "/api/v1/jobs/" + job)))
                  .onSuccess(body -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                      .end(body.encode()))
                  .onFailure(ctx::fail);
            }).onFailure(ctx::fail);
  }

  private void retryAll(RoutingContext ctx) {
    String mapping = ctx.queryParams().get("mapping");
    Future<List<String>> mappings = mapping != null ? Future.succeededFuture(List.of(mapping))
        : pool.query("SELECT DISTINCT mapping FROM coupling WHERE skipped OR deleted_side IS NOT NULL OR last_result_to_crm IN ('failed', 'conflict') "
            + "OR last_result_from_crm IN ('failed', 'conflict')").execute().map(rows -> {
              List<String> out = new ArrayList<>();
              rows.forEach(r -> out.add(r.getString(0)));
              return out;
            });
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
