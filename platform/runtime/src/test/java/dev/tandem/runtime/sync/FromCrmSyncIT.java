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

/** CRM-to-ERP runs against both simulators and a real PostgreSQL. */
class FromCrmSyncIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final MappingDefinition SALESPEOPLE = MappingDefinition.builder("SALESPEOPLE")
      .erp("SalespersonPurchaser", "Code").crm("systemusers", "systemuserid").direction(Direction.FROM_CRM).build();
  private static final MappingDefinition ACCOUNTS = MappingDefinition.builder("ACCOUNT-CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.FROM_CRM)
      .field("Name", "name", Direction.FROM_CRM)
      .field("City", "address1_city", Direction.FROM_CRM)
      .field(FieldMapping.of("Salesperson_Code", "ownerid", Direction.FROM_CRM).lookupThrough("SALESPEOPLE"))
      .build();

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;
  private PgCouplingStore couplings;
  private ODataErpClient erp;
  private DataverseClient crm;
  private long job;
  private List<String> users;

  @BeforeEach
  void setUp() throws Exception {
    post(erpSim.get().baseUrl() + "/__admin/sim/reset", "", null);
    post(crmSim.get().baseUrl() + "/__admin/sim/reset", "", null);
    post(erpSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":2,\"counts\":{\"SalespersonPurchaser\":5}}", null);
    post(crmSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":2,\"counts\":{\"systemusers\":5,\"accounts\":150}}", null);
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    couplings = new PgCouplingStore(pool);
    ErpSimulator.Options o = erpSim.get().options();
    erp = new ODataErpClient(vertx, new ODataErpSettings(erpSim.get().serviceRoot(), o.company(), o.user(),
        o.accessKey(), 100, 100, 5, 3, 10_000), EndpointMetrics.NONE);
    crm = new DataverseClient(vertx, new DataverseSettings(crmSim.get().apiUrl(), crmSim.get().tokenUrl(),
        "tandem-sync", "tandem-secret", null, 40, 52, 8, 3, 1000, 10_000), EndpointMetrics.NONE);
    users = Json.objects(Json.object(get(crmSim.get().baseUrl() + "/__admin/sim/rows/systemusers")).get("rows"))
        .stream().filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).map(u -> (String) u.get("systemuserid"))
        .toList();
    for (int i = 0; i < users.size(); i++) {
      String id = users.get(i);
      int n = i + 1;
      on(() -> couplings.couple("SALESPEOPLE", "SP" + n, id));
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

  private static String get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static HttpResponse<String> post(String url, String body, String contentType) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JobOutcome run() throws Exception {
    return on(() -> fromCrm().run(OffsetDateTime.now()));
  }

  private FromCrmSync fromCrm() {
    long id = ++job;
    RecordMapper mapper = new RecordMapper(ACCOUNTS, Set.of(), n -> n.equals("SALESPEOPLE") ? SALESPEOPLE : null);
    return new FromCrmSync(new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, ACCOUNTS), mapper, id, 2,
        MappingSettings.ConflictPolicy.NONE);
  }

  @Test
  void aCraftedCrmIdCannotWidenWhatIsRead() throws Exception {
    String one = Json.objects(Json.object(get(crmSim.get().baseUrl() + "/__admin/sim/rows/accounts?top=1"))
        .get("rows")).get(0).get("accountid").toString();
    // "Synchronize now" on one record whose id carries a condition of its own: every account would pass it.
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
        () -> on(() -> fromCrm().runSelected(List.of(one + " or accountid ne null"), OffsetDateTime.now())));
    assertTrue(String.valueOf(e.getCause()).contains("is not a GUID"), String.valueOf(e.getCause()));
    assertEquals(0, Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/counts")).get("Customer"),
        "not one account was read, let alone all of them");
    JobOutcome selected = on(() -> fromCrm().runSelected(List.of(one), OffsetDateTime.now()));
    assertEquals(1, selected.inserted(), selected.toString());
  }

  @Test
  void aRowThatCommitsLateBehindTheWatermarkIsReadWithinTheOverlap() throws Exception {
    assertEquals(150, run().inserted());
    String watermark = db.queryString("SELECT modified_on::text FROM watermark WHERE mapping = 'ACCOUNT-CUSTOMER' "
        + "AND side = 'CRM'");
    // A transaction that took its stamp a minute ago commits only now: its row is older than the watermark.
    assertEquals(204, post(crmSim.get().baseUrl() + "/__admin/sim/clock", "{\"offsetMs\":-60000}", "application/json")
        .statusCode());
    post(crmSim.get().baseUrl() + "/__admin/sim/rows/accounts", "{\"rows\":[{\"name\":\"Late Ltd.\"}]}",
        "application/json");
    post(crmSim.get().baseUrl() + "/__admin/sim/clock", "{\"offsetMs\":0}", "application/json");
    assertTrue(db.queryLong("SELECT count(*) FROM watermark WHERE mapping = 'ACCOUNT-CUSTOMER' AND modified_on > "
        + "now() - interval '50 seconds'") == 1, "the watermark " + watermark + " is newer than the late row");
    // With the old one-second overlap the row is never read...
    JobOutcome narrow = on(() -> ((FromCrmSync) fromCrm().overlap(java.time.Duration.ofSeconds(1)))
        .run(OffsetDateTime.now()));
    assertEquals(0, narrow.inserted(), narrow.toString());
    // ...with the default overlap it is; the rows read again within it are recognized as unchanged.
    JobOutcome wide = run();
    assertEquals(1, wide.inserted(), wide.toString());
    assertEquals(0, wide.modified() + wide.failed(), wide.toString());
    assertEquals(1, Json.objects(Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/rows/Customer?top=1000"))
        .get("rows")).stream().filter(c -> "Late Ltd.".equals(c.get("Name"))).count());
  }

  @Test
  void accountsBecomeCustomersAndOnlyOtherUsersChangesComeBack() throws Exception {
    JobOutcome first = run();
    assertEquals(150, first.inserted(), first.toString());
    assertEquals(150, first.coupled());
    Map<String, Object> erpCounts = Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/counts"));
    assertEquals(150, erpCounts.get("Customer"));
    List<Map<String, Object>> customers = Json.objects(Json.object(get(erpSim.get().baseUrl()
        + "/__admin/sim/rows/Customer?top=1")).get("rows"));
    assertTrue(((String) customers.get(0).get("Salesperson_Code")).startsWith("SP"), customers.toString());

    assertEquals(0, run().inserted() + run().modified(), "nothing changed since");

    // A salesperson (not the integration user) edits one account in the CRM.
    post(crmSim.get().baseUrl() + "/__admin/sim/clients", "{\"clientId\":\"someone\",\"clientSecret\":\"pw\","
        + "\"userId\":\"" + users.get(0) + "\"}", "application/json");
    String token = (String) Json.object(post(crmSim.get().tokenUrl(), "grant_type=client_credentials&client_id=someone"
        + "&client_secret=pw&scope=" + java.net.URLEncoder.encode(crmSim.get().scope(), java.nio.charset.StandardCharsets.UTF_8),
        "application/x-www-form-urlencoded").body()).get("access_token");
    String accountId = db.queryString("SELECT crm_id FROM coupling WHERE mapping = 'ACCOUNT-CUSTOMER' LIMIT 1");
    HttpResponse<String> edit = HTTP.send(HttpRequest.newBuilder(URI.create(crmSim.get().apiUrl() + "/accounts("
        + accountId + ")")).header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"address1_city\":\"Tórshavn\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(204, edit.statusCode(), edit.body());
    JobOutcome third = run();
    assertEquals(1, third.modified(), third.toString());
    String erpId = db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + accountId + "'");
    Map<String, Object> customer = Json.objects(Json.object(get(erpSim.get().baseUrl()
        + "/__admin/sim/rows/Customer?top=1000")).get("rows")).stream().filter(c -> erpId.equals(c.get("No")))
        .findFirst().orElseThrow();
    assertEquals("Tórshavn", customer.get("City"));
  }

  private static final MappingDefinition BIDI_ACCOUNTS = MappingDefinition.builder("ACCOUNT-CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.BIDIRECTIONAL)
      .field("Name", "name", Direction.BIDIRECTIONAL)
      .field("City", "address1_city", Direction.BIDIRECTIONAL)
      .build();

  private FromCrmSync fromCrm(MappingDefinition def) {
    long id = ++job;
    RecordMapper mapper = new RecordMapper(def, Set.of(), n -> n.equals("SALESPEOPLE") ? SALESPEOPLE : null);
    return new FromCrmSync(new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, def), mapper, id, 2,
        MappingSettings.ConflictPolicy.NONE);
  }

  /** Edits an account in the CRM as a salesperson (not the integration user), so the next run carries it. */
  private void editAccount(String accountId, String city) throws Exception {
    post(crmSim.get().baseUrl() + "/__admin/sim/clients", "{\"clientId\":\"someone\",\"clientSecret\":\"pw\","
        + "\"userId\":\"" + users.get(0) + "\"}", "application/json");
    String token = (String) Json.object(post(crmSim.get().tokenUrl(), "grant_type=client_credentials&client_id=someone"
        + "&client_secret=pw&scope=" + java.net.URLEncoder.encode(crmSim.get().scope(), java.nio.charset.StandardCharsets.UTF_8),
        "application/x-www-form-urlencoded").body()).get("access_token");
    HttpResponse<String> edit = HTTP.send(HttpRequest.newBuilder(URI.create(crmSim.get().apiUrl() + "/accounts("
        + accountId + ")")).header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"address1_city\":\"" + city + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(204, edit.statusCode(), edit.body());
  }

  private Map<String, Object> customer(String no) throws Exception {
    return Json.objects(Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/rows/Customer?top=1000")).get("rows"))
        .stream().filter(c -> no.equals(c.get("No"))).findFirst().orElseThrow();
  }

  private long erpBatches() throws Exception {
    Object n = ((Map<?, ?>) Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/stats")).get("byRoute"))
        .get("POST $batch");
    return n == null ? 0 : ((Number) n).longValue();
  }

  /**
   * Runs CRM to ERP while something happens in the ERP between the run's read of the ERP rows and its write: the
   * ERP holds the run's first $batch (a latency fault; requests are counted when they arrive), the test does its
   * thing, and the batch then meets the changed ETag.
   */
  private JobOutcome runWhileTheBatchIsHeld(FromCrmSync run, Runnable meanwhile) throws Exception {
    post(erpSim.get().baseUrl() + "/__admin/sim/stats/reset", "", null);
    assertEquals(201, post(erpSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"LATENCY\",\"latencyMs\":5000,\"nth\":1,\"times\":1}",
        "application/json").statusCode());
    java.util.concurrent.CompletableFuture<JobOutcome> done = new java.util.concurrent.CompletableFuture<>();
    vertx.runOnContext(v -> run.run(OffsetDateTime.now()).onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete(ar.result());
      } else {
        done.completeExceptionally(ar.cause());
      }
    }));
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (erpBatches() == 0) {
      assertTrue(System.nanoTime() < deadline, "the run never sent its $batch");
      Thread.sleep(10);
    }
    meanwhile.run();
    JobOutcome o = done.get(120, java.util.concurrent.TimeUnit.SECONDS);
    HTTP.send(HttpRequest.newBuilder(URI.create(erpSim.get().baseUrl() + "/__admin/sim/faults")).DELETE().build(),
        HttpResponse.BodyHandlers.ofString());
    return o;
  }

  @Test
  void aPostingBetweenReadAndWriteIsReReadAndWrittenNotFailed() throws Exception {
    assertEquals(150, run().inserted());
    String accountId = db.queryString("SELECT crm_id FROM coupling WHERE mapping = 'ACCOUNT-CUSTOMER' LIMIT 1");
    String no = db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + accountId + "'");
    editAccount(accountId, "Tórshavn");
    JobOutcome o = runWhileTheBatchIsHeld(fromCrm(), () -> {
      try {
        // An invoice is posted for the customer: Balance_LCY (a FlowField) and so the ETag change, the row does not.
        assertEquals(200, post(erpSim.get().baseUrl() + "/__admin/sim/customer-entries", "{\"customerNo\":\"" + no
            + "\",\"amount\":250}", "application/json").statusCode());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertEquals(1, o.modified(), o.toString());
    assertEquals(0, o.failed(), o.toString());
    assertTrue(erpBatches() >= 2, "the 409 was answered by a second write with the fresh ETag");
    Map<String, Object> c = customer(no);
    assertEquals("Tórshavn", c.get("City"));
    assertEquals(250, ((Number) c.get("Balance_LCY")).intValue());
    assertEquals("modified", db.queryString("SELECT last_result_from_crm FROM coupling WHERE crm_id = '" + accountId
        + "'"));
  }

  @Test
  void aRealErpChangeBetweenReadAndWriteStillGoesThroughTheConflictRules() throws Exception {
    assertEquals(150, on(() -> fromCrm(BIDI_ACCOUNTS).run(OffsetDateTime.now())).inserted());
    String accountId = db.queryString("SELECT crm_id FROM coupling WHERE mapping = 'ACCOUNT-CUSTOMER' LIMIT 1");
    String no = db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + accountId + "'");
    // A posting before the run changes the ETag only: not a change of the record, so no conflict.
    post(erpSim.get().baseUrl() + "/__admin/sim/customer-entries", "{\"customerNo\":\"" + no + "\",\"amount\":10}",
        "application/json");
    editAccount(accountId, "Tórshavn");
    JobOutcome first = on(() -> fromCrm(BIDI_ACCOUNTS).run(OffsetDateTime.now()));
    assertEquals(1, first.modified(), first.toString());
    assertEquals(0, first.failed(), first.toString());
    // Now someone in the ERP changes the same field while the run's write is on its way: a real conflict.
    editAccount(accountId, "Klaksvík");
    JobOutcome second = runWhileTheBatchIsHeld(fromCrm(BIDI_ACCOUNTS), () -> {
      try {
        String etag = String.valueOf(customer(no).get("@odata.etag"));
        ErpSimulator.Options o = erpSim.get().options();
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erpSim.get().companyUrl()
            + "/Customer('" + no + "')")).header("Authorization", "Basic " + java.util.Base64.getEncoder()
            .encodeToString((o.user() + ":" + o.accessKey()).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
            .header("Content-Type", "application/json").header("If-Match", etag)
            .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"City\":\"Vágur\"}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertEquals(0, second.modified(), second.toString());
    assertEquals(1, second.failed(), "the conflict policy NONE holds the record: " + second);
    assertEquals("Vágur", customer(no).get("City"), "the ERP's own change stays");
    assertEquals("conflict", db.queryString("SELECT last_result_from_crm FROM coupling WHERE crm_id = '" + accountId
        + "'"));
  }

  /** Accounts to customers, and the number the ERP assigns written back to the account (as CUSTOMER does). */
  private static final MappingDefinition NUMBERED_ACCOUNTS = MappingDefinition.builder("ACCOUNT-CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.BIDIRECTIONAL)
      .field("Name", "name", Direction.FROM_CRM)
      .field("City", "address1_city", Direction.FROM_CRM)
      .field("No", "accountnumber", Direction.TO_CRM)
      .build();

  @Test
  void aFullSynchronizationReadsEveryAccountWhileItsWriteBackMovesThemInModifiedOnOrder() throws Exception {
    // Pages of 40 accounts: each page's write-back of the ERP's number changes modifiedon of rows already read. The
    // CRM simulator pages an ordered read by position in the sort as it is now, so a read in modifiedon order
    // that follows next links would skip as many rows as had moved behind it.
    FromCrmSync run = fromCrm(NUMBERED_ACCOUNTS);
    long id = job;
    JobOutcome o = on(() -> run.runFull(new dev.tandem.runtime.sync.FullSyncCheckpoint(vertx, id,
        "ACCOUNT-CUSTOMER", Direction.FROM_CRM, null), OffsetDateTime.now()));
    assertEquals(150, o.inserted(), o.toString());
    assertEquals(0, o.failed(), o.toString());
    assertEquals(150, Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/counts")).get("Customer"));
    assertEquals("150", db.queryString("SELECT count(DISTINCT crm_id) FROM coupling WHERE mapping = "
        + "'ACCOUNT-CUSTOMER' AND erp_id IS NOT NULL"));
    // Every account carries the number of its own customer.
    List<Map<String, Object>> accounts = Json.objects(Json.object(get(crmSim.get().baseUrl()
        + "/__admin/sim/rows/accounts?top=1000")).get("rows"));
    for (Map<String, Object> a : accounts) {
      assertEquals(db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + a.get("accountid") + "'"),
          a.get("accountnumber"), a.toString());
    }
  }

  @Test
  void anIncrementalRunReadsEveryNewAccountWhileItsWriteBackMovesThem() throws Exception {
    // The same movement in an incremental run (no full synchronization first): a skipped row would lie below the
    // watermark of the later pages and never be read again. Pages of 10, so that most pages are read after the
    // write-back of pages before them (a run reads only a few pages ahead).
    DataverseClient small = new DataverseClient(vertx, new DataverseSettings(crmSim.get().apiUrl(),
        crmSim.get().tokenUrl(), "tandem-sync", "tandem-secret", null, 10, 52, 8, 3, 1000, 10_000),
        EndpointMetrics.NONE);
    RecordMapper mapper = new RecordMapper(NUMBERED_ACCOUNTS, Set.of(), n -> null);
    JobOutcome first = on(() -> new FromCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, small, NUMBERED_ACCOUNTS),
            mapper, ++job, 2, MappingSettings.ConflictPolicy.NONE).run(OffsetDateTime.now()));
    assertEquals(150, first.inserted(), first.toString());
    assertEquals(150, Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/counts")).get("Customer"));
    JobOutcome second = on(() -> new FromCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, small, NUMBERED_ACCOUNTS),
            mapper, ++job, 2, MappingSettings.ConflictPolicy.NONE).run(OffsetDateTime.now()));
    assertEquals(0, second.inserted() + second.modified(), second.toString());
    assertEquals(150, Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/counts")).get("Customer"));
  }
}
