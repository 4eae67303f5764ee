package dev.tandem.runtime.http;

import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connection.ConnectionChecks;
import dev.tandem.runtime.connection.ConnectionException;
import dev.tandem.runtime.connection.ConnectionService;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * The connection window: {@code GET}, {@code PUT} and {@code PATCH /api/v1/connection} (secrets are taken, never
 * shown), and {@code POST /api/v1/connection/test}, which runs every check by name and keeps the results.
 */
final class ConnectionApi {

  private final Vertx vertx;
  private final ConnectionService connection;
  private final PluginHost plugins;
  private final dev.tandem.runtime.store.PgMappingSettingsStore settings;

  ConnectionApi(Vertx vertx, ConnectionService connection, PluginHost plugins,
      dev.tandem.runtime.store.PgMappingSettingsStore settings) {
    this.vertx = vertx;
    this.connection = connection;
    this.plugins = plugins;
    this.settings = settings;
  }

  void mount(Router r) {
    r.get("/api/v1/connection").handler(ctx -> connection.store().checks()
        .onSuccess(checks -> json(ctx, 200, connection.describe(checks))).onFailure(ctx::fail));
    r.put("/api/v1/connection").handler(ctx -> save(ctx, false));
    r.patch("/api/v1/connection").handler(ctx -> save(ctx, true));
    r.post("/api/v1/connection/test").handler(ctx -> test(connection, vertx, plugins, settings)
        .compose(checks -> connection.store().saveChecks(checks).map(checks))
        .onSuccess(checks -> json(ctx, 200, summary(checks)))
        .onFailure(ctx::fail));
  }

  /**
   * @param connection the node's connection
   * @param vertx Vert.x
   * @param plugins the plugin host (the enabled mappings' ERP services are checked)
   * @param settings the operators' mapping settings (the mappings are checked as they run)
   * @return every check's result for the connection in effect
   */
  static Future<JsonArray> test(ConnectionService connection, Vertx vertx, PluginHost plugins,
      dev.tandem.runtime.store.PgMappingSettingsStore settings) {
    JsonObject av = connection.storedSettings().getJsonObject("availability");
    String avUser = av != null && Boolean.TRUE.equals(av.getBoolean("enabled")) ? av.getString("user") : null;
    return effectiveMappings(plugins, settings).compose(mappings -> new ConnectionChecks(vertx, 10_000)
        .run(connection.current().connections(), mappings, avUser, avUser == null ? null
            : connection.availabilityKey()));
  }

  /**
   * @param plugins the plugin host
   * @param settings the operators' overrides
   * @return the enabled mappings as they run: with the operators' settings applied (a disabled field is not used)
   */
  static io.vertx.core.Future<List<MappingDefinition>> effectiveMappings(PluginHost plugins,
      dev.tandem.runtime.store.PgMappingSettingsStore settings) {
    return settings.all().map(all -> plugins.mappings().values().stream().filter(MappingStatus::enabled)
        .map(m -> all.get(m.name()) == null ? m.definition() : all.get(m.name()).applyTo(m.definition())).toList());
  }

  static List<MappingDefinition> enabledMappings(PluginHost plugins) {
    return plugins.mappings().values().stream().filter(MappingStatus::enabled).map(MappingStatus::definition)
        .toList();
  }

  /** @return {ok, failed: [names], checks} */
  static JsonObject summary(JsonArray checks) {
    JsonArray failed = new JsonArray();
    checks.forEach(o -> {
      JsonObject c = (JsonObject) o;
      if (!c.getBoolean("ok")) {
        failed.add(c.getString("name"));
      }
    });
    return new JsonObject().put("ok", failed.isEmpty()).put("failed", failed).put("checks", checks);
  }

  private void save(RoutingContext ctx, boolean patch) {
    JsonObject body = ctx.body().length() > 0 ? ctx.body().asJsonObject() : new JsonObject();
    connection.save(body, patch)
        .onSuccess(rev -> connection.store().checks()
            .onSuccess(checks -> json(ctx, 200, connection.describe(checks))).onFailure(ctx::fail))
        .onFailure(e -> fail(ctx, e));
  }

  static void fail(RoutingContext ctx, Throwable e) {
    if (e instanceof ConnectionException ce) {
      ApiError.send(ctx, ce.status(), ce.code(), ce.getMessage());
    } else {
      ctx.fail(e);
    }
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
