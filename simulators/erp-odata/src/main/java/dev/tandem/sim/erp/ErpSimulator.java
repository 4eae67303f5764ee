package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.ODataQueryException;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.Simulator;
import dev.tandem.sim.core.SimulatorServer;
import dev.tandem.sim.erp.ErpServices.Field;
import dev.tandem.sim.erp.ErpServices.Service;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Emulates Dynamics NAV / Business Central OData v4 page web services from an in-memory store:
 * {@code /{instance}/ODataV4/Company('{company}')/{Service}}, Basic authentication with a web service access
 * key, {@code $filter}/{@code $select}/{@code $orderby}/{@code $top}/{@code $count}, server-driven paging,
 * ETags with If-Match on every change, field lengths and upper-case codes, JSON {@code $batch}, and item
 * availability.
 */
public final class ErpSimulator implements Simulator {

  /**
   * Which generation of the product the simulator stands for.
   *
   * <p>{@code NAV}: Dynamics NAV / Business Central on-premises: {@code /{instance}/ODataV4/}, Basic
   * authentication with a user's web service access key, the legacy {@code SalesPrice} page.
   *
   * <p>{@code BC_ONLINE}: Business Central online: {@code /v2.0/{tenant}/{environment}/ODataV4/}, OAuth 2.0 bearer
   * tokens from {@code /{tenant}/oauth2/v2.0/token} only (access keys were retired in October 2022), no
   * {@code SalesPrice} (removed in current versions).
   */
  public enum Profile {
    NAV("nav"), BC_ONLINE("bc-online");

    private final String id;

    Profile(String id) {
      this.id = id;
    }

    /** @return {@code nav} or {@code bc-online} */
    public String id() {
      return id;
    }

    /**
     * @param id {@code nav} or {@code bc-online}
     * @return the profile
     */
    public static Profile of(String id) {
      for (Profile p : values()) {
        if (p.id.equalsIgnoreCase(id) || p.name().equalsIgnoreCase(id)) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown ERP profile '" + id + "': use nav or bc-online");
    }
  }

  /**
   * Settings.
   *
   * @param port port, 0 for a free one
   * @param seed seeds generated data and faults
   * @param instance server instance in on-premises URLs ({@code nav})
   * @param company the company's name
   * @param user web service user ({@code nav})
   * @param accessKey the user's web service access key ({@code nav})
   * @param maxPageSize server page size cap
   * @param batchLimit operations per {@code $batch}
   * @param profile {@code nav} or {@code bc-online}
   * @param tenant Entra tenant ({@code bc-online})
   * @param environment BC environment name ({@code bc-online})
   * @param clientId the Entra application registered in BC ({@code bc-online})
   * @param clientSecret its secret ({@code bc-online})
   */
  public record Options(int port, long seed, String instance, String company, String user, String accessKey,
      int maxPageSize, int batchLimit, Profile profile, String tenant, String environment, String clientId,
      String clientSecret) {

    /** @return port 0 (free), seed 42, instance BC, company CRONUS International Ltd., user TANDEM, profile nav */
    public static Options defaults() {
      return new Options(0, 42, "BC", "CRONUS International Ltd.", "TANDEM",
          "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Cg==", 20_000, 100, Profile.NAV, "tandem-tenant",
          "Production", "tandem-bc-sync", "tandem-bc-secret");
    }

    /** @return the defaults on the bc-online profile */
    public static Options bcOnline() {
      return defaults().withProfile(Profile.BC_ONLINE);
    }

    /** @return a copy with another port */
    public Options withPort(int p) {
      return new Options(p, seed, instance, company, user, accessKey, maxPageSize, batchLimit, profile, tenant,
          environment, clientId, clientSecret);
    }

    /** @return a copy with another batch limit */
    public Options withBatchLimit(int n) {
      return new Options(port, seed, instance, company, user, accessKey, maxPageSize, n, profile, tenant,
          environment, clientId, clientSecret);
    }

    /** @return a copy with another profile */
    public Options withProfile(Profile p) {
      return new Options(port, seed, instance, company, user, accessKey, maxPageSize, batchLimit, p, tenant,
          environment, clientId, clientSecret);
    }
  }

