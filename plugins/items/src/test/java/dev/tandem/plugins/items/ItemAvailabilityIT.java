package dev.tandem.plugins.items;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Item Availability job on the bc-online profile: stock is posted as item ledger entries, which never move the
 * Item's SystemModifiedAt, so ITEM-PRODUCT does not see it; the job does, within one run, exactly once across lost
 * answers, and counts the items that have no coupled product.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ItemAvailabilityIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(Path.of(System.getProperty("tandem.plugin.jar")))
      .configure(c -> c.withSchedules(new TandemConfig.ScheduleSettings(false, 1000, 0, 30_000))
          .withConnections(TandemExtension.connections(erp.get(), crm.get()))
          // Retries after a few hundred milliseconds, so the lost-answer case does not wait 30 s.
          .withJobs(new TandemConfig.JobSettings(16, 32, 100, 60_000, 3_600_000, 10, 200, 1_000,
              7L * 24 * 3_600_000)));

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String JOB = "/api/v1/ledger-jobs/" + ItemMappings.ITEM_AVAILABILITY;



  private static JsonObject sync(String mapping) throws Exception {
    JsonObject job = tandem.sync(mapping);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job.getJsonObject("counts");
  }

  private static JsonObject availabilityRun() throws Exception {
    JsonObject job = tandem.runJob(JOB + "/run", new JsonObject());
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    assertEquals("LEDGER", job.getString("kind"), job.encode());
    return job;
  }

  private static Map<String, String> productsByItem() throws Exception {
    Map<String, String> out = new HashMap<>();
    tandem.api("GET", "/api/v1/couplings?mapping=" + ItemMappings.ITEM_PRODUCT + "&limit=5000", null).json()
        .getJsonArray("couplings").forEach(c -> out.put(((JsonObject) c).getString("erpId"),
            ((JsonObject) c).getString("crmId")));
    return out;
  }

  private static double quantityOnHand(String productId) throws Exception {
    Object q = rows(crm.get().baseUrl(), "products").stream().filter(p -> productId.equals(p.get("productid")))
        .findFirst().orElseThrow().get("quantityonhand");
    return q == null ? Double.NaN : ((Number) q).doubleValue();
  }

  private static double inventory(String itemNo) throws Exception {
    return ((Number) rows(erp.get().baseUrl(), "Item").stream().filter(i -> itemNo.equals(i.get("No"))).findFirst()
        .orElseThrow().get("Inventory")).doubleValue();
  }

  private static void post(String itemNo, double quantity) throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/stock", "{\"itemNo\":\"" + itemNo + "\",\"quantity\":"
        + quantity + "}");
  }

  private static long lastEntryNo() throws Exception {
    List<Map<String, Object>> entries = rows(erp.get().baseUrl(), "ItemLedgerEntries");
    return entries.stream().mapToLong(e -> ((Number) e.get("Entry_No")).longValue()).max().orElse(0);
  }

  @Test
  @Order(1)
  void theFirstRunGivesEveryCoupledProductItsInventory() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":4,\"counts\":{\"SalespersonPurchaser\":0,"
        + "\"Item\":40}}");
    sync(ItemMappings.UNIT_GROUP);
    sync(ItemMappings.BASE_UNIT);
    long products = sync(ItemMappings.ITEM_PRODUCT).getLong("inserted");
    assertTrue(products > 30, "most seeded items are not blocked: " + products);

    JsonObject before = tandem.api("GET", JOB, null).json();
    assertEquals(true, before.getBoolean("enabled"), before.encode());
    assertEquals(30, before.getJsonObject("schedule").getLong("intervalMs") / 1000, "every 30 s by default");
    assertEquals(null, before.getValue("lastEntryNo"), "not run yet");

    JsonObject job = availabilityRun();
    assertEquals(products, job.getJsonObject("counts").getLong("modified"), job.encode());
    Map<String, String> coupled = productsByItem();
    for (Map.Entry<String, String> e : coupled.entrySet()) {
      assertEquals(inventory(e.getKey()), quantityOnHand(e.getValue()), 1e-9, "product of item " + e.getKey());
    }
    JsonObject after = tandem.api("GET", JOB, null).json();
    assertEquals(lastEntryNo(), after.getLong("lastEntryNo"), "it starts at the newest entry: " + after.encode());
    assertEquals(0, after.getLong("pendingCouplings"));
    JsonObject again = availabilityRun().getJsonObject("counts");
    assertEquals(0, again.getLong("modified") + again.getLong("skipped") + again.getLong("failed"), again.encode());
  }

  @Test
  @Order(2)
  void aStockPostingShowsInTheProductWithinOneRunAndUncoupledItemsAreCounted() throws Exception {
    Map<String, String> coupled = productsByItem();
    List<String> items = coupled.keySet().stream().sorted().toList();
    // A blocked item: ITEM-PRODUCT filters it out, so it has no product.
    String blocked = "BLK-1";
    http("POST", erp.get().baseUrl() + "/__admin/sim/rows/Item", "{\"rows\":[{\"No\":\"" + blocked + "\","
        + "\"Description\":\"Old part\",\"Base_Unit_of_Measure\":\"PCS\",\"Blocked\":true}]}");
    post(items.get(0), 7);
    post(items.get(1), -3);
    post(items.get(0), 2);
    post(blocked, 5);
    // ITEM-PRODUCT does not see a posting: the items were not modified.
    JsonObject sync = sync(ItemMappings.ITEM_PRODUCT);
    assertEquals(0, sync.getLong("modified") + sync.getLong("inserted"), sync.encode());

    JsonObject job = availabilityRun();
    JsonObject counts = job.getJsonObject("counts");
    assertEquals(2, counts.getLong("modified"), "one write per item, however many entries: " + job.encode());
    assertEquals(1, counts.getLong("skipped"), "the blocked item has no product: " + job.encode());
    assertTrue(job.getString("message").contains("4 ItemLedgerEntries"), job.getString("message"));
    assertTrue(job.getString("message").contains("1 not coupled in ITEM-PRODUCT"), job.getString("message"));
    assertEquals(inventory(items.get(0)), quantityOnHand(coupled.get(items.get(0))), 1e-9);
    assertEquals(inventory(items.get(1)), quantityOnHand(coupled.get(items.get(1))), 1e-9);
    assertEquals(lastEntryNo(), tandem.api("GET", JOB, null).json().getLong("lastEntryNo"));
    String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(tandem.baseUrl() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.contains("tandem_ledger_records_total{job=\"ITEM-AVAILABILITY\",result=\"not_coupled\"}"),
        "metrics name the job");
    assertTrue(metrics.contains("tandem_ledger_entries_total{job=\"ITEM-AVAILABILITY\"}"));
  }

  @Test
  @Order(3)
  void aLostCrmAnswerLosesNoEntry() throws Exception {
    Map<String, String> coupled = productsByItem();
    List<String> items = coupled.keySet().stream().sorted().toList();
    long before = tandem.api("GET", JOB, null).json().getLong("lastEntryNo");
    for (int i = 0; i < 5; i++) {
      post(items.get(i), 10 + i);
    }
    // The CRM applies every batch but its answers are lost: the run cannot know its writes took effect.
    http("POST", crm.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"\\\\$batch\",\"method\":\"POST\","
        + "\"kind\":\"DROP_RESPONSE\",\"rate\":1.0}");
    long id;
    try {
      TandemExtension.ApiResponse r = tandem.api("POST", JOB + "/run", new JsonObject());
      assertEquals(202, r.status(), r.body());
      id = r.json().getLong("jobId");
      JsonObject job = null;
      for (int i = 0; i < 1200; i++) {
        job = tandem.api("GET", "/api/v1/jobs/" + id, null).json();
        if (job.getInteger("attempts") >= 1 && "QUEUED".equals(job.getString("status"))) {
          break;
        }
        Thread.sleep(100);
      }
      assertEquals("QUEUED", job.getString("status"), "the attempt failed and is retried: " + job.encode());
      assertEquals(before, tandem.api("GET", JOB, null).json().getLong("lastEntryNo"),
          "no position is stored for a page whose writes are not known to have landed");
    } finally {
      http("DELETE", crm.get().baseUrl() + "/__admin/sim/faults", null);
    }
    JsonObject done = tandem.awaitJob(id);
    assertEquals("SUCCEEDED", done.getString("status"), done.encode());
    assertEquals(5, done.getJsonObject("counts").getLong("modified"), "the page is sent again whole: " + done.encode());
    for (int i = 0; i < 5; i++) {
      assertEquals(inventory(items.get(i)), quantityOnHand(coupled.get(items.get(i))), 1e-9);
    }
    assertEquals(lastEntryNo(), tandem.api("GET", JOB, null).json().getLong("lastEntryNo"));
  }

  @Test
  @Order(4)
  void aProductCoupledAfterItsItemsPostingsStillGetsItsStock() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/rows/Item", "{\"rows\":[{\"No\":\"NEW-1\",\"Description\":"
        + "\"New bike\",\"Base_Unit_of_Measure\":\"PCS\",\"Inventory\":12}]}");
    post("NEW-1", 3);
    JsonObject first = availabilityRun().getJsonObject("counts");
    assertEquals(1, first.getLong("skipped"), "not coupled yet: " + first.encode());
    assertEquals(1, sync(ItemMappings.ITEM_PRODUCT).getLong("inserted"));
    assertEquals(1, tandem.api("GET", JOB, null).json().getLong("pendingCouplings"), "the new coupling is noted");
    JsonObject second = availabilityRun().getJsonObject("counts");
    assertEquals(1, second.getLong("modified"), second.encode());
    assertEquals(15, quantityOnHand(productsByItem().get("NEW-1")), 1e-9);
  }

  @Test
  @Order(5)
  void aDisabledJobDoesNotRun() throws Exception {
    TandemExtension.ApiResponse off = tandem.api("PATCH", JOB, new JsonObject().put("enabled", false));
    assertEquals(200, off.status(), off.body());
    assertEquals("DISABLED", off.json().getJsonObject("schedule").getString("state"));
    assertEquals(409, tandem.api("POST", JOB + "/run", new JsonObject()).status());
    assertEquals(400, tandem.api("PATCH", JOB, new JsonObject().put("intervalSeconds", 0)).status());
    TandemExtension.ApiResponse on = tandem.api("PATCH", JOB, new JsonObject().put("enabled", true)
        .put("intervalSeconds", 60));
    assertEquals(200, on.status(), on.body());
    assertEquals(60_000, on.json().getJsonObject("schedule").getLong("intervalMs"));
    assertEquals(404, tandem.api("GET", "/api/v1/ledger-jobs/NOPE", null).status());
  }
}
