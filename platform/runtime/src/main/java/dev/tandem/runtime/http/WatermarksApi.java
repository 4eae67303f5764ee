package dev.tandem.runtime.http;

import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;

/**
 * A mapping's read positions, as Kafka Connect exposes a connector's offsets: {@code GET
 * /api/v1/mappings/{name}/watermarks} shows per side what was read up to (the endpoint's own newest modified-on
 * processed), where the next incremental read starts (less the overlap), the CRM delta link and any held
 * deletions; {@code PUT} sets a side's watermark (and delta link) back or forward; {@code DELETE} forgets them, so
 * the next run reads everything again and starts change tracking over. {@code POST .../deletions/release} lets
 * the next run apply a held mass deletion.
 */
final class WatermarksApi {

  private static final Set<String> PUT_FIELDS = Set.of("side", "modifiedOn", "deltaLink");

  private final PluginHost plugins;
  private final Pool pool;
  private final PgWatermarkStore watermarks = new PgWatermarkStore();
  private final PgMappingSettingsStore settings;

  WatermarksApi(PluginHost plugins, Pool pool) {
    this.plugins = plugins;
    this.pool = pool;
    this.settings = new PgMappingSettingsStore(pool);
  }

  void mount(Router r) {
    r.get("/api/v1/mappings/:name/watermarks").handler(this::get);
    r.put("/api/v1/mappings/:name/watermarks").handler(this::put);
    r.delete("/api/v1/mappings/:name/watermarks").handler(this::reset);
    r.post("/api/v1/mappings/:name/deletions/release").handler(this::release);
  }

  private MappingStatus mapping(RoutingContext ctx) {
    MappingStatus m = plugins.mappings().get(ctx.pathParam("name"));
    if (m == null) {
      ApiError.send(ctx, 404, "not_found", "no installed plugin provides mapping " + ctx.pathParam("name"));
    }
    return m;
  }

  private void get(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m != null) {
      view(m.name()).onSuccess(v -> json(ctx, 200, v)).onFailure(ctx::fail);
    }
  }

  private Future<JsonObject> view(String mapping) {
    return settings.get(mapping).compose(s -> watermarks.list(pool, mapping).map(sides -> {
      JsonArray out = new JsonArray();
      for (int i = 0; i < sides.size(); i++) {
        JsonObject side = sides.getJsonObject(i);
        String at = side.getString("modifiedOn");
        side.put("readFrom", at == null ? null : OffsetDateTime.parse(at).minus(s.overlap()).toInstant().toString());
        if ("ERP".equals(side.getString("side"))) {
          side.remove("deltaLink");
        } else {
          side.remove("keysScannedAt");
        }
        out.add(side);
      }
      return new JsonObject().put("mapping", mapping).put("overlapSeconds", s.overlap().toSeconds())
          .put("watermarks", out);
    }));
  }

  private void put(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m == null) {
      return;
    }
    JsonObject body;
    try {
      body = ctx.body() == null || ctx.body().length() <= 0 ? null : ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null) {
      ApiError.send(ctx, 400, "bad_request", "the body must be a JSON object {\"side\":\"ERP\"|\"CRM\", "
          + "\"modifiedOn\":\"2026-01-31T12:00:00Z\"|null, \"deltaLink\":...}");
      return;
    }
    for (String k : body.fieldNames()) {
      if (!PUT_FIELDS.contains(k)) {
        ApiError.send(ctx, 400, "bad_request", "unknown field '" + k + "'; fields are " + PUT_FIELDS);
        return;
      }
    }
    Side side = side(body.getValue("side"));
    if (side == null) {
      ApiError.send(ctx, 400, "bad_request", "side must be ERP or CRM");
      return;
    }
    if (!body.containsKey("modifiedOn")) {
      ApiError.send(ctx, 400, "bad_request", "modifiedOn is required: an ISO-8601 date-time with an offset, or null "
          + "to read every row again");
      return;
    }
    OffsetDateTime at = null;
    Object v = body.getValue("modifiedOn");
    if (v != null) {
      try {
        at = OffsetDateTime.parse(String.valueOf(v));
      } catch (DateTimeParseException e) {
        ApiError.send(ctx, 400, "bad_request", "modifiedOn '" + v + "' is not an ISO-8601 date-time with an offset, "
            + "e.g. 2026-01-31T12:00:00Z");
        return;
      }
    }
    boolean setLink = body.containsKey("deltaLink");
    Object link = body.getValue("deltaLink");
    if (setLink && side != Side.CRM) {
      ApiError.send(ctx, 400, "bad_request", "deltaLink belongs to the CRM side only");
      return;
    }
    if (link != null && !(link instanceof String)) {
      ApiError.send(ctx, 400, "bad_request", "deltaLink must be a URL or null (start change tracking over)");
      return;
    }
    watermarks.put(pool, m.name(), side, at, setLink, (String) link).compose(x -> view(m.name()))
        .onSuccess(view -> json(ctx, 200, view)).onFailure(ctx::fail);
  }

  private void reset(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m == null) {
      return;
    }
    String s = ctx.queryParams().get("side");
    Side side = s == null ? null : side(s);
    if (s != null && side == null) {
      ApiError.send(ctx, 400, "bad_request", "side must be ERP or CRM (or left out for both)");
      return;
    }
    watermarks.reset(pool, m.name(), side).compose(n -> view(m.name()).map(v -> v.put("reset", n)))
        .onSuccess(view -> json(ctx, 200, view)).onFailure(ctx::fail);
  }

  private void release(RoutingContext ctx) {
    MappingStatus m = mapping(ctx);
    if (m == null) {
      return;
    }
    JsonObject body;
    try {
      body = ctx.body() == null || ctx.body().length() <= 0 ? new JsonObject() : ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null || body.fieldNames().stream().anyMatch(k -> !k.equals("count"))
        || body.containsKey("count") && !(body.getValue("count") instanceof Number n && n.intValue() >= 1
            && n.doubleValue() == n.intValue())) {
      ApiError.send(ctx, 400, "bad_request", "the body is empty or {\"count\": n}: the next run may apply up to n "
          + "deletions at once (count must be a whole number of at least 1)");
      return;
    }
    int count = body.getInteger("count", Integer.MAX_VALUE);
    watermarks.releaseDeletions(pool, m.name(), count).onSuccess(n -> {
      if (n == 0) {
        ApiError.send(ctx, 409, "conflict", "mapping " + m.name() + " holds no deletions");
      } else {
        json(ctx, 200, new JsonObject().put("mapping", m.name()).put("released", n)
            .put("count", count == Integer.MAX_VALUE ? null : count));
      }
    }).onFailure(ctx::fail);
  }

  private static Side side(Object value) {
    if (!(value instanceof String s)) {
      return null;
    }
    try {
      return Side.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
