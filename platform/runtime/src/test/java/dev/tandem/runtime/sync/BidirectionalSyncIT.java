package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Both directions in one job, with the conflict policies, against both simulators. */
class BidirectionalSyncIT {

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

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;
  private ODataErpClient erp;
  private DataverseClient crm;
  private long job;
  private String personToken;

  @BeforeEach
  void setUp() throws Exception {
    post(erpSim.get().baseUrl() + "/__admin/sim/reset", "", null, null);
    post(crmSim.get().baseUrl() + "/__admin/sim/reset", "", null, null);
    post(erpSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":4,\"counts\":{\"Customer\":30}}", null, null);
    post(crmSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":4,\"counts\":{\"systemusers\":1}}", null, null);
    String person = (String) Json.objects(Json.object(get(crmSim.get().baseUrl() + "/__admin/sim/rows/systemusers"))
        .get("rows")).stream().filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).findFirst().orElseThrow()
        .get("systemuserid");
    post(crmSim.get().baseUrl() + "/__admin/sim/clients", "{\"clientId\":\"person\",\"clientSecret\":\"pw\","
        + "\"userId\":\"" + person + "\"}", "application/json", null);
    personToken = (String) Json.object(post(crmSim.get().tokenUrl(), "grant_type=client_credentials&client_id=person"
        + "&client_secret=pw&scope=" + java.net.URLEncoder.encode(crmSim.get().scope(), java.nio.charset.StandardCharsets.UTF_8),
        "application/x-www-form-urlencoded", null).body()).get("access_token");
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
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

  private static String get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static HttpResponse<String> post(String url, String body, String type, String auth) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** One bidirectional job, as the generic engine runs it: ERP to CRM, then CRM to ERP. */
  private JobOutcome run(ConflictPolicy policy) throws Exception {
    long id = ++job;
    RecordMapper mapper = new RecordMapper(CUSTOMER, Set.of(), n -> null);
    PgCouplingStore couplings = new PgCouplingStore(pool);
    PgWatermarkStore watermarks = new PgWatermarkStore();
    OffsetDateTime start = OffsetDateTime.now();
    FromCrmSync fromCrm = new FromCrmSync(new SyncIo(pool, couplings, watermarks, erp, crm, CUSTOMER),
            mapper, id, 2, policy);
    // As GenericSyncVerticle: records merged by the CRM-to-ERP run then send the ERP's changes to the CRM.
    return on(() -> new ToCrmSync(new SyncIo(pool, couplings, watermarks, erp, crm, CUSTOMER),
            mapper, id, 2, policy).run(start)
        .compose(a -> fromCrm.run(start).compose(b -> fromCrm.merged().isEmpty() ? Future.succeededFuture(b)
            : new ToCrmSync(new SyncIo(pool, couplings, watermarks, erp, crm, CUSTOMER), mapper, id, 2, policy)
                .runSelected(fromCrm.merged(), start).map(b::plus)).map(a::plus)));
  }

