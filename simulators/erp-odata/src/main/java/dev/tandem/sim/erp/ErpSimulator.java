package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.ODataFilter;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.ODataQueryException;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.Simulator;
import dev.tandem.sim.core.SimulatorServer;
import dev.tandem.sim.erp.ErpServices.Field;
import dev.tandem.sim.erp.ErpServices.Service;
import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
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
  private final Map<String, AtomicLong> numberSeries = new ConcurrentHashMap<>();
  private final Map<String, Boolean> manualNumbers = new ConcurrentHashMap<>();
  private final String root;
  private final String expectedAuth;
  private final ErpAuth oauth;
  private final ErpServiceProtection protection = new ErpServiceProtection(this::caller);
  /** FlowFields per page: calculated on every read (sums over ledger entries), costlier than stored fields. */
  static final Map<String, List<String>> FLOW_FIELDS = Map.of("Customer", List.of("Balance_LCY", "Balance_Due_LCY",
      "Outstanding_Orders_LCY", "Shipped_Not_Invoiced_LCY", "Sales_LCY"),
      "Item", List.of("Inventory"), "SalesOrder", List.of("Amount"));

  /**
   * A FlowField {@code CalcFormula = Sum(ledger.amount WHERE (ownerField = FIELD(No)))}: table 27 Item field 68
   * Inventory sums "Item Ledger Entry".Quantity by "Item No."; table 18 Customer "Balance (LCY)" sums the customer's
   * ledger amounts in LCY. BC keeps such sums in SIFT indexes that posting maintains; the simulator keeps the sum on
   * the owner row the same way, updated by every posted entry, without touching the row's SystemModifiedAt.
   */
  record FlowField(String owner, String field, String ledger, String ownerField, String amountField) {}

  static final List<FlowField> SUMS = List.of(
      new FlowField("Item", "Inventory", "ItemLedgerEntries", "Item_No", "Quantity"),
      new FlowField("Customer", "Balance_LCY", "CustLedgerEntries", "Customer_No", "Amount_LCY"),
      // Table 18 field 62 Sales (LCY) = Sum("Cust. Ledger Entry"."Sales (LCY)"), under page 21's Date Filter
      // 0D..WORKDATE: every entry posted so far.
      new FlowField("Customer", "Sales_LCY", "CustLedgerEntries", "Customer_No", "Sales_LCY"));

  /**
   * The customer's remaining amounts (LCY) by due date, kept on the Customer row ({@code $dues}, never shown) by
   * every posted customer ledger entry: Balance Due (LCY) (table 18 field 67, Sum of the detailed entries' Amount
   * (LCY) WHERE Initial Entry Due Date = UPPERLIMIT(Date Filter), page 21 setting the Date Filter to 0D..WORKDATE)
   * depends on today's date, so it is calculated when the row is read, as BC calculates a FlowField.
   */
  static final String DUES = "$dues";

  private final Map<String, AtomicLong> entryNumbers = new ConcurrentHashMap<>();
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
  private void charge(double modelMs) {
    ErpCosts.Meter m = ErpCosts.Meter.current();
    if (m != null) {
      m.charge(modelMs);
    }
  }

  /** Charges a write; one over 8 minutes (scaled) is cancelled before it changes anything: 408. */
  private void chargeWrite(ErpCosts.Op op) {
    double ms = protection.costs().cost(op);
    if (ms > ErpCosts.OPERATION_TIMEOUT_MS) {
      charge(ErpCosts.OPERATION_TIMEOUT_MS);
      throw new ErpError(error(408, "Request_OperationTimeout", "The operation took longer than 8 minutes and "
          + "was cancelled."));
    }
    charge(ms);
  }

  private static int flowFields(Service s, ODataQuery q) {
    List<String> ff = FLOW_FIELDS.getOrDefault(s.name(), List.of());
    return q == null || q.select().isEmpty() ? ff.size() : (int) ff.stream().filter(q.select()::contains).count();
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
          case "POST" -> s.readOnly() ? readOnly(serviceName) : create(s, r);
          default -> error(405, "BadRequest_MethodNotAllowed", "The requested resource does not support http method '"
              + r.method() + "'.");
        };
      }
      String key = ErpKeys.parse(s, m.group(3));
      return switch (r.method()) {
        case "GET" -> get(s, key);
        case "PATCH", "PUT" -> s.readOnly() ? readOnly(serviceName) : update(s, key, r);
        case "DELETE" -> s.readOnly() ? readOnly(serviceName) : delete(s, key, r);
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

  SimResponse list(Service s, SimRequest r) {
    ODataQuery q = query(r);
    checkProperties(s.name(), s.fields().keySet(), q, r.query().get("$orderby"));
    if (q.filter() != null) {
      refuseOrAcrossFields(q.filter().root());
    }
    int pageSize = ODataQuery.maxPageSize(r.header("Prefer"), options.maxPageSize(), options.maxPageSize());
    String token = r.query().get("$skiptoken");
    return store.read(() -> {
      EntityStore.Table t = store.table(s.name());
      List<Map<String, Object>> page;
      String next = null;
      int limit = q.top() >= 0 ? q.top() : Integer.MAX_VALUE;
      if (q.orderBy() == null || keyOrder(s, r.query().get("$orderby"))) {
        // No order, or the primary key's: the rows are kept in key order, so a page continues after the last key.
        String after = token == null ? lowerBound(s, q.filter() == null ? null : q.filter().root()) : decodeToken(token);
        int already = token == null ? 0 : Integer.parseInt(r.query().getOrDefault("$skiptaken", "0"));
        int want = Math.min(pageSize, limit - already);
        page = want <= 0 ? List.of() : useIndexes ? ErpIndexedRead.keyOrdered(t, q.filter(), after, want + 1) : null;
        if (page == null && want > 0 && useIndexes) {
          page = ErpIndexedRead.keyRanges(s, t, q.filter(), after, want + 1);
        }
        if (page == null && want > 0 && useIndexes) {
          page = byKeys(s, t, q.filter(), after, want + 1);
        }
        if (page == null) {
          page = t.scan(after, q.filter() == null ? null : q.filter()::test, want + 1);
        }
        if (page.size() > want) {
          page = page.subList(0, want);
          if (already + want < limit) {
            next = nextLink(r, encodeToken((String) page.get(page.size() - 1).get("$key")), already + want);
          }
        }
      } else {
        int offset = token == null ? 0 : Integer.parseInt(decodeToken(token).substring(2));
        Iterable<Map<String, Object>> ordered = useIndexes
            ? ErpIndexedRead.ordered(t, q.filter(), r.query().get("$orderby")) : null;
        if (ordered != null) {
          // The same page as the sort below: the matching rows from offset up to the page's end, and whether more.
          int stop = Math.min(limit, offset + pageSize);
          List<Map<String, Object>> rows = new ArrayList<>();
          boolean more = false;
          int seen = 0;
          for (Map<String, Object> row : ordered) {
            if (q.filter() == null || q.filter().test(row)) {
              if (seen >= stop) {
                more = true;
                break;
              }
              if (seen >= offset) {
                rows.add(row);
              }
              seen++;
            }
          }
          page = rows;
          if (more && stop < limit) {
            next = nextLink(r, encodeToken("o:" + stop), stop);
          }
        } else {
          List<Map<String, Object>> all = t.all(q.filter() == null ? null : q.filter()::test, q.orderBy());
          int end = Math.min(all.size(), Math.min(limit, offset + pageSize));
          page = offset >= end ? List.of() : all.subList(offset, end);
          if (end < Math.min(all.size(), limit)) {
            next = nextLink(r, encodeToken("o:" + end), end);
          }
        }
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", serviceRoot() + "/$metadata#Company('" + options.company() + "')/" + s.name());
      if (q.count()) {
        body.put("@odata.count", ErpRangeCount.count(s, t, q.filter(), useIndexes));
      }
      List<Map<String, Object>> value = new ArrayList<>(page.size());
      for (Map<String, Object> row : page) {
        Map<String, Object> shown = calculated(s, row);
        value.add(q.select().isEmpty() ? present(shown) : q.project(shown, List.of("@odata.etag")));
      }
      body.put("value", value);
      if (next != null) {
        body.put("@odata.nextLink", next);
      }
      charge(protection.costs().readCost(value.size(), flowFields(s, q)));
      return SimResponse.json(200, body);
    });
  }

  /**
   * Business Central refuses a query that names a property the page does not have, in {@code $select},
   * {@code $filter} or {@code $orderby}: "Could not find a property named 'X' on type 'Microsoft.NAV.Customer'."
   */
  static void checkProperties(String type, java.util.Set<String> known, ODataQuery q, String orderBy) {
    List<String> named = new ArrayList<>(q.select());
    if (q.filter() != null) {
      named.addAll(q.filter().root().fields());
    }
    if (orderBy != null) {
      for (String part : orderBy.split(",")) {
        String f = part.trim().split("\\s+")[0];
        if (!f.isEmpty()) {
          named.add(f);
        }
      }
    }
    for (String f : named) {
      if (!known.contains(f)) {
        throw new ODataQueryException("Could not find a property named '" + f + "' on type 'Microsoft.NAV." + type
            + "'.");
      }
    }
  }

  /**
   * Where a key-ordered scan may start: a ledger read "Entry_No gt n" (the incremental read of posted entries)
   * starts after entry n instead of at the first entry, as the primary key's index seek does in BC.
   */
  private static String lowerBound(Service s, ODataFilter.Node n) {
    if (n instanceof ODataFilter.And a) {
      String l = lowerBound(s, a.left());
      return l != null ? l : lowerBound(s, a.right());
    }
    if (s.keys().size() == 1 && s.fields().get(s.keys().get(0)).type() == ErpServices.Type.INTEGER
        && n instanceof ODataFilter.Compare c && c.field().equals(s.keys().get(0)) && c.fieldOnLeft()
        && c.literal() instanceof Number v && (c.op().equals("gt") || c.op().equals("ge"))) {
      long from = c.op().equals("gt") ? v.longValue() : v.longValue() - 1;
      return from < 0 ? null : ErpKeys.of(s, Map.of(s.keys().get(0), from));
    }
    return null;
  }

  /**
   * A read by key ({@code No eq 'A' or No eq 'B' …}, or {@code No in ('A','B',…)}) served by looking each key up
   * instead of scanning every row with the whole filter: the rows the scan finds (each looked-up row still passes the
   * filter, so case and type compare as in the scan), in key order after {@code after}, at most {@code limit}. This
   * saves the simulator CPU only; the cost charged is per row returned, as for the scan.
   *
   * @return the rows, or null when the filter is not an {@code or} of {@code eq}s on the single key
   */
  private static List<Map<String, Object>> byKeys(Service s, EntityStore.Table t, ODataFilter filter, String after,
      int limit) {
    if (filter == null || s.keys().size() != 1) {
      return null;
    }
    ErpServices.Type type = s.fields().get(s.keys().get(0)).type();
    if (type != ErpServices.Type.CODE && type != ErpServices.Type.TEXT) {
      return null;
    }
    List<Object> values = new ArrayList<>();
    if (!keyValues(s.keys().get(0), filter.root(), values)) {
      return null;
    }
    java.util.TreeMap<String, Map<String, Object>> found = new java.util.TreeMap<>();
    for (Object v : values) {
      String key = ErpKeys.of(s, Map.of(s.keys().get(0), v));
      if (after != null && key.compareTo(after) <= 0) {
        continue;
      }
      Map<String, Object> row = t.get(key);
      if (row != null && filter.test(row)) {
        found.put(key, row);
      }
    }
    List<Map<String, Object>> out = new ArrayList<>(Math.min(limit, found.size()));
    for (Map<String, Object> row : found.values()) {
      if (out.size() >= limit) {
        break;
      }
      out.add(row);
    }
    return out;
  }

  private static boolean keyValues(String key, ODataFilter.Node n, List<Object> into) {
    if (n instanceof ODataFilter.Or o) {
      return keyValues(key, o.left(), into) && keyValues(key, o.right(), into);
    }
    if (n instanceof ODataFilter.Compare c && c.field().equals(key) && c.op().equals("eq")
        && c.literal() instanceof String) {
      into.add(c.literal());
      return true;
    }
    return false;
  }

  /** @return whether {@code $orderby} asks for the order the rows are kept in: the single key field, ascending */
  private static boolean keyOrder(Service s, String orderBy) {
    if (orderBy == null || s.keys().size() != 1) {
      return false;
    }
    String o = orderBy.trim();
    String key = s.keys().get(0);
    return o.equals(key) || o.equalsIgnoreCase(key + " asc");
  }

  private String nextLink(SimRequest r, String token, int taken) {
    StringBuilder sb = new StringBuilder(baseUrl()).append(r.path().replace(" ", "%20").replace("'", "%27"))
        .append('?');
    for (Map.Entry<String, String> e : r.query().entrySet()) {
      if (!e.getKey().equals("$skiptoken") && !e.getKey().equals("$skiptaken")) {
        sb.append(enc(e.getKey())).append('=').append(enc(e.getValue())).append('&');
      }
    }
    return sb.append("$skiptoken=").append(enc(token)).append("&$skiptaken=").append(taken).toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%24", "$");
  }

  private static String encodeToken(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String decodeToken(String s) {
    try {
      return new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ODataQueryException("The skip token '" + s + "' is not valid.");
    }
  }

  /**
   * The request's query options, case-sensitive as BC compares text. On {@code bc-online} {@code $filter} accepts
   * the OData {@code in} operator ({@code No in ('1000','1001')}: "In a list of values", Microsoft Learn, "Using
   * filter expressions in OData URIs"; generally available since 2024 release wave 1, "Use the OData V4 IN operator
   * in web service queries"). It is the {@code or} of one {@code eq} per value and costs what that {@code or} costs:
   * the request and the rows it returns. On {@code nav} (NAV 2017) it is a 400 like any unknown operator.
   */
  private ODataQuery query(SimRequest r) {
    return ODataQuery.parse(r.query(), false, options.profile() == Profile.BC_ONLINE);
  }

  /** Business Central refuses OR between terms on different fields. */
  private static void refuseOrAcrossFields(ODataFilter.Node n) {
    if (n instanceof ODataFilter.Or o && o.fields().size() > 1) {
      throw new ODataQueryException("The 'OR' operator is not supported on distinct fields on an OData filter.");
    }
    if (n instanceof ODataFilter.Or o) {
      refuseOrAcrossFields(o.left());
      refuseOrAcrossFields(o.right());
    } else if (n instanceof ODataFilter.And a) {
      refuseOrAcrossFields(a.left());
      refuseOrAcrossFields(a.right());
    } else if (n instanceof ODataFilter.Not x) {
      refuseOrAcrossFields(x.inner());
    }
  }

  private SimResponse get(Service s, String key) {
    return store.read(() -> {
      Map<String, Object> row = store.table(s.name()).get(key);
      if (row == null) {
        return notFound(s);
      }
      charge(protection.costs().readCost(1, flowFields(s, null)));
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", serviceRoot() + "/$metadata#Company('" + options.company() + "')/" + s.name()
          + "/$entity");
      body.putAll(present(calculated(s, row)));
      return SimResponse.json(200, body).with("ETag", (String) row.get("@odata.etag"));
    });
  }

  private static SimResponse notFound(Service s) {
    return error(404, "Internal_RecordNotFound", "The " + s.name() + " does not exist. Identification fields and "
        + "values: the record you are trying to access does not exist.");
  }

  private SimResponse create(Service s, SimRequest r) {
    Map<String, Object> body = parseBody(r);
    chargeWrite(ErpCosts.Op.INSERT);
    return sales.underHeaderLock(s, body, null, () -> store.write(() -> {
      Map<String, Object> row = insert(s, body, true);
      notify(s, row, "created");
      return SimResponse.json(201, present(row));
    }));
  }

  /**
   * Inserts a row the way the page's insert trigger does, for seeding and the admin API: table relations are
   * checked, read-only fields and explicit numbers accepted (data migration writes them). Call inside write().
   */
  Map<String, Object> insert(Service s, Map<String, Object> body) {
    if (SUMS.stream().anyMatch(f -> f.ledger().equals(s.name()))) {
      return post(s.name(), body);
    }
    return insert(s, body, false);
  }

  /**
   * @param protocol a client's POST: read-only controls refused, explicit numbers only where the number series
   *     allows manual numbers
   */
  private Map<String, Object> insert(Service s, Map<String, Object> body, boolean protocol) {
    Map<String, Object> row = new LinkedHashMap<>();
    for (Field f : s.fields().values()) {
      if (!f.name().equals("SystemModifiedAt")) {
        row.put(f.name(), defaultValue(f));
      }
    }
    applyFields(s, row, body, true, protocol);
    if (s.name().equals("PriceListLine")) {
      ErpPriceLists.newLine(store, row, body.keySet());
    }
    if (s.name().startsWith("SalesOrder")) {
      sales.defaults(s, row, body.keySet());
    }
    String last = s.keys().get(s.keys().size() - 1);
    if (protocol && s.numberPrefix() != null && row.get(last) != null && !"".equals(row.get(last))
        && !manualNumbers.getOrDefault(s.name(), true)) {
      throw new ErpError(error(400, "Application_DialogException", "You may not enter numbers manually. If you "
          + "want to enter numbers manually, please activate Manual Nos. in No. Series " + s.numberPrefix() + "."));
    }
    if ((row.get(last) == null || "".equals(row.get(last))) && s.numberPrefix() != null) {
      row.put(last, nextNumber(s));
    }
    checkRelations(s, row, body.keySet());
    sales.beforeInsert(s, row, body.keySet());
    for (String k : s.keys()) {
      Object v = row.get(k);
      if (v == null || "".equals(v) && !k.equals("Currency_Code") && !k.equals("Unit_of_Measure_Code")
          && !k.equals("Starting_Date")) {
        throw new ErpError(error(400, "Application_FieldMustHaveValue", k + " must have a value in " + s.name()
            + ": It cannot be zero or empty."));
      }
    }
    String key = ErpKeys.of(s, row);
    if (store.table(s.name()).get(key) != null) {
      throw new ErpError(error(400, "Internal_EntityWithSameKeyExists", "The record in table " + s.name()
          + " already exists. Identification fields and values: " + describeKey(s, row)));
    }
    if (row.get("SystemId") == null || "".equals(row.get("SystemId"))) {
      row.put("SystemId", UUID.randomUUID().toString());
    }
    row.put("$key", key);
    // A FlowField given to a data migration (seed, admin rows) is the sum of the entries: an opening entry.
    Map<String, Object> opening = null;
    for (FlowField sum : SUMS) {
      if (sum.owner().equals(s.name()) && decimal(row.get(sum.field())).signum() != 0) {
        BigDecimal amount = decimal(row.get(sum.field()));
        row.put(sum.field(), BigDecimal.ZERO);
        opening = new LinkedHashMap<>();
        opening.put("ledger", sum.ledger());
        opening.put(sum.ownerField(), row.get("No"));
        opening.put(sum.amountField(), amount);
        opening.put("Document_No", "OPENING");
        opening.put("Description", "Opening balance");
        if (sum.ledger().equals("ItemLedgerEntries")) {
          opening.put("Entry_Type", amount.signum() > 0 ? "Positive Adjmt." : "Negative Adjmt.");
        }
      }
    }
    stamp(s, row);
    store.table(s.name()).put(row);
    sales.afterLineWrite(s, row);
    if (opening != null) {
      String ledger = (String) opening.remove("ledger");
      post(ledger, opening);
      return store.table(s.name()).get(key);
    }
    return row;
  }

  /**
   * Sets a number series' Manual Nos.: whether clients may give the number of a new row themselves.
   *
   * @param service a service with a number series
   * @param allowed Manual Nos.
   */
  void manualNumbers(String service, boolean allowed) {
    Service s = published(options, service);
    if (s == null || s.numberPrefix() == null) {
      throw new IllegalArgumentException("service " + service + " has no number series");
    }
    manualNumbers.put(s.name(), allowed);
  }

  void resetNumberSeries() {
    manualNumbers.clear();
    sales.reset();
    entryNumbers.clear();
    etagExcludesFlowFields = false;
  }

  /**
   * Business Central's TableRelation check on validate: a non-empty code must name an existing row of the
   * related table. Only fields the request sets are validated, as BC validates the fields a client writes.
   */
  private void checkRelations(Service s, Map<String, Object> row, java.util.Set<String> written) {
    for (Field f : s.fields().values()) {
      String target = f.relation();
      if (s.name().equals("SalesOrderLine") && f.name().equals("No")) {
        target = "Item".equals(row.get("Type")) ? "Item" : "Resource".equals(row.get("Type")) ? "Resource" : null;
      }
      if (s.name().startsWith("PriceList")) {
        target = ErpPriceLists.relation(f.name(), row, target);
      }
      if (target == null || !written.contains(f.name())) {
        continue;
      }
      Object v = row.get(f.name());
      if (v == null || "".equals(v)) {
        continue;
      }
      Service t = ErpServices.ALL.get(target);
      if (store.table(t.name()).get(ErpKeys.of(t, Map.of(t.keys().get(0), v))) == null) {
        throw new ErpError(error(400, "Internal_InvalidTableRelation", "The field " + f.name() + " of table "
            + s.name() + " contains a value (" + v + ") that cannot be found in the related table (" + t.name()
            + ")."));
      }
    }
  }

  String nextNumber(Service s) {
    AtomicLong counter = numberSeries.computeIfAbsent(s.name(), n -> new AtomicLong(100_000));
    EntityStore.Table t = store.table(s.name());
    String candidate;
    do {
      candidate = s.numberPrefix() + counter.incrementAndGet();
    } while (s.keys().size() == 1 && t.get(candidate) != null);
    return candidate;
  }

  private SimResponse update(Service s, String key, SimRequest r) {
    Map<String, Object> body = parseBody(r);
    String ifMatch = r.header("If-Match");
    chargeWrite(ErpCosts.Op.MODIFY);
    if (ifMatch == null) {
      return error(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the "
          + "service. Please provide a valid token in the client request.");
    }
    return sales.underHeaderLock(s, body, key, () -> store.write(() -> {
      Map<String, Object> current = store.table(s.name()).get(key);
      SimResponse refused = checkIfMatch(s, current, ifMatch);
      if (refused != null) {
        return refused;
      }
      Map<String, Object> row = new LinkedHashMap<>(current);
      applyFields(s, row, body, false, true);
      checkRelations(s, row, body.keySet());
      sales.beforeModify(s, current, row, body.keySet());
      if (!ErpKeys.of(s, row).equals(key)) {
        throw new ErpError(error(400, "BadRequest", "Key fields cannot be changed with PATCH; rename the record "
            + "in the client instead."));
      }
      stamp(s, row);
      store.table(s.name()).put(row);
      sales.afterLineWrite(s, row);
      notify(s, row, "updated");
      return SimResponse.json(200, present(row)).with("ETag", (String) row.get("@odata.etag"));
    }));
  }

  private SimResponse delete(Service s, String key, SimRequest r) {
    String ifMatch = r.header("If-Match");
    chargeWrite(ErpCosts.Op.DELETE);
    if (ifMatch == null) {
      return error(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token required by the "
          + "service. Please provide a valid token in the client request.");
    }
    return sales.underHeaderLock(s, null, key, () -> store.write(() -> {
      Map<String, Object> current = store.table(s.name()).get(key);
      SimResponse refused = checkIfMatch(s, current, ifMatch);
      if (refused != null) {
        return refused;
      }
      sales.beforeDelete(s, current);
      store.table(s.name()).delete(key);
      sales.afterLineWrite(s, current);
      notify(s, current, "deleted");
      return SimResponse.empty(204);
    }));
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

  /** Business Central's concurrency check: the row must exist and the ETag match (or be {@code *}). */
  private static SimResponse checkIfMatch(Service s, Map<String, Object> current, String ifMatch) {
    if (current == null) {
      return notFound(s);
    }
    if (!ifMatch.equals("*") && !ifMatch.equals(current.get("@odata.etag"))) {
      return error(409, "Request_EntityChanged", "Another user has already changed the record.");
    }
    return null;
  }

  private static final java.util.Set<String> AVAILABILITY_FIELDS = java.util.Set.of("CRM_ID", "ItemNo", "UOM",
      "Inventory");

  private SimResponse availability(SimRequest r) {
    ODataQuery q = query(r);
    checkProperties("ProductItemAvailability", AVAILABILITY_FIELDS, q, r.query().get("$orderby"));
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

  private static Object defaultValue(Field f) {
    return switch (f.type()) {
      case CODE, TEXT, GUID -> "";
      case DECIMAL, INTEGER -> 0;
      case BOOLEAN -> false;
      case OPTION -> f.options().get(0);
      case DATE -> "0001-01-01";
      case DATETIME -> null;
    };
  }

  private Map<String, Object> parseBody(SimRequest r) {
    try {
      return Json.object(r.bodyText());
    } catch (IllegalArgumentException e) {
      throw new ErpError(error(400, "BadRequest_InvalidRequestBody", "The request body is not valid JSON: "
          + e.getMessage()));
    }
  }

  /**
   * Validates and applies body fields: known names, types, lengths, upper-case codes; from a client
   * ({@code protocol}), read-only controls are refused.
   */
  void applyFields(Service s, Map<String, Object> row, Map<String, Object> body, boolean insert, boolean protocol) {
    for (Map.Entry<String, Object> e : body.entrySet()) {
      String name = e.getKey();
      if (name.startsWith("@odata.")) {
        continue;
      }
      Field f = s.fields().get(name);
      if (f == null) {
        throw new ErpError(error(400, "BadRequest", "The property '" + name + "' does not exist on type "
            + "'NAV." + s.name() + "'. Make sure to only use property names that are defined by the type."));
      }
      if (f.name().equals("SystemModifiedAt") || (f.name().equals("SystemId") && !insert)) {
        continue;
      }
      if (protocol && f.readOnly()) {
        throw new ErpError(error(400, "BadRequest_InvalidOperation", "Control '" + f.name() + "' is read-only."));
      }
      row.put(name, coerce(s, f, e.getValue()));
    }
  }

  private Object coerce(Service s, Field f, Object v) {
    try {
      return switch (f.type()) {
        case CODE -> checkLength(f, v == null ? "" : String.valueOf(v).toUpperCase(Locale.ROOT));
        case TEXT -> checkLength(f, v == null ? "" : String.valueOf(v));
        case DECIMAL -> v instanceof Number n ? n : new BigDecimal(String.valueOf(v));
        case INTEGER -> v instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(v));
        case BOOLEAN -> v instanceof Boolean b ? b : Boolean.parseBoolean(String.valueOf(v));
        case OPTION -> {
          String o = String.valueOf(v);
          if (!f.options().contains(o)) {
            throw new ErpError(error(400, "BadRequest", "Cannot convert the literal '" + o + "' to the expected "
                + "type of " + f.name() + ": allowed are " + f.options()));
          }
          yield o;
        }
        case DATE -> LocalDate.parse(String.valueOf(v)).toString();
        case GUID -> UUID.fromString(String.valueOf(v)).toString();
        case DATETIME -> Instant.parse(String.valueOf(v)).toString();
      };
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new ErpError(error(400, "BadRequest", "Cannot convert the value '" + v + "' of " + s.name() + "."
          + f.name() + " to " + f.type()));
    }
  }

  private Object checkLength(Field f, String value) {
    if (value.length() > f.length()) {
      throw new ErpError(error(400, "Application_StringExceededLength", "The length of the string is "
          + value.length() + ", but it must be less than or equal to " + f.length() + " characters. Value: " + value));
    }
    return value;
  }

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
      for (String f : FLOW_FIELDS.getOrDefault(s.name(), List.of())) {
        tag.append(decimal(row.get(f)).stripTrailingZeros().toPlainString()).append(';');
      }
    }
    tag.append('\'');
    row.put("@odata.etag", "W/\"" + Base64.getEncoder().encodeToString(tag.toString()
        .getBytes(StandardCharsets.UTF_8)) + "\"");
  }

  private static BigDecimal decimal(Object v) {
    return v == null ? BigDecimal.ZERO : v instanceof BigDecimal b ? b : new BigDecimal(String.valueOf(v));
  }

  /**
   * Sets the web service option "Exclude Non-Editable FlowFields" (from the ETag) and re-tags the rows concerned.
   *
   * @param exclude whether ETags leave FlowFields out
   */
  void etagExcludesFlowFields(boolean exclude) {
    store.write(() -> {
      etagExcludesFlowFields = exclude;
      for (String owner : FLOW_FIELDS.keySet()) {
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
   * Posts a ledger entry as BC's posting routines do (item journal, sales posting, cash receipt): the entry gets
   * the next Entry No., and the owner's FlowField sum moves by its amount; the owner row keeps its SystemModifiedAt
   * (posting never modifies the Item or Customer record), only its ETag changes with the FlowField. Call inside
   * write().
   *
   * @param ledger ItemLedgerEntries or CustLedgerEntries
   * @param fields the entry's fields (the owner's number and the amount among them)
   * @return the entry
   */
  Map<String, Object> post(String ledger, Map<String, Object> fields) {
    List<FlowField> sums = SUMS.stream().filter(f -> f.ledger().equals(ledger)).toList();
    if (sums.isEmpty()) {
      throw new IllegalArgumentException(ledger + " is not a ledger");
    }
    FlowField sum = sums.get(0);
    Service ls = ErpServices.ALL.get(ledger);
    Service owner = ErpServices.ALL.get(sum.owner());
    Object ownerNo = fields.get(sum.ownerField());
    String ownerKey = ownerNo == null ? null : ErpKeys.of(owner, Map.of("No", ownerNo));
    Map<String, Object> ownerRow = ownerKey == null ? null : store.table(owner.name()).get(ownerKey);
    if (ownerRow == null) {
      throw new ErpError(error(400, "Internal_InvalidTableRelation", "The field " + sum.ownerField() + " of table "
          + ledger + " contains a value (" + ownerNo + ") that cannot be found in the related table ("
          + owner.name() + ")."));
    }
    Map<String, Object> row = new LinkedHashMap<>();
    for (Field f : ls.fields().values()) {
      if (!f.name().equals("SystemModifiedAt")) {
        row.put(f.name(), defaultValue(f));
      }
    }
    applyFields(ls, row, fields, true, false);
    AtomicLong counter = entryNumbers.computeIfAbsent(ledger, n -> new AtomicLong());
    long no = fields.get("Entry_No") instanceof Number n ? n.longValue() : counter.get() + 1;
    counter.updateAndGet(prev -> Math.max(prev, no));
    row.put("Entry_No", no);
    if ("0001-01-01".equals(row.get("Posting_Date"))) {
      row.put("Posting_Date", LocalDate.now(ZoneOffset.UTC).toString());
    }
    BigDecimal amount = decimal(row.get(sum.amountField()));
    if (ls.fields().containsKey("Remaining_Quantity") && !fields.containsKey("Remaining_Quantity")) {
      row.put("Remaining_Quantity", amount.signum() > 0 ? amount : BigDecimal.ZERO);
      row.put("Open", amount.signum() > 0);
    }
    if (ledger.equals("CustLedgerEntries")) {
      customerEntryDefaults(row, fields.keySet(), amount);
    }
    String key = ErpKeys.of(ls, row);
    if (store.table(ledger).get(key) != null) {
      throw new ErpError(error(400, "Internal_EntityWithSameKeyExists", "The record in table " + ledger
          + " already exists. Identification fields and values: Entry_No='" + no + "'"));
    }
    row.put("SystemId", UUID.randomUUID().toString());
    row.put("$key", key);
    stamp(ls, row);
    store.table(ledger).put(row);
    Map<String, Object> changed = new LinkedHashMap<>(ownerRow);
    for (FlowField f : sums) {
      changed.put(f.field(), decimal(ownerRow.get(f.field())).add(decimal(row.get(f.amountField()))));
    }
    if (ledger.equals("CustLedgerEntries")) {
      @SuppressWarnings("unchecked")
      Map<String, BigDecimal> dues = ownerRow.get(DUES) instanceof Map<?, ?> m
          ? new java.util.TreeMap<>((Map<String, BigDecimal>) m) : new java.util.TreeMap<>();
      dues.merge(String.valueOf(row.get("Due_Date")), decimal(row.get("Remaining_Amt_LCY")), BigDecimal::add);
      changed.put(DUES, dues);
    }
    tag(owner, changed);
    store.table(owner.name()).put(changed);
    return row;
  }

  /**
   * A posted customer ledger entry's defaults: Due Date the posting date (a payment, or an invoice without payment
   * terms), Remaining Amt. (LCY) its whole amount (entries are not applied to each other here), and Sales (LCY) the
   * amount of an invoice or credit memo (amounts excluding VAT: the simulator has no VAT), 0 for a payment.
   */
  private static void customerEntryDefaults(Map<String, Object> row, java.util.Set<String> given, BigDecimal amount) {
    if (!given.contains("Due_Date") || "0001-01-01".equals(row.get("Due_Date"))) {
      row.put("Due_Date", row.get("Posting_Date"));
    }
    if (!given.contains("Remaining_Amt_LCY")) {
      row.put("Remaining_Amt_LCY", amount);
    }
    if (!given.contains("Sales_LCY")) {
      Object type = row.get("Document_Type");
      row.put("Sales_LCY", "Invoice".equals(type) || "Credit Memo".equals(type) ? amount : BigDecimal.ZERO);
    }
  }

  /**
   * The row with its date-dependent FlowField calculated: a Customer's Balance Due (LCY) is the remaining amount of
   * its entries due today or earlier (see {@link #DUES}). Other rows are returned as they are.
   */
  static Map<String, Object> calculated(Service s, Map<String, Object> row) {
    if (!s.name().equals("Customer") || !(row.get(DUES) instanceof Map<?, ?> dues)) {
      return row;
    }
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    BigDecimal due = BigDecimal.ZERO;
    for (Map.Entry<?, ?> e : dues.entrySet()) {
      if (String.valueOf(e.getKey()).compareTo(today) <= 0) {
        due = due.add((BigDecimal) e.getValue());
      }
    }
    Map<String, Object> out = new LinkedHashMap<>(row);
    out.put("Balance_Due_LCY", due);
    return out;
  }

  private static String describeKey(Service s, Map<String, Object> row) {
    List<String> parts = new ArrayList<>();
    for (String k : s.keys()) {
      parts.add(k + "='" + row.get(k) + "'");
    }
    return String.join(",", parts);
  }

  /** @return the row as clients see it: without internal fields */
  static Map<String, Object> present(Map<String, Object> row) {
    Map<String, Object> out = new LinkedHashMap<>(row.size());
    out.put("@odata.etag", row.get("@odata.etag"));
    for (Map.Entry<String, Object> e : row.entrySet()) {
      if (!e.getKey().startsWith("$") && !e.getKey().equals("@odata.etag")) {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
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
