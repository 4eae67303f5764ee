package dev.tandem.runtime.http;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.JobKind;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.bus.BusMessages;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.MappingSettings.ConflictPolicy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code /api/v1/mappings} (the effective mappings: the plugin's definition with operators' overrides; change them
 * with PATCH; run one now) and {@code /api/v1/couplings} (list).
 */
final class MappingsApi {

  private final PluginHost plugins;
  private final PgMappingSettingsStore settings;
  private final PgCouplingStore couplings;
  private final PgScheduleStore schedules;
  private final Function<NewJob, Future<Long>> enqueue;

  private final ODataErpClient erp;

  MappingsApi(PluginHost plugins, Pool pool, Function<NewJob, Future<Long>> enqueue, Vertx vertx,
      TandemConfig.Connections connections) {
    this.plugins = plugins;
    this.settings = new PgMappingSettingsStore(pool);
    this.couplings = new PgCouplingStore(pool);
    this.schedules = new PgScheduleStore(pool);
    this.enqueue = enqueue;
    this.erp = connections == null || connections.erp() == null ? null
        : new ODataErpClient(vertx, connections.erp(), EndpointMetrics.NONE);
  }

  void close() {
    if (erp != null) {
      erp.close();
    }
  }

  /**
   * @param records the {@code records} of a request
   * @param crm whether they are CRM ids (which are GUIDs) rather than ERP keys
   * @return what is wrong with them, naming the entry, or null when they are fine
   */
  static String badRecords(JsonArray records, boolean crm) {
    for (int i = 0; i < records.size(); i++) {
      Object k = records.getValue(i);
      if (!crm && k instanceof Number) {
        continue;
      }
      if (!(k instanceof String s) || s.isBlank()) {
        return "records[" + i + "] must be a non-empty key, got " + k;
      }
      if (crm && !ODataLiterals.isGuid(s)) {
        return "records[" + i + "] '" + s + "' is not a CRM id: CRM ids are GUIDs "
            + "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)";
      }
    }
    return null;
  }

  void mount(Router r) {
    r.get("/api/v1/mappings").handler(this::list);
    r.get("/api/v1/mappings/:name").handler(this::get);
    r.patch("/api/v1/mappings/:name").handler(this::patch);
    r.post("/api/v1/mappings/:name/sync").handler(this::sync);
    r.get("/api/v1/mappings/:name/options").handler(this::options);
    r.get("/api/v1/couplings").handler(this::listCouplings);
    r.post("/api/v1/couplings").handler(this::couple);
    r.delete("/api/v1/couplings/:id").handler(this::uncouple);
  }

