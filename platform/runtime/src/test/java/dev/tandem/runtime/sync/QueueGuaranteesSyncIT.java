package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.JobKind;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue's guarantees end to end against the simulators: two nodes given the same manual sync at the same
 * moment run it one after the other and create one ERP customer per account; a record PostgreSQL cannot store is
 * isolated from its page instead of failing every run.
 */
class QueueGuaranteesSyncIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String FROM_CRM_PLUGIN = """
      package test.exclusive;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Customers implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("CUSTOMER")
              .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.FROM_CRM)
              .field("Name", "name", Direction.FROM_CRM)
              .field("City", "address1_city", Direction.FROM_CRM)
              .build());
        }
      }
      """;

  private static final String BIDIRECTIONAL_PLUGIN = """
      package test.poison;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Customers implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("CUSTOMER")
              .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.BIDIRECTIONAL)
              .field("Name", "name", Direction.BIDIRECTIONAL)
              .field("No", "accountnumber", Direction.TO_CRM)
              .build());
        }
      }
      """;

  private static String admin(String base, String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/__admin/sim/" + path)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @BeforeEach
  void reset() throws Exception {
    admin(erp.get().baseUrl(), "POST", "reset", "");
    admin(crm.get().baseUrl(), "POST", "reset", "");
    admin(erp.get().baseUrl(), "DELETE", "faults", null);
  }

  private static long erpCount(String entitySet) throws Exception {
    return ((Number) Json.object(admin(erp.get().baseUrl(), "GET", "counts", null)).getOrDefault(entitySet, 0))
        .longValue();
  }

  private static Path plugin(Path work, String cls, String source) throws Exception {
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "customers", null, Map.of(cls, source), work);
    return plugins;
  }

  @Test
  void twoManualCrmToErpSyncsOnTwoNodesRunOneAfterTheOtherAndCreateOneCustomerPerAccount(@TempDir Path work)
      throws Exception {
    admin(crm.get().baseUrl(), "POST", "seed", "{\"seed\":4,\"counts\":{\"accounts\":300}}");
    long customersBefore = erpCount("Customer");
    // Slow ERP writes, so that the first run is still writing when the second would start.
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\".*\",\"method\":\"POST\","
        + "\"kind\":\"LATENCY\",\"latencyMs\":300,\"rate\":1.0}");
    Path plugins = plugin(work, "test.exclusive.Customers", FROM_CRM_PLUGIN);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withJobs(new JobSettings(4, 4, 50, 5_000, 120_000, 5, 100, 1_000, 0));
      TandemRuntime a = TestRuntimes.start(cfg.withNodeId("node-a"));
      TandemRuntime b = TestRuntimes.start(cfg.withNodeId("node-b"));
      // Every attempt's start and end, as the two dispatchers announce them.
      List<long[]> events = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      for (TandemRuntime rt : List.of(a, b)) {
        rt.vertx().eventBus().<io.vertx.core.json.JsonObject>consumer(dev.tandem.api.Addresses.JOB_EVENTS, m -> events.add(
            new long[] {m.body().getLong("id"), "RUNNING".equals(m.body().getString("status")) ? 1 : 0,
                System.nanoTime()}));
      }
      try {
        NewJob sync = new NewJob(JobKind.SYNC, "CUSTOMER", Direction.FROM_CRM, null, 100, 0, null);
        // "Synchronize now" pressed on both nodes at once.
        CompletableFuture<Long> first = a.enqueue(sync).toCompletionStage().toCompletableFuture();
        CompletableFuture<Long> second = b.enqueue(sync).toCompletionStage().toCompletableFuture();
        long j1 = first.get(10, TimeUnit.SECONDS);
        long j2 = second.get(10, TimeUnit.SECONDS);
        TestRuntimes.await("both syncs ended", 60_000, () -> db.queryLong("SELECT count(*) FROM job WHERE id IN ("
            + j1 + ", " + j2 + ") AND status IN ('succeeded', 'failed')") == 2);
        assertEquals(2, db.queryLong("SELECT count(*) FROM job WHERE status = 'succeeded'"),
            db.queryStrings("SELECT message FROM job").toString());
        String jobs = db.queryStrings("SELECT id || ' attempts ' || attempts || ': ' || message FROM job").toString();
        // Attempts in order of time: every start is followed by the end of the same job before anything else starts.
        long running = -1;
        for (long[] e : List.copyOf(events)) {
          if (e[1] == 1) {
            assertEquals(-1, running, "job " + e[0] + " started while job " + running + " ran: " + jobs);
            running = e[0];
          } else {
            assertEquals(running, e[0], jobs);
            running = -1;
          }
        }
        assertTrue(events.size() >= 4, jobs);
        assertEquals(300, erpCount("Customer") - customersBefore, "exactly one ERP customer per account");
        assertEquals(300, db.queryLong("SELECT count(DISTINCT erp_id) FROM coupling WHERE mapping = 'CUSTOMER' "
            + "AND erp_id IS NOT NULL"));
        assertEquals(300, db.queryLong("SELECT sum(inserted) FROM job"), "the second run found nothing to create");
      } finally {
        TestRuntimes.stop(b);
        TestRuntimes.stop(a);
      }
    }
  }

  @Test
  void aRecordPostgresqlRejectsIsIsolatedFromItsPageAndLaterRunsSucceed(@TempDir Path work) throws Exception {
    StringBuilder rows = new StringBuilder("{\"rows\":[");
    for (int i = 1; i <= 40; i++) {
      // One name carries a NUL character: the endpoints take it, PostgreSQL's jsonb refuses it.
      String name = i == 17 ? "Poison\\u0000Customer" : "Customer " + i;
      rows.append(i == 1 ? "" : ",").append("{\"No\":\"P").append(String.format("%04d", i)).append("\",\"Name\":\"")
          .append(name).append("\"}");
    }
    rows.append("]}");
    String inserted = admin(erp.get().baseUrl(), "POST", "rows/Customer", rows.toString());
    assertTrue(inserted.contains("\"inserted\":40"), inserted);
    Path plugins = plugin(work, "test.poison.Customers", BIDIRECTIONAL_PLUGIN);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withJobs(new JobSettings(4, 4, 50, 5_000, 120_000, 2, 100, 1_000, 0));
      TandemRuntime rt = TestRuntimes.start(cfg.withNodeId("node-a"));
      try {
        long job = rt.enqueue(NewJob.of(JobKind.SYNC, "CUSTOMER")).toCompletionStage().toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
        TestRuntimes.await("first run ended", 60_000, () -> List.of("succeeded", "failed")
            .contains(db.queryString("SELECT status FROM job WHERE id = " + job)));
        assertEquals("succeeded", db.queryString("SELECT status FROM job WHERE id = " + job),
            db.queryString("SELECT message FROM job WHERE id = " + job));
        assertEquals(39, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMER' "
            + "AND crm_id IS NOT NULL AND last_result_to_crm = 'inserted'"), "the rest of the page was committed");
        String error = db.queryString("SELECT stage || ' ' || message FROM record_error WHERE mapping = 'CUSTOMER' "
            + "AND erp_id = 'P0017'");
        assertTrue(error != null && error.startsWith("COMMIT ") && error.contains("could not be stored"), error);
        assertTrue(db.queryString("SELECT last_error FROM coupling WHERE erp_id = 'P0017'").startsWith("[COMMIT] "));
        assertEquals("failed", db.queryString("SELECT last_result_to_crm FROM coupling WHERE erp_id = 'P0017'"));
        assertTrue(db.queryLong("SELECT failed FROM job WHERE id = " + job) >= 1);

        // Later runs go on: a new customer reaches the CRM.
        admin(erp.get().baseUrl(), "POST", "rows/Customer", "{\"rows\":[{\"No\":\"P0041\",\"Name\":\"Later\"}]}");
        long next = rt.enqueue(NewJob.of(JobKind.SYNC, "CUSTOMER")).toCompletionStage().toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
        TestRuntimes.await("second run ended", 60_000, () -> List.of("succeeded", "failed")
            .contains(db.queryString("SELECT status FROM job WHERE id = " + next)));
        assertEquals("succeeded", db.queryString("SELECT status FROM job WHERE id = " + next),
            db.queryString("SELECT message FROM job WHERE id = " + next));
        assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE erp_id = 'P0041' AND crm_id IS NOT NULL"));
        List<Map<String, Object>> accounts = Json.objects(Json.object(admin(crm.get().baseUrl(), "GET",
            "rows/accounts?top=5000", null)).get("rows"));
        Set<Object> numbers = new HashSet<>();
        accounts.forEach(x -> numbers.add(x.get("accountnumber")));
        assertEquals(accounts.size(), numbers.size(), "no duplicate accounts");
        assertTrue(numbers.contains("P0041"));
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