  static final DateTimeFormatter MILLIS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(ZoneOffset.UTC);
  private static final Pattern ENTITY = Pattern.compile("^Company\\('((?:[^']|'')*)'\\)/([A-Za-z]+)(?:\\((.*)\\))?$");

  private final Options options;
  private final EntityStore store = new EntityStore();
  private final SimulatorServer server;
  private final AtomicLong lastModified = new AtomicLong();
  private volatile boolean seeding;
  private final Map<String, String> itemCrmIds = new ConcurrentHashMap<>();
  private final String root;
  private final String expectedAuth;
  private final ErpAuth oauth;
  private final ErpServiceProtection protection = new ErpServiceProtection(this::caller);
  /** Ledger entries and the FlowFields over them. */
  private final ErpLedger ledger = new ErpLedger(this);
  /** The web service option "Exclude Non-Editable FlowFields" from the ETag (off by default, as in BC). */
  private volatile boolean etagExcludesFlowFields;
  private final String companyId = UUID.nameUUIDFromBytes("company".getBytes(StandardCharsets.UTF_8)).toString();
  /** Webhook subscriptions ({@code bc-online} only: on-premises NAV has none to offer Tandem here). */
  private final ErpWebhooks webhooks;
  /** Sales orders and their lines: Business Central's document rules, release, posting, the header lock. */
  private final ErpSalesDocuments sales = new ErpSalesDocuments(this);

  /** @param options settings */
  public ErpSimulator(Options options) {
    this.options = options;
    this.root = options.profile() == Profile.BC_ONLINE
        ? "/v2.0/" + options.tenant() + "/" + options.environment() + "/ODataV4/"
        : "/" + options.instance() + "/ODataV4/";
    this.expectedAuth = "Basic " + Base64.getEncoder().encodeToString(
        (options.user() + ":" + options.accessKey()).getBytes(StandardCharsets.UTF_8));
    this.oauth = options.profile() == Profile.BC_ONLINE ? new ErpAuth(options.tenant()) : null;
    this.webhooks = options.profile() == Profile.BC_ONLINE ? new ErpWebhooks(this, companyId) : null;
    if (oauth != null) {
      oauth.register(options.clientId(), options.clientSecret());
    }
    for (Service s : ErpServices.ALL.values()) {
      EntityStore.Table t = store.define(s.name(), "$key", List.of("SystemId"));
      for (Field f : s.fields().values()) {
        if (ErpIndexedRead.indexed(f)) {
          t.sortedIndex(f.name(), f.name().equals(ErpIndexedRead.MODIFIED)
              ? v -> ErpIndexedRead.STAMP.matcher(v).matches() : v -> true);
        }
      }
      if (s.name().equals("SalesOrderLine")) {
        // A header's lines by its number (the line table's primary key starts with it in BC): a Code field, so
        // stored in upper case; ErpSalesDocuments falls back to a scan should a value not be.
        t.sortedIndex("Document_No", v -> v.equals(v.toUpperCase(java.util.Locale.ROOT)));
      }
    }
    this.server = new SimulatorServer("erp-odata", options.port(), options.seed(), this::serve, this::template,
        status -> error(status, status == 429 ? "Application_TooManyRequests" : "Internal_ServerError",
            status == 429 ? "The request was throttled: too many requests." : "The server could not handle the request."));
    server.gate(protection);
    ErpAdmin.register(this, server);
    ErpSalesDocuments.register(this, server);
  }

  /** @return the caller a request counts for in the request limits: the Basic user or the token's client */
  private String caller(SimRequest r) {
    if (oauth != null) {
      return oauth.clientOf(r);
    }
    return expectedAuth.equals(r.header("Authorization")) ? options.user() : null;
  }

  ErpLedger ledger() {
    return ledger;
  }

