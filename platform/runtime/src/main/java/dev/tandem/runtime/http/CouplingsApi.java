package dev.tandem.runtime.http;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgJobRecordStore;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Background coupling: {@code POST /api/v1/mappings/{name}/couple-by-match}, {@code .../create-counterparts} and
 * {@code .../uncouple} enqueue MATCH, COUPLE and UNCOUPLE jobs (202 with the job); {@code GET
 * /api/v1/jobs/{id}/records} lists a coupling job's per-record results. Manual couple and uncouple-one are in
 * {@link MappingsApi}.
 */
final class CouplingsApi {

  private static final Set<String> MATCH_OPTIONS = Set.of("side", "createIfNoMatch", "syncAfter", "caseSensitive",
      "allowMissingReferences");
  private static final Set<String> CREATE_OPTIONS = Set.of("side", "records", "allowMissingReferences");
  private static final Set<String> RESULTS = Set.of("coupled", "no_match", "ambiguous", "taken", "created", "failed");

  private final PluginHost plugins;
  private final PgJobRecordStore records;
  private final Function<NewJob, Future<Long>> enqueue;

  CouplingsApi(PluginHost plugins, Pool pool, Function<NewJob, Future<Long>> enqueue) {
    this.plugins = plugins;
    this.records = new PgJobRecordStore(pool);
    this.enqueue = enqueue;
  }

  void mount(Router r) {
    r.post("/api/v1/mappings/:name/couple-by-match").handler(this::match);
    r.post("/api/v1/mappings/:name/create-counterparts").handler(this::create);
    r.post("/api/v1/mappings/:name/uncouple").handler(this::uncouple);
    r.get("/api/v1/jobs/:id/records").handler(this::records);
  }

  /** The enabled mapping named in the path and the JSON body, or null when an error was sent. */
  private JsonObject body(RoutingContext ctx, Set<String> known) {
    MappingStatus m = plugins.mappings().get(ctx.pathParam("name"));
    if (m == null) {
      ApiError.send(ctx, 404, "not_found", "no installed plugin provides mapping " + ctx.pathParam("name"));
      return null;
    }
    if (!m.enabled()) {
      ApiError.send(ctx, 409, "conflict", "mapping " + m.name() + " is disabled: " + m.disabledReason());
      return null;
    }
    JsonObject body;
    try {
      body = ctx.body() == null || ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null) {
      ApiError.send(ctx, 400, "bad_request", "the body must be a JSON object with the options");
      return null;
    }
    for (String k : body.fieldNames()) {
      if (!known.contains(k)) {
        ApiError.send(ctx, 400, "bad_request", "unknown option '" + k + "'; options are " + known);
        return null;
      }
    }
    String side = body.getValue("side") instanceof String s ? s.toUpperCase(Locale.ROOT) : null;
    if (body.containsKey("side") && !"ERP".equals(side) && !"CRM".equals(side)) {
      ApiError.send(ctx, 400, "bad_request", "side is ERP (match or create from ERP records) or CRM");
      return null;
    }
    if (side != null) {
      body.put("side", side);
    }
    for (String flag : List.of("createIfNoMatch", "syncAfter", "allowMissingReferences", "all")) {
      if (body.containsKey(flag) && !(body.getValue(flag) instanceof Boolean)) {
        ApiError.send(ctx, 400, "bad_request", flag + " is true or false");
        return null;
      }
    }
    return body;
  }

  private void match(RoutingContext ctx) {
    JsonObject body = body(ctx, MATCH_OPTIONS);
    if (body == null) {
      return;
    }
    MappingStatus m = plugins.mappings().get(ctx.pathParam("name"));
    if (m.definition().matchFields().isEmpty()) {
      ApiError.send(ctx, 409, "conflict", "mapping " + m.name() + " has no match fields");
      return;
    }
    if (body.containsKey("caseSensitive")) {
      if (!(body.getValue("caseSensitive") instanceof JsonArray a)) {
        ApiError.send(ctx, 400, "bad_request", "caseSensitive is a list of match field names");
        return;
      }
      for (Object f : a) {
        boolean known = m.definition().matchFields().stream()
            .anyMatch(x -> x.erpField().equals(f) || x.crmField().equals(f));
        if (!known) {
          ApiError.send(ctx, 400, "bad_request", "'" + f + "' is not a match field of " + m.name());
          return;
        }
      }
    }
    accepted(ctx, new NewJob(JobKind.MATCH, m.name(), null, body, 50, 0, null));
  }

