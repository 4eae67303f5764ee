package dev.tandem.plugins.customers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The packaged plugin jar in a running node, against both simulators and a real PostgreSQL. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CustomersPluginIT {

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
        seed();
        return c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
            .withConnections(TandemExtension.connections(erp.get(), crm.get()));
      });

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static void seed() {
    try {
      post(erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":21,\"counts\":{\"SalespersonPurchaser\":0,"
          + "\"Customer\":100,\"Contact\":60}}");
      post(crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":21,\"counts\":{\"systemusers\":20}}");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String post(String url, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static String get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static int count(String simBase, String set) throws Exception {
    return ((Number) Json.object(get(simBase + "/__admin/sim/counts")).get(set)).intValue();
  }

  /** Runs a mapping through the admin API and waits for its job. */
  private static JsonObject sync(String mapping) throws Exception {
    JsonObject job = tandem.sync(mapping);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job;
  }

  @Test
  @Order(1)
  void thePluginsMappingsRunInDependencyOrder() throws Exception {
    JsonObject plugins = tandem.api("GET", "/api/v1/plugins", null).json();
    JsonObject plugin = plugins.getJsonArray("plugins").getJsonObject(0);
    assertEquals("customers", plugin.getString("id"));
    assertEquals("STARTED", plugin.getString("state"), plugin.encode());
    JsonObject customerMapping = tandem.api("GET", "/api/v1/mappings/CUSTOMER", null).json();
    assertTrue(customerMapping.getJsonArray("notes").getString(0).contains("optional dependency CURRENCY"),
        customerMapping.encode());

    JsonObject salespeople = sync("SALESPEOPLE");
    assertEquals(20, salespeople.getJsonObject("counts").getInteger("inserted"), salespeople.encode());
    assertEquals(20, count(erp.get().baseUrl(), "SalespersonPurchaser"));

    long blocked = Json.objects(Json.object(get(erp.get().baseUrl() + "/__admin/sim/rows/Customer?top=1000"))
        .get("rows")).stream().filter(c -> "All".equals(c.get("Blocked"))).count();
    for (String m : List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT")) {
      sync(m);
    }
    JsonObject customers = sync("CUSTOMER");
    assertEquals(100 - blocked, (long) customers.getJsonObject("counts").getInteger("inserted"), customers.encode());
    assertEquals(100 - blocked, (long) count(crm.get().baseUrl(), "accounts"));
    Map<String, Object> account = Json.objects(Json.object(get(crm.get().baseUrl()
        + "/__admin/sim/rows/accounts?top=1")).get("rows")).get(0);
    assertEquals(3, account.get("customertypecode"));
    assertTrue(account.get("paymenttermscode") != null && account.get("accountnumber") != null, account.toString());

    JsonObject contacts = sync("CONTACT");
    int created = contacts.getJsonObject("counts").getInteger("inserted");
    int failed = contacts.getJsonObject("counts").getInteger("failed");
    assertEquals(60, created + failed, contacts.encode());
    assertEquals(created, count(crm.get().baseUrl(), "contacts"));
    assertTrue(created > 40, "contacts of blocked customers fail with a lookup error; the rest go through: " + contacts);
  }

  @Test
  @Order(2)
  void aSecondRunChangesNothing() throws Exception {
    for (String m : List.of("SALESPEOPLE", "CUSTOMER", "CONTACT")) {
      JsonObject counts = sync(m).getJsonObject("counts");
      assertEquals(0, counts.getInteger("inserted") + counts.getInteger("modified"), m + ": " + counts.encode());
    }
    JsonObject couplings = tandem.api("GET", "/api/v1/couplings?mapping=CUSTOMER&limit=5", null).json();
    assertEquals(5, couplings.getJsonArray("couplings").size());
  }

  @Test
  @Order(3)
  void throttlingAndServerErrorsStillEndWithEveryRecordCorrect() throws Exception {
    // 30 customers change in the ERP, then 10% of CRM requests are throttled and 10% of ERP requests fail with 503.
    String auth = "Basic " + java.util.Base64.getEncoder().encodeToString((erp.get().options().user() + ":"
        + erp.get().options().accessKey()).getBytes());
    List<Map<String, Object>> customers = Json.objects(Json.object(get(erp.get().companyUrl()
        + "/Customer?$filter=" + java.net.URLEncoder.encode("Blocked eq ' '", java.nio.charset.StandardCharsets.UTF_8)
            .replace("+", "%20") + "&$top=30", auth)).get("value"));
    for (Map<String, Object> c : customers) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl() + "/Customer('"
          + c.get("No") + "')")).header("Authorization", auth).header("If-Match", (String) c.get("@odata.etag"))
          .header("Content-Type", "application/json").method("PATCH", HttpRequest.BodyPublishers.ofString(
              "{\"Phone_No\":\"+354 555 0" + c.get("No").toString().substring(1) + "\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
    }
    post(crm.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/api/data\",\"kind\":\"STATUS\","
        + "\"status\":429,\"retryAfterSeconds\":1,\"rate\":0.1}");
    post(erp.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/ODataV4\",\"kind\":\"STATUS\","
        + "\"status\":503,\"rate\":0.1}");
    try {
      JsonObject run = sync("CUSTOMER");
      assertEquals(30, run.getJsonObject("counts").getInteger("modified"), run.encode());
      assertEquals(0, run.getJsonObject("counts").getInteger("failed"), run.encode());
    } finally {
      HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl() + "/__admin/sim/faults")).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
      HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/faults")).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
    }
    List<Map<String, Object>> accounts = Json.objects(Json.object(get(crm.get().baseUrl()
        + "/__admin/sim/rows/accounts?top=1000")).get("rows"));
    for (Map<String, Object> c : customers) {
      Map<String, Object> account = accounts.stream().filter(a -> c.get("No").equals(a.get("accountnumber")))
          .findFirst().orElseThrow();
      assertEquals("+354 555 0" + c.get("No").toString().substring(1), account.get("telephone1"));
    }
    Map<String, Object> throttled = Json.object(get(crm.get().baseUrl() + "/__admin/sim/stats"));
    assertTrue(((Number) throttled.get("total")).intValue() > 0);
  }

  @Test
  @Order(4)
  void recordsWaitingForADependencyAreLoggedOnceRetriedFirstAndNeverSkipped() throws Exception {
    JsonObject errors = tandem.api("GET", "/api/v1/errors?mapping=CONTACT&limit=1000", null).json();
    JsonArray list = errors.getJsonArray("errors");
    assertTrue(list.size() > 0, errors.encode());
    JsonObject first = list.getJsonObject(0);
    // Contacts of blocked customers: their company is never coupled in CUSTOMER.
    assertTrue(first.getString("message").contains("which is not coupled in mapping CUSTOMER"), first.encode());
    assertTrue(first.getString("erpId").startsWith("CT"), first.encode());
    assertEquals("LOOKUP", first.getString("stage"), first.encode());
    assertEquals("DATA", first.getString("kind"), first.encode());
    assertEquals(list.size(), tandem.api("GET", "/api/v1/errors?mapping=CONTACT&stage=lookup&limit=1000", null)
        .json().getJsonArray("errors").size(), "the stage filter");
    assertEquals(0, tandem.api("GET", "/api/v1/errors?mapping=CONTACT&stage=WRITE", null).json()
        .getJsonArray("errors").size(), "none failed writing");
    assertEquals(400, tandem.api("GET", "/api/v1/errors?stage=SEND", null).status(), "an unknown stage");
    java.util.Set<String> waiting = new java.util.HashSet<>();
    list.forEach(e -> waiting.add(((JsonObject) e).getString("erpId")));
    assertEquals(list.size(), waiting.size(), "several runs, one open entry per record");
    assertEquals(0, tandem.api("GET", "/api/v1/couplings?mapping=CONTACT&skipped=true&limit=1000", null).json()
        .getJsonArray("couplings").size(), "waiting for a dependency is not a reason to skip");

    JsonObject again = sync("CONTACT").getJsonObject("counts");
    assertEquals(waiting.size(), (long) again.getInteger("failed"), "retried first in every run: " + again.encode());
    assertEquals(waiting.size(), tandem.api("GET", "/api/v1/errors?mapping=CONTACT&limit=1000", null).json()
        .getJsonArray("errors").size(), "and still one entry each");

    TandemExtension.ApiResponse retried = tandem.api("POST", "/api/v1/errors/retry-all?mapping=CONTACT", null);
    assertEquals(202, retried.status(), retried.body());
    assertEquals(waiting.size(), (long) retried.json().getInteger("retried"));
    JsonObject job = tandem.awaitJob(retried.json().getJsonArray("jobs").getJsonObject(0).getLong("jobId"));
    assertEquals(waiting.size(), (long) job.getJsonObject("counts").getInteger("failed"), job.encode());
    assertEquals(404, tandem.api("POST", "/api/v1/errors/999999/retry", null).status());
  }

  private static String get(String url, String auth) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }
}
