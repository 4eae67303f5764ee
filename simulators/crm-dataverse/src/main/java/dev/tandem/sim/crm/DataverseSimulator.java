package dev.tandem.sim.crm;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.ODataQueryException;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.Simulator;
import dev.tandem.sim.core.SimulatorServer;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Emulates the Dataverse Web API v9.2 from an in-memory store: OAuth 2.0 client credentials, CRUD and upsert
 * with ETags, lookups and alternate keys, queries with server-driven paging, change tracking, multipart
 * {@code $batch} with atomic change sets, the *Multiple actions, and service protection limits.
 */
public final class DataverseSimulator implements Simulator {

  /** Settings. */
  public record Options(int port, long seed, String tenant, String clientId, String clientSecret) {
    /** @return port 0, seed 42, tenant "tandem-tenant", client "tandem-sync" / "tandem-secret" */
    public static Options defaults() {
      return new Options(0, 42, "tandem-tenant", "tandem-sync", "tandem-secret");
    }

    /** @return a copy with another port */
    public Options withPort(int p) {
      return new Options(p, seed, tenant, clientId, clientSecret);
    }
  }

  static final String API = "/api/data/v9.2/";
  static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
      .withZone(ZoneOffset.UTC);
  static final Pattern RECORD = Pattern.compile("^([a-z_]+)\\((.*)\\)(/.*)?$");
  static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private final Options options;
  private final EntityStore store = new EntityStore();
  private final SimulatorServer server;
  private final DataverseAuth auth;
  private final ServiceProtection protection;
  private volatile DataverseCosts costs = DataverseCosts.fast();
  private final AtomicLong version = new AtomicLong(1_000_000);
  private final ChangeTracking changeTracking = new ChangeTracking();
  private final DataverseMetadata metadata = new DataverseMetadata(() -> costs.timeScale());
  /** How far this organization's clock is off the machine's: its stamps, as a skewed server's would be. */
  private volatile long clockOffsetMs;
  final String integrationUserId;
  final String organizationId = UUID.randomUUID().toString();
  final String businessUnitId = UUID.randomUUID().toString();
  /** A fresh organization (DataverseSetup): application users need a role before they may touch data. */
  volatile boolean rolesRequired;
  /**
   * Whether collection reads filtered on the primary key alone ({@code accountid eq a or accountid eq b}) look the
   * rows up by key ({@link DataverseQueries#byKeys}); off, they scan every row — the reference the lookups are
   * checked against (same rows, pages and charges).
   */
  volatile boolean useIndexes = true;
  final List<Map<String, Object>> importedSolutions = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** @param options settings */
  public DataverseSimulator(Options options) {
    this.options = options;
    this.auth = new DataverseAuth(options.tenant(), this::baseUrl, () -> costs.timeScale());
    for (Entity e : DataverseEntities.BY_SET.values()) {
      store.define(e.set(), e.key(), e.alternateKeys());
    }
    // The product lines of an order or invoice by their header (a lookup Dataverse indexes): the totals follow
    // every line write, and a scan of every line for each would make large runs quadratic.
    store.table("salesorderdetails").sortedIndex("_salesorderid_value", v -> true);
    store.table("invoicedetails").sortedIndex("_invoiceid_value", v -> true);
    store.define("systemuserroles", "id", List.of());
    this.protection = new ServiceProtection(auth::user);
    this.server = new SimulatorServer("crm-dataverse", options.port(), options.seed(), this::handle, this::template,
        status -> status == 429
            ? error(429, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
            : error(status, "0x80040216", "An unexpected error occurred."))
        .gate(protection);
    this.integrationUserId = DataverseAdmin.bootstrap(this);
    auth.register(options.clientId(), options.clientSecret(), integrationUserId);
    DataverseAdmin.register(this, server);
    DataverseSetup.register(this, server);
  }

  /** Starts with defaults on a free port. */
  public DataverseSimulator() {
    this(Options.defaults());
  }

  @Override
  public void start() {
    server.start();
  }

  @Override
  public void stop() {
    server.stop();
  }

  @Override
  public SimulatorServer server() {
    return server;
  }

  /** @return the Web API root, e.g. {@code http://localhost:8081/api/data/v9.2} */
  public String apiUrl() {
    return baseUrl() + API.substring(0, API.length() - 1);
  }

  /** @return the token endpoint */
  public String tokenUrl() {
    return baseUrl() + "/" + options.tenant() + "/oauth2/v2.0/token";
  }

  /** @return the organization's URL, e.g. {@code http://localhost:8081}: the resource its tokens are issued for */
  public String organizationUrl() {
    return baseUrl();
  }

  /** @return the client-credentials scope of this organization, {@code <organization URL>/.default} */
  public String scope() {
    return auth.scope();
  }

  /**
   * Registers another organization (environment) of the same Entra tenant: the token endpoint issues tokens for it
   * ({@code <url>/.default}), and this organization refuses them (401), as Dataverse refuses a token whose audience is
   * another organization.
   *
   * @param url the other organization's URL, e.g. {@code https://contoso-test.crm.dynamics.com}
   */
  public void otherOrganizationInTenant(String url) {
    auth.otherOrganization(url);
  }

  /** @return settings */
  public Options options() {
    return options;
  }

  /**
   * Chooses the cost model.
   *
   * @param profile {@code fast} (no latency, no modelled execution: unit tests) or {@code realistic}
   * @param timeScale factor on every cost and service-protection window (1 = real time; 0.01 = 100 times faster)
   */
  public void profile(String profile, double timeScale) {
    costs(DataverseCosts.profile(profile, timeScale));
  }

  /**
   * Registers another OAuth client acting as an application user of its own (its own service-protection budget),
   * as an administrator does with an app registration and an application user.
   *
   * @param clientId the client id
   * @param clientSecret its secret
   * @return the new application user's id
   */
  public String addApplicationUser(String clientId, String clientSecret) {
    String id = DataverseAdmin.applicationUser(this, clientId);
    auth.register(clientId, clientSecret, id);
    return id;
  }

  /**
   * @return the organization's table definitions (change tracking, alternate keys); the simulator starts in the state
   *     after Tandem's solution is imported ({@link DataverseMetadata#tandemSolutionImported()})
   */
  public DataverseMetadata metadata() {
    return metadata;
  }

  /** @return the application user the default client acts as */
  public String integrationUserId() {
    return integrationUserId;
  }

  EntityStore store() {
    return store;
  }

  DataverseAuth auth() {
    return auth;
  }

  ServiceProtection protection() {
    return protection;
  }

  ChangeTracking changeTracking() {
    return changeTracking;
  }

  long clockOffsetMs() {
    return clockOffsetMs;
  }

  /** Sets the clock off; the next stamp follows the new clock even when that is behind the last one. */
  void clockOffsetMs(long ms) {
    this.clockOffsetMs = ms;
  }

  private String template(SimRequest r) {
    String p = r.path();
    if (!p.startsWith(API)) {
      return p.endsWith("/token") ? "token" : p;
    }
    String rest = p.substring(API.length());
    Matcher m = RECORD.matcher(rest);
    return m.matches() ? m.group(1) + "(id)" + (m.group(3) == null ? "" : m.group(3)) : rest;
  }

  // ---- dispatch -------------------------------------------------------------------------------------------

  SimResponse handle(SimRequest r) {
    if (r.method().equals("POST") && r.path().equals("/" + options.tenant() + "/oauth2/v2.0/token")) {
      return auth.token(r);
    }
    if (!r.path().startsWith(API)) {
      return error(404, "0x80060888", "Resource not found for the segment '" + r.path() + "'.");
    }
    String user = auth.user(r);
    if (user == null) {
      return auth.challenge();
    }
    DataverseCosts c = costs;
    long t0 = System.nanoTime();
    DataverseCosts.Meter meter = DataverseCosts.Meter.start();
    SimResponse resp;
    try {
      DataverseCosts.Meter.charge(c.requestMs());
      resp = route(r, r.path().substring(API.length()), user);
    } catch (DvError e) {
      resp = e.response();
    } catch (ODataQueryException e) {
      resp = error(400, "0x80060888", e.getMessage());
    } finally {
      DataverseCosts.Meter.stop();
    }
    double executionMs;
    if (c.modelled()) {
      // The server works for the modelled time: the answer waits for it (plus the network) and it is charged.
      executionMs = meter.ms() * c.timeScale();
      long spent = (System.nanoTime() - t0) / 1_000_000;
      sleep(Math.round(executionMs + c.latencyMs() * c.timeScale()) - spent);
    } else {
      executionMs = (System.nanoTime() - t0) / 1e6;
    }
    return protection.charge(r, executionMs, resp);
  }

  private static void sleep(long ms) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final DataverseOptionSets optionSets = new DataverseOptionSets();

  /** @return the picklist columns' option sets */
  DataverseOptionSets optionSets() {
    return optionSets;
  }

  /** @return the cost model in force */
  DataverseCosts costs() {
    return costs;
  }

  /** @param c the cost model to use from now on (also scales the service-protection windows) */
  void costs(DataverseCosts c) {
    costs = c;
    protection.scale(c.timeScale());
    protection.reset();
  }

  /** Charges one operation to the request being handled. */
  void charge(DataverseCosts.Op op, SimRequest r) {
    boolean representation = r != null && ODataQuery.prefers(r.header("Prefer"), "return=representation");
    DataverseCosts.Meter.charge(costs.cost(op, representation, DataverseCosts.Meter.inMultiple()));
  }

  /** Charges reading {@code rows} rows of a collection page. */
  void chargeRows(int rows) {
    DataverseCosts.Meter.charge(rows * costs.readRowMs());
  }

  /** Routes a Web API request (also used for the parts of a $batch). */
  SimResponse route(SimRequest r, String rest, String user) {
    if (rest.equals("$batch")) {
      return DataverseBatch.handle(this, r, user);
    }
    if (rest.equals("WhoAmI")) {
      return SimResponse.json(200, Map.of("@odata.context", apiUrl() + "/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
          "BusinessUnitId", businessUnitId, "UserId", user, "OrganizationId", organizationId));
    }
    if (rest.equals("InsertOptionValue") && r.method().equals("POST")) {
      return optionSets.insert(this, r);
    }
    if (DataverseOptionSets.handles(rest)) {
      return optionSets.attribute(this, r, rest);
    }
    if (DataverseMetadataApi.handles(rest)) {
      return DataverseMetadataApi.handle(this, r, rest);
    }
    if (rest.equals("ImportSolution") && r.method().equals("POST")) {
      return DataverseSetup.importSolution(this, r, user);
    }
    if (DataverseSalesOrders.handles(rest) && r.method().equals("POST")) {
      return DataverseSalesOrders.action(this, r, rest, user);
    }
    Matcher m = RECORD.matcher(rest);
    if (m.matches()) {
      Entity e = entity(m.group(1));
      SimResponse unsafe = unsafeKeyValue(m.group(2));
      if (unsafe != null) {
        return unsafe;
      }
      String key = resolveKey(e, m.group(2));
      if (m.group(3) != null) {
        if (e.set().equals("systemusers") && m.group(3).equals("/systemuserroles_association/$ref")
            && r.method().equals("POST")) {
          return DataverseSetup.associate(this, user, key, r);
        }
        if (e.set().equals("systemusers") && m.group(3).equals("/systemuserroles_association")
            && r.method().equals("GET")) {
          return DataverseSetup.associated(this, key);
        }
        if (e.set().equals("products") && m.group(3).equals("/Microsoft.Dynamics.CRM.PublishProductHierarchy")
            && r.method().equals("POST")) {
          return DataverseProducts.publish(this, e, key, m.group(2), user);
        }
        throw new DvError(error(404, "0x80060888", "Resource not found for the segment '" + m.group(3) + "'."));
      }
      SimResponse refused = DataverseSetup.dataAccess(this, user, e.set(), r.method());
      if (refused != null) {
        return refused;
      }
      return switch (r.method()) {
        case "GET" -> records.get(e, key, m.group(2), r);
        case "PATCH" -> records.upsert(e, key, m.group(2), Json.object(body(r)), r, user);
        case "DELETE" -> records.delete(e, key, m.group(2), r, user);
        default -> error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not allowed here.");
      };
    }
    int slash = rest.indexOf('/');
    String set = slash < 0 ? rest : rest.substring(0, slash);
    String action = slash < 0 ? null : rest.substring(slash + 1);
    Entity e = entity(set);
    SimResponse refused = DataverseSetup.dataAccess(this, user, e.set(), r.method());
    if (refused != null) {
      return refused;
    }
    if (action == null) {
      return switch (r.method()) {
        case "GET" -> DataverseQueries.list(this, e, r);
        case "POST" -> records.create(e, Json.object(body(r)), r, user);
        default -> error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not allowed here.");
      };
    }
    if (action.equals("$count") && r.method().equals("GET")) {
      return SimResponse.text(200, "text/plain", String.valueOf(Math.min(5000, store.read(() -> store.table(set).size()))));
    }
    if (action.startsWith("Microsoft.Dynamics.CRM.") && r.method().equals("POST")) {
      return DataverseMultiple.handle(this, e, action.substring("Microsoft.Dynamics.CRM.".length()),
          Json.object(body(r)), user);
    }
    throw new DvError(error(404, "0x80060888", "Resource not found for the segment '" + action + "'."));
  }

  private static String body(SimRequest r) {
    String b = r.bodyText();
    if (b.isBlank()) {
      throw new DvError(error(400, "0x80048d19", "Error identified in Payload provided by the user for Entity: the "
          + "request body is empty."));
    }
    return b;
  }

  Entity entity(String set) {
    Entity e = DataverseEntities.BY_SET.get(set);
    if (e == null) {
      throw new DvError(error(404, "0x80060888", "Resource not found for the segment '" + set + "'."));
    }
    return e;
  }

  /** A record segment: a GUID, or alternate key values {@code accountnumber='C1'}. Returns the key, or null when absent. */
  String resolveKey(Entity e, String segment) {
    String s = segment.trim();
    if (GUID.matcher(s).matches()) {
      return s.toLowerCase(Locale.ROOT);
    }
    if (!s.contains("=")) {
      throw new DvError(error(400, "0x80060888", "Bad Request - Error in query syntax: '" + segment
          + "' is not a GUID or an alternate key."));
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (String part : s.split(",(?=(?:[^']*'[^']*')*[^']*$)")) {
      int eq = part.indexOf('=');
      String col = part.substring(0, eq).trim();
      String v = part.substring(eq + 1).trim();
      values.put(col, v.startsWith("'") ? v.substring(1, v.length() - 1).replace("''", "'") : v);
    }
    DataverseMetadata.Key defined = values.size() == 1
        ? metadata.key(e.logical(), values.keySet().iterator().next()) : null;
    if (defined == null || !e.alternateKeys().contains(values.keySet().iterator().next())) {
      List<String> keys = metadata.keys(e.logical()).stream().map(k -> String.join(",", k.attributes())).toList();
      throw new DvError(error(400, "0x80060888", "The key " + values.keySet() + " is not an alternate key of "
          + e.logical() + "; alternate keys: " + keys));
    }
    if (defined.status() != DataverseMetadata.KeyStatus.Active) {
      // The key exists but its index job has not (or not successfully) finished: rows cannot be addressed by it.
      throw new DvError(error(400, "0x80060888", "The entity key " + defined.schemaName() + " of " + e.logical()
          + " is not active: its index status is " + defined.status() + "."));
    }
    Map.Entry<String, Object> kv = values.entrySet().iterator().next();
    return store.read(() -> {
      Map<String, Object> row = store.table(e.set()).byUnique(kv.getKey(), kv.getValue());
      return row == null ? null : (String) row.get(e.key());
    });
  }

  /**
   * Key values with {@code / < > * % & : \ ? +} cannot be used in a URL: "retrieve (GET), update, or upsert (PATCH)
   * actions don't work" (Microsoft, "Define alternate keys to reference rows"). The web front end refuses them before
   * Dataverse sees the request: ASP.NET request validation answers 400 "A potentially dangerous Request.Path value
   * was detected from the client" for {@code < > * % & : \ ?}; an encoded {@code /} splits the path and an encoded
   * {@code +} is refused as double escaping, both as 404.
   *
   * @return the refusal, or null when the segment is a GUID or its key values are safe
   */
  static SimResponse unsafeKeyValue(String segment) {
    if (GUID.matcher(segment.trim()).matches() || !segment.contains("=")) {
      return null;
    }
    for (String part : segment.split(",(?=(?:[^']*'[^']*')*[^']*$)")) {
      int eq = part.indexOf('=');
      String v = eq < 0 ? part : part.substring(eq + 1).trim();
      for (char c : v.toCharArray()) {
        if ("<>*%&:\\?".indexOf(c) >= 0) {
          return SimResponse.text(400, "text/html", "<html><body><h2>Bad Request</h2>A potentially dangerous "
              + "Request.Path value was detected from the client (" + c + ").</body></html>");
        }
        if (c == '/' || c == '+') {
          return SimResponse.text(404, "text/html", "<html><body><h2>404 - File or directory not found."
              + "</h2></body></html>");
        }
      }
    }
    return null;
  }

  /** Rows written and read one at a time: validation, lookups, state, stamps, the rules of products and orders. */
  private final DataverseRecords records = new DataverseRecords(this);

  DataverseRecords records() {
    return records;
  }

  /** Plug-ins and workflows the organization runs on writes (none by default). */
  private final DataverseServerLogic serverLogic = new DataverseServerLogic();

  DataverseServerLogic serverLogic() {
    return serverLogic;
  }

  /**
   * New modifiedon, versionnumber and modifier. Dataverse's modifiedon has whole seconds, so rows changed in the
   * same second share it; only versionnumber (the row version behind the ETag) is unique and increasing.
   */
  String stamp(Map<String, Object> row, String user) {
    String t = SECONDS.format(Instant.ofEpochMilli(System.currentTimeMillis() + clockOffsetMs));
    row.put("modifiedon", t);
    row.put("versionnumber", version.incrementAndGet());
    row.put("_modifiedby_value", user);
    return t;
  }

  static String etag(Map<String, Object> row) {
    return "W/\"" + row.get("versionnumber") + "\"";
  }

  /**
   * @param status HTTP status
   * @param code Dataverse error code
   * @param message message
   * @return the error in Dataverse's shape
   */
  static SimResponse error(int status, String code, String message) {
    return SimResponse.json(status, Map.of("error", Map.of("code", code, "message", message)));
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%24", "$");
  }

  static String token(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static String untoken(String s) {
    try {
      return new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ODataQueryException("The skip or delta token '" + s + "' is not valid.");
    }
  }

  /** A protocol error carrying its response. */
  static final class DvError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient SimResponse response;

    DvError(SimResponse response) {
      super(response.bodyText(), null, false, false);
      this.response = response;
    }

    SimResponse response() {
      return response;
    }

    int status() {
      return response.status();
    }
  }

  List<String> sets() {
    return new ArrayList<>(DataverseEntities.BY_SET.keySet());
  }
}
