package dev.tandem.runtime.fullsync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full synchronization CRM to ERP of a bidirectional mapping (the ERP side empty) writes 600 ERP customers while
 * a person edits one of them in the ERP: the line's last job finds that edit among Tandem's own writes (key and
 * stamp compared with the couplings) and takes it to the CRM, and the next ERP-to-CRM run reads none of the 600
 * rows back — it modifies exactly the one real change made after the full synchronization.
 */
class FullSyncToErpOwnWritesIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int ACCOUNTS = 600;

  private static final String PLUGIN = """
      package test.toerp;

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
              .field("City", "address1_city", Direction.BIDIRECTIONAL)
              .build());
        }
      }
      """;

  @Test
  void theNextErpToCrmRunReadsOnlyRealChanges(@TempDir Path work) throws Exception {
    send("POST", erp.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", crm.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":23,\"counts\":{\"Customer\":0,"
        + "\"SalespersonPurchaser\":0}}", null);
    send("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":23,\"counts\":{\"systemusers\":3,"
        + "\"accounts\":" + ACCOUNTS + "}}", null);
    // Slow ERP writes: the person edits while the full synchronization runs.
    send("POST", erp.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\".*\",\"method\":\"POST\","
        + "\"kind\":\"LATENCY\",\"latencyMs\":300,\"rate\":1.0}", null);
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "toerp", null, Map.of("test.toerp.Customers", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get(), 100);
    ErpSimulator.Options o = erp.get().options();
    String basic = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
        .getBytes(StandardCharsets.UTF_8));
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000));
      TandemRuntime rt = TestRuntimes.start(cfg);
      try {
        // The simulator commits in stamp order: no overlap needed behind the newest stamp compared.
        HttpResponse<String> patched = api(rt, "PATCH", "/api/v1/mappings/CUSTOMER", "{\"watermarkOverlapSeconds\":0}");
        assertTrue(patched.statusCode() < 300, patched.body());
        HttpResponse<String> started = api(rt, "POST", "/api/v1/full-sync/start", "{}");
        assertEquals(202, started.statusCode(), started.body());
        TestRuntimes.await("some customers written", 60_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMER' AND erp_id IS NOT NULL")
                >= 150);
        String during = db.queryString("SELECT erp_id FROM coupling WHERE mapping = 'CUSTOMER' AND erp_id IS NOT NULL "
            + "ORDER BY id LIMIT 1");
        patchErp(basic, during, "Edited in the ERP during the full sync");
        assertEquals("RUNNING", new JsonObject(api(rt, "GET", "/api/v1/full-sync", null).body()).getJsonObject("run")
            .getString("status"), "the edit was made while the full synchronization ran");
        send("DELETE", erp.get().baseUrl() + "/__admin/sim/faults", null, null);

        TestRuntimes.await("the full synchronization ended", 120_000, () -> {
          try {
            JsonObject run = new JsonObject(api(rt, "GET", "/api/v1/full-sync", null).body()).getJsonObject("run");
            return run != null && !"RUNNING".equals(run.getString("status"));
          } catch (Exception e) {
            return false;
          }
        });
        JsonObject review = new JsonObject(api(rt, "GET", "/api/v1/full-sync", null).body());
        assertEquals("SUCCEEDED", review.getJsonObject("run").getString("status"), review.encode());
        assertEquals("FROM_CRM", db.queryString("SELECT direction FROM full_sync_line WHERE mapping = 'CUSTOMER'"));
        assertEquals(ACCOUNTS, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMER' "
            + "AND erp_id IS NOT NULL AND crm_id IS NOT NULL"));
        String tracking = db.queryString("SELECT message FROM job WHERE kind = 'FULL_SYNC' AND parameters ? 'track'");
        assertTrue(tracking.contains("of which Tandem's own writes " + (ACCOUNTS - 1) + ", changed 1"), tracking);
        String crmOfDuring = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + during + "'");
        assertEquals("Edited in the ERP during the full sync", crmName(crmOfDuring),
            "the line's last job took the edit made during it to the CRM");

        String after = db.queryString("SELECT erp_id FROM coupling WHERE mapping = 'CUSTOMER' ORDER BY id DESC LIMIT 1");
        patchErp(basic, after, "Edited in the ERP afterwards");
        HttpResponse<String> sync = api(rt, "POST", "/api/v1/mappings/CUSTOMER/sync", "{\"direction\":\"TO_CRM\"}");
        assertTrue(sync.statusCode() < 300, sync.body());
        long job = new JsonObject(sync.body()).getLong("jobId");
        TestRuntimes.await("the first ERP-to-CRM run ended", 60_000,
            () -> "succeeded".equals(db.queryString("SELECT status FROM job WHERE id = " + job)));
        JsonObject counts = new JsonObject(api(rt, "GET", "/api/v1/jobs/" + job, null).body()).getJsonObject("counts");
        assertEquals(1, counts.getLong("modified"), counts.encode());
        assertEquals(0, counts.getLong("inserted"), counts.encode());
        assertEquals(0, counts.getLong("unchanged"), "none of Tandem's own ERP writes read back: " + counts.encode());
        assertEquals("Edited in the ERP afterwards", crmName(db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '"
            + after + "'")));
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  private static String crmName(String crmId) throws Exception {
    for (Map<String, Object> a : Json.objects(Json.object(send("GET", crm.get().baseUrl()
        + "/__admin/sim/rows/accounts?top=" + (2 * ACCOUNTS), null, null).body()).get("rows"))) {
      if (crmId.equalsIgnoreCase(String.valueOf(a.get("accountid")))) {
        return (String) a.get("name");
      }
    }
    return null;
  }

  private static void patchErp(String basic, String no, String name) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl() + "/Customer('" + no
            + "')")).header("Authorization", basic).header("If-Match", "*").header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(Json.write(Map.of("Name", name)))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  private static HttpResponse<String> api(TandemRuntime rt, String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> send(String method, String url, String body, String auth) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
