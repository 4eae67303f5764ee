package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.connectors.ConnectorTestSupport;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** ERP-to-CRM runs against both simulators and a real PostgreSQL. */
class ToCrmSyncIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final MappingDefinition SALESPEOPLE = MappingDefinition.builder("SALESPEOPLE")
      .erp("SalespersonPurchaser", "Code").crm("systemusers", "systemuserid").direction(Direction.FROM_CRM).build();
  private static final MappingDefinition CUSTOMER = MappingDefinition.builder("CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
      .field("Name", "name", Direction.TO_CRM)
      .field("City", "address1_city", Direction.TO_CRM)
      .field("No", "accountnumber", Direction.TO_CRM)
      .field(FieldMapping.of("Salesperson_Code", "ownerid", Direction.TO_CRM).lookupThrough("SALESPEOPLE"))
      .filters("Blocked eq ' '", null)
      .dependsOn("SALESPEOPLE")
      .build();

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;
  private PgCouplingStore couplings;
  private ODataErpClient erp;
  private DataverseClient crm;
  private long job;

  @BeforeEach
  void setUp() throws Exception {
    admin(erpSim.get().baseUrl(), "reset", null);
    crmSim.get().metadata().tandemSolutionImported();
    admin(crmSim.get().baseUrl(), "reset", null);
    admin(erpSim.get().baseUrl(), "seed", "{\"seed\":11,\"counts\":{\"SalespersonPurchaser\":5,\"Customer\":300}}");
    admin(crmSim.get().baseUrl(), "seed", "{\"seed\":11,\"counts\":{\"systemusers\":5}}");
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    couplings = new PgCouplingStore(pool);
    ErpSimulator.Options o = erpSim.get().options();
    erp = new ODataErpClient(vertx, new ODataErpSettings(erpSim.get().serviceRoot(), o.company(), o.user(),
        o.accessKey(), 100, 100, 5, 3, 10_000), EndpointMetrics.NONE);
    crm = new DataverseClient(vertx, DataverseSettings.of(crmSim.get().apiUrl(), crmSim.get().tokenUrl(),
        "tandem-sync", "tandem-secret", null), EndpointMetrics.NONE);
    // Couple the five salespeople with the five seeded CRM users.
    List<Map<String, Object>> users = Json.objects(Json.object(admin(crmSim.get().baseUrl(), "rows/systemusers", null))
        .get("rows")).stream().filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).toList();
    for (int i = 0; i < 5; i++) {
      String userId = (String) users.get(i).get("systemuserid");
      int n = i + 1;
      on(() -> couplings.couple("SALESPEOPLE", "SP" + n, userId));
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
    db.close();
  }

  private <T> T on(Supplier<Future<T>> call) throws Exception {
    return ConnectorTestSupport.on(vertx, call);
  }

  private static String admin(String base, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/__admin/sim/" + path));
    b = body == null && !path.equals("reset") ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private JobOutcome run() throws Exception {
    long id = ++job;
    RecordMapper mapper = new RecordMapper(CUSTOMER, Set.of(), n -> n.equals("SALESPEOPLE") ? SALESPEOPLE : null);
    return on(() -> new ToCrmSync(new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, CUSTOMER),
            mapper, id, 2,
        MappingSettings.ConflictPolicy.NONE)
        .run(OffsetDateTime.now()));
  }

  private int crmAccounts() throws Exception {
    return ((Number) Json.object(admin(crmSim.get().baseUrl(), "counts", null)).get("accounts")).intValue();
  }

  @Test
  void fullThenIncrementalThenNothing() throws Exception {
    long blocked = Json.objects(Json.object(admin(erpSim.get().baseUrl(), "rows/Customer?top=1000", null)).get("rows"))
        .stream().filter(c -> "All".equals(c.get("Blocked"))).count();
    JobOutcome first = run();
    assertEquals(300 - blocked, first.inserted(), first.toString());
    assertEquals(300 - blocked, first.coupled());
    assertEquals(0, first.failed());
    assertEquals(300 - blocked, crmAccounts());
    Map<String, Object> account = Json.objects(Json.object(admin(crmSim.get().baseUrl(), "rows/accounts?top=1", null))
        .get("rows")).get(0);
    assertTrue(((String) account.get("accountnumber")).startsWith("C1"));
    assertTrue(account.get("_ownerid_value") != null, "owner through SALESPEOPLE");

    JobOutcome second = run();
    assertEquals(0, second.inserted() + second.modified(), "a second run writes nothing: " + second);

    // Change one customer in the ERP: only it is written.
    String no = (String) account.get("accountnumber");
    Map<String, Object> row = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(erpSim.get().companyUrl()
        + "/Customer('" + no + "')")).header("Authorization", basic()).build(), HttpResponse.BodyHandlers.ofString()).body());
    HttpResponse<String> patched = HTTP.send(HttpRequest.newBuilder(URI.create(erpSim.get().companyUrl()
            + "/Customer('" + no + "')")).header("Authorization", basic()).header("If-Match", (String) row.get("@odata.etag"))
        .header("Content-Type", "application/json").method("PATCH", HttpRequest.BodyPublishers.ofString(
            "{\"City\":\"Reykjavík\"}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, patched.statusCode(), patched.body());
    JobOutcome third = run();
    assertEquals(1, third.modified(), third.toString());
    assertEquals(0, third.inserted());
    assertEquals(300 - blocked, crmAccounts());
  }

  @Test
  void anUncoupledSalespersonFailsOnlyThatRecordAndARerunAfterLostCouplingsDuplicatesNothing() throws Exception {
    db.exec("SELECT 1");
    on(() -> couplings.uncouple("SALESPEOPLE", List.of(1L)));
    JobOutcome r = run();
    assertTrue(r.failed() > 0, r.toString());
    assertTrue(r.inserted() > 0);
    String message = db.queryString("SELECT last_error FROM coupling WHERE mapping = 'CUSTOMER' AND last_error IS NOT NULL LIMIT 1");
    assertTrue(message.contains("Salesperson_Code refers to SP1, which is not coupled in mapping SALESPEOPLE: "
        + "couple or synchronize SALESPEOPLE first"), message);
    // Once SP1 is coupled again, the failed records go through on the next run, though none of them changed.
    String sp1User = db.queryString("SELECT crm_id FROM coupling WHERE mapping = 'SALESPEOPLE' AND erp_id = 'SP2'");
    db.exec("UPDATE coupling SET erp_id = 'SP1' WHERE mapping = 'SALESPEOPLE' AND erp_id = 'SP2'");
    JobOutcome retried = run();
    assertEquals(r.failed(), retried.inserted(), "failed records are retried first: " + retried);
    assertEquals(0, retried.failed(), retried.toString());
    db.exec("UPDATE coupling SET erp_id = 'SP2' WHERE mapping = 'SALESPEOPLE' AND crm_id = '" + sp1User + "'");
    int accounts = crmAccounts();
    // As if the run crashed after writing to the CRM but before committing: couplings and watermark lost.
    db.exec("DELETE FROM coupling WHERE mapping = 'CUSTOMER'; DELETE FROM watermark");
    JobOutcome again = run();
    assertEquals(accounts, crmAccounts(), "no duplicates: the counterparts' ids are derived from the ERP keys");
    assertEquals(accounts, again.coupled() + again.failed(), again.toString());
  }

  private static String basic() {
    ErpSimulator.Options o = erpSim.get().options();
    return "Basic " + java.util.Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes());
  }

  @Test
  void anAlternateKeyCouplesWhatTheCrmAlreadyHasAndNeverDuplicates() throws Exception {
    MappingDefinition currency = MappingDefinition.builder("CURRENCY").erp("Currency", "Code")
        .crm("transactioncurrencies", "transactioncurrencyid").direction(Direction.TO_CRM)
        .field("Code", "isocurrencycode", Direction.TO_CRM)
        .field("Description", "currencyname", Direction.TO_CRM)
        .field("Symbol", "currencysymbol", Direction.TO_CRM)
        .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
        .field(FieldMapping.of(null, "currencyprecision", Direction.TO_CRM).withConstant(2))
        .crmAlternateKey("isocurrencycode").build();
    Map<String, String> before = currencies();
    assertEquals(Set.of("EUR", "USD", "GBP"), before.keySet(), "the CRM seed's currencies");
    Supplier<Future<JobOutcome>> sync = () -> new ToCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, currency),
            
        new RecordMapper(currency, Set.of(), n -> null), ++job, 2, MappingSettings.ConflictPolicy.NONE)
        .run(OffsetDateTime.now());
    JobOutcome first = on(sync);
    assertEquals(2, first.inserted(), first.toString());
    assertEquals(3, first.modified(), "updated through the upsert: " + first);
    assertEquals(5, first.coupled());
    Map<String, String> after = currencies();
    assertEquals(Set.of("EUR", "USD", "GBP", "DKK", "SEK"), after.keySet());
    before.forEach((iso, id) -> assertEquals(id, after.get(iso), iso + " keeps its id"));
    for (String iso : after.keySet()) {
      assertEquals(after.get(iso), on(() -> couplings.bySourceIds(pool, "CURRENCY", Direction.TO_CRM, Set.of(iso)))
          .get(iso).crmId(), "coupling of " + iso);
    }
    // A page re-run without its couplings (a crash before the commit) writes through the key again: no duplicate.
    db.exec("DELETE FROM coupling WHERE mapping = 'CURRENCY'; DELETE FROM watermark WHERE mapping = 'CURRENCY'");
    JobOutcome rerun = on(sync);
    assertEquals(0, rerun.inserted(), rerun.toString());
    assertEquals(5, rerun.coupled(), rerun.toString());
    assertEquals(after, currencies());
  }

  @Test
  void withoutAnActiveKeyRowsAreFoundByTheKeysValueAndWrittenByIdWithoutDuplicates() throws Exception {
    // A fresh organization: no alternate key on isocurrencycode, so no upsert by key is possible.
    crmSim.get().metadata().freshOrganization();
    MappingDefinition currency = MappingDefinition.builder("CURRENCY").erp("Currency", "Code")
        .crm("transactioncurrencies", "transactioncurrencyid").direction(Direction.TO_CRM)
        .field("Code", "isocurrencycode", Direction.TO_CRM)
        .field("Description", "currencyname", Direction.TO_CRM)
        .field("Symbol", "currencysymbol", Direction.TO_CRM)
        .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
        .field(FieldMapping.of(null, "currencyprecision", Direction.TO_CRM).withConstant(2))
        .crmAlternateKey("isocurrencycode").build();
    Map<String, String> before = currencies();
    Supplier<Future<JobOutcome>> sync = () -> new ToCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, currency),
            
        new RecordMapper(currency, Set.of(), n -> null), ++job, 2, MappingSettings.ConflictPolicy.NONE)
        .run(OffsetDateTime.now());
    JobOutcome first = on(sync);
    assertEquals(0, first.failed(), first.toString());
    assertEquals(5, first.coupled(), first.toString());
    Map<String, String> after = currencies();
    assertEquals(Set.of("EUR", "USD", "GBP", "DKK", "SEK"), after.keySet());
    before.forEach((iso, id) -> assertEquals(id, after.get(iso), iso + " keeps its id"));
    db.exec("DELETE FROM coupling WHERE mapping = 'CURRENCY'; DELETE FROM watermark WHERE mapping = 'CURRENCY'");
    JobOutcome rerun = on(sync);
    assertEquals(0, rerun.failed(), rerun.toString());
    assertEquals(after, currencies(), "found by value again: no second row");
  }

  @Test
  void keyValuesDataverseCannotAddressAreWrittenByIdExactlyOnceEvenWhenTheResponseIsLost() throws Exception {
    MappingDefinition byNumber = MappingDefinition.builder("ACCOUNT_BY_NUMBER").erp("Customer", "No")
        .crm("accounts", "accountid").direction(Direction.TO_CRM)
        .field("Name", "name", Direction.TO_CRM)
        .field("No", "accountnumber", Direction.TO_CRM)
        .filters("No eq 'A/100' or No eq 'R&D' or No eq '70000+1' or No eq 'PLAIN1'", null)
        .crmAlternateKey("accountnumber").build();
    for (String no : List.of("A/100", "R&D", "70000+1", "PLAIN1")) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erpSim.get().companyUrl()
          + "/Customer"))
          .header("Authorization", basic()).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"No\":\"" + no + "\",\"Name\":\"Customer " + no
              + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(201, r.statusCode(), r.body());
    }
    // Somebody already keyed R&D in the CRM: it is coupled and updated, not duplicated.
    String existing = (String) ((List<?>) Json.object(admin(crmSim.get().baseUrl(), "rows/accounts",
        "{\"rows\":[{\"name\":\"R and D\",\"accountnumber\":\"R&D\"}]}")).get("ids")).get(0);
    // The first write's answer is lost after the CRM applied it.
    admin(crmSim.get().baseUrl(), "faults", "{\"pathPattern\":\"/\\\\$batch\",\"method\":\"POST\","
        + "\"kind\":\"DROP_RESPONSE\",\"times\":1}");
    Supplier<Future<JobOutcome>> sync = () -> new ToCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, byNumber),
            
        new RecordMapper(byNumber, Set.of(), n -> null), ++job, 2, MappingSettings.ConflictPolicy.NONE)
        .run(OffsetDateTime.now());
    try {
      on(sync);
    } catch (Exception lost) {
      // the lost answer fails the run; the next one must not write a second row
    }
    HTTP.send(HttpRequest.newBuilder(URI.create(crmSim.get().baseUrl() + "/__admin/sim/faults")).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    JobOutcome second = on(sync);
    assertEquals(0, second.failed(), second.toString());
    JobOutcome third = on(sync);
    assertEquals(0, third.failed(), third.toString());
    Map<String, List<String>> byNo = new java.util.HashMap<>();
    for (Map<String, Object> r : Json.objects(Json.object(admin(crmSim.get().baseUrl(), "rows/accounts", null))
        .get("rows"))) {
      byNo.computeIfAbsent(String.valueOf(r.get("accountnumber")), k -> new java.util.ArrayList<>())
          .add((String) r.get("accountid"));
    }
    for (String no : List.of("A/100", "R&D", "70000+1", "PLAIN1")) {
      assertEquals(1, byNo.getOrDefault(no, List.of()).size(), no + ": " + byNo.get(no));
    }
    assertEquals(List.of(existing), byNo.get("R&D"), "the CRM's own R&D row was coupled");
    assertEquals(existing, on(() -> couplings.bySourceIds(pool, "ACCOUNT_BY_NUMBER", Direction.TO_CRM,
        Set.of("R&D"))).get("R&D").crmId());
  }

  @Test
  void unknownCrmColumnsFailTheRunNamingTheMappingAndEveryField() throws Exception {
    MappingDefinition typo = MappingDefinition.builder("CUSTOMER_TYPO").erp("Customer", "No")
        .crm("accounts", "accountid").direction(Direction.TO_CRM)
        .field("Name", "nmae", Direction.TO_CRM)
        .field("City", "address1_cty", Direction.TO_CRM)
        .field("No", "accountnumber", Direction.TO_CRM)
        .build();
    Supplier<Future<JobOutcome>> sync = () -> new ToCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, typo),
            
        new RecordMapper(typo, Set.of(), n -> null), ++job, 2, MappingSettings.ConflictPolicy.NONE)
        .run(OffsetDateTime.now());
    Exception failed = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> on(sync));
    Throwable cause = failed;
    while (!(cause instanceof dev.tandem.api.TandemException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    assertTrue(cause instanceof dev.tandem.api.TandemException, String.valueOf(failed));
    assertEquals(dev.tandem.api.ErrorKind.PERMANENT, ((dev.tandem.api.TandemException) cause).kind());
    String message = cause.getMessage();
    assertTrue(message.contains("CUSTOMER_TYPO") && message.contains("Name -> nmae")
        && message.contains("City -> address1_cty") && !message.contains("accountnumber"), message);
    assertEquals(0, Json.objects(Json.object(admin(crmSim.get().baseUrl(), "rows/accounts", null)).get("rows"))
        .size(), "nothing was written");
  }

  @Test
  void aMappingWritingAColumnTheCrmComputesFailsTheRunBeforeAnyWrite() throws Exception {
    // creditlimit_base and exchangerate exist (they can be read) but Dataverse computes them from the record's
    // transaction currency: every write naming them would be refused, so the run fails once, naming them.
    MappingDefinition computed = MappingDefinition.builder("CUSTOMER_BASE").erp("Customer", "No")
        .crm("accounts", "accountid").direction(Direction.TO_CRM)
        .field("Name", "name", Direction.TO_CRM)
        .field("Credit_Limit_LCY", "creditlimit_base", Direction.TO_CRM)
        .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
        .field("No", "accountnumber", Direction.TO_CRM)
        .build();
    Supplier<Future<JobOutcome>> sync = () -> new ToCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, computed),
            new RecordMapper(computed, Set.of(), n -> null), ++job, 2, MappingSettings.ConflictPolicy.NONE)
        .run(OffsetDateTime.now());
    Exception failed = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> on(sync));
    Throwable cause = failed;
    while (!(cause instanceof dev.tandem.api.TandemException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    assertTrue(cause instanceof dev.tandem.api.TandemException, String.valueOf(failed));
    assertEquals(dev.tandem.api.ErrorKind.PERMANENT, ((dev.tandem.api.TandemException) cause).kind());
    String message = cause.getMessage();
    assertTrue(message.contains("CUSTOMER_BASE") && message.contains("the CRM computes")
        && message.contains("Credit_Limit_LCY -> creditlimit_base")
        && message.contains("exchangerate") && !message.contains("accountnumber"), message);
    assertEquals(0, Json.objects(Json.object(admin(crmSim.get().baseUrl(), "rows/accounts", null)).get("rows"))
        .size(), "nothing was written");
  }

  private Map<String, String> currencies() throws Exception {
    Map<String, String> out = new java.util.HashMap<>();
    for (Map<String, Object> r : Json.objects(Json.object(admin(crmSim.get().baseUrl(), "rows/transactioncurrencies",
        null)).get("rows"))) {
      assertEquals(null, out.put((String) r.get("isocurrencycode"), (String) r.get("transactioncurrencyid")),
          "one CRM currency per ISO code");
    }
    return out;
  }
}
