package dev.tandem.runtime.coupling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generic coupling verticle on a plugin that brings none: match with per-field case sensitivity, priorities,
 * create-if-no-match, matching driven by the CRM side (one-to-one both ways), a refused create in a direction the
 * mapping does not synchronize, and a CRM read failing once on the way.
 */
class GenericCouplingIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = """
      package test.matching;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Matching implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(
              MappingDefinition.builder("CURRENCIES")
                  .erp("Currency", "Code").crm("transactioncurrencies", "transactioncurrencyid")
                  .direction(Direction.TO_CRM)
                  .field("Code", "isocurrencycode", Direction.TO_CRM)
                  .field("Description", "currencyname", Direction.TO_CRM)
                  .field("Symbol", "currencysymbol", Direction.TO_CRM)
                  .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
                  .field(FieldMapping.of(null, "currencyprecision", Direction.TO_CRM).withConstant(2))
                  .match(MatchField.of("Code", "isocurrencycode", 1))
                  .match(MatchField.of("Description", "currencyname", 2))
                  .build(),
              MappingDefinition.builder("NOMATCH")
                  .erp("UnitOfMeasure", "Code").crm("uoms", "uomid").direction(Direction.TO_CRM)
                  .field("Code", "name", Direction.TO_CRM).build());
        }
      }
      """;

  private static String http(String method, String url, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  private static JsonObject api(TandemRuntime rt, String method, String path, String body) throws Exception {
    String r = http(method, "http://localhost:" + rt.httpPort() + path, body, TestRuntimes.TOKEN);
    return new JsonObject(r.substring(r.indexOf(' ') + 1)).put("_status", Integer.parseInt(r.substring(0, 3)));
  }

  private static JsonObject run(TandemRuntime rt, TestDatabase db, String path, String body) throws Exception {
    JsonObject accepted = api(rt, "POST", path, body);
    assertEquals(202, accepted.getInteger("_status"), accepted.encode());
    long id = accepted.getLong("jobId");
    TestRuntimes.await("job " + id + " ended", 30_000, () -> !List.of("queued", "running").contains(
        db.queryString("SELECT status FROM job WHERE id = " + id)));
    return api(rt, "GET", "/api/v1/jobs/" + id, null);
  }

  private static Map<String, String> records(TandemRuntime rt, long job, String key) throws Exception {
    Map<String, String> out = new HashMap<>();
    api(rt, "GET", "/api/v1/jobs/" + job + "/records?limit=100", null).getJsonArray("records")
        .forEach(o -> out.put(((JsonObject) o).getString(key), ((JsonObject) o).getString("result")));
    return out;
  }

  @Test
  void matchesCreatesAndRefusesWhatTheMappingCannotDo(@TempDir Path work) throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":1,\"counts\":{}}", null);
    JsonArray currencies = new JsonArray();
    for (String[] c : new String[][] {{"eur", "Euro (CRM)"}, {"USD", "Dollar"}, {"GB", "Pound sterling"},
        {"DK1", "Danish krone"}, {"DK2", "Danish krone"}}) {
      currencies.add(new JsonObject().put("isocurrencycode", c[0]).put("currencyname", c[1])
          .put("currencysymbol", "¤").put("exchangerate", 1.0).put("currencyprecision", 2));
    }
    assertTrue(http("POST", crm.get().baseUrl() + "/__admin/sim/rows/transactioncurrencies",
        new JsonObject().put("rows", currencies).encode(), null).startsWith("200"));
    // The first read of the CRM currencies fails: the job goes on (retried) and still couples exactly once.
    assertTrue(http("POST", crm.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"transactioncurrencies\","
        + "\"method\":\"GET\",\"kind\":\"STATUS\",\"status\":503,\"nth\":1}", null).startsWith("2"));
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "matching", null, Map.of("test.matching.Matching", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          // No scheduled syncs: only the coupling jobs touch the couplings.
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000)));
      try {
        JsonObject exact = run(rt, db, "/api/v1/mappings/CURRENCIES/couple-by-match", "{\"caseSensitive\":[\"Code\"]}");
        assertEquals("SUCCEEDED", exact.getString("status"), exact.encode());
        assertEquals(2, exact.getJsonObject("counts").getInteger("coupled"), exact.encode());
        assertEquals(3, exact.getJsonObject("counts").getInteger("skipped"), exact.encode());
        assertEquals(Map.of("USD", "coupled", "GBP", "coupled", "EUR", "no_match", "DKK", "ambiguous", "SEK",
            "no_match"), records(rt, exact.getLong("id"), "erpId"));
        assertEquals(1, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CURRENCIES' AND erp_id = 'GBP'"));

        JsonObject created = run(rt, db, "/api/v1/mappings/CURRENCIES/couple-by-match", "{\"createIfNoMatch\":true}");
        assertEquals("SUCCEEDED", created.getString("status"), created.encode());
        JsonObject counts = created.getJsonObject("counts");
        assertEquals(2, counts.getInteger("coupled"), "EUR matched case-insensitively, SEK created: " + created.encode());
        assertEquals(1, counts.getInteger("inserted"), created.encode());
        assertEquals(1, counts.getInteger("skipped"), "DKK stays ambiguous: " + created.encode());
        assertEquals(2, counts.getInteger("unchanged"), "USD and GBP were coupled already");
        long job = created.getLong("id");
        JsonObject sek = api(rt, "GET", "/api/v1/jobs/" + job + "/records?result=created", null);
        assertEquals("SEK", sek.getJsonArray("records").getJsonObject(0).getString("erpId"), sek.encode());
        String crmCounts = http("GET", crm.get().baseUrl() + "/__admin/sim/counts", null, null);
        assertEquals(6, new JsonObject(crmCounts.substring(4)).getInteger("transactioncurrencies"), crmCounts);

        // Driven by the CRM: both Danish krone rows match the one uncoupled DKK, so neither couples.
        JsonObject fromCrm = run(rt, db, "/api/v1/mappings/CURRENCIES/couple-by-match", "{\"side\":\"CRM\"}");
        assertEquals("SUCCEEDED", fromCrm.getString("status"), fromCrm.encode());
        assertEquals(0, fromCrm.getJsonObject("counts").getInteger("coupled"), fromCrm.encode());
        JsonArray contested = api(rt, "GET", "/api/v1/jobs/" + fromCrm.getLong("id") + "/records?result=ambiguous",
            null).getJsonArray("records");
        assertEquals(2, contested.size(), contested.encode());
        assertTrue(contested.getJsonObject(0).getString("reason").startsWith("the only match on priority 2, DKK, "
            + "matches 1 other record too"), contested.encode());
        // A CRM row's candidates are ERP keys, kept with the result so a person can pick one.
        assertEquals(new JsonArray().add("DKK"), contested.getJsonObject(0).getJsonArray("candidates"),
            contested.encode());
        JsonArray dkk = api(rt, "GET", "/api/v1/jobs/" + exact.getLong("id") + "/records?result=ambiguous", null)
            .getJsonArray("records");
        assertEquals(2, dkk.getJsonObject(0).getJsonArray("candidates").size(), "both CRM rows: " + dkk.encode());

        JsonObject wrongWay = run(rt, db, "/api/v1/mappings/CURRENCIES/create-counterparts", "{\"side\":\"CRM\"}");
        assertEquals("FAILED", wrongWay.getString("status"), wrongWay.encode());
        assertTrue(wrongWay.getString("message").contains("mapping CURRENCIES synchronizes TO_CRM: it does not "
            + "create ERP records"), wrongWay.encode());

        assertEquals(409, api(rt, "POST", "/api/v1/mappings/NOMATCH/couple-by-match", "{}").getInteger("_status"));
        assertEquals(400, api(rt, "POST", "/api/v1/mappings/CURRENCIES/couple-by-match",
            "{\"caseSensitive\":[\"Nope\"]}").getInteger("_status"));
        assertEquals(400, api(rt, "POST", "/api/v1/mappings/CURRENCIES/create-counterparts",
            "{\"records\":[]}").getInteger("_status"));
        assertEquals(400, api(rt, "GET", "/api/v1/jobs/" + job + "/records?result=odd", null).getInteger("_status"));
        // Selected records: a coupled one is reported and left alone.
        JsonObject selected = run(rt, db, "/api/v1/mappings/CURRENCIES/create-counterparts",
            "{\"records\":[\"USD\"]}");
        assertEquals("SUCCEEDED", selected.getString("status"), selected.encode());
        assertEquals(Map.of("USD", "taken"), records(rt, selected.getLong("id"), "erpId"));
        assertEquals(4, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CURRENCIES'"));
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