  private void create(RoutingContext ctx) {
    JsonObject body = body(ctx, CREATE_OPTIONS);
    if (body == null) {
      return;
    }
    if (body.containsKey("records") && !(body.getValue("records") instanceof JsonArray a && !a.isEmpty()
        && a.size() <= 10_000)) {
      ApiError.send(ctx, 400, "bad_request", "records is a list of 1 to 10000 keys of the side's records; leave it "
          + "out for all uncoupled ones");
      return;
    }
    if (body.containsKey("records")) {
      String bad = MappingsApi.badRecords(body.getJsonArray("records"), "CRM".equals(body.getString("side")));
      if (bad != null) {
        ApiError.send(ctx, 400, "bad_request", bad);
        return;
      }
    }
    accepted(ctx, new NewJob(JobKind.COUPLE, ctx.pathParam("name"), null, body, 50, 0, null));
  }

  private void uncouple(RoutingContext ctx) {
    JsonObject body = body(ctx, Set.of("ids", "all"));
    if (body == null) {
      return;
    }
    boolean all = body.getBoolean("all", false);
    JsonArray ids = body.getValue("ids") instanceof JsonArray a ? a : null;
    if (all == (ids != null) || ids != null && (ids.isEmpty()
        || ids.stream().anyMatch(i -> !(i instanceof Number n) || n.longValue() != n.doubleValue()))) {
      ApiError.send(ctx, 400, "bad_request", "give either {\"ids\":[coupling ids]} or {\"all\":true}");
      return;
    }
    accepted(ctx, new NewJob(JobKind.UNCOUPLE, ctx.pathParam("name"), null, body, 50, 0, null));
  }

  private void accepted(RoutingContext ctx, NewJob job) {
    enqueue.apply(job).onSuccess(id -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("jobId", id).put("job", "/api/v1/jobs/" + id)
            .put("records", "/api/v1/jobs/" + id + "/records").encode())).onFailure(ctx::fail);
  }

  private void records(RoutingContext ctx) {
    long id;
    long after;
    int limit;
    try {
      id = Long.parseLong(ctx.pathParam("id"));
      after = Long.parseLong(ctx.queryParams().get("after") == null ? "0" : ctx.queryParams().get("after"));
      limit = Integer.parseInt(ctx.queryParams().get("limit") == null ? "100" : ctx.queryParams().get("limit"));
      if (limit < 1 || limit > 5000) {
        throw new NumberFormatException("limit must be 1..5000");
      }
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "job id, after and limit must be numbers (limit 1..5000): "
          + e.getMessage());
      return;
    }
    String result = ctx.queryParams().get("result");
    if (result != null && !RESULTS.contains(result)) {
      ApiError.send(ctx, 400, "bad_request", "result '" + result + "' is not one of " + RESULTS);
      return;
    }
    Future<JsonArray> page = records.list(id, result, after, limit);
    Future<JsonObject> counts = records.counts(id);
    Future.all(page, counts).onSuccess(v -> {
      JsonArray list = page.result();
      JsonObject body = new JsonObject().put("jobId", id).put("counts", counts.result()).put("records", list);
      if (list.size() == limit) {
        body.put("next", "/api/v1/jobs/" + id + "/records?after=" + list.getJsonObject(list.size() - 1).getLong("id")
            + "&limit=" + limit + (result == null ? "" : "&result=" + result));
      }
      ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(body.encode());
    }).onFailure(ctx::fail);
  }
}