  ErpServiceProtection protection() {
    return protection;
  }

  /**
   * Answers a request and makes it take the server time the cost model gives it (while it holds its processing
   * slot); a request over 10 minutes (scaled) is cut off with 504, its work done or not, as BC's gateway does.
   */
  private SimResponse serve(SimRequest r) {
    SimResponse resp = handle(r);
    ErpCosts.Meter m = ErpCosts.Meter.current();
    if (m == null) {
      return resp;
    }
    ErpCosts c = protection.costs();
    if (m.ms() > ErpCosts.REQUEST_TIMEOUT_MS) {
      ErpServiceProtection.sleep(ErpCosts.REQUEST_TIMEOUT_MS * c.timeScale());
      return error(504, "Request_GatewayTimeout", "The request took longer than 10 minutes and was cancelled by "
          + "the gateway. Split the request into smaller ones.");
    }
    ErpServiceProtection.sleep(m.ms() * c.timeScale());
    return resp;
  }

  /** Charges server time to the request being handled (nothing when seeding or from the admin API). */
  void charge(double modelMs) {
    ErpCosts.Meter m = ErpCosts.Meter.current();
    if (m != null) {
      m.charge(modelMs);
    }
  }

  /** Charges a write; one over 8 minutes (scaled) is cancelled before it changes anything: 408. */
  void chargeWrite(ErpCosts.Op op) {
    double ms = protection.costs().cost(op);
    if (ms > ErpCosts.OPERATION_TIMEOUT_MS) {
      charge(ErpCosts.OPERATION_TIMEOUT_MS);
      throw new ErpError(error(408, "Request_OperationTimeout", "The operation took longer than 8 minutes and "
          + "was cancelled."));
    }
    charge(ms);
  }

  /** Starts with defaults on a free port. */
  public ErpSimulator() {
    this(Options.defaults());
  }

  @Override
  public void start() {
    server.start();
  }

  @Override
  public void stop() {
    if (webhooks != null) {
      webhooks.stop();
    }
    server.stop();
  }

  @Override
  public SimulatorServer server() {
    return server;
  }

  /** @return the store */
  public EntityStore store() {
    return store;
  }

  /** @return settings */
  public Options options() {
    return options;
  }

  /**
   * @return the OData root clients use: {@code http://localhost:7048/BC/ODataV4} ({@code nav}),
   *     {@code http://localhost:7048/v2.0/{tenant}/{environment}/ODataV4} ({@code bc-online})
   */
  public String serviceRoot() {
    return baseUrl() + root.substring(0, root.length() - 1);
  }

  /** @return the OAuth 2.0 token endpoint ({@code bc-online}), or null on {@code nav} */
  public String tokenUrl() {
    return oauth == null ? null : baseUrl() + oauth.tokenPath();
  }

  /** @return the scope a token for this ERP is asked for */
  public static String scope() {
    return ErpAuth.RESOURCE + "/.default";
  }

  /** @return the OData root path with a trailing slash */
  String root() {
    return root;
  }

  ErpAuth oauth() {
    return oauth;
  }

  /**
   * @param name a service name
   * @return the page published under that name on this profile, or null
   */
  static Service published(Options o, String name) {
    if (o.profile() == Profile.BC_ONLINE && name.equals("SalesPrice")) {
      return null;
    }
    // NAV 2017 has no price lists (they came with BC 16's extended pricing).
    if (o.profile() == Profile.NAV && (name.equals("PriceListHeader") || name.equals("PriceListLine"))) {
      return null;
    }
    return ErpServices.ALL.get(name);
  }

  /** @return the company root, e.g. {@code .../ODataV4/Company('CRONUS%20International%20Ltd.')} */
  public String companyUrl() {
    return serviceRoot() + "/Company('" + URLEncoder.encode(options.company(), StandardCharsets.UTF_8)
        .replace("+", "%20") + "')";
  }

  Map<String, String> itemCrmIds() {
    return itemCrmIds;
  }

