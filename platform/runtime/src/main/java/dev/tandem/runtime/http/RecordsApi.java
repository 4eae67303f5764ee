package dev.tandem.runtime.http;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MatchField;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.plugins.PluginHost;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * {@code GET /api/v1/mappings/{name}/records}: one page of one side's records within the mapping's filter, in key
 * order (keyset paging on the key), each with its coupling state. A page is one bounded read of the ERP or the CRM
 * (through the node's connectors, so it spends the same per-user budgets as the engine) and one coupling query for
 * all its keys; never a query per record.
 */
final class RecordsApi {

  static final int MAX_LIMIT = 200;
  static final int DEFAULT_LIMIT = 50;
  /** Fields shown per record besides the key. */
  static final int MAX_FIELDS = 6;
  private static final Set<String> PARAMS = Set.of("side", "after", "from", "limit", "state");
  private static final Set<String> STATES = Set.of("coupled", "uncoupled", "pending", "error");
  private static final Pattern GUID = Pattern.compile(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private final Vertx vertx;
  private final PluginHost plugins;
  private final Pool pool;
  private final PgCouplingStore couplings;
  private final PgMappingSettingsStore settings;
  private final Supplier<TandemConfig.Connections> connections;
  private TandemConfig.Connections clientsFor;
  private ODataErpClient erp;
  private DataverseClient crm;

  RecordsApi(Vertx vertx, PluginHost plugins, Pool pool, Supplier<TandemConfig.Connections> connections) {
    this.vertx = vertx;
    this.plugins = plugins;
    this.pool = pool;
    this.couplings = new PgCouplingStore(pool);
    this.settings = new PgMappingSettingsStore(pool);
    this.connections = connections;
  }

  void mount(Router r) {
    r.get("/api/v1/mappings/:name/records").handler(this::list);
  }

  void close() {
    if (erp != null) {
      erp.close();
    }
    if (crm != null) {
      crm.close();
    }
  }

  /** The clients of the node's current connection, made again when the connection changed (the setup guide). */
  private synchronized void clients() {
    TandemConfig.Connections now = connections.get();
    if (now != null && now.equals(clientsFor)) {
      return;
    }
    close();
    erp = now == null || now.erp() == null ? null : new ODataErpClient(vertx, now.erp(), EndpointMetrics.NONE);
    crm = now == null || now.crm() == null ? null : new DataverseClient(vertx, now.crm(), EndpointMetrics.NONE);
    clientsFor = now;
  }

  private void list(RoutingContext ctx) {
    MappingStatus m = plugins.mappings().get(ctx.pathParam("name"));
    if (m == null) {
      ApiError.send(ctx, 404, "not_found", "no installed plugin provides mapping " + ctx.pathParam("name"));
      return;
    }
    for (String p : ctx.queryParams().names()) {
      if (!PARAMS.contains(p)) {
        ApiError.send(ctx, 400, "bad_request", "unknown query parameter '" + p + "'; the parameters are " + PARAMS);
        return;
      }
    }
    String sideParam = ctx.queryParams().get("side") == null ? "erp"
        : ctx.queryParams().get("side").toLowerCase(Locale.ROOT);
    if (!sideParam.equals("erp") && !sideParam.equals("crm")) {
      ApiError.send(ctx, 400, "bad_request", "side: 'erp' or 'crm', got '" + ctx.queryParams().get("side") + "'");
      return;
    }
    boolean erpSide = sideParam.equals("erp");
    int limit;
    try {
      limit = ctx.queryParams().get("limit") == null ? DEFAULT_LIMIT : Integer.parseInt(ctx.queryParams().get("limit"));
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      ApiError.send(ctx, 400, "bad_request", "limit: a number from 1 to " + MAX_LIMIT + ", got '"
          + ctx.queryParams().get("limit") + "'");
      return;
    }
    String after = ctx.queryParams().get("after");
    String from = ctx.queryParams().get("from");
    if (after != null && from != null) {
      ApiError.send(ctx, 400, "bad_request", "after and from: give one (after: the page after a key; from: the page "
          + "that starts at a key)");
      return;
    }
    String start = after != null ? after : from;
    String startName = after != null ? "after" : "from";
    if (start != null && (start.isEmpty() || start.length() > 250)) {
      ApiError.send(ctx, 400, "bad_request", startName + ": a record's key (1 to 250 characters)");
      return;
    }
    if (start != null && !erpSide && !GUID.matcher(start).matches()) {
      ApiError.send(ctx, 400, "bad_request", startName + ": a CRM record's id is a GUID, got '" + start + "'");
      return;
    }
    String op = after != null ? " gt " : " ge ";
    String state = ctx.queryParams().get("state") == null ? null
        : ctx.queryParams().get("state").toLowerCase(Locale.ROOT);
    if (state != null && !STATES.contains(state)) {
      ApiError.send(ctx, 400, "bad_request", "state: one of " + STATES + ", got '" + ctx.queryParams().get("state")
          + "'");
      return;
    }
    if (!erpSide && m.definition().isOptionSet()) {
      ApiError.send(ctx, 409, "conflict", "mapping " + m.name() + " maps a CRM option set, not a table: its CRM "
          + "side is listed by GET /api/v1/mappings/" + m.name() + "/options");
      return;
    }
    clients();
    if (erpSide ? erp == null : crm == null) {
      ApiError.send(ctx, 503, "unavailable", "the " + (erpSide ? "ERP" : "CRM") + " connection is not configured "
          + "on this node: set it up first (PUT /api/v1/connection or the setup guide)");
      return;
    }
    int n = limit;
    ODataErpClient erpClient = erp;
    DataverseClient crmClient = crm;
    settings.get(m.name()).compose(s -> {
      MappingDefinition eff = s.applyTo(m.definition());
      List<String> fields = fields(eff, erpSide);
      Future<Page> read = erpSide ? readErp(erpClient, eff, fields, op, start, n)
          : readCrm(crmClient, eff, fields, op, start, n);
      return read.compose(page -> {
        List<JsonObject> rows = page.rows().size() > n ? page.rows().subList(0, n) : page.rows();
        List<String> keys = new ArrayList<>(rows.size());
        for (JsonObject row : rows) {
          Object k = row.getValue(erpSide ? eff.erpKey() : eff.crmKey());
          keys.add(erpSide ? String.valueOf(k) : String.valueOf(k).toLowerCase(Locale.ROOT));
        }
        // One coupling query for the whole page.
        return couplings.bySourceIds(pool, eff.name(), erpSide ? Direction.TO_CRM : Direction.FROM_CRM, keys)
            .map(found -> body(eff, erpSide, fields, rows, keys, found, state, n));
      });
    }).onSuccess(body -> ctx.response().putHeader("Content-Type", "application/json").end(body.encode()))
        .onFailure(e -> {
          if (e instanceof dev.tandem.api.TandemException) {
            ApiError.send(ctx, 503, "unavailable", "the " + (erpSide ? "ERP" : "CRM") + " records of " + m.name()
                + " could not be read: " + e.getMessage());
          } else {
            ctx.fail(e);
          }
        });
  }

  private JsonObject body(MappingDefinition eff, boolean erpSide, List<String> fields, List<JsonObject> rows,
      List<String> keys, Map<String, Coupling> found, String state, int limit) {
    JsonArray out = new JsonArray();
    for (int i = 0; i < rows.size(); i++) {
      JsonObject row = rows.get(i);
      Coupling c = found.get(keys.get(i));
      String st = c == null ? "UNCOUPLED" : c.lastError() != null ? "ERROR" : c.coupled() ? "COUPLED" : "PENDING";
      if (state != null && !state.equalsIgnoreCase(st)) {
        continue;
      }
      JsonObject values = new JsonObject();
      for (String f : fields) {
        values.put(f, row.getValue(f));
      }
      out.add(new JsonObject().put("key", keys.get(i)).put("state", st).put("fields", values)
          .put("coupling", c == null ? null : c.toJson()));
    }
    JsonObject body = new JsonObject().put("mapping", eff.name()).put("side", erpSide ? "ERP" : "CRM")
        .put("entitySet", erpSide ? eff.erpEntitySet() : eff.crmEntitySet()).put("key", erpSide ? eff.erpKey()
            : eff.crmKey()).put("fields", new JsonArray(fields)).put("read", rows.size()).put("records", out);
    if (rows.size() == limit) {
      body.put("next", "/api/v1/mappings/" + enc(eff.name()) + "/records?side=" + (erpSide ? "erp" : "crm")
          + "&after=" + enc(keys.get(keys.size() - 1)) + "&limit=" + limit + (state == null ? "" : "&state=" + state));
    }
    return body;
  }

  /** The fields shown: the match fields, then the first mapped fields of the side; lookups' raw ids left out. */
  static List<String> fields(MappingDefinition eff, boolean erpSide) {
    Set<String> out = new LinkedHashSet<>();
    for (MatchField f : eff.matchFields()) {
      out.add(erpSide ? f.erpField() : f.crmField());
    }
    for (FieldMapping f : eff.fields()) {
      String name = erpSide ? f.erpField() : f.crmField();
      if (name != null && f.enabled() && f.constant() == null && f.lookupMapping() == null) {
        out.add(name);
      }
    }
    out.remove(erpSide ? eff.erpKey() : eff.crmKey());
    List<String> list = new ArrayList<>();
    for (String f : out) {
      if (list.size() < MAX_FIELDS && !f.startsWith("_") && !f.contains("/")) {
        list.add(f);
      }
    }
    return list;
  }

  private static Future<Page> readErp(ODataErpClient erp, MappingDefinition eff, List<String> fields, String op,
      String after, int limit) {
    String filter = eff.erpFilter() == null || eff.erpFilter().isBlank() ? null : "(" + eff.erpFilter() + ")";
    if (after != null) {
      String gt = eff.erpKey() + op + ODataLiterals.string(after);
      filter = filter == null ? gt : filter + " and " + gt;
    }
    List<String> select = new ArrayList<>();
    select.add(eff.erpKey());
    select.addAll(fields);
    return erp.readTop(eff.erpEntitySet(), filter, select, eff.erpKey(), limit);
  }

  private static Future<Page> readCrm(DataverseClient crm, MappingDefinition eff, List<String> fields, String op,
      String after, int limit) {
    String filter = eff.crmFilter() == null || eff.crmFilter().isBlank() ? null : "(" + eff.crmFilter() + ")";
    if (after != null) {
      String gt = eff.crmKey() + op + after.toLowerCase(Locale.ROOT);
      filter = filter == null ? gt : filter + " and " + gt;
    }
    List<String> select = new ArrayList<>();
    select.add(eff.crmKey());
    select.addAll(fields);
    return crm.queryPage(CrmQuery.of(eff.crmEntitySet()).select(select).filter(filter).orderBy(eff.crmKey())
        .toString(), limit);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
