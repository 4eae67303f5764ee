package dev.tandem.runtime.fullsync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes share a full synchronization cut into key ranges; one of them dies in the middle; the other finishes
 * every range, and the result is what a single node would have made: each customer once, coupled once.
 */
class FullSyncIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int CUSTOMERS = 3000;

  private static final String PLUGIN = PluginJars.accountsToCrm("test.full");

  private static String admin(String base, String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/__admin/sim/" + path)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static HttpResponse<String> api(TandemRuntime rt, String method, String path, String body)
      throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void twoNodesSplitTheRangesAndOneDyingChangesNothingInTheResult(@TempDir Path work) throws Exception {
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":11,\"counts\":{\"Customer\":" + CUSTOMERS + "}}");
    // Slow ERP pages, so the ranges are still running when the second node claims and when a node dies (a run of
    // fast pages can end on one node before the other has claimed a range).
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/Customer\",\"method\":\"GET\","
        + "\"kind\":\"LATENCY\",\"latencyMs\":400,\"rate\":1.0}");
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "accounts", null, Map.of("test.full.Accounts", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get(), 100);
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withJobs(new JobSettings(2, 2, 50, 2_000, 120_000, 5, 100, 1_000, 0));
      TandemRuntime first = TestRuntimes.start(cfg.withNodeId("node-1"));
      TandemRuntime second = TestRuntimes.start(cfg.withNodeId("node-2"));
      try {
        HttpResponse<String> started = api(first, "POST", "/api/v1/full-sync/start",
            "{\"parts\":4,\"splitAtRows\":1000}");
        assertEquals(202, started.statusCode(), started.body());
        HttpResponse<String> again = api(second, "POST", "/api/v1/full-sync/start", "{}");
        assertEquals(409, again.statusCode(), "one run at a time: " + again.body());
        assertTrue(again.body().contains("running already"), again.body());

        Set<String> owners = new HashSet<>();
        try {
        TestRuntimes.await("ranges running on both nodes", 30_000, () -> {
          owners.addAll(db.queryStrings("SELECT DISTINCT lease_owner FROM job WHERE kind = 'FULL_SYNC' "
              + "AND status = 'running'"));
          return owners.size() >= 2;
        });
        } catch (AssertionError e) {
          throw new AssertionError(e.getMessage() + "; owners " + owners + "; jobs " + db.queryStrings(
              "SELECT id || ' ' || kind || ' ' || status || ' ' || coalesce(lease_owner, '-') || ' ' || attempts || ' '"
              + " || coalesce(message, '') FROM job ORDER BY id"));
        }
        assertEquals(4, db.queryLong("SELECT count(*) FROM job WHERE kind = 'FULL_SYNC'"), "four key ranges");
        TestRuntimes.await("some pages committed", 30_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS'") >= 300);
        // node-1 dies: its ranges are taken over once their leases expire.
        first.vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertTrue(db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS'") < CUSTOMERS,
            "died mid-run");
        admin(erp.get().baseUrl(), "DELETE", "faults", null);

        TestRuntimes.await("run ended", 90_000, () -> {
          try {
            JsonObject run = new JsonObject(api(second, "GET", "/api/v1/full-sync", null).body()).getJsonObject("run");
            return run != null && !"RUNNING".equals(run.getString("status"));
          } catch (Exception e) {
            return false;
          }
        });
        JsonObject review = new JsonObject(api(second, "GET", "/api/v1/full-sync", null).body());
        assertEquals("SUCCEEDED", review.getJsonObject("run").getString("status"), review.encode());
        JsonObject line = review.getJsonArray("lines").getJsonObject(0);
        assertEquals("ACCOUNTS", line.getString("mapping"));
        JsonObject toCrm = line.getJsonObject("toCrm");
        assertEquals("SUCCESS", toCrm.getString("status"), line.encode());
        assertEquals(CUSTOMERS, toCrm.getLong("done"), "counts carry on across attempts: " + toCrm.encode());
        assertEquals(CUSTOMERS, toCrm.getJsonObject("counts").getLong("inserted"), toCrm.encode());
        assertEquals(1.0, toCrm.getDouble("progress"), toCrm.encode());
        // The same result as one node: every customer once on the CRM side, coupled once.
        assertEquals(CUSTOMERS, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS' "
            + "AND crm_id IS NOT NULL"));
        List<Map<String, Object>> accounts = Json.objects(Json.object(admin(crm.get().baseUrl(), "GET",
            "rows/accounts?top=10000", null)).get("rows"));
        assertEquals(CUSTOMERS, accounts.size(), "exactly one account per customer");
        Set<Object> numbers = new HashSet<>();
        accounts.forEach(a -> numbers.add(a.get("accountnumber")));
        assertEquals(CUSTOMERS, numbers.size(), "no duplicates");
        assertTrue(db.queryLong("SELECT max(attempts) FROM job WHERE kind = 'FULL_SYNC'") >= 2,
            "the dead node's ranges ran again elsewhere");
        // The watermark moved to the run's start: incremental runs go on from there.
        assertEquals(1, db.queryLong("SELECT count(*) FROM watermark WHERE mapping = 'ACCOUNTS' AND side = 'ERP'"));
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + second.httpPort()
            + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("tandem_full_sync_progress_ratio{mapping=\"ACCOUNTS\"} 1.0"), "progress gauge");
        assertTrue(metrics.contains("tandem_job_queue_depth"), "queue depth gauge");
      } finally {
        TestRuntimes.stop(second);
      }
    }
  }

  @Test
  void theRecommendationFollowsWhichSidesHoldData() {
    MappingDefinition d = MappingDefinition.builder("X").erp("Customer", "No").crm("accounts", "accountid")
        .direction(Direction.BIDIRECTIONAL).build();
    assertEquals("NOTHING", FullSyncRecommendation.recommend(d, 0, 0, 0).getString("recommendation"));
    assertEquals("TO_CRM", FullSyncRecommendation.recommend(d, 10, 0, 0).getString("direction"));
    assertEquals("FROM_CRM", FullSyncRecommendation.recommend(d, 0, 10, 0).getString("direction"));
    assertEquals("COUPLE_FIRST", FullSyncRecommendation.recommend(d, 10, 10, 0).getString("recommendation"));
    JsonObject coupled = FullSyncRecommendation.recommend(d, 10, 10, 10);
    assertEquals("FULL_SYNC", coupled.getString("recommendation"));
    assertEquals("TO_CRM", coupled.getString("direction"));
    assertTrue(FullSyncRecommendation.recommend(d, 10, 10, 0).getString("reason").startsWith("couple first: "));
    // Upserts by a CRM alternate key match what exists on both sides: safe to synchronize fully.
    MappingDefinition byKey = MappingDefinition.builder("CURRENCY").erp("Currency", "Code")
        .crm("transactioncurrencies", "transactioncurrencyid").direction(Direction.TO_CRM)
        .field("Code", "isocurrencycode", Direction.TO_CRM).crmAlternateKey("isocurrencycode").build();
    JsonObject safe = FullSyncRecommendation.recommend(byKey, 5, 3, 0);
    assertEquals("FULL_SYNC", safe.getString("recommendation"), safe.encode());
    assertEquals("TO_CRM", safe.getString("direction"));
    assertTrue(safe.getString("reason").contains("alternate key isocurrencycode"), safe.encode());
  }
}