  private void editErp(String no, String city) throws Exception {
    String auth = "Basic " + Base64.getEncoder().encodeToString((erpSim.get().options().user() + ":"
        + erpSim.get().options().accessKey()).getBytes());
    String url = erpSim.get().companyUrl() + "/Customer('" + no + "')";
    Map<String, Object> row = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .build(), HttpResponse.BodyHandlers.ofString()).body());
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .header("If-Match", (String) row.get("@odata.etag")).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"City\":\"" + city + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  private void editCrm(String accountId, String city) throws Exception {
    editCrmColumn(accountId, "address1_city", city);
  }

  private void editCrmColumn(String accountId, String column, String value) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(crmSim.get().apiUrl() + "/accounts("
        + accountId + ")")).header("Authorization", "Bearer " + personToken).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"" + column + "\":\"" + value + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(204, r.statusCode(), r.body());
  }

  private String erpCity(String no) throws Exception {
    return erpValue(no, "City");
  }

  private String erpValue(String no, String field) throws Exception {
    return (String) Json.objects(Json.object(get(erpSim.get().baseUrl() + "/__admin/sim/rows/Customer?top=100"))
        .get("rows")).stream().filter(c -> no.equals(c.get("No"))).findFirst().orElseThrow().get(field);
  }

  private String crmCity(String id) throws Exception {
    return crmValue(id, "address1_city");
  }

  private String crmValue(String id, String column) throws Exception {
    return (String) Json.objects(Json.object(get(crmSim.get().baseUrl() + "/__admin/sim/rows/accounts?top=100"))
        .get("rows")).stream().filter(a -> id.equals(a.get("accountid"))).findFirst().orElseThrow()
        .get(column);
  }

  /**
   * Business logic in the organization (a plug-in or workflow) that writes a column after every write, as SYSTEM:
   * the rows Tandem wrote come back as changed by someone else (the echo filter on the modifier lets them through),
   * and the run must find nothing to send to the ERP and not ping-pong. When the logic writes a mapped column, the
   * ERP takes it once and both sides settle.
   */
  @Test
  void businessLogicTouchingTandemsWritesSettlesWithoutPingPong() throws Exception {
    assertEquals(30, run(ConflictPolicy.NONE).inserted());
    post(crmSim.get().baseUrl() + "/__admin/sim/server-logic", "{\"entitySet\":\"accounts\",\"mode\":\"async\","
        + "\"set\":{\"description\":\"Checked by the credit plug-in\"}}", "application/json", null);
    String no = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    String id = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + no + "'");
    editErp(no, "Sligo");
    String erpStamp = erpValue(no, "SystemModifiedAt");
    JobOutcome toCrm = run(ConflictPolicy.NONE);
    assertEquals(1, toCrm.modified(), toCrm.toString());
    assertEquals("Checked by the credit plug-in", crmValue(id, "description"), "the plug-in ran after Tandem's write");
    JobOutcome after = run(ConflictPolicy.NONE);
    assertEquals(0, after.inserted() + after.modified() + after.failed(), "an unmapped column: nothing to do " + after);
    assertEquals(erpStamp, erpValue(no, "SystemModifiedAt"), "the ERP customer was not written");

    // Logic that rewrites a mapped column (the city in upper case, say): the ERP takes it once, then quiet.
    post(crmSim.get().baseUrl() + "/__admin/sim/server-logic", "{\"entitySet\":\"accounts\",\"mode\":\"async\","
        + "\"set\":{\"address1_city\":\"SLIGO\"}}", "application/json", null);
    editErp(no, "Sligo Town");
    run(ConflictPolicy.NONE);
    run(ConflictPolicy.NONE);
    assertEquals("SLIGO", crmCity(id));
    assertEquals("SLIGO", erpCity(no), "the CRM's business logic wins the field on the ERP side too");
    JobOutcome settled = run(ConflictPolicy.NONE);
    assertEquals(0, settled.inserted() + settled.modified() + settled.failed(), "settled: " + settled);
  }

  @Test
  void ownWritesNeverComeBackAndConflictsFollowThePolicy() throws Exception {
    JobOutcome first = run(ConflictPolicy.NONE);
    assertEquals(30, first.inserted(), first.toString());
    JobOutcome second = run(ConflictPolicy.NONE);
    assertEquals(0, second.inserted() + second.modified(), "no ping-pong: " + second);

    String no = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    String id = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + no + "'");
    // A CRM-only edit flows to the ERP.
    editCrm(id, "Cork");
    JobOutcome crmEdit = run(ConflictPolicy.NONE);
    assertEquals(1, crmEdit.modified(), crmEdit.toString());
    assertEquals("Cork", erpCity(no));
    assertEquals(0, run(ConflictPolicy.NONE).modified(), "and nothing bounces back");

    // Both sides edit the same field: with NONE neither side is overwritten.
    editErp(no, "Galway");
    editCrm(id, "Limerick");
    JobOutcome none = run(ConflictPolicy.NONE);
    assertEquals(2, none.failed(), "the conflict fails the record in both directions: " + none);
    assertEquals("Galway", erpCity(no));
    assertEquals("Limerick", crmCity(id));
    String message = db.queryString("SELECT last_error FROM coupling WHERE erp_id = '" + no + "'");
    assertTrue(message.contains("both changed since the last synchronization and differ in")
        && message.contains("conflict policy NONE"), message);

    editErp(no, "Sligo");
    editCrm(id, "Derry");
    JobOutcome erpWins = run(ConflictPolicy.ERP_WINS);
    assertEquals(0, erpWins.failed(), erpWins.toString());
    assertEquals("Sligo", crmCity(id));
    assertEquals("Sligo", erpCity(no));

    editErp(no, "Ennis");
    editCrm(id, "Tralee");
    JobOutcome crmWins = run(ConflictPolicy.CRM_WINS);
    assertEquals(0, crmWins.failed(), crmWins.toString());
    assertEquals("Tralee", erpCity(no));
    assertEquals("Tralee", crmCity(id));
  }

  @Test
  void mergeTakesBothSidesChangesToDifferentFieldsAndRefusesOverlappingOnes() throws Exception {
    assertEquals(30, run(ConflictPolicy.MERGE).inserted());
    String no = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    String id = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + no + "'");
    assertTrue(db.queryString("SELECT synced::text FROM coupling WHERE erp_id = '" + no + "'").contains("address1_city"),
        "the synchronized values are recorded");

    // The ERP changes the city, the CRM the name: one job takes both, each to the other side.
    editErp(no, "Galway");
    editCrmColumn(id, "name", "Merged Name Ltd");
    JobOutcome merged = run(ConflictPolicy.MERGE);
    assertEquals(0, merged.failed(), merged.toString());
    assertEquals("Galway", erpCity(no));
    assertEquals("Merged Name Ltd", erpValue(no, "Name"));
    assertEquals("Galway", crmCity(id));
    assertEquals("Merged Name Ltd", crmValue(id, "name"));
    JobOutcome after = run(ConflictPolicy.MERGE);
    assertEquals(0, after.inserted() + after.modified() + after.failed(), "settled, no ping-pong: " + after);

    // Both change the city: MERGE cannot choose, so the record fails and neither side is overwritten.
    editErp(no, "Sligo");
    editCrm(id, "Derry");
    JobOutcome overlap = run(ConflictPolicy.MERGE);
    assertTrue(overlap.failed() >= 1, overlap.toString());
    assertEquals("Sligo", erpCity(no));
    assertEquals("Derry", crmCity(id));
    String message = db.queryString("SELECT last_error FROM coupling WHERE erp_id = '" + no + "'");
    assertTrue(message.contains("both changed City") && message.contains("conflict policy MERGE"), message);
  }
}
