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
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full synchronization ERP to CRM of a bidirectional mapping while people work on both sides: the first
 * incremental run after it reads only their changes (not the rows the full synchronization wrote or read), and
 * each person's edit arrives on the other side as the mapping's direction says.
 */
class FullSyncChangesIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int CUSTOMERS = 1500;

  private static final String PLUGIN = """
      package test.edits;

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
  void aPersonsEditsDuringTheFullSynchronizationArrive(@TempDir Path work) throws Exception {
    send("POST", erp.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", crm.get().baseUrl() + "/__admin/sim/reset", "", null);
    send("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":21,\"counts\":{\"Customer\":" + CUSTOMERS
        + "}}", null);
    send("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":21,\"counts\":{\"systemusers\":3}}", null);
    // Slow ERP pages: people edit while the full synchronization runs.
    send("POST", erp.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/Customer\",\"method\":\"GET\","
        + "\"kind\":\"LATENCY\",\"latencyMs\":300,\"rate\":1.0}", null);
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "edits", null, Map.of("test.edits.Customers", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get(), 100);
    String person = personToken();
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000));
      TandemRuntime rt = TestRuntimes.start(cfg);
      try {
        HttpResponse<String> started = api(rt, "POST", "/api/v1/full-sync/start", "{\"parts\":2,\"splitAtRows\":100}");
        assertEquals(202, started.statusCode(), started.body());
        TestRuntimes.await("some accounts written", 60_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMER' AND crm_id IS NOT NULL")
                >= 200);
        // A person edits an account the full synchronization has just written, in the CRM ...
        String crmId = db.queryString("SELECT crm_id FROM coupling WHERE mapping = 'CUSTOMER' AND crm_id IS NOT NULL "
            + "ORDER BY id LIMIT 1");
        String erpOfCrm = db.queryString("SELECT erp_id FROM coupling WHERE crm_id = '" + crmId + "'");
        HttpResponse<String> crmEdit = send("PATCH", crm.get().apiUrl() + "/accounts(" + crmId + ")",
            "{\"address1_city\":\"Edited in the CRM\"}", "Bearer " + person);
        assertTrue(crmEdit.statusCode() < 300, crmEdit.body());
        // ... and another person a customer in the ERP that the full synchronization has read already.
        String erpKey = db.queryString("SELECT erp_id FROM coupling WHERE mapping = 'CUSTOMER' AND crm_id IS NOT NULL "
            + "AND erp_id <> '" + erpOfCrm + "' ORDER BY id LIMIT 1");
        ErpSimulator.Options o = erp.get().options();
        String basic = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
            .getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> erpEdit = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl()
                + "/Customer('" + erpKey + "')")).header("Authorization", basic).header("If-Match", "*")
            .header("Content-Type", "application/json").method("PATCH",
                HttpRequest.BodyPublishers.ofString("{\"Name\":\"Edited in the ERP\"}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, erpEdit.statusCode(), erpEdit.body());
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
        assertEquals(1, db.queryLong("SELECT count(*) FROM job WHERE kind = 'FULL_SYNC' AND parameters ? 'track' "
            + "AND status = 'succeeded'"), "the line's last job started change tracking");
        assertTrue(db.queryString("SELECT delta_link FROM watermark WHERE mapping = 'CUSTOMER' AND side = 'CRM'")
            != null);

        HttpResponse<String> sync = api(rt, "POST", "/api/v1/mappings/CUSTOMER/sync", "{}");
        assertTrue(sync.statusCode() < 300, sync.body());
        long job = new JsonObject(sync.body()).getLong("jobId");
        TestRuntimes.await("the first incremental run ended", 60_000,
            () -> "succeeded".equals(db.queryString("SELECT status FROM job WHERE id = " + job)));
        JsonObject counts = new JsonObject(api(rt, "GET", "/api/v1/jobs/" + job, null).body()).getJsonObject("counts");
        // Only the people's two edits: neither the accounts the full synchronization wrote nor the customers it read
        // are read again (ERP: no overlap behind the full synchronization's start; CRM: Tandem's own writes).
        assertEquals(2, counts.getLong("modified"), counts.encode());
        assertTrue(counts.getLong("unchanged") <= 2, "read back: " + counts.encode());

        Map<String, Object> account = Json.object(send("GET", crm.get().apiUrl() + "/accounts(" + crmId + ")", null,
            "Bearer " + person).body());
        assertEquals("Edited in the CRM", account.get("address1_city"));
        HttpResponse<String> customer = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl()
            + "/Customer('" + erpOfCrm + "')")).header("Authorization", basic).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals("Edited in the CRM", Json.object(customer.body()).get("City"), "the CRM edit reached the ERP");
        String erpName = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + erpKey + "'");
        Map<String, Object> other = Json.object(send("GET", crm.get().apiUrl() + "/accounts(" + erpName + ")", null,
            "Bearer " + person).body());
        assertEquals("Edited in the ERP", other.get("name"), "the ERP edit reached the CRM");
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  /** A token of a CRM client that works as a person (a systemuser other than Tandem's application user). */
  private static String personToken() throws Exception {
    List<Map<String, Object>> users = Json.objects(Json.object(send("GET", crm.get().baseUrl()
        + "/__admin/sim/rows/systemusers", null, null).body()).get("rows"));
    String integration = crm.get().integrationUserId();
    String personId = null;
    for (Map<String, Object> u : users) {
      if (!String.valueOf(u.get("systemuserid")).equalsIgnoreCase(integration)) {
        personId = String.valueOf(u.get("systemuserid"));
        break;
      }
    }
    assertTrue(personId != null, "a person among " + users);
    send("POST", crm.get().baseUrl() + "/__admin/sim/clients", Json.write(Map.of("clientId", "a-person",
        "clientSecret", "person-secret", "userId", personId)), null);
    HttpResponse<String> t = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=a-person&client_secret=person-secret&scope="
                + URLEncoder.encode(crm.get().apiUrl().replaceAll("/api/data/v9.2$", "") + "/.default",
                StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, t.statusCode(), t.body());
    return (String) Json.object(t.body()).get("access_token");
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
