package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The error model end to end: a job whose records fail beyond the mapping's error tolerance ends as failed, at
 * once (a bug in a plugin's transformation is not retried), with its schedule paused and the reason shown; the
 * records are in the error log with their kind and stage; raising the tolerance and waking the schedule lets the
 * next run succeed with the same records failed.
 */
class ErrorToleranceIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  // Every customer's name goes through a transformation that throws: each record fails in stage TRANSFORM.
  private static final String PLUGIN = """
      package test.tolerance;

      import dev.tandem.api.*;
      import java.time.Duration;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Strict implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          Transformation broken = new Transformation("broken", v -> {
            throw new IllegalStateException("cannot shorten " + v);
          });
          return List.of(
              MappingDefinition.builder("STRICT")
                  .erp("Customer", "No").crm("accounts", "accountid")
                  .direction(Direction.TO_CRM)
                  .field("No", "accountnumber", Direction.TO_CRM)
                  .field(FieldMapping.of("Name", "name", Direction.TO_CRM).transformedBy(broken))
                  .schedule(Duration.ofSeconds(1))
                  .build());
        }
      }
      """;

  private static JsonObject api(TandemRuntime rt, String method, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() / 100 == 2, method + " " + path + ": " + r.statusCode() + " " + r.body());
    return new JsonObject(r.body());
  }

  private static JsonObject schedule(TandemRuntime rt) throws Exception {
    for (Object o : api(rt, "GET", "/api/v1/schedules", null).getJsonArray("schedules")) {
      JsonObject s = (JsonObject) o;
      if ("STRICT".equals(s.getString("mapping"))) {
        return s;
      }
    }
    throw new AssertionError("no schedule for STRICT");
  }

  @Test
  void aJobBeyondTheToleranceFailsAtOnceAndPausesItsScheduleUntilWoken(@TempDir Path work) throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":3,\"counts\":{\"Customer\":30}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "tolerance", null, Map.of("test.tolerance.Strict", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(true, 200, 0, 30_000)));
      try {
        TestRuntimes.await("the scheduled job failed", 60_000, () -> db.queryLong(
            "SELECT count(*) FROM job WHERE mapping = 'STRICT' AND status = 'failed'") > 0);
        long failedJob = db.queryLong("SELECT min(id) FROM job WHERE mapping = 'STRICT' AND status = 'failed'");
        assertEquals(1, db.queryLong("SELECT attempts FROM job WHERE id = " + failedJob),
            "a failure beyond the tolerance is permanent: not retried");
        String message = db.queryString("SELECT message FROM job WHERE id = " + failedJob);
        assertTrue(message.contains("30 of 30 records failed") && message.contains("maxFailedShare"), message);

        JsonObject paused = schedule(rt);
        assertEquals("PAUSED", paused.getString("state"), paused.encode());
        assertNotNull(paused.getString("pausedReason"), paused.encode());
        assertTrue(paused.getString("pausedReason").contains("/api/v1/schedules/STRICT/wake"), paused.encode());
        // Paused means no further runs: wait well past a few intervals and count the jobs.
        long jobs = db.queryLong("SELECT count(*) FROM job WHERE mapping = 'STRICT'");
        Thread.sleep(2_500);
        assertEquals(jobs, db.queryLong("SELECT count(*) FROM job WHERE mapping = 'STRICT'"), "nothing scheduled");

        JsonArray errors = api(rt, "GET", "/api/v1/errors?mapping=STRICT&stage=TRANSFORM&limit=100", null)
            .getJsonArray("errors");
        assertEquals(30, errors.size(), errors.encode());
        JsonObject e = errors.getJsonObject(0);
        assertEquals("DATA", e.getString("kind"));
        assertEquals("TRANSFORM", e.getString("stage"));
        assertTrue(e.getString("message").startsWith("ERP Customer ") && e.getString("message")
            .contains("transformation of Name failed: cannot shorten"), e.encode());
        assertEquals(0, api(rt, "GET", "/api/v1/errors?mapping=STRICT&stage=WRITE", null).getJsonArray("errors")
            .size());

        // The operator accepts failures for this mapping and wakes it: the next run ends as succeeded.
        HttpResponse<String> bad = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort()
            + "/api/v1/mappings/STRICT")).header("Authorization", "Bearer " + TestRuntimes.TOKEN)
            .header("Content-Type", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"maxFailedShare\":1.5}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("maxFailedShare"), bad.body());
        JsonObject patched = api(rt, "PATCH", "/api/v1/mappings/STRICT", "{\"maxFailedShare\":1}");
        assertEquals(1.0, patched.getJsonObject("effective").getDouble("maxFailedShare"));
        api(rt, "POST", "/api/v1/schedules/STRICT/wake", null);
        TestRuntimes.await("a run after waking succeeded", 60_000, () -> db.queryLong(
            "SELECT count(*) FROM job WHERE mapping = 'STRICT' AND status = 'succeeded' AND id > " + failedJob) > 0);
        JsonObject woken = schedule(rt);
        assertEquals("ACTIVE", woken.getString("state"), woken.encode());
        assertEquals(null, woken.getString("pausedReason"));
        assertEquals(30, api(rt, "GET", "/api/v1/errors?mapping=STRICT", null).getJsonArray("errors").size(),
            "still one open entry per record");
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  @Test
  void theToleranceCountsFailedRecordsAgainstTheRecordsDecided() {
    MappingSettings none = MappingSettings.NONE;
    assertTrue(none.beyondTolerance(10, 10));
    assertTrue(!none.beyondTolerance(9, 9), "fewer than the least number of failed records");
    assertTrue(!none.beyondTolerance(10, 20), "half is tolerated");
    assertTrue(none.beyondTolerance(11, 20));
  }
}
