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
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.runtime.store.MappingSettings.ConflictPolicy;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ERP deletion check after k deletions costs O(k·log n) {@code $count}s, not one per key range: 2,000 coupled
 * customers cut into 80 ranges of 25, checked against the ERP simulator over HTTP, with every ERP request the
 * check makes counted at the simulator too. Nothing changed: one count and the rolling re-read of one range. One
 * deletion: the total, two counts per level of the 80-range tree (7 levels), the moved range read and its missing
 * key confirmed — and the deletion found. Three deletions in ranges far apart: at most three paths.
 */
class ErpKeyRangeDescentIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erpSim = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crmSim = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final MappingDefinition CUSTOMER = MappingDefinition.builder("CUSTOMER")
      .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
      .field("Name", "name", Direction.TO_CRM).build();
  private static final int RANGES = 80;
  /** Levels of a binary tree over 80 ranges. */
  private static final int LEVELS = 7;

  @Test
  void aCheckAfterKDeletionsCountsAlongKPathsOfTheRangeTree() throws Exception {
    String erpAdmin = erpSim.get().baseUrl() + "/__admin/sim";
    send("POST", erpAdmin + "/reset", "", null);
    send("POST", crmSim.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", erpAdmin + "/seed", "{\"seed\":9,\"counts\":{\"SalespersonPurchaser\":0,\"Customer\":2000}}", null);
    Vertx vertx = Vertx.vertx();
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      Pool pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
      ErpSimulator.Options o = erpSim.get().options();
      ODataErpClient erp = new ODataErpClient(vertx, ODataErpSettings.of(erpSim.get().serviceRoot(), o.company(),
          o.user(), o.accessKey()), EndpointMetrics.NONE);
      DataverseClient crm = new DataverseClient(vertx, DataverseSettings.of(crmSim.get().apiUrl(),
          crmSim.get().tokenUrl(), "tandem-sync", "tandem-secret", null), EndpointMetrics.NONE);
      PgCouplingStore couplings = new PgCouplingStore(pool);
      JobOutcome loaded = ConnectorTestSupport.on(vertx, () -> new ToCrmSync(
              new SyncIo(pool, couplings, new PgWatermarkStore(), erp, crm, CUSTOMER),
              new RecordMapper(CUSTOMER, Set.of(), n -> null), 1, 2, ConflictPolicy.NONE)
          .run(OffsetDateTime.now()));
      assertEquals(2000, loaded.inserted(), loaded.toString());

      Check first = check(vertx, pool, couplings, erp);
      assertTrue(first.gone().isEmpty());
      assertEquals(RANGES, db.queryLong("SELECT count(*) FROM erp_key_range"));
      assertTrue(first.requests() >= RANGES + 1, "the first check counts every range: " + first);

      Check quiet = check(vertx, pool, couplings, erp);
      assertTrue(quiet.gone().isEmpty());
      assertEquals(2, quiet.requests(), "nothing moved: the total and the rolling re-read of one range: " + quiet);

      List<String> keys = db.queryStrings("SELECT erp_id FROM coupling ORDER BY erp_id");
      delete(keys.get(1013));
      Check one = check(vertx, pool, couplings, erp);
      assertEquals(List.of(keys.get(1013)), one.gone(), one.toString());
      // The total, 2 counts per level down one path, the moved range's read and the confirming read by key, and
      // the rolling re-read of another range (each 25 keys: one page).
      assertTrue(one.requests() <= 1 + 2 * LEVELS + 3, "one deletion: " + one);

      delete(keys.get(10));
      delete(keys.get(990));
      delete(keys.get(1960));
      Check three = check(vertx, pool, couplings, erp);
      // The check finds what moved since the last one (the deletion found before is the policy's to remember).
      assertEquals(List.of(keys.get(10), keys.get(990), keys.get(1960)), three.gone().stream().sorted().toList(),
          three.toString());
      assertTrue(three.requests() <= 1 + 3 * 2 * LEVELS + 3 * 2 + 1 + 1, "three deletions: " + three);
      assertTrue(three.requests() < RANGES, "fewer requests than one count per range: " + three);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private record Check(List<String> gone, int requests, String summary) {}

  /** One deletion check; its ERP requests as the check counts them, asserted equal to the simulator's count. */
  private static Check check(Vertx vertx, Pool pool, PgCouplingStore couplings, ODataErpClient erp)
      throws Exception {
    String erpAdmin = erpSim.get().baseUrl() + "/__admin/sim";
    send("POST", erpAdmin + "/stats/reset", "", null);
    ErpKeyRangeCheck c = new ErpKeyRangeCheck(pool, couplings, erp, CUSTOMER, 25);
    List<Coupling> gone = ConnectorTestSupport.on(vertx, c::run);
    Map<String, Object> stats = Json.object(send("GET", erpAdmin + "/stats", null, null).body());
    long atSimulator = ((Number) stats.get("total")).longValue();
    assertEquals(c.requests(), atSimulator, "the simulator saw the requests the check counted: " + stats);
    List<String> keys = new ArrayList<>();
    gone.forEach(g -> keys.add(g.erpId()));
    return new Check(keys, c.requests(), c.summary());
  }

  private static void delete(String no) throws Exception {
    ErpSimulator.Options o = erpSim.get().options();
    String basic = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes());
    assertEquals(204, send("DELETE", erpSim.get().companyUrl() + "/Customer('" + no + "')", null, basic)
        .statusCode());
  }

  private static HttpResponse<String> send(String method, String url, String body, String auth) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      b.header("Authorization", auth).header("If-Match", "*");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
