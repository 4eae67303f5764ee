package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.runtime.store.MappingSettings.ConflictPolicy;
import dev.tandem.runtime.store.MappingSettings.DeletionPolicy;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A coupled record deleted on either side, under each deletion policy. */
class DeletionSyncIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final MappingDefinition CUSTOMER = MappingDefinition.builder("CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.BIDIRECTIONAL)
      .field("Name", "name", Direction.BIDIRECTIONAL)
      .field("City", "address1_city", Direction.BIDIRECTIONAL)
      .build();

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;
  private ODataErpClient erp;
  private DataverseClient crm;
  private long job;
  private String erpGone;
  private String crmGone;
  private String crmGoneErpKey;
  private String erpGoneCrmId;
  private MappingSettings limits = MappingSettings.NONE;

  @BeforeEach
  void setUp() throws Exception {
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":6,\"counts\":{\"Customer\":10}}", null);
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    ErpSimulator.Options o = erpSim.get().options();
    erp = new ODataErpClient(vertx, ODataErpSettings.of(erpSim.get().serviceRoot(), o.company(), o.user(),
        o.accessKey()), EndpointMetrics.NONE);
    crm = new DataverseClient(vertx, DataverseSettings.of(crmSim.get().apiUrl(), crmSim.get().tokenUrl(),
        "tandem-sync", "tandem-secret", null), EndpointMetrics.NONE);
    JobOutcome first = run(DeletionPolicy.NONE);
    assertEquals(10, first.inserted(), first.toString());
    // One record deleted on each side.
    erpGone = db.queryString("SELECT erp_id FROM coupling ORDER BY erp_id LIMIT 1");
    erpGoneCrmId = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + erpGone + "'");
    crmGone = db.queryString("SELECT crm_id FROM coupling ORDER BY erp_id DESC LIMIT 1");
    crmGoneErpKey = db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + crmGone + "'");
    String basic = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes());
    assertEquals(204, send("DELETE", erpSim.get().companyUrl() + "/Customer('" + erpGone + "')", null,
        new String[] {"Authorization", basic, "If-Match", "*"}).statusCode());
    String token = (String) Json.object(send("POST", crmSim.get().tokenUrl(), "grant_type=client_credentials"
        + "&client_id=tandem-sync&client_secret=tandem-secret&scope="
        + java.net.URLEncoder.encode(crmSim.get().scope(), java.nio.charset.StandardCharsets.UTF_8),
        new String[] {"Content-Type", "application/x-www-form-urlencoded"}).body()).get("access_token");
    assertEquals(204, send("DELETE", crmSim.get().apiUrl() + "/accounts(" + crmGone + ")", null,
        new String[] {"Authorization", "Bearer " + token}).statusCode());
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
    db.close();
  }

  private static HttpResponse<String> send(String method, String url, String body, String[] headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; headers != null && i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private <T> T on(Supplier<Future<T>> call) throws Exception {
    return ConnectorTestSupport.on(vertx, call);
  }

  /** A job as the generic engine runs it: deletions, then ERP to CRM, then CRM to ERP. */
  private JobOutcome run(DeletionPolicy deletions) throws Exception {
    return run(deletions, false);
  }

  private JobOutcome run(DeletionPolicy deletions, boolean onlyCoupled) throws Exception {
    return run(deletions, onlyCoupled, 0);
  }

  private JobOutcome run(DeletionPolicy deletions, boolean onlyCoupled, long erpScanEveryMs) throws Exception {
    long id = ++job;
    RecordMapper mapper = new RecordMapper(CUSTOMER, Set.of(), n -> null);
    PgCouplingStore couplings = new PgCouplingStore(pool);
    PgWatermarkStore watermarks = new PgWatermarkStore();
    OffsetDateTime start = OffsetDateTime.now();
    return on(() -> new DeletionSync(new SyncIo(pool, couplings, watermarks, erp, crm, CUSTOMER),
            deletions, id, erpScanEveryMs)
        .limits(limits).run()
        .compose(d -> {
          ToCrmSync to = new ToCrmSync(new SyncIo(pool, couplings, watermarks, erp, crm, CUSTOMER), mapper, id, 2,
              ConflictPolicy.NONE);
          to.onlyCoupled(onlyCoupled);
          return to.run(start).map(d::plus);
        })
        .compose(a -> {
          FromCrmSync from = new FromCrmSync(new SyncIo(pool, couplings, watermarks, erp, crm, CUSTOMER), mapper, id, 2,
              ConflictPolicy.NONE);
          from.onlyCoupled(onlyCoupled);
          return from.run(start).map(a::plus);
        }));
  }

  private int count(String base, String set) throws Exception {
    return ((Number) Json.object(send("GET", base + "/__admin/sim/counts", null, null).body()).get(set)).intValue();
  }

  private List<Map<String, Object>> rows(String base, String set) throws Exception {
    return Json.objects(Json.object(send("GET", base + "/__admin/sim/rows/" + set + "?top=100", null, null).body())
        .get("rows"));
  }

  @Test
  void noneLeavesBothSidesAndLogsEachDeletionOnce() throws Exception {
    JobOutcome r = run(DeletionPolicy.NONE);
    assertEquals(2, r.failed(), r.toString());
    assertEquals(9, count(erpSim.get().baseUrl(), "Customer"));
    assertEquals(9, count(crmSim.get().baseUrl(), "accounts"));
    assertEquals(2, db.queryLong("SELECT count(*) FROM record_error WHERE message LIKE '%was deleted; deletion policy NONE%'"));
    JobOutcome again = run(DeletionPolicy.NONE);
    assertEquals(2, db.queryLong("SELECT count(*) FROM record_error WHERE message LIKE '%was deleted%'"),
        "CRM deletions come once through change tracking; the ERP one is logged once");
    // The ERP check reads the deletion's key range again (the rolling re-read) and finds it again: noted already,
    // it is not this run's failure. Counting it every time would trip the error tolerance on old news.
    assertEquals(0, again.failed(), again.toString());
  }

  @Test
  void removeCouplingUncouplesBothAndOnlyCoupledRecordsLeavesThemAlone() throws Exception {
    JobOutcome r = run(DeletionPolicy.REMOVE_COUPLING, true);
    assertEquals(2, r.uncoupled(), r.toString());
    assertEquals(8, db.queryLong("SELECT count(*) FROM coupling"));
    assertEquals(9, count(crmSim.get().baseUrl(), "accounts"));
    assertEquals(9, count(erpSim.get().baseUrl(), "Customer"));
    // Without "synchronize only coupled records", the uncoupled ERP customer is a new record for the CRM; the
    // uncoupled CRM account is not one for the ERP: Tandem itself created it, and its own writes never come back.
    JobOutcome all = run(DeletionPolicy.REMOVE_COUPLING, false);
    assertEquals(1, all.inserted(), all.toString());
    assertEquals(9, db.queryLong("SELECT count(*) FROM coupling"));
  }

  @Test
  void deleteCounterpartDeletesTheOtherSide() throws Exception {
    JobOutcome r = run(DeletionPolicy.DELETE_COUNTERPART);
    assertEquals(2, r.deleted(), r.toString());
    assertEquals(2, r.uncoupled());
    assertEquals(8, count(erpSim.get().baseUrl(), "Customer"));
    assertEquals(8, count(crmSim.get().baseUrl(), "accounts"));
    assertTrue(rows(crmSim.get().baseUrl(), "accounts").stream().noneMatch(a -> erpGoneCrmId.equals(a.get("accountid"))));
    assertTrue(rows(erpSim.get().baseUrl(), "Customer").stream().noneMatch(c -> crmGoneErpKey.equals(c.get("No"))));
  }

  @Test
  void restoreCreatesTheDeletedRecordsAgainInTheSameJob() throws Exception {
    JobOutcome r = run(DeletionPolicy.RESTORE);
    assertEquals(2, r.inserted(), r.toString());
    assertEquals(10, count(erpSim.get().baseUrl(), "Customer"));
    assertEquals(10, count(crmSim.get().baseUrl(), "accounts"));
    assertTrue(rows(crmSim.get().baseUrl(), "accounts").stream().anyMatch(a -> crmGone.equals(a.get("accountid"))),
        "the CRM record comes back with its id");
    assertEquals(10, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id IS NOT NULL AND crm_id IS NOT NULL"));
    JobOutcome again = run(DeletionPolicy.RESTORE);
    assertEquals(0, again.inserted() + again.modified() + again.failed(), again.toString());
  }

  @Test
  void theErpKeyScanRunsOncePerIntervalAndCatchesUpAfterIt() throws Exception {
    // setUp's run scanned the ERP's keys moments ago: within the interval only the CRM deletion is seen.
    JobOutcome within = run(DeletionPolicy.REMOVE_COUPLING, true, 60_000);
    assertEquals(1, within.uncoupled(), "the CRM deletion, through change tracking: " + within);
    assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id = '" + erpGone + "'"),
        "the ERP deletion waits for the next key scan");
    db.exec("UPDATE watermark SET keys_scanned_at = now() - interval '2 minutes' WHERE mapping = 'CUSTOMER'");
    JobOutcome after = run(DeletionPolicy.REMOVE_COUPLING, true, 60_000);
    assertEquals(1, after.uncoupled(), "the interval passed: the ERP deletion " + after);
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id = '" + erpGone + "'"));
  }

  @Test
  void keyHashesFindWhatWasAddedAndNothingElse() {
    DeletionSync.KeyHashes h = new DeletionSync.KeyHashes();
    for (int i = 0; i < 5000; i++) {
      h.add("C" + i);
    }
    h.seal();
    for (int i = 0; i < 5000; i++) {
      assertTrue(h.contains("C" + i));
    }
    assertFalse(h.contains("C5000"));
    assertFalse(h.contains("c1"));
  }

  private String crmToken() throws Exception {
    return (String) Json.object(send("POST", crmSim.get().tokenUrl(), "grant_type=client_credentials"
        + "&client_id=tandem-sync&client_secret=tandem-secret&scope="
        + java.net.URLEncoder.encode(crmSim.get().scope(), java.nio.charset.StandardCharsets.UTF_8),
        new String[] {"Content-Type", "application/x-www-form-urlencoded"}).body()).get("access_token");
  }

  private void deleteAccount(String id) throws Exception {
    assertEquals(204, send("DELETE", crmSim.get().apiUrl() + "/accounts(" + id + ")", null,
        new String[] {"Authorization", "Bearer " + crmToken()}).statusCode());
  }

  private Throwable failure(DeletionPolicy policy) {
    try {
      run(policy);
    } catch (Exception e) {
      return e.getCause() != null ? e.getCause() : e;
    }
    throw new AssertionError("the run should have failed");
  }

  @Test
  void aCrmDeletionLoggedUnderNoneIsActedOnOnceThePolicyChanges() throws Exception {
    JobOutcome none = run(DeletionPolicy.NONE);
    assertEquals(2, none.failed(), none.toString());
    long coupling = db.queryLong("SELECT id FROM coupling WHERE crm_id = '" + crmGone + "'");
    // A retry of the logged deletion counts it (it was {"retried":0}) and changes nothing under NONE.
    assertEquals(1, on(() -> new PgCouplingStore(pool).retry("CUSTOMER", List.of(coupling))));
    run(DeletionPolicy.NONE);
    assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE crm_id = '" + crmGone + "'"));
    // Change tracking reported the CRM deletion once, long ago; the policy that now applies still acts on it.
    // (Only coupled records: the ERP customer left uncoupled would otherwise be created in the CRM again.)
    JobOutcome removed = run(DeletionPolicy.REMOVE_COUPLING, true);
    assertEquals(2, removed.uncoupled(), "the CRM and the ERP deletion: " + removed);
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling WHERE crm_id = '" + crmGone + "'"),
        "the CRM deletion logged under NONE is acted on");
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id = '" + erpGone + "'"));
  }

  @Test
  void aCrmDeletionLoggedUnderNoneDeletesItsCounterpartUnderDeleteCounterpart() throws Exception {
    run(DeletionPolicy.NONE);
    JobOutcome deleted = run(DeletionPolicy.DELETE_COUNTERPART);
    assertEquals(2, deleted.deleted(), deleted.toString());
    assertTrue(rows(erpSim.get().baseUrl(), "Customer").stream().noneMatch(c -> crmGoneErpKey.equals(c.get("No"))),
        "the ERP counterpart of the CRM account deleted under NONE is deleted now");
    assertEquals(8, count(erpSim.get().baseUrl(), "Customer"));
  }

  @Test
  void anExpiredDeltaTokenStartsTrackingOverAndFindsTheDeletionsByKey() throws Exception {
    assertEquals(204, send("POST", crmSim.get().baseUrl() + "/__admin/sim/change-tracking/expire", "", null)
        .statusCode());
    JobOutcome r = run(DeletionPolicy.REMOVE_COUPLING, true);
    assertEquals(2, r.uncoupled(), "both deletions, the CRM one by key comparison: " + r);
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling WHERE crm_id = '" + crmGone + "'"));
    String link = db.queryString("SELECT delta_link FROM watermark WHERE mapping = 'CUSTOMER' AND side = 'CRM'");
    assertTrue(link != null && link.contains("$deltatoken="), "a new delta link: " + link);
    // Tracking goes on from the new link in both directions' jobs.
    deleteAccount(db.queryString("SELECT crm_id FROM coupling ORDER BY erp_id LIMIT 1"));
    JobOutcome next = run(DeletionPolicy.REMOVE_COUPLING, true);
    assertEquals(1, next.uncoupled(), next.toString());
    assertEquals(7, db.queryLong("SELECT count(*) FROM coupling"));
  }

  @Test
  void theDeltaLinkIsStoredOnlyAfterItsDeletionsWereApplied() throws Exception {
    String before = db.queryString("SELECT delta_link FROM watermark WHERE mapping = 'CUSTOMER' AND side = 'CRM'");
    // The ERP is down while the CRM deletion's counterpart is deleted: the run fails in between.
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"STATUS\",\"status\":503,\"rate\":1.0}", null);
    try {
      failure(DeletionPolicy.DELETE_COUNTERPART);
    } finally {
      send("DELETE", erpSim.get().baseUrl() + "/__admin/sim/faults", null, null);
    }
    assertEquals(before, db.queryString("SELECT delta_link FROM watermark WHERE mapping = 'CUSTOMER' AND side = 'CRM'"),
        "the link that reported the deletion is kept");
    assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE crm_id = '" + crmGone + "'"));
    JobOutcome again = run(DeletionPolicy.DELETE_COUNTERPART);
    assertEquals(2, again.deleted(), again.toString());
    assertTrue(rows(erpSim.get().baseUrl(), "Customer").stream().noneMatch(c -> crmGoneErpKey.equals(c.get("No"))),
        "the deletion reported before the failure is applied");
  }

  @Test
  void aMassDeletionHoldsTheMappingUntilReleased() throws Exception {
    limits = new MappingSettings(null, null, null, Set.of(), null, null, null, null, null, null, 0.5, 3);
    List<String> ids = db.queryStrings("SELECT crm_id FROM coupling WHERE crm_id <> '" + crmGone + "' AND erp_id <> '"
        + erpGone + "' ORDER BY erp_id LIMIT 5");
    for (String id : ids) {
      deleteAccount(id);
    }
    Throwable held = failure(DeletionPolicy.DELETE_COUNTERPART);
    assertTrue(held.getMessage().contains("mass deletion held: 6 of mapping CUSTOMER's 10 couplings"),
        held.getMessage());
    assertEquals(9, count(erpSim.get().baseUrl(), "Customer"), "nothing deleted in the ERP");
    assertEquals(10, db.queryLong("SELECT count(*) FROM coupling"), "nothing uncoupled");
    assertTrue(db.queryString("SELECT deletions_held FROM watermark WHERE mapping = 'CUSTOMER' AND side = 'CRM'")
        .contains("POST /api/v1/mappings/CUSTOMER/deletions/release"));
    // Still held on the next run: the deletions are found again.
    failure(DeletionPolicy.DELETE_COUNTERPART);
    assertEquals(1, on(() -> new PgWatermarkStore().releaseDeletions(pool, "CUSTOMER", 100)));
    JobOutcome released = run(DeletionPolicy.DELETE_COUNTERPART);
    assertEquals(7, released.deleted(), "six CRM deletions and the ERP one: " + released);
    assertEquals(3, count(erpSim.get().baseUrl(), "Customer"));
    assertEquals(null, db.queryString("SELECT deletions_held FROM watermark WHERE mapping = 'CUSTOMER' AND side = 'CRM'"));
  }

  @Test
  void aCounterpartDeleteThatFailsKeepsItsCouplingAndIsTriedAgain() throws Exception {
    // The ERP refuses the deletion of the CRM-deleted account's counterpart (a record it will not delete).
    send("POST", erpSim.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/\\\\$batch\","
        + "\"method\":\"POST\",\"kind\":\"STATUS\",\"status\":400,\"rate\":1.0}", null);
    JobOutcome refused;
    try {
      refused = run(DeletionPolicy.DELETE_COUNTERPART);
    } catch (Exception e) {
      refused = null;
    } finally {
      send("DELETE", erpSim.get().baseUrl() + "/__admin/sim/faults", null, null);
    }
    assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE crm_id = '" + crmGone + "'"),
        "the coupling stays while its counterpart is there: " + refused);
    JobOutcome again = run(DeletionPolicy.DELETE_COUNTERPART);
    assertTrue(again.deleted() >= 1, again.toString());
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling WHERE crm_id = '" + crmGone + "'"));
    assertTrue(rows(erpSim.get().baseUrl(), "Customer").stream().noneMatch(c -> crmGoneErpKey.equals(c.get("No"))));
  }
}