  // ---- protocol -------------------------------------------------------------------------------------------

  private String template(SimRequest r) {
    String p = r.path();
    if (oauth != null && p.endsWith("/oauth2/v2.0/token")) {
      return "token";
    }
    if (webhooks != null && p.startsWith(ErpWebhooks.apiRoot(options))) {
      return p.contains("(") ? "subscriptions(key)" : "subscriptions";
    }
    if (!p.startsWith(root)) {
      return p;
    }
    String rest = p.substring(root.length());
    Matcher m = ENTITY.matcher(rest);
    return m.matches() ? m.group(2) + (m.group(3) == null ? "" : "(key)") : rest;
  }

  SimResponse handle(SimRequest r) {
    if (oauth != null && r.path().endsWith("/oauth2/v2.0/token") && r.method().equals("POST")) {
      return r.path().equals(oauth.tokenPath()) ? oauth.token(r)
          : ErpAuth.unknownTenant(r.path().substring(1, r.path().indexOf('/', 1)));
    }
    if (oauth != null ? !oauth.authorized(r) : !expectedAuth.equals(r.header("Authorization"))) {
      return oauth != null ? oauth.challenge()
          : error(401, "Authentication_InvalidCredentials", "The server has rejected the client credentials.")
              .with("WWW-Authenticate", "Basic realm=\"\"");
    }
    if (webhooks != null && r.path().startsWith(ErpWebhooks.apiRoot(options))
        && r.path().endsWith("/Microsoft.NAV.shipAndInvoice")) {
      return sales.shipAndInvoice(r, r.path().substring(ErpWebhooks.apiRoot(options).length()));
    }
    if (webhooks != null && r.path().startsWith(ErpWebhooks.apiRoot(options))) {
      return webhooks.handle(r, r.path().substring(ErpWebhooks.apiRoot(options).length()), caller(r));
    }
    if (!r.path().startsWith(root)) {
      return error(404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI '"
          + r.path() + "'.");
    }
    String rest = r.path().substring(root.length());
    if (rest.equals("Company")) {
      return r.method().equals("GET") ? companies(r) : readOnly("Company");
    }
    if (rest.equals("$metadata")) {
      return r.method().equals("GET") ? metadata() : readOnly("$metadata");
    }
    if (rest.equals("$batch")) {
      return r.method().equals("POST") ? ErpBatch.handle(this, r) : error(405, "BadRequest_MethodNotAllowed",
          "The requested resource does not support http method '" + r.method() + "'.");
    }
    Matcher m = ENTITY.matcher(rest);
    if (!m.matches()) {
      return error(404, "BadRequest_NotFound", "No HTTP resource was found that matches the request URI '"
          + r.path() + "'.");
    }
    String company = m.group(1).replace("''", "'");
    if (!company.equals(options.company())) {
      return companyNotFound(company);
    }
    String serviceName = m.group(2);
    if (serviceName.equals("ProductItemAvailability")) {
      return r.method().equals("GET") ? availability(r) : readOnly(serviceName);
    }
    Service s = published(options, serviceName);
    if (s == null) {
      return error(404, "BadRequest_NotFound", "The web service '" + serviceName + "' is not published.");
    }
    try {
      if (m.group(3) == null) {
        return switch (r.method()) {
          case "GET" -> list(s, r);
          case "POST" -> s.readOnly() ? readOnly(serviceName) : writes.create(s, r);
          default -> error(405, "BadRequest_MethodNotAllowed", "The requested resource does not support http method '"
              + r.method() + "'.");
        };
      }
      String key = ErpKeys.parse(s, m.group(3));
      return switch (r.method()) {
        case "GET" -> get(s, key);
        case "PATCH", "PUT" -> s.readOnly() ? readOnly(serviceName) : writes.update(s, key, r);
        case "DELETE" -> s.readOnly() ? readOnly(serviceName) : writes.delete(s, key, r);
        default -> error(405, "BadRequest_MethodNotAllowed", "The requested resource does not support http method '"
            + r.method() + "'.");
      };
    } catch (ODataQueryException e) {
      return error(400, "BadRequest", e.getMessage());
    } catch (ErpError e) {
      return e.response;
    }
  }

