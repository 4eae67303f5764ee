package dev.tandem.plugins.customers;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The full synchronization review of the customers plugin from an empty ERP salesperson table and an empty CRM:
 * SALESPEOPLE (CRM to ERP), then CUSTOMER, then CONTACT (ERP to CRM), each wave after the one it depends on, with
 * live progress on the event stream; and a run whose first wave fails holds the others, naming why.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FullSyncWavesIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(Path.of(System.getProperty("tandem.plugin.jar")))
      .againstSimulators(erp, crm);

  private static final HttpClient HTTP = HttpClient.newHttpClient();


  private static JsonObject endedRun() throws Exception {
    for (int i = 0; i < 1200; i++) {
      JsonObject review = tandem.api("GET", "/api/v1/full-sync?counts=false", null).json();
      JsonObject run = review.getJsonObject("run");
      if (run != null && !"RUNNING".equals(run.getString("status"))) {
        return review;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the full synchronization did not end");
  }

  private static Map<String, JsonObject> lines(JsonObject review) {
    Map<String, JsonObject> out = new HashMap<>();
    review.getJsonArray("lines").forEach(l -> out.put(((JsonObject) l).getString("mapping"), (JsonObject) l));
    return out;
  }

  @Test
  @Order(1)
  void wavesRunInDependencyOrderWithLiveProgress() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":17,\"counts\":{\"SalespersonPurchaser\":0,"
        + "\"Customer\":300,\"Contact\":200}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":17,\"counts\":{\"systemusers\":10}}");

    Map<String, JsonObject> before = lines(tandem.api("GET", "/api/v1/full-sync", null).json());
    assertEquals("FULL_SYNC", before.get("SALESPEOPLE").getString("recommendation"), before.toString());
    assertEquals("FROM_CRM", before.get("SALESPEOPLE").getString("direction"));
    assertEquals("TO_CRM", before.get("CUSTOMER").getString("direction"), "the CRM is empty: ERP to CRM");
    assertEquals("NOT_STARTED", before.get("CUSTOMER").getJsonObject("toCrm").getString("status"));
    assertEquals(List.of("SALESPEOPLE", "CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT"), before.get("CUSTOMER").getJsonArray("dependencies").getList());

    // The live stream, read from before the start.
    List<String> events = new CopyOnWriteArrayList<>();
    HttpResponse<java.io.InputStream> stream = HTTP.send(HttpRequest.newBuilder(URI.create(tandem.baseUrl()
        + "/api/v1/full-sync/events")).header("Authorization", "Bearer " + TandemExtension.TOKEN).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, stream.statusCode());
    assertEquals("text/event-stream", stream.headers().firstValue("Content-Type").orElse(""));
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          events.add(line);
        }
      } catch (Exception closed) {
        // the test closes the stream
      }
    });
    reader.setDaemon(true);
    reader.start();

    TandemExtension.ApiResponse started = tandem.api("POST", "/api/v1/full-sync/start", new JsonObject());
    assertEquals(202, started.status(), started.body());
    assertEquals(409, tandem.api("POST", "/api/v1/full-sync/start", new JsonObject()).status(),
        "refused while running");
    JsonObject review = endedRun();
    Map<String, JsonObject> l = lines(review);
    JsonObject sp = l.get("SALESPEOPLE").getJsonObject("fromCrm");
    JsonObject cu = l.get("CUSTOMER").getJsonObject("toCrm");
    JsonObject co = l.get("CONTACT").getJsonObject("toCrm");
    assertEquals("SUCCESS", sp.getString("status"), sp.encode());
    assertEquals("SUCCESS", cu.getString("status"), cu.encode());
    // The contacts of blocked customers (outside CUSTOMER's filter) refer to no account: they fail, so CONTACT is
    // no plain success, and neither is the run; the line says how many failed.
    List<Object> contactErrors = tandem.api("GET", "/api/v1/errors?mapping=CONTACT", null).json()
        .getJsonArray("errors").getList();
    long failed = co.getJsonObject("counts").getLong("failed");
    assertTrue(failed > 0 && failed == contactErrors.size(), co.encode() + " " + contactErrors);
    assertEquals("ERROR", co.getString("status"), co.encode());
    assertTrue(co.getString("reason").startsWith(failed + " of 200 records failed"), co.encode());
    assertEquals("PARTIAL", l.get("CONTACT").getJsonObject("line").getString("status"));
    assertEquals("FAILED", review.getJsonObject("run").getString("status"), review.encode());
    assertTrue(review.getJsonObject("run").getString("message").contains("1 with failed records"), review.encode());
    assertFalse(Instant.parse(cu.getString("startedAt")).isBefore(Instant.parse(sp.getString("finishedAt"))),
        "CUSTOMER waits for SALESPEOPLE");
    assertFalse(Instant.parse(co.getString("startedAt")).isBefore(Instant.parse(cu.getString("finishedAt"))),
        "CONTACT waits for CUSTOMER");
    assertTrue(cu.getJsonObject("counts").getLong("inserted") > 250, cu.encode());
    assertEquals(cu.getLong("estimated"), cu.getLong("done"), "every estimated customer handled: " + cu.encode());
    assertTrue(sp.getJsonObject("counts").getLong("inserted") > 0, sp.encode());
    long accounts = tandem.api("GET", "/api/v1/couplings?mapping=CUSTOMER&limit=5000", null).json()
        .getJsonArray("couplings").size();
    assertEquals(cu.getJsonObject("counts").getLong("inserted"), accounts, "each inserted account coupled once");

    for (int i = 0; i < 50 && events.stream().noneMatch(e -> e.contains("\"status\":\"FAILED\"")); i++) {
      Thread.sleep(100);
    }
    assertTrue(events.contains("event: page"), "per-page events: " + events.size());
    assertTrue(events.contains("event: progress"), "progress events");
    assertTrue(events.stream().anyMatch(e -> e.startsWith("data: ") && e.contains("\"IN_PROCESS\"")),
        "progress seen while running");
    stream.body().close();
  }

  @Test
  @Order(2)
  void aFailedWaveHoldsWhatDependsOnItAndSaysWhy() throws Exception {
    // The CRM refuses SALESPEOPLE's read (its first GET of systemusers is the review's count, the second the job's).
    http("POST", crm.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/systemusers\",\"method\":\"GET\","
        + "\"kind\":\"STATUS\",\"status\":400,\"nth\":2}");
    try {
      TandemExtension.ApiResponse started = tandem.api("POST", "/api/v1/full-sync/start", new JsonObject());
      assertEquals(202, started.status(), started.body());
      JsonObject review = endedRun();
      assertEquals("FAILED", review.getJsonObject("run").getString("status"), review.encode());
      Map<String, JsonObject> l = lines(review);
      assertEquals("ERROR", l.get("SALESPEOPLE").getJsonObject("fromCrm").getString("status"), review.encode());
      JsonObject customer = l.get("CUSTOMER").getJsonObject("line");
      assertEquals("HELD", customer.getString("status"), customer.encode());
      assertTrue(customer.getString("reason").startsWith("dependency SALESPEOPLE failed"), customer.encode());
      JsonObject contact = l.get("CONTACT").getJsonObject("line");
      assertEquals("HELD", contact.getString("status"), contact.encode());
      assertTrue(contact.getString("reason").contains("CUSTOMER"), contact.encode());
    } finally {
      http("DELETE", crm.get().baseUrl() + "/__admin/sim/faults", null);
    }
  }
}
