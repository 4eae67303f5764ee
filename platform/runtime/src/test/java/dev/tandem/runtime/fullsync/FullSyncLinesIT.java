package dev.tandem.runtime.fullsync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
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
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a full synchronization line reports: a line whose jobs failed records is no plain success, a line whose
 * dependency was skipped as "couple first" is held with that reason, and a mapping that writes by a CRM alternate
 * key is recommended for a full synchronization even when both sides hold data (it matches, never duplicates).
 */
class FullSyncLinesIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = """
      package test.lines;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Lines implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(
              MappingDefinition.builder("CURRENCY")
                  .erp("Currency", "Code").crm("transactioncurrencies", "transactioncurrencyid")
                  .direction(Direction.TO_CRM)
                  .field("Code", "isocurrencycode", Direction.TO_CRM)
                  .field("Description", "currencyname", Direction.TO_CRM)
                  .field("Symbol", "currencysymbol", Direction.TO_CRM)
                  .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
                  .field(FieldMapping.of(null, "currencyprecision", Direction.TO_CRM).withConstant(2))
                  .crmAlternateKey("isocurrencycode")
                  .build(),
              MappingDefinition.builder("CUSTOMER")
                  .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
                  .field("Name", "name", Direction.TO_CRM)
                  .field(FieldMapping.of("Currency_Code", "transactioncurrencyid", Direction.TO_CRM)
                      .lookupThrough("CURRENCY"))
                  .dependsOn("CURRENCY")
                  .build(),
              MappingDefinition.builder("SALESPEOPLE")
                  .erp("SalespersonPurchaser", "Code").crm("systemusers", "systemuserid")
                  .direction(Direction.TO_CRM)
                  .field("Name", "lastname", Direction.TO_CRM)
                  .build(),
              MappingDefinition.builder("CONTACT")
                  .erp("Customer", "No").crm("contacts", "contactid").direction(Direction.TO_CRM)
                  .field("Name", "lastname", Direction.TO_CRM)
                  .field(FieldMapping.of("Salesperson_Code", "ownerid", Direction.TO_CRM).lookupThrough("SALESPEOPLE"))
                  .dependsOn("SALESPEOPLE")
                  .build());
        }
      }
      """;

  private static HttpResponse<String> http(String method, String url, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject review(TandemRuntime rt, String start) throws Exception {
    HttpResponse<String> started = http("POST", "http://localhost:" + rt.httpPort() + "/api/v1/full-sync/start", start);
    assertEquals(202, started.statusCode(), started.body());
    long runId = new JsonObject(started.body()).getLong("runId");
    TestRuntimes.await("run " + runId + " ended", 90_000, () -> {
      try {
        JsonObject run = new JsonObject(http("GET", "http://localhost:" + rt.httpPort() + "/api/v1/full-sync", null)
            .body()).getJsonObject("run");
        return run != null && run.getLong("id") == runId && !"RUNNING".equals(run.getString("status"));
      } catch (Exception e) {
        return false;
      }
    });
    return new JsonObject(http("GET", "http://localhost:" + rt.httpPort() + "/api/v1/full-sync", null).body());
  }

  private static Map<String, JsonObject> lines(JsonObject review) {
    Map<String, JsonObject> out = new HashMap<>();
    review.getJsonArray("lines").forEach(o -> out.put(((JsonObject) o).getString("mapping"), (JsonObject) o));
    return out;
  }

  @Test
  void failedRecordsAndCoupleFirstDependenciesAreNoPlainSuccess(@TempDir Path work) throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/reset", "");
    http("POST", crm.get().baseUrl() + "/__admin/sim/reset", "");
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":7,\"counts\":{\"Customer\":60,"
        + "\"SalespersonPurchaser\":4}}");
    // The CRM holds three of the ERP's five currencies already, and its users.
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":7,\"counts\":{\"systemusers\":3}}");
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "lines", null, Map.of("test.lines.Lines", PLUGIN), work);
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins)
          .withConnections(TestRuntimes.connections(erp.get(), crm.get()))
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000));
      TandemRuntime rt = TestRuntimes.start(cfg);
      try {
        // 1. CUSTOMER alone while CURRENCY is not coupled: the customers with a currency fail.
        JsonObject first = review(rt, "{\"mappings\":[\"CUSTOMER\"]}");
        JsonObject customer = lines(first).get("CUSTOMER");
        JsonObject toCrm = customer.getJsonObject("toCrm");
        long failed = toCrm.getJsonObject("counts").getLong("failed");
        assertTrue(failed > 0 && failed < 60, toCrm.encode());
        assertEquals("ERROR", toCrm.getString("status"), "records failed: no plain success " + toCrm.encode());
        assertEquals("PARTIAL", customer.getJsonObject("line").getString("status"), customer.encode());
        assertTrue(toCrm.getString("reason").startsWith(failed + " of 60 records failed"), toCrm.encode());
        assertEquals("FAILED", first.getJsonObject("run").getString("status"), first.encode());
        assertTrue(first.getJsonObject("run").getString("message").contains("1 with failed records"), first.encode());

        // 2. Everything: CURRENCY writes by isocurrencycode, so it is synchronized although both sides hold
        // currencies; CONTACT waits for SALESPEOPLE, which has to be coupled first.
        JsonObject before = lines(new JsonObject(http("GET", "http://localhost:" + rt.httpPort() + "/api/v1/full-sync",
            null).body())).get("CURRENCY");
        assertEquals(3, before.getLong("crmRows"), before.encode());
        assertEquals(0, before.getLong("coupled"), before.encode());
        assertEquals("FULL_SYNC", before.getString("recommendation"), before.encode());
        assertTrue(before.getString("reason").contains("alternate key isocurrencycode"), before.encode());
        JsonObject all = review(rt, "{}");
        Map<String, JsonObject> l = lines(all);
        JsonObject currency = l.get("CURRENCY");
        assertEquals("SUCCESS", currency.getJsonObject("toCrm").getString("status"), currency.encode());
        assertEquals(5, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CURRENCY' AND crm_id IS NOT NULL"));
        assertEquals(5, Integer.parseInt(new JsonObject(http("GET", crm.get().baseUrl() + "/__admin/sim/counts", null)
            .body()).getValue("transactioncurrencies").toString()), "three matched, two created, none duplicated");
        assertEquals("SUCCESS", l.get("CUSTOMER").getJsonObject("toCrm").getString("status"), l.get("CUSTOMER").encode());
        assertEquals(0, l.get("CUSTOMER").getJsonObject("toCrm").getJsonObject("counts").getLong("failed"));
        assertEquals("SKIPPED", l.get("SALESPEOPLE").getJsonObject("line").getString("status"));
        JsonObject contact = l.get("CONTACT").getJsonObject("line");
        assertEquals("HELD", contact.getString("status"), contact.encode());
        assertTrue(contact.getString("reason").contains("dependency SALESPEOPLE was skipped: couple first"),
            contact.encode());
        assertEquals(0, db.queryLong("SELECT count(*) FROM job WHERE kind = 'FULL_SYNC' AND mapping = 'CONTACT'"),
            "a held line runs no job");
        assertEquals("FAILED", all.getJsonObject("run").getString("status"), all.encode());
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