  /**
   * {@code GET …/ODataV4/$metadata}: the CSDL of the published pages (namespace NAV, one entity type and entity set
   * per service, its properties with their EDM types), which clients use to check the fields they name.
   */
  private SimResponse metadata() {
    StringBuilder x = new StringBuilder(32_000).append("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .append("<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">")
        .append("<edmx:DataServices><Schema Namespace=\"NAV\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">");
    List<String> sets = new ArrayList<>();
    for (Service s : ErpServices.ALL.values()) {
      if (published(options, s.name()) == null) {
        continue;
      }
      sets.add(s.name());
      x.append("<EntityType Name=\"").append(s.name()).append("\"><Key>");
      s.keys().forEach(k -> x.append("<PropertyRef Name=\"").append(k).append("\"/>"));
      x.append("</Key>");
      for (Field f : s.fields().values()) {
        x.append("<Property Name=\"").append(f.name()).append("\" Type=\"").append(edmType(f)).append('"');
        if (f.length() > 0) {
          x.append(" MaxLength=\"").append(f.length()).append('"');
        }
        x.append("/>");
      }
      x.append("</EntityType>");
    }
    x.append("<EntityType Name=\"ProductItemAvailability\"><Key><PropertyRef Name=\"ItemNo\"/></Key>")
        .append("<Property Name=\"CRM_ID\" Type=\"Edm.Guid\"/><Property Name=\"ItemNo\" Type=\"Edm.String\"/>")
        .append("<Property Name=\"UOM\" Type=\"Edm.String\"/><Property Name=\"Inventory\" Type=\"Edm.Decimal\"/>")
        .append("</EntityType>");
    sets.add("ProductItemAvailability");
    x.append("<EntityContainer Name=\"NAV\">");
    sets.forEach(n -> x.append("<EntitySet Name=\"").append(n).append("\" EntityType=\"NAV.").append(n)
        .append("\"/>"));
    x.append("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    return SimResponse.text(200, "application/xml", x.toString());
  }

  private static String edmType(Field f) {
    return switch (f.type()) {
      case CODE, TEXT, OPTION -> "Edm.String";
      case DECIMAL -> "Edm.Decimal";
      case INTEGER -> "Edm.Int32";
      case BOOLEAN -> "Edm.Boolean";
      case DATE -> "Edm.Date";
      case GUID -> "Edm.Guid";
      case DATETIME -> "Edm.DateTimeOffset";
    };
  }

  /** Business Central's answer for a company name that is not one of the tenant's companies. */
  private static SimResponse companyNotFound(String company) {
    return error(400, "Internal_CompanyNotFound", "Cannot process the request because the company '" + company
        + "' cannot be found. You can see the available companies by accessing the default OData web service, "
        + "Company.");
  }

  /** {@code GET …/ODataV4/Company}: the tenant's companies (the system table Company, published by default). */
  private SimResponse companies(SimRequest r) {
    ODataQuery q = query(r);
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("Name", options.company());
    c.put("Evaluation_Company", false);
    c.put("Display_Name", options.company());
    c.put("Id", companyId);
    c.put("Business_Profile_Id", "");
    List<Map<String, Object>> value = new ArrayList<>();
    if (q.filter() == null || q.filter().test(c)) {
      value.add(q.select().isEmpty() ? c : q.project(c, List.of()));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("@odata.context", serviceRoot() + "/$metadata#Company");
    body.put("value", value);
    return SimResponse.json(200, body);
  }

  private SimResponse readOnly(String service) {
    return error(405, "BadRequest_MethodNotAllowed", "The page '" + service + "' is read-only: "
        + "inserting, modifying and deleting are not allowed.");
  }

  /**
   * Whether reads use the store's indexes ({@link ErpIndexedRead}); off, every read scans and sorts the rows — the
   * reference the indexed reads are checked against (same answer, same charged cost).
   */
  volatile boolean useIndexes = true;

  /** Reads of a page: filters, orders, pages and the cost of what they return. */
  private final ErpReads reads = new ErpReads(this);

  SimResponse list(Service s, SimRequest r) {
    return reads.list(s, r);
  }

  /** Writes to a page: inserts with their number series and relations, modifies and deletes with If-Match. */
  private final ErpWrites writes = new ErpWrites(this);

  ErpWrites writes() {
    return writes;
  }

  /**
   * Inserts a row as data migration does (see {@link ErpWrites#insert(Service, Map)}). Call inside write().
   *
   * @param s the service
   * @param body the row's fields
   * @return the stored row
   */
  Map<String, Object> insert(Service s, Map<String, Object> body) {
    return writes.insert(s, body);
  }

  /**
   * The request's query options, case-sensitive as BC compares text. On {@code bc-online} {@code $filter} accepts
   * the OData {@code in} operator ({@code No in ('1000','1001')}: "In a list of values", Microsoft Learn, "Using
   * filter expressions in OData URIs"; generally available since 2024 release wave 1, "Use the OData V4 IN operator
   * in web service queries"). It is the {@code or} of one {@code eq} per value and costs what that {@code or} costs:
   * the request and the rows it returns. On {@code nav} (NAV 2017) it is a 400 like any unknown operator.
   */
  ODataQuery query(SimRequest r) {
    return ODataQuery.parse(r.query(), false, options.profile() == Profile.BC_ONLINE);
  }

  private SimResponse get(Service s, String key) {
    return store.read(() -> {
      Map<String, Object> row = store.table(s.name()).get(key);
      if (row == null) {
        return notFound(s);
      }
      charge(protection.costs().readCost(1, ErpReads.flowFields(s, null)));
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", serviceRoot() + "/$metadata#Company('" + options.company() + "')/" + s.name()
          + "/$entity");
      body.putAll(ErpRows.present(ErpLedger.calculated(s, row)));
      return SimResponse.json(200, body).with("ETag", (String) row.get("@odata.etag"));
    });
  }

  static SimResponse notFound(Service s) {
    return error(404, "Internal_RecordNotFound", "The " + s.name() + " does not exist. Identification fields and "
        + "values: the record you are trying to access does not exist.");
  }

  void resetNumberSeries() {
    writes.reset();
    sales.reset();
    ledger.reset();
    etagExcludesFlowFields = false;
  }

  /** Queues a webhook notification of a client's change for the subscriptions to the record's API page. */
  void notify(Service s, Map<String, Object> row, String changeType) {
    if (webhooks != null) {
      webhooks.changed(s.name(), row.get("SystemId"), changeType);
    }
  }

  /** @return the sales document rules (release, reopen, posting) */
  ErpSalesDocuments sales() {
    return sales;
  }

  /** @return the webhook subscriptions ({@code bc-online}), or null */
  ErpWebhooks webhooks() {
    return webhooks;
  }

  private static final java.util.Set<String> AVAILABILITY_FIELDS = java.util.Set.of("CRM_ID", "ItemNo", "UOM",
      "Inventory");

  private SimResponse availability(SimRequest r) {
    ODataQuery q = query(r);
    ErpReads.checkProperties("ProductItemAvailability", AVAILABILITY_FIELDS, q, r.query().get("$orderby"));
    return store.read(() -> {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Map<String, Object> item : store.table("Item").all(null, null)) {
        String crm = itemCrmIds.get((String) item.get("No"));
        if (crm == null) {
          continue;
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("CRM_ID", crm);
        a.put("ItemNo", item.get("No"));
        a.put("UOM", item.get("Base_Unit_of_Measure"));
        a.put("Inventory", item.get("Inventory"));
        if (q.filter() == null || q.filter().test(a)) {
          rows.add(q.project(a, List.of()));
        }
      }
      charge(protection.costs().readCost(rows.size(), 1));
      return SimResponse.json(200, Map.of("@odata.context", serviceRoot() + "/$metadata#ProductItemAvailability",
          "value", q.top() >= 0 && rows.size() > q.top() ? rows.subList(0, q.top()) : rows));
    });
  }

  // ---- rows -----------------------------------------------------------------------------------------------

  /**
   * Makes room for {@code rows} seeded rows before now: seeded data stands for records changed in the past, and
   * one stamp a millisecond would otherwise put a large seed's last rows minutes into the future, where every
   * incremental read would find them again until the wall clock caught up.
   *
   * @param rows how many rows are about to be stamped
   */
  void backdateClock(long rows) {
    if (store.table("Customer").size() == 0 && store.table("Item").size() == 0) {
      // An empty store (new or reset) has no stamps to stay ahead of.
      lastModified.set(0);
    }
    long start = System.currentTimeMillis() - rows - 1;
    lastModified.updateAndGet(prev -> Math.max(prev, start));
    seeding = true;
  }

  /** Ends {@link #backdateClock}: stamps follow the wall clock again. */
  void seeded() {
    seeding = false;
  }

  /** Gives a changed row a new SystemModifiedAt (strictly increasing, millisecond precision) and ETag. */
  void stamp(Service s, Map<String, Object> row) {
    long now = System.currentTimeMillis();
    long ms = seeding ? lastModified.incrementAndGet() : lastModified.updateAndGet(prev -> Math.max(prev + 1, now));
    row.put("SystemModifiedAt", MILLIS.format(Instant.ofEpochMilli(ms)));
    row.put("$stamp", ms);
    tag(s, row);
  }

  /**
   * The row's ETag: its version and SystemId and, unless the web service excludes them, the values of its
   * FlowFields, so that a posting (which leaves the row itself alone) changes the ETag [BC-ETAG].
   */
  void tag(Service s, Map<String, Object> row) {
    StringBuilder tag = new StringBuilder("'").append(row.get("$stamp")).append(';').append(row.get("SystemId"))
        .append(';');
    if (!etagExcludesFlowFields) {
      for (String f : ErpLedger.FLOW_FIELDS.getOrDefault(s.name(), List.of())) {
        tag.append(ErpRows.decimal(row.get(f)).stripTrailingZeros().toPlainString()).append(';');
      }
    }
    tag.append('\'');
    row.put("@odata.etag", "W/\"" + Base64.getEncoder().encodeToString(tag.toString()
        .getBytes(StandardCharsets.UTF_8)) + "\"");
  }

  /**
   * Sets the web service option "Exclude Non-Editable FlowFields" (from the ETag) and re-tags the rows concerned.
   *
   * @param exclude whether ETags leave FlowFields out
   */
  void etagExcludesFlowFields(boolean exclude) {
    store.write(() -> {
      etagExcludesFlowFields = exclude;
      for (String owner : ErpLedger.FLOW_FIELDS.keySet()) {
        Service s = ErpServices.ALL.get(owner);
        for (Map<String, Object> row : store.table(owner).all(null, null)) {
          Map<String, Object> copy = new LinkedHashMap<>(row);
          tag(s, copy);
          store.table(owner).put(copy);
        }
      }
      return null;
    });
  }

  boolean etagExcludesFlowFields() {
    return etagExcludesFlowFields;
  }

  /**
   * @param status HTTP status
   * @param code Business Central error code
   * @param message message
   * @return the error in Business Central's shape, with a correlation id
   */
  static SimResponse error(int status, String code, String message) {
    return SimResponse.json(status, Map.of("error", Map.of("code", code,
        "message", message + "  CorrelationId:  " + UUID.randomUUID() + ".")));
  }

  /** A protocol error carrying its response. */
  static final class ErpError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient SimResponse response;

    ErpError(SimResponse response) {
      super(response.bodyText(), null, false, false);
      this.response = response;
    }
  }
}
