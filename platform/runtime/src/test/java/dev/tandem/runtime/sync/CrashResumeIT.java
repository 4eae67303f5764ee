package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A node dies in the middle of a run; another node takes the job over and finishes it without duplicates. */
class CrashResumeIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = PluginJars.accountsToCrm("test.crash");

  private static String admin(String base, String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/__admin/sim/" + path)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void aJobOfAKilledNodeIsResumedElsewhereAndCreatesNoDuplicates(@TempDir Path work) throws Exception {
    admin(erp.get().baseUrl(), "POST", "seed", "{\"seed\":8,\"counts\":{\"Customer\":2000}}");
    // Slow ERP pages, so the run is still going when its node dies.
    admin(erp.get().baseUrl(), "POST", "faults", "{\"pathPattern\":\"/Customer\",\"method\":\"GET\","
        + "\"kind\":\"LATENCY\",\"latencyMs\":150,\"rate\":1.0}");
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "accounts", null, Map.of("test.crash.Accounts", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get(), 100);
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withJobs(new JobSettings(4, 4, 50, 2_000, 120_000, 5, 100, 1_000, 0));
      TandemRuntime first = TestRuntimes.start(cfg.withNodeId("node-1"));
      long job = first.enqueue(NewJob.of(JobKind.SYNC, "ACCOUNTS")).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      TestRuntimes.await("some pages committed", 30_000,
          () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS'") >= 300);
      // The node dies: its Vert.x goes away without finishing the job or giving its lease back.
      first.vertx().close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      long coupledAtCrash = db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS'");
      assertTrue(coupledAtCrash < 2000, "died mid-run: " + coupledAtCrash);
      assertEquals("running", db.queryString("SELECT status FROM job WHERE id = " + job));
      admin(erp.get().baseUrl(), "DELETE", "faults", null);

      TandemRuntime second = TestRuntimes.start(cfg.withNodeId("node-2"));
      try {
        TestRuntimes.await("job taken over and finished", 60_000, () -> "succeeded".equals(
            db.queryString("SELECT status FROM job WHERE id = " + job)));
        assertEquals(2, db.queryLong("SELECT attempts FROM job WHERE id = " + job));
        assertEquals(2000, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS' AND crm_id IS NOT NULL"));
        List<Map<String, Object>> accounts = Json.objects(Json.object(admin(crm.get().baseUrl(), "GET",
            "rows/accounts?top=5000", null)).get("rows"));
        assertEquals(2000, accounts.size(), "exactly one account per customer");
        Set<Object> numbers = new HashSet<>();
        accounts.forEach(a -> numbers.add(a.get("accountnumber")));
        assertEquals(2000, numbers.size(), "no duplicates");
      } finally {
        TestRuntimes.stop(second);
      }
    }
  }
}