  /**
   * An option-set mapping's CRM options, each with the ERP code coupled to it ({@code erpCode} null: no ERP code
   * maps to it, listed again under {@code unmappedOptions}), read live by the node serving the mapping.
   */
  private void options(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m == null) {
      return;
    }
    if (!m.definition().isOptionSet()) {
      ApiError.send(ctx, 400, "bad_request", "mapping " + m.name() + " maps CRM " + m.definition().crmEntitySet()
          + ", an entity set, not an option set: only option-set mappings list options");
      return;
    }
    if (!m.enabled()) {
      ApiError.send(ctx, 409, "conflict", "mapping " + m.name() + " is disabled: " + m.disabledReason());
      return;
    }
    Bus.request(ctx.vertx(), new BusMessages.OptionListing(m.name()), 60_000)
        .onSuccess(reply -> json(ctx, 200, reply))
        .onFailure(e -> {
          if (BusError.of(Addresses.optionSet(m.name()), e).noConsumer()) {
            ApiError.send(ctx, 503, "unavailable", "no engine serves mapping " + m.name() + " on this node: both "
                + "connections must be configured");
          } else {
            ApiError.send(ctx, 503, "unavailable", "the options of " + m.definition().crmEntitySet()
                + " could not be read: " + e.getMessage());
          }
        });
  }

  private MappingStatus mapping(RoutingContext ctx) {
    MappingStatus m = plugins.mappings().get(ctx.pathParam("name"));
    if (m == null) {
      ApiError.send(ctx, 404, "not_found", "no installed plugin provides mapping " + ctx.pathParam("name"));
    }
    return m;
  }

  private void list(RoutingContext ctx) {
    settings.all().onSuccess(all -> {
      JsonArray out = new JsonArray();
      plugins.mappings().values().stream().sorted((a, b) -> a.name().compareTo(b.name()))
          .forEach(m -> out.add(view(m, all.getOrDefault(m.name(), MappingSettings.NONE))));
      json(ctx, 200, new JsonObject().put("mappings", out));
    }).onFailure(ctx::fail);
  }

  private void get(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m != null) {
      settings.get(m.name()).onSuccess(s -> json(ctx, 200, view(m, s))).onFailure(ctx::fail);
    }
  }

  private java.util.function.Supplier<String> connectionState;

  /**
   * @param value says whether the node's connection is complete: {@code connected}, {@code not connected} or
   *     {@code disabled: <reason>}; every mapping shows it
   */
  void connectionState(java.util.function.Supplier<String> value) {
    this.connectionState = value;
  }

  private JsonObject view(MappingStatus m, MappingSettings s) {
    MappingDefinition eff = s.applyTo(m.definition());
    JsonArray fields = new JsonArray();
    for (FieldMapping f : eff.fields()) {
      fields.add(new JsonObject().put("erpField", f.erpField()).put("crmField", f.crmField())
          .put("direction", f.direction().name()).put("enabled", f.enabled()).put("lookupMapping", f.lookupMapping())
          .put("constant", f.constant()).put("transformations", new JsonArray(f.transformations().stream()
              .map(t -> t.name()).toList())));
    }
    return m.toJson()
        .put("erpKey", eff.erpKey()).put("crmKey", eff.crmKey()).put("crmAlternateKey", eff.crmAlternateKey())
        .put("effective", new JsonObject()
            .put("direction", eff.direction().name())
            .put("erpFilter", eff.erpFilter())
            .put("crmFilter", eff.crmFilter())
            .put("conflictPolicy", s.policy().name())
            .put("skipAfterRepeats", s.skipAfter())
            .put("deletionPolicy", s.deletions().name())
            .put("syncOnlyCoupled", s.onlyCoupled())
            .put("watermarkOverlapSeconds", s.overlap().toSeconds())
            .put("maxFailedShare", s.failedShareTolerated())
            .put("minFailedRecords", s.failedRecordsTolerated())
            .put("scheduleSeconds", eff.schedule().toSeconds())
            .put("fields", fields))
        .put("overrides", s.toJson())
        .put("connection", connectionState == null ? null : connectionState.get());
  }

  private void patch(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m == null) {
      return;
    }
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      ApiError.send(ctx, 400, "bad_request", "the body must be a JSON object: " + e.getMessage());
      return;
    }
    if (body == null) {
      ApiError.send(ctx, 400, "bad_request", "the body must be a JSON object with the settings to change");
      return;
    }
    settings.get(m.name()).compose(current -> {
      MappingSettings next;
      try {
        next = merge(m.definition(), current, body);
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(new ApiError(400, "bad_request", "mapping " + m.name() + ": " + e.getMessage()));
      }
      Future<Void> stored = settings.put(m.name(), next);
      if (body.containsKey("scheduleSeconds")) {
        long ms = (next.schedule() == null ? m.definition().schedule() : next.schedule()).toMillis();
        stored = stored.compose(v -> schedules.interval(m.name(), ms));
      }
      return stored.map(v -> next);
    }).onSuccess(s -> json(ctx, 200, view(m, s))).onFailure(ctx::fail);
  }

  /** Applies a PATCH body to the current overrides; a null value resets a setting to the plugin's definition. */
  static MappingSettings merge(MappingDefinition def, MappingSettings cur, JsonObject body) {
    Set<String> known = Set.of("direction", "erpFilter", "crmFilter", "disabledFields", "conflictPolicy",
        "scheduleSeconds", "skipAfterRepeats", "deletionPolicy", "syncOnlyCoupled", "watermarkOverlapSeconds",
        "massDeletionShare", "massDeletionMin", "maxFailedShare", "minFailedRecords");
    for (String k : body.fieldNames()) {
      if (!known.contains(k)) {
        throw new IllegalArgumentException("unknown setting '" + k + "'; settings are " + known);
      }
    }
    Direction direction = cur.direction();
    if (body.containsKey("direction")) {
      String d = body.getString("direction");
      direction = d == null ? null : parse(Direction.class, d, "direction");
    }
    Set<String> disabled = cur.disabledFields();
    if (body.containsKey("disabledFields")) {
      JsonArray a = body.getJsonArray("disabledFields");
      disabled = new HashSet<>();
      Set<String> names = new HashSet<>();
      def.fields().forEach(f -> {
        names.add(f.erpField());
        names.add(f.crmField());
      });
      def.options().forEach(o -> {
        names.add(o.erpField());
        names.add(o.crmField());
      });
      for (Object o : a == null ? List.of() : a.getList()) {
        if (!names.contains(String.valueOf(o))) {
          throw new IllegalArgumentException("field '" + o + "' is not a field of this mapping");
        }
        disabled.add(String.valueOf(o));
      }
    }
    ConflictPolicy policy = cur.conflictPolicy();
    if (body.containsKey("conflictPolicy")) {
      String p = body.getString("conflictPolicy");
      policy = p == null ? null : parse(ConflictPolicy.class, p, "conflictPolicy");
    }
    Duration schedule = cur.schedule();
    if (body.containsKey("scheduleSeconds")) {
      Long sec = body.getLong("scheduleSeconds");
      if (sec != null && sec < 1) {
        throw new IllegalArgumentException("scheduleSeconds must be at least 1");
      }
      schedule = sec == null ? null : Duration.ofSeconds(sec);
    }
    Integer skip = cur.skipAfterRepeats();
    if (body.containsKey("skipAfterRepeats")) {
      skip = body.getInteger("skipAfterRepeats");
      if (skip != null && skip < 1) {
        throw new IllegalArgumentException("skipAfterRepeats must be at least 1");
      }
    }
    MappingSettings.DeletionPolicy deletion = cur.deletionPolicy();
    if (body.containsKey("deletionPolicy")) {
      String d = body.getString("deletionPolicy");
      deletion = d == null ? null : parse(MappingSettings.DeletionPolicy.class, d, "deletionPolicy");
    }
    Integer overlap = cur.watermarkOverlapSeconds();
    if (body.containsKey("watermarkOverlapSeconds")) {
      overlap = wholeNumber(body, "watermarkOverlapSeconds", 0, 7 * 24 * 3600);
    }
    Double share = cur.massDeletionShare();
    if (body.containsKey("massDeletionShare")) {
      Object v = body.getValue("massDeletionShare");
      if (v != null && !(v instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= 1)) {
        throw new IllegalArgumentException("massDeletionShare must be a number above 0 and at most 1 (0.5: half "
            + "of the mapping's couplings), got " + v);
      }
      share = v == null ? null : ((Number) v).doubleValue();
    }
    Integer min = cur.massDeletionMin();
    if (body.containsKey("massDeletionMin")) {
      min = wholeNumber(body, "massDeletionMin", 1, Integer.MAX_VALUE);
    }
    Double maxFailed = cur.maxFailedShare();
    if (body.containsKey("maxFailedShare")) {
      Object v = body.getValue("maxFailedShare");
      if (v != null && !(v instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 1)) {
        throw new IllegalArgumentException("maxFailedShare must be a number from 0 to 1 (0.5: a job fails when "
            + "more than half of its records failed; 1: never), got " + v);
      }
      maxFailed = v == null ? null : ((Number) v).doubleValue();
    }
    Integer minFailed = cur.minFailedRecords();
    if (body.containsKey("minFailedRecords")) {
      minFailed = wholeNumber(body, "minFailedRecords", 1, Integer.MAX_VALUE);
    }
    return new MappingSettings(direction,
        body.containsKey("erpFilter") ? body.getString("erpFilter") : cur.erpFilter(),
        body.containsKey("crmFilter") ? body.getString("crmFilter") : cur.crmFilter(),
        disabled, policy, schedule, skip, deletion,
        body.containsKey("syncOnlyCoupled") ? body.getBoolean("syncOnlyCoupled") : cur.syncOnlyCoupled(),
        overlap, share, min, maxFailed, minFailed);
  }

  private static Integer wholeNumber(JsonObject body, String field, int least, int most) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < least
        || n.longValue() > most) {
      throw new IllegalArgumentException(field + " must be a whole number from " + least + " to " + most + ", got "
          + v);
    }
    return n.intValue();
  }

  private static <E extends Enum<E>> E parse(Class<E> type, String value, String what) {
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " '" + value + "' is not one of "
          + List.of(type.getEnumConstants()));
    }
  }

  private void sync(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m == null) {
      return;
    }
    if (!m.enabled()) {
      ApiError.send(ctx, 409, "conflict", "mapping " + m.name() + " is disabled: " + m.disabledReason());
      return;
    }
    JsonObject body = ctx.body() == null || ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
    Direction direction = null;
    if (body.getString("direction") != null) {
      try {
        direction = parse(Direction.class, body.getString("direction"), "direction");
      } catch (IllegalArgumentException e) {
        ApiError.send(ctx, 400, "bad_request", e.getMessage());
        return;
      }
    }
    JsonObject parameters = new JsonObject();
    if (body.containsKey("records")) {
      JsonArray records = body.getValue("records") instanceof JsonArray a ? a : null;
      if (records == null || records.isEmpty() || records.size() > 1000) {
        ApiError.send(ctx, 400, "bad_request", "records must be a list of 1 to 1000 keys of the source side "
            + "(ERP keys for TO_CRM, CRM ids for FROM_CRM)");
        return;
      }
      Direction effective = direction != null ? direction : m.definition().direction();
      if (effective == Direction.BIDIRECTIONAL) {
        ApiError.send(ctx, 400, "bad_request", "mapping " + m.name() + " is bidirectional: give a direction "
            + "(TO_CRM or FROM_CRM) for the selected records");
        return;
      }
      String bad = badRecords(records, effective == Direction.FROM_CRM);
      if (bad != null) {
        ApiError.send(ctx, 400, "bad_request", bad);
        return;
      }
      parameters.put("records", records);
    }
    enqueue.apply(new NewJob(JobKind.SYNC, m.name(), direction, parameters, 50, 0, null))
        .onSuccess(id -> json(ctx, 202, new JsonObject().put("jobId", id).put("job", "/api/v1/jobs/" + id)))
        .onFailure(ctx::fail);
  }

  /** Couples two records by hand: {@code {"mapping","erpId","crmId"}}; one-to-one on both sides (409 otherwise). */
  private void couple(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null || body.getString("mapping") == null || body.getString("erpId") == null
        || body.getValue("crmId") == null) {
      ApiError.send(ctx, 400, "bad_request", "give {\"mapping\",\"erpId\",\"crmId\"}");
      return;
    }
    String mapping = body.getString("mapping");
    MappingStatus m = plugins.mappings().get(mapping);
    if (m == null) {
      ApiError.send(ctx, 404, "not_found", "no installed plugin provides mapping " + mapping);
      return;
    }
    String erpId = body.getString("erpId");
    String crmId = body.getValue("crmId") instanceof Number n ? String.valueOf(n) : body.getString("crmId");
    if (m.definition().isOptionSet()) {
      if (crmId == null || !crmId.matches("-?[0-9]{1,10}")) {
        ApiError.send(ctx, 400, "bad_request", "crmId '" + crmId + "' is not an option value: mapping " + m.name()
            + " couples ERP codes with the options of " + m.definition().crmEntitySet() + " (see GET "
            + "/api/v1/mappings/" + m.name() + "/options)");
        return;
      }
    } else if (!ODataLiterals.isGuid(crmId)) {
      ApiError.send(ctx, 400, "bad_request", "crmId '" + crmId + "' is not a CRM id: CRM ids are GUIDs "
          + "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
      return;
    }
    if (erpId.isBlank()) {
      ApiError.send(ctx, 400, "bad_request", "erpId must be the key of an ERP record");
      return;
    }
    MappingDefinition def = m.definition();
    // The ERP record must exist: a coupling to nothing would make the next run create a counterpart or fail.
    Future<Boolean> exists = erp == null ? Future.succeededFuture(true)
        : erp.any(def.erpEntitySet(), def.erpKey() + " eq " + ODataLiterals.string(erpId), def.erpKey());
    exists.compose(found -> found ? couplings.couple(mapping, erpId, crmId.toLowerCase(Locale.ROOT))
            : Future.failedFuture(new ApiError(400, "bad_request", "erpId '" + erpId + "': ERP "
                + def.erpEntitySet() + " has no record with " + def.erpKey() + " '" + erpId + "'")))
        .onSuccess(c -> json(ctx, 201, c.toJson()))
        .onFailure(e -> {
          if (e instanceof PgCouplingStore.CouplingConflictException) {
            ApiError.send(ctx, 409, "conflict", e.getMessage());
          } else if (e instanceof ApiError a) {
            ApiError.send(ctx, a.status(), a.code(), a.getMessage());
          } else {
            ctx.fail(e);
          }
        });
  }

  private void uncouple(RoutingContext ctx) {
    long id;
    try {
      id = Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "coupling id '" + ctx.pathParam("id") + "' is not a number");
      return;
    }
    couplings.remove(id)
        .onSuccess(n -> {
          if (n == 0) {
            ApiError.send(ctx, 404, "not_found", "coupling " + id + " does not exist");
          } else {
            ctx.response().setStatusCode(204).end();
          }
        }).onFailure(ctx::fail);
  }

  private void listCouplings(RoutingContext ctx) {
    String skipped = ctx.queryParams().get("skipped");
    long after;
    int limit;
    try {
      after = Long.parseLong(ctx.queryParams().get("after") == null ? "0" : ctx.queryParams().get("after"));
      limit = Integer.parseInt(ctx.queryParams().get("limit") == null ? "100" : ctx.queryParams().get("limit"));
      if (limit < 1 || limit > 5000) {
        throw new NumberFormatException("limit must be 1..5000");
      }
    } catch (NumberFormatException e) {
      ApiError.send(ctx, 400, "bad_request", "after and limit must be numbers (limit 1..5000): " + e.getMessage());
      return;
    }
    couplings.list(ctx.queryParams().get("mapping"), ctx.queryParams().get("erpId"), ctx.queryParams().get("crmId"),
        skipped == null ? null : Boolean.valueOf(skipped), after, limit).onSuccess(list -> {
          JsonArray out = new JsonArray();
          list.forEach(c -> out.add(c.toJson()));
          JsonObject body = new JsonObject().put("couplings", out);
          if (list.size() == limit) {
            Coupling last = list.get(list.size() - 1);
            body.put("next", "/api/v1/couplings?after=" + last.id() + "&limit=" + limit
                + (ctx.queryParams().get("mapping") == null ? "" : "&mapping=" + ctx.queryParams().get("mapping")));
          }
          json(ctx, 200, body);
        }).onFailure(ctx::fail);
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
