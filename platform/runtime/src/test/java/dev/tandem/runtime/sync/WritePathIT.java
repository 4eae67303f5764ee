package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.connectors.ConnectorTestSupport;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.runtime.store.MappingSettings.ConflictPolicy;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The write paths under the faults that duplicate records or lose changes: a lost answer to a processed create,
 * a node killed between a create and its coupling, an edit landing between Tandem's read and write or in the
 * same second as Tandem's write, equal whole-second stamps across pages, and the ERP's assigned number.
 */
class WritePathIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final MappingDefinition CUSTOMER = MappingDefinition.builder("CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.BIDIRECTIONAL)
      .field("Name", "name", Direction.BIDIRECTIONAL)
      .field("City", "address1_city", Direction.BIDIRECTIONAL)
      .field("No", "accountnumber", Direction.TO_CRM)
      .build();
  private static final MappingDefinition ACCOUNTS = MappingDefinition.builder("ACCOUNTS")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.FROM_CRM)
      .field("Name", "name", Direction.FROM_CRM)
      .field("City", "address1_city", Direction.FROM_CRM)
      .build();

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;
  private ODataErpClient erp;
  private DataverseClient crm;
  private long job;
  private String personToken;

  @BeforeEach
  void setUp() throws Exception {
    for (String base : List.of(erpSim.get().baseUrl(), crmSim.get().baseUrl())) {
      send("POST", base + "/__admin/sim/reset", "", null);
      send("DELETE", base + "/__admin/sim/faults", null, null);
    }
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":4,\"counts\":{\"systemusers\":1}}", null);
    String person = (String) rows(crmSim.get().baseUrl(), "systemusers").stream()
        .filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).findFirst().orElseThrow().get("systemuserid");
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/clients", "{\"clientId\":\"person\",\"clientSecret\":\"pw\","
        + "\"userId\":\"" + person + "\"}", null);
    personToken = token("person", "pw");
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    connect();
  }

  /** A node: its Vert.x, pool and clients. */
  private void connect() {
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    ErpSimulator.Options o = erpSim.get().options();
    erp = new ODataErpClient(vertx, ODataErpSettings.of(erpSim.get().serviceRoot(), o.company(), o.user(),
        o.accessKey()), EndpointMetrics.NONE);
    crm = new DataverseClient(vertx, DataverseSettings.of(crmSim.get().apiUrl(), crmSim.get().tokenUrl(),
        "tandem-sync", "tandem-secret", null), EndpointMetrics.NONE);
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
    db.close();
  }

  private <T> T on(Supplier<Future<T>> call) throws Exception {
    return ConnectorTestSupport.on(vertx, call);
  }

  private static HttpResponse<String> send(String method, String url, String body, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", url.endsWith("/token") ? "application/x-www-form-urlencoded" : "application/json");
    }
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String token(String client, String secret) throws Exception {
    return (String) Json.object(send("POST", crmSim.get().tokenUrl(), "grant_type=client_credentials&client_id="
        + client + "&client_secret=" + secret + "&scope="
        + java.net.URLEncoder.encode(crmSim.get().scope(), java.nio.charset.StandardCharsets.UTF_8), null).body())
        .get("access_token");
  }

  private static List<Map<String, Object>> rows(String base, String set) throws Exception {
    return Json.objects(Json.object(send("GET", base + "/__admin/sim/rows/" + set + "?top=20000", null, null).body())
        .get("rows"));
  }

  private static Map<String, Object> row(String base, String set, String keyField, String key) throws Exception {
    return rows(base, set).stream().filter(r -> key.equals(r.get(keyField))).findFirst().orElseThrow();
  }

  private static long fired(String base, int rule) throws Exception {
    List<Map<String, Object>> faults = Json.objects(Json.object(send("GET", base + "/__admin/sim/faults", null, null)
        .body()).get("faults"));
    return ((Number) faults.get(rule).get("fired")).longValue();
  }

  private void accountsInCrm(int n) throws Exception {
    StringBuilder body = new StringBuilder("{\"rows\":[");
    for (int i = 0; i < n; i++) {
      body.append(i == 0 ? "" : ",").append("{\"name\":\"Account ").append(i).append("\",\"address1_city\":\"City ")
          .append(i).append("\"}");
    }
    HttpResponse<String> r = send("POST", crmSim.get().baseUrl() + "/__admin/sim/rows/accounts",
        body.append("]}").toString(), null);
    assertEquals(200, r.statusCode(), r.body());
  }

  private PgCouplingStore couplings() {
    return new PgCouplingStore(pool);
  }

  private ToCrmSync toCrm(MappingDefinition def, ConflictPolicy policy, long id) {
    return new ToCrmSync(new SyncIo(pool, couplings(), new PgWatermarkStore(), erp, crm, def),
            new RecordMapper(def, Set.of(),
        n -> null), id, 2, policy);
  }

  private FromCrmSync fromCrm(MappingDefinition def, ConflictPolicy policy, long id) {
    return new FromCrmSync(new SyncIo(pool, couplings(), new PgWatermarkStore(), erp, crm, def),
            new RecordMapper(def, Set.of(),
        n -> null), id, 2, policy);
  }

  /** One bidirectional job, as the generic engine runs it: ERP to CRM, then CRM to ERP. */
  private JobOutcome job(ConflictPolicy policy) throws Exception {
    long id = ++job;
    OffsetDateTime start = OffsetDateTime.now();
    return on(() -> toCrm(CUSTOMER, policy, id).run(start)
        .compose(a -> fromCrm(CUSTOMER, policy, id).run(start).map(a::plus)));
  }

  private void assertOneToOne(int n) throws Exception {
    assertEquals(n, rows(erpSim.get().baseUrl(), "Customer").size(), "ERP customers");
    assertEquals(n, rows(crmSim.get().baseUrl(), "accounts").size(), "CRM accounts");
    assertEquals(n, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id IS NOT NULL AND crm_id IS NOT NULL"));
    assertEquals(n, db.queryLong("SELECT count(DISTINCT erp_id) FROM coupling"));
    assertEquals(0, db.queryLong("SELECT count(*) FROM pending_create"), "every intent settled");
  }

  // ---- 1. creates whose answer is lost ------------------------------------------------------------------------

  @Test
  void aLostAnswerToAProcessedErpBatchLeavesOneCustomerPerAccountCoupled() throws Exception {
    accountsInCrm(20);
    // The ERP processes the $batch of creates, then the connection closes without an answer.
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"DROP_RESPONSE\",\"nth\":1}", null);
    assertThrows(Exception.class, () -> job(ConflictPolicy.NONE), "the outcome is unknown: the job fails retriable");
    assertEquals(20, rows(erpSim.get().baseUrl(), "Customer").size(), "created once, not repeated blindly");
    assertEquals(20, db.queryLong("SELECT count(*) FROM pending_create WHERE direction = 'FROM_CRM'"));

    JobOutcome retried = job(ConflictPolicy.NONE);
    assertEquals(20, retried.coupled(), retried.toString());
    assertOneToOne(20);
    JobOutcome after = job(ConflictPolicy.NONE);
    assertEquals(0, after.inserted() + after.modified() + after.failed(), "settled: " + after);
    assertOneToOne(20);
  }

  @Test
  void aNodeKilledBetweenTheCreateAndTheCouplingCouplesWhatWasCreated() throws Exception {
    accountsInCrm(12);
    // The ERP is slow to answer the creates; the node dies while it works on them.
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"LATENCY\",\"latencyMs\":1500,\"nth\":1}", null);
    long id = ++job;
    OffsetDateTime start = OffsetDateTime.now();
    vertx.runOnContext(v -> fromCrm(CUSTOMER, ConflictPolicy.NONE, id).run(start));
    long until = System.currentTimeMillis() + 20_000;
    while (fired(erpSim.get().baseUrl(), 0) < 1 && System.currentTimeMillis() < until) {
      Thread.sleep(20);
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    while (rows(erpSim.get().baseUrl(), "Customer").size() < 12 && System.currentTimeMillis() < until) {
      Thread.sleep(50);
    }
    assertEquals(12, rows(erpSim.get().baseUrl(), "Customer").size(), "the ERP did the work");
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling"), "no coupling was written");

    connect(); // another node
    JobOutcome resumed = job(ConflictPolicy.NONE);
    assertEquals(12, resumed.coupled(), resumed.toString());
    assertOneToOne(12);
  }

  @Test
  void aLostAnswerToACrmBatchOfCreatesLeavesOneAccountPerCustomer() throws Exception {
    // Tandem creates CRM records only by upsert (an id derived from the ERP key): repeating one cannot duplicate.
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":6,\"counts\":{\"Customer\":15}}", null);
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"DROP_RESPONSE\",\"nth\":1}", null);
    JobOutcome first = job(ConflictPolicy.NONE);
    assertEquals(1L, fired(crmSim.get().baseUrl(), 0), "the first CRM batch lost its answer");
    assertEquals(15, first.inserted(), first.toString());
    assertOneToOne(15);
    JobOutcome after = job(ConflictPolicy.NONE);
    assertEquals(0, after.inserted() + after.modified() + after.failed(), "settled: " + after);
  }

  // ---- 2. CRM writes with the version read ------------------------------------------------------------------

  @Test
  void aPersonsEditBetweenTandemsReadAndWriteIsNotOverwritten() throws Exception {
    accountsInCrm(5);
    job(ConflictPolicy.NONE);
    String no = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    String id = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + no + "'");
    editErp(no, "Galway");
    // The CRM write is held long enough for a person to change the same record after Tandem read it.
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"LATENCY\",\"latencyMs\":1500,\"nth\":1}", null);
    long jobId = ++job;
    OffsetDateTime start = OffsetDateTime.now();
    CompletableFuture<JobOutcome> run = CompletableFuture.supplyAsync(() -> {
      try {
        return on(() -> toCrm(CUSTOMER, ConflictPolicy.NONE, jobId).run(start));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long until = System.currentTimeMillis() + 20_000;
    while (fired(crmSim.get().baseUrl(), 0) < 1 && System.currentTimeMillis() < until) {
      Thread.sleep(10);
    }
    editCrm(id, "address1_city", "Limerick", personToken);
    JobOutcome out = run.get(60, TimeUnit.SECONDS);
    assertEquals("Limerick", row(crmSim.get().baseUrl(), "accounts", "accountid", id).get("address1_city"),
        "the person's edit stands: " + out);
    assertEquals(1, out.failed(), "a conflict under policy NONE: " + out);
    String message = db.queryString("SELECT last_error FROM coupling WHERE erp_id = '" + no + "'");
    assertTrue(message.contains("conflict policy NONE"), message);
  }

  @Test
  void anEditByTheIntegrationAccountRightAfterTandemsWriteIsSynchronized() throws Exception {
    accountsInCrm(5);
    job(ConflictPolicy.NONE);
    String no = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    String id = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + no + "'");
    editErp(no, "Galway");
    long jobId = ++job;
    on(() -> toCrm(CUSTOMER, ConflictPolicy.NONE, jobId).run(OffsetDateTime.now()));
    assertEquals("Galway", row(crmSim.get().baseUrl(), "accounts", "accountid", id).get("address1_city"));
    // Someone (a script, an admin) works under Tandem's own application user.
    editCrm(id, "name", "Renamed By Script", token("tandem-sync", "tandem-secret"));
    JobOutcome next = job(ConflictPolicy.NONE);
    assertEquals("Renamed By Script", row(erpSim.get().baseUrl(), "Customer", "No", no).get("Name"), next.toString());
  }

  @Test
  void aPersonsEditInTheSameSecondAsTandemsWriteIsSynchronized() throws Exception {
    accountsInCrm(5);
    job(ConflictPolicy.NONE);
    String no = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    String id = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + no + "'");
    boolean sameSecond = false;
    for (int attempt = 0; attempt < 5 && !sameSecond; attempt++) {
      editErp(no, "Galway " + attempt);
      long jobId = ++job;
      on(() -> toCrm(CUSTOMER, ConflictPolicy.NONE, jobId).run(OffsetDateTime.now()));
      String written = (String) row(crmSim.get().baseUrl(), "accounts", "accountid", id).get("modifiedon");
      editCrm(id, "name", "Edited Same Second " + attempt, personToken);
      sameSecond = written.equals(row(crmSim.get().baseUrl(), "accounts", "accountid", id).get("modifiedon"));
      if (sameSecond) {
        JobOutcome next = job(ConflictPolicy.NONE);
        assertEquals("Edited Same Second " + attempt, row(erpSim.get().baseUrl(), "Customer", "No", no).get("Name"),
            next.toString());
      } else {
        job(ConflictPolicy.NONE);
      }
    }
    assertTrue(sameSecond, "an edit landed in the same second as Tandem's write");
  }

  // ---- 3. whole-second stamps across pages --------------------------------------------------------------------

  @Test
  void twelveThousandAccountsSharingAFewStampsArePagedExactlyOnce() throws Exception {
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":5,\"counts\":{\"accounts\":12000}}", null);
    Set<Object> stamps = new HashSet<>();
    rows(crmSim.get().baseUrl(), "accounts").forEach(a -> stamps.add(a.get("modifiedon")));
    assertTrue(stamps.size() < 60, "few distinct stamps: " + stamps.size());
    long id = ++job;
    JobOutcome out = on(() -> fromCrm(ACCOUNTS, ConflictPolicy.NONE, id).run(OffsetDateTime.now()));
    assertEquals(12000, out.inserted(), out.toString());
    assertEquals(12000, rows(erpSim.get().baseUrl(), "Customer").size());
    assertEquals(12000, db.queryLong("SELECT count(DISTINCT crm_id) FROM coupling WHERE mapping = 'ACCOUNTS'"));
  }

  // ---- 4. what the ERP assigns goes back in the same job ------------------------------------------------------

  @Test
  void anAccountCreatedInTheCrmGetsItsErpNumberInTheSameJob() throws Exception {
    HttpResponse<String> created = send("POST", crmSim.get().apiUrl() + "/accounts",
        "{\"name\":\"Brand New Ltd\",\"address1_city\":\"Cork\"}", personToken);
    assertEquals(204, created.statusCode(), created.body());
    String location = created.headers().firstValue("OData-EntityId").orElseThrow();
    String id = location.substring(location.lastIndexOf('(') + 1, location.length() - 1);
    JobOutcome first = job(ConflictPolicy.NONE);
    assertEquals(1, first.inserted(), first.toString());
    String no = db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + id + "'");
    assertNotNull(no);
    assertEquals(no, row(crmSim.get().baseUrl(), "accounts", "accountid", id).get("accountnumber"));
    JobOutcome second = job(ConflictPolicy.NONE);
    assertEquals(0, second.inserted() + second.modified() + second.failed(), "nothing left to do: " + second);
    List<String> numbers = new ArrayList<>();
    rows(crmSim.get().baseUrl(), "accounts").forEach(a -> numbers.add((String) a.get("accountnumber")));
    assertEquals(List.of(no), numbers);
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  private void editErp(String no, String city) throws Exception {
    String auth = "Basic " + Base64.getEncoder().encodeToString((erpSim.get().options().user() + ":"
        + erpSim.get().options().accessKey()).getBytes());
    String url = erpSim.get().companyUrl() + "/Customer('" + no + "')";
    Map<String, Object> current = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(url))
        .header("Authorization", auth).build(), HttpResponse.BodyHandlers.ofString()).body());
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .header("If-Match", (String) current.get("@odata.etag")).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"City\":\"" + city + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  private static void editCrm(String id, String column, String value, String bearer) throws Exception {
    HttpResponse<String> r = send("PATCH", crmSim.get().apiUrl() + "/accounts(" + id + ")",
        "{\"" + column + "\":\"" + value + "\"}", bearer);
    assertEquals(204, r.statusCode(), r.body());
  }
}
