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
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.MappingSettings.ConflictPolicy;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ERP deletion check by key ranges finds exactly the coupled records deleted in the ERP, whatever else moved:
 * 500 coupled customers cut into {@value #RANGES} ranges of 25 (range i holds the i-th 25 keys in key order),
 * checked against the ERP simulator over HTTP with every ERP request the check counts also counted at the
 * simulator. Deletions at the edges of ranges (the first and last key of all, a range's lower bound and the key
 * just below its upper bound, every key of one range) are found by the counts in the next check, without the
 * ranges' coupled counts (the coupled total did not move). Uncoupled records are never reported, deleted or not,
 * and an uncoupling beside a deletion leaves the deletion found. A deletion and a creation in the same range leave
 * every count as it was: the rolling re-read of the range verified longest ago finds it within N = {@value #RANGES}
 * checks (the number of ranges), exactly once. A deletion, a creation and its coupling in one range move the
 * coupled total: found by the next check. The same with an uncoupling elsewhere keeping the coupled total: the
 * rolling re-read again, within N checks.
 */
class ErpKeyRangeExactnessIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final MappingDefinition CUSTOMER = MappingDefinition.builder("CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
      .field("Name", "name", Direction.TO_CRM).build();
  private static final int CUSTOMERS = 500;
  private static final int PER_RANGE = 25;
  private static final int RANGES = CUSTOMERS / PER_RANGE;

  private Vertx vertx;
  private TestDatabase db;
  private Pool pool;
  private ODataErpClient erp;
  private DataverseClient crm;
  private PgCouplingStore couplings;
  /** The coupled ERP keys in key order: range i holds keys [25·i, 25·i + 25). */
  private List<String> keys;

  @BeforeEach
  void setUp() throws Exception {
    String erpAdmin = erpSim.get().baseUrl() + "/__admin/sim";
    send("POST", erpAdmin + "/reset", "", null);
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", erpAdmin + "/seed", "{\"seed\":11,\"counts\":{\"SalespersonPurchaser\":0,\"Customer\":" + CUSTOMERS
        + "}}", null);
    vertx = Vertx.vertx();
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    ErpSimulator.Options o = erpSim.get().options();
    erp = new ODataErpClient(vertx, ODataErpSettings.of(erpSim.get().serviceRoot(), o.company(), o.user(),
        o.accessKey()), EndpointMetrics.NONE);
    crm = new DataverseClient(vertx, DataverseSettings.of(crmSim.get().apiUrl(), crmSim.get().tokenUrl(),
        "tandem-sync", "tandem-secret", null), EndpointMetrics.NONE);
    couplings = new PgCouplingStore(pool);
    assertEquals(CUSTOMERS, load().inserted());
    keys = db.queryStrings("SELECT erp_id FROM coupling ORDER BY erp_id");
    assertEquals(CUSTOMERS, keys.size());

    Check first = check();
    assertTrue(first.gone().isEmpty(), first.toString());
    assertEquals(RANGES, db.queryLong("SELECT count(*) FROM erp_key_range"));
    for (int i = 1; i < RANGES; i++) {
      assertEquals(key(i, 0), db.queryString("SELECT lower_key FROM erp_key_range WHERE range_no = " + i),
          "range " + i + " starts at its 25·i-th key");
    }
    Check quiet = check();
    assertTrue(quiet.gone().isEmpty(), quiet.toString());
    assertEquals(2, quiet.requests(), "nothing moved: the total and the rolling re-read of one range: " + quiet);
  }

  @AfterEach
  void tearDown() throws Exception {
    pool.close();
    db.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  @Test
  void deletionsAtTheEdgesOfRangesAreFoundByTheNextCheck() throws Exception {
    Set<String> deleted = new TreeSet<>();
    deleted.add(key(0, 0));                    // the first key of all (range 0 is open below)
    deleted.add(key(RANGES - 1, PER_RANGE - 1)); // the last key of all (the last range is open above)
    deleted.add(key(5, 0));                    // a range's lower bound itself (inclusive)
    deleted.add(key(10, PER_RANGE - 1));       // the key just below a range's upper bound (exclusive) ...
    deleted.add(key(11, 0));                   // ... and the next range's lower bound: both sides of one boundary
    for (int k = 0; k < PER_RANGE; k++) {
      deleted.add(key(15, k));                 // every key of a range
    }
    for (String k : deleted) {
      deleteErp(k);
    }
    Check c = check();
    assertEquals(List.copyOf(deleted), c.gone(), c.toString());
    assertFalse(c.coupledCounted(), "the coupled total did not move: no range's coupled count was taken " + c);
    assertTrue(c.summary().contains("coupled counts kept"), c.summary());
    assertTrue(c.summary().matches(".* in \\d+ ms \\(totals \\d+ ms, tree \\d+ ms, coupled counts kept .*"
        + "reads \\d+ ms, save \\d+ ms\\)"), "the step times: " + c.summary());
    assertEquals(CUSTOMERS - deleted.size(), db.queryLong("SELECT sum(erp_count) FROM erp_key_range"),
        "the ranges' ERP counts add up to the ERP's count");

    Check again = check();
    assertTrue(deleted.containsAll(again.gone()), "nothing else is ever reported: " + again);
  }

  @Test
  void uncoupledRecordsAreNeverReportedAndAnUncouplingBesideADeletionLeavesItFound() throws Exception {
    String uncoupled = key(3, 7);
    assertEquals(1, (int) ConnectorTestSupport.on(vertx, () -> couplings.uncouple(CUSTOMER.name(),
        List.of(couplingId(uncoupled)))));
    Check afterUncoupling = check();
    assertTrue(afterUncoupling.gone().isEmpty(), afterUncoupling.toString());
    assertTrue(afterUncoupling.coupledCounted(), "the coupled total moved: " + afterUncoupling);
    assertEquals(PER_RANGE - 1, db.queryLong("SELECT coupled_count FROM erp_key_range WHERE range_no = 3"));

    deleteErp(uncoupled);
    Check deletedUncoupled = check();
    assertTrue(deletedUncoupled.gone().isEmpty(), "an uncoupled record's deletion is not reported: "
        + deletedUncoupled);
    assertEquals(PER_RANGE - 1, db.queryLong("SELECT erp_count FROM erp_key_range WHERE range_no = 3"));

    // A deletion found, then its coupling's ERP side cleared (RESTORE's preparation): not reported again.
    String restored = key(4, 3);
    deleteErp(restored);
    Check found = check();
    assertEquals(List.of(restored), found.gone(), found.toString());
    ConnectorTestSupport.on(vertx, () -> couplings.prepareRestore(couplingId(restored), false));
    Check afterRestore = check();
    assertTrue(afterRestore.gone().isEmpty(), afterRestore.toString());
    assertEquals(PER_RANGE - 1, db.queryLong("SELECT coupled_count FROM erp_key_range WHERE range_no = 4"));

    // An uncoupling in one range and a deletion in another, in one interval.
    String gone = key(12, 2);
    assertEquals(1, (int) ConnectorTestSupport.on(vertx, () -> couplings.uncouple(CUSTOMER.name(),
        List.of(couplingId(key(7, 1))))));
    deleteErp(gone);
    Check both = check();
    assertEquals(List.of(gone), both.gone(), both.toString());
  }

  @Test
  void aDeletionAndACreationInOneRangeAreFoundByTheRollingReReadWithinAsManyChecksAsRanges() throws Exception {
    String old = key(9, 12);
    String created = createErpBetween(old, key(9, 13));
    deleteErp(old);
    Check next = check();
    assertTrue(next.requests() <= 3, "every count as it was: the total, a rolling read (and a confirming read "
        + "when it is this range's turn): " + next);
    List<Integer> foundIn = new ArrayList<>();
    List<Check> checks = new ArrayList<>(List.of(next));
    for (int i = 1; i < RANGES; i++) {
      checks.add(check());
    }
    for (int i = 0; i < checks.size(); i++) {
      if (!checks.get(i).gone().isEmpty()) {
        assertEquals(List.of(old), checks.get(i).gone(), checks.get(i).toString());
        foundIn.add(i + 1);
      }
    }
    assertEquals(1, foundIn.size(), "found exactly once within " + RANGES + " checks (the new key " + created
        + " is no deletion): " + foundIn);
  }

  @Test
  void aDeletionACreationAndItsCouplingInOneRangeAreFoundByTheNextCheck() throws Exception {
    String old = key(9, 12);
    String created = createErpBetween(old, key(9, 13));
    deleteErp(old);
    assertEquals(1, load().inserted(), "the new customer goes to the CRM and is coupled");
    assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id = '" + created + "'"));
    Check c = check();
    assertEquals(List.of(old), c.gone(), c.toString());
    assertTrue(c.coupledCounted(), "the coupled total moved: " + c);
  }

  @Test
  void aDeletionACreationAndItsCouplingBesideAnUncouplingAreFoundWithinAsManyChecksAsRanges() throws Exception {
    String old = key(9, 12);
    createErpBetween(old, key(9, 13));
    deleteErp(old);
    assertEquals(1, load().inserted());
    assertEquals(1, (int) ConnectorTestSupport.on(vertx, () -> couplings.uncouple(CUSTOMER.name(),
        List.of(couplingId(key(2, 5))))));
    // Both totals as they were: no count tells; the rolling re-read does.
    List<Integer> foundIn = new ArrayList<>();
    for (int i = 1; i <= RANGES; i++) {
      Check c = check();
      if (!c.gone().isEmpty()) {
        assertEquals(List.of(old), c.gone(), c.toString());
        foundIn.add(i);
      }
    }
    assertEquals(1, foundIn.size(), "found exactly once within " + RANGES + " checks: " + foundIn);
  }

  private record Check(List<String> gone, int requests, boolean coupledCounted, String summary) {}

  /** One deletion check; its ERP requests as the check counts them, asserted equal to the simulator's count. */
  private Check check() throws Exception {
    String erpAdmin = erpSim.get().baseUrl() + "/__admin/sim";
    send("POST", erpAdmin + "/stats/reset", "", null);
    ErpKeyRangeCheck c = new ErpKeyRangeCheck(pool, couplings, erp, CUSTOMER, PER_RANGE);
    List<Coupling> gone = ConnectorTestSupport.on(vertx, c::run);
    Map<String, Object> stats = Json.object(send("GET", erpAdmin + "/stats", null, null).body());
    assertEquals(c.requests(), ((Number) stats.get("total")).longValue(),
        "the simulator saw the requests the check counted: " + stats);
    List<String> out = new ArrayList<>();
    gone.forEach(g -> out.add(g.erpId()));
    out.sort(null);
    return new Check(out, c.requests(), c.coupledCounted(), c.summary());
  }

  /** An ERP-to-CRM run: what is new in the ERP goes to the CRM and is coupled. */
  private JobOutcome load() throws Exception {
    return ConnectorTestSupport.on(vertx, () -> new ToCrmSync(
            new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, CUSTOMER),
            new RecordMapper(CUSTOMER, Set.of(), n -> null), 1, 2, ConflictPolicy.NONE)
        .run(OffsetDateTime.now()));
  }

  /** The k-th key of range i. */
  private String key(int range, int k) {
    return keys.get(range * PER_RANGE + k);
  }

  private long couplingId(String erpKey) {
    return db.queryLong("SELECT id FROM coupling WHERE mapping = 'CUSTOMER' AND erp_id = '" + erpKey + "'");
  }

  /** Creates an ERP customer whose key sorts after {@code after} and before {@code before}; its key. */
  private String createErpBetween(String after, String before) throws Exception {
    String no = after + "X";
    assertTrue(no.compareTo(after) > 0 && no.compareTo(before) < 0, no + " between " + after + " and " + before);
    HttpResponse<String> r = send("POST", erpSim.get().companyUrl() + "/Customer",
        "{\"No\":\"" + no + "\",\"Name\":\"Created " + no + "\"}", basic());
    assertEquals(201, r.statusCode(), r.body());
    return no;
  }

  private static void deleteErp(String no) throws Exception {
    HttpResponse<String> r = send("DELETE", erpSim.get().companyUrl() + "/Customer('" + no + "')", null, basic());
    assertEquals(204, r.statusCode(), r.body());
  }

  private static String basic() {
    ErpSimulator.Options o = erpSim.get().options();
    return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes());
  }

  private static HttpResponse<String> send(String method, String url, String body, String auth) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      b.header("Authorization", auth).header("Content-Type", "application/json");
      if (method.equals("DELETE")) {
        b.header("If-Match", "*");
      }
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
