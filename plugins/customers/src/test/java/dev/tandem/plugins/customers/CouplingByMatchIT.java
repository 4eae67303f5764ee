package dev.tandem.plugins.customers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Match-based coupling end to end with the real plugin jar: 2,000 ERP customers against 2,050 CRM accounts, of
 * which 1,900 match on name and city (half of them in another letter case), 50 match two accounts each and 50 match
 * none. Coupling customers before their salespeople is refused with the salespeople named; after SALESPEOPLE is
 * coupled by match (e-mail), CUSTOMER couples exactly the 1,900 and logs the 100 others with their reason, and
 * nothing is written to either side. Then: counterparts for the uncoupled, bulk uncouple, re-couple with sync.
 */
class CouplingByMatchIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(Path.of(System.getProperty("tandem.plugin.jar")))
      .configure(c -> {
        ErpSimulator.Options o = erp.get().options();
        return c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000)).withConnections(new Connections(
            ODataErpSettings.of(erp.get().serviceRoot(), o.company(), o.user(), o.accessKey()),
            DataverseSettings.of(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync", "tandem-secret", null)));
      });

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final List<String> SALESPEOPLE = List.of("SPA", "SPB", "SPC", "SPD");

  private static Map<String, Object> http(String method, String url, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), url + ": " + r.body());
    return Json.object(r.body());
  }

  private static void insert(String base, String set, List<JsonObject> rows) throws Exception {
    http("POST", base + "/__admin/sim/rows/" + set, new JsonObject().put("rows", new JsonArray(rows)).encode());
  }

  private static List<Map<String, Object>> rows(String base, String set) throws Exception {
    return Json.objects(http("GET", base + "/__admin/sim/rows/" + set + "?top=10000", null).get("rows"));
  }

  private static JsonObject run(String path, JsonObject body) throws Exception {
    TandemExtension.ApiResponse r = tandem.api("POST", path, body);
    assertEquals(202, r.status(), r.body());
    long id = r.json().getLong("jobId");
    for (int i = 0; i < 1200; i++) {
      JsonObject job = tandem.api("GET", "/api/v1/jobs/" + id, null).json();
      if (List.of("SUCCEEDED", "FAILED").contains(job.getString("status"))) {
        return job;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job " + id + " did not end");
  }

  private static JsonObject succeeded(JsonObject job) {
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job.getJsonObject("counts");
  }

  private static Map<String, String> couplings(String mapping) throws Exception {
    Map<String, String> out = new HashMap<>();
    JsonArray list = tandem.api("GET", "/api/v1/couplings?mapping=" + mapping + "&limit=5000", null).json()
        .getJsonArray("couplings");
    list.forEach(c -> out.put(((JsonObject) c).getString("erpId"), ((JsonObject) c).getString("crmId")));
    return out;
  }

  @Test
  void couplesTheUniqueMatchesInDependencyOrderAndSaysWhyForTheOthers() throws Exception {
    String erpBase = erp.get().baseUrl();
    String crmBase = crm.get().baseUrl();
    List<JsonObject> sp = new ArrayList<>();
    List<JsonObject> users = new ArrayList<>();
    for (String code : SALESPEOPLE) {
      sp.add(new JsonObject().put("Code", code).put("Name", "Seller " + code).put("E_Mail", code + "@cronus.example"));
      // The CRM writes e-mail addresses in its own case: matching is case-insensitive by default.
      users.add(new JsonObject().put("firstname", "Seller").put("lastname", code).put("isdisabled", false)
          .put("islicensed", true).put("internalemailaddress", code.toLowerCase() + "@CRONUS.example"));
    }
    insert(erpBase, "SalespersonPurchaser", sp);
    insert(crmBase, "systemusers", users);
    List<JsonObject> customers = new ArrayList<>();
    List<JsonObject> accounts = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      String name = i < 1900 ? "Company " + i : i < 1950 ? "Twin " + i : "Lonely " + i;
      String city = "City " + (i % 37);
      customers.add(new JsonObject().put("No", "K" + (10000 + i)).put("Name", name).put("City", city)
          .put("E_Mail", "c" + i + "@erp.example").put("Salesperson_Code", SALESPEOPLE.get(i % 4)).put("Blocked", " "));
      if (i < 1900) {
        accounts.add(new JsonObject().put("name", i % 2 == 0 ? name.toUpperCase() : name).put("address1_city", city)
            .put("emailaddress1", "a" + i + "@crm.example"));
      } else if (i < 1950) {
        for (int twin = 0; twin < 2; twin++) {
          accounts.add(new JsonObject().put("name", name).put("address1_city", city)
              .put("emailaddress1", "t" + twin + "-" + i + "@crm.example"));
        }
      }
    }
    for (int i = 0; i < 50; i++) {
      accounts.add(new JsonObject().put("name", "Other " + i).put("address1_city", "Elsewhere"));
    }
    insert(erpBase, "Customer", customers);
    insert(crmBase, "accounts", accounts);
    Map<String, String> nameById = new HashMap<>();
    rows(crmBase, "accounts").forEach(a -> nameById.put((String) a.get("accountid"), (String) a.get("name")));
    assertEquals(2050, nameById.size());

    // Customers before salespeople: refused, naming the salespeople and the mapping to couple first.
    JsonObject early = run("/api/v1/mappings/CUSTOMER/couple-by-match", new JsonObject());
    assertEquals("FAILED", early.getString("status"), early.encode());
    assertEquals("LOOKUP", early.getString("errorStage"), early.encode());
    assertTrue(early.getString("message").contains("CUSTOMER: 2000 ERP Customer records refer through "
        + "Salesperson_Code to 4 records that are not coupled in SALESPEOPLE: SPA, SPB, SPC, SPD: couple SALESPEOPLE "
        + "first"), early.getString("message"));
    assertEquals(0, couplings("CUSTOMER").size(), "nothing coupled");

    JsonObject spCounts = succeeded(run("/api/v1/mappings/SALESPEOPLE/couple-by-match", new JsonObject()));
    assertEquals(4, spCounts.getInteger("coupled"), spCounts.encode());

    JsonObject job = run("/api/v1/mappings/CUSTOMER/couple-by-match", new JsonObject());
    JsonObject counts = succeeded(job);
    assertEquals(1900, counts.getInteger("coupled"), job.encode());
    assertEquals(100, counts.getInteger("skipped"), job.encode());
    assertEquals(0, counts.getInteger("inserted") + counts.getInteger("modified") + counts.getInteger("failed"));
    Map<String, String> coupled = couplings("CUSTOMER");
    assertEquals(1900, coupled.size());
    for (int i = 0; i < 1900; i++) {
      String crmId = coupled.get("K" + (10000 + i));
      assertTrue(("Company " + i).equalsIgnoreCase(nameById.get(crmId)), "K" + (10000 + i) + " -> " + crmId);
    }
    long jobId = job.getLong("id");
    JsonObject recs = tandem.api("GET", "/api/v1/jobs/" + jobId + "/records?result=ambiguous&limit=50", null).json();
    assertEquals(new JsonObject().put("coupled", 1900L).put("ambiguous", 50L).put("no_match", 50L),
        recs.getJsonObject("counts"));
    JsonObject twin = recs.getJsonArray("records").getJsonObject(0);
    assertTrue(twin.getString("erpId").compareTo("K11900") >= 0 && twin.getString("erpId").compareTo("K11950") < 0,
        twin.encode());
    assertTrue(twin.getString("reason").startsWith("2 uncoupled CRM accounts records match on Name+City (priority 1)"),
        twin.encode());
    JsonObject lonely = tandem.api("GET", "/api/v1/jobs/" + jobId + "/records?result=no_match&limit=1", null).json()
        .getJsonArray("records").getJsonObject(0);
    assertEquals("no uncoupled CRM accounts records match on Name+City (priority 1), then E_Mail (priority 2)",
        lonely.getString("reason"), lonely.encode());
    assertTrue(lonely.getString("erpId").compareTo("K11950") >= 0, lonely.encode());
    // Nothing synchronized: the CRM keeps its own spelling, no row was added on either side.
    rows(crmBase, "accounts").forEach(a -> assertEquals(nameById.get(a.get("accountid")), a.get("name")));
    assertEquals(2000, rows(erpBase, "Customer").size());

    // The 100 uncoupled ones get counterparts.
    JsonObject created = succeeded(run("/api/v1/mappings/CUSTOMER/create-counterparts", new JsonObject()));
    assertEquals(100, created.getInteger("coupled"), created.encode());
    assertEquals(100, created.getInteger("inserted"), created.encode());
    assertEquals(2150, rows(crmBase, "accounts").size());
    assertEquals(2000, couplings("CUSTOMER").size());

    // Bulk uncouple ten, couple them again with "synchronize right after": the ERP's spelling goes to the CRM.
    List<Long> ids = new ArrayList<>();
    JsonArray first = tandem.api("GET", "/api/v1/couplings?mapping=CUSTOMER&limit=10", null).json()
        .getJsonArray("couplings");
    List<String> erpIds = new ArrayList<>();
    first.forEach(c -> {
      ids.add(((JsonObject) c).getLong("id"));
      erpIds.add(((JsonObject) c).getString("erpId"));
    });
    JsonObject un = succeeded(run("/api/v1/mappings/CUSTOMER/uncouple", new JsonObject().put("ids", new JsonArray(ids))));
    assertEquals(10, un.getInteger("uncoupled"), un.encode());
    JsonObject again = run("/api/v1/mappings/CUSTOMER/couple-by-match", new JsonObject().put("syncAfter", true));
    JsonObject againCounts = succeeded(again);
    assertEquals(10, againCounts.getInteger("coupled"), again.encode());
    assertEquals(1990, againCounts.getInteger("unchanged"), "coupled already: " + again.encode());
    Map<String, String> now = couplings("CUSTOMER");
    // Each re-coupled account takes the customer's values (number, owner, e-mail, and the name where it differs).
    assertEquals(10, againCounts.getInteger("modified"), again.encode());
    Map<String, Object> crmRows = new HashMap<>();
    rows(crmBase, "accounts").forEach(a -> crmRows.put((String) a.get("accountid"), a.get("name")));
    for (String k : erpIds) {
      assertEquals("Company " + (Integer.parseInt(k.substring(1)) - 10000), crmRows.get(now.get(k)), k);
    }

    JsonObject all = succeeded(run("/api/v1/mappings/CUSTOMER/uncouple", new JsonObject().put("all", true)));
    assertEquals(2000, all.getInteger("uncoupled"), all.encode());
    assertEquals(0, couplings("CUSTOMER").size());
    assertEquals(400, tandem.api("POST", "/api/v1/mappings/CUSTOMER/uncouple", new JsonObject()).status());
    assertEquals(400, tandem.api("POST", "/api/v1/mappings/CUSTOMER/couple-by-match",
        new JsonObject().put("sideways", true)).status());
    assertEquals(404, tandem.api("POST", "/api/v1/mappings/NOPE/couple-by-match", new JsonObject()).status());
  }
}
