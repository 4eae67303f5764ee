package dev.tandem.plugins.items;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The items plugin against both simulators: units of measure become unit groups with their base units, items
 * and resources products with those defaults; an inventory change reaches the product's quantity on hand on the
 * Item Availability job's next run; availability is answered from the ERP, with 404 for an uncoupled product and 503 when the ERP
 * refuses.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ItemsPluginIT {

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




  private static JsonObject sync(String mapping) throws Exception {
    JsonObject job = tandem.sync(mapping);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job.getJsonObject("counts");
  }

  /** ERP key to CRM id of a mapping's couplings. */
  private static Map<String, String> couplings(String mapping) throws Exception {
    Map<String, String> out = new HashMap<>();
    tandem.api("GET", "/api/v1/couplings?mapping=" + mapping + "&limit=5000", null).json().getJsonArray("couplings")
        .forEach(c -> out.put(((JsonObject) c).getString("erpId"), ((JsonObject) c).getString("crmId")));
    return out;
  }

  private static String productOf(String itemNo) throws Exception {
    return couplings(ItemMappings.ITEM_PRODUCT).get(itemNo);
  }

  @Test
  @Order(1)
  void unitsItemsAndResourcesBecomeUnitGroupsAndProducts() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":9,\"counts\":{\"SalespersonPurchaser\":0,"
        + "\"Item\":60,\"Resource\":8}}");
    assertEquals(5, sync(ItemMappings.UNIT_GROUP).getLong("inserted"));
    // Dataverse created each group's base unit: UNIT-OF-MEASURE-BASE couples it instead of creating a second.
    JsonObject baseUnits = sync(ItemMappings.BASE_UNIT);
    assertEquals(0, baseUnits.getLong("inserted"), baseUnits.encode());
    assertEquals(5, baseUnits.getLong("coupled"), baseUnits.encode());
    Map<String, String> groups = couplings(ItemMappings.UNIT_GROUP);
    Map<String, String> units = couplings(ItemMappings.BASE_UNIT);
    List<Map<String, Object>> crmUnits = rows(crm.get().baseUrl(), "uoms");
    assertEquals(5, crmUnits.size(), "one unit per group");
    for (Map<String, Object> u : crmUnits) {
      String code = (String) u.get("name");
      assertEquals(groups.get(code), u.get("_uomscheduleid_value"), "the base unit " + code + " is in its group");
      assertEquals(units.get(code), u.get("uomid"), "the group's own base unit is coupled");
      assertEquals(true, u.get("isschedulebaseuom"));
    }
    for (Map<String, Object> g : rows(crm.get().baseUrl(), "uomschedules")) {
      assertEquals(g.get("name"), g.get("baseuomname"));
    }

    List<Map<String, Object>> items = rows(erp.get().baseUrl(), "Item");
    long open = items.stream().filter(i -> !Boolean.TRUE.equals(i.get("Blocked"))).count();
    assertTrue(open < items.size(), "the seed blocks some items");
    JsonObject counts = sync(ItemMappings.ITEM_PRODUCT);
    assertEquals(open, counts.getLong("inserted"), "blocked items are filtered out: " + counts.encode());
    assertEquals(8, sync(ItemMappings.RESOURCE_PRODUCT).getLong("inserted"));
    for (Map<String, Object> p : rows(crm.get().baseUrl(), "products")) {
      assertEquals(0, ((Number) p.get("statecode")).intValue(), "published (Active), not Draft: " + p);
      assertEquals(1, ((Number) p.get("statuscode")).intValue());
    }

    Map<String, Map<String, Object>> products = new HashMap<>();
    rows(crm.get().baseUrl(), "products").forEach(p -> products.put((String) p.get("productnumber"), p));
    assertEquals(open + 8, products.size());
    for (Map<String, Object> item : items) {
      Map<String, Object> p = products.get((String) item.get("No"));
      if (Boolean.TRUE.equals(item.get("Blocked"))) {
        assertEquals(null, p, "blocked item " + item.get("No") + " has no product");
        continue;
      }
      String unit = (String) item.get("Base_Unit_of_Measure");
      assertEquals(item.get("Description"), p.get("name"));
      assertEquals(((Number) item.get("Unit_Price")).doubleValue(), ((Number) p.get("price")).doubleValue(), 1e-9);
      assertEquals(1, ((Number) p.get("producttypecode")).intValue());
      assertEquals(groups.get(unit), p.get("_defaultuomscheduleid_value"), "unit group of " + item.get("No"));
      assertEquals(units.get(unit), p.get("_defaultuomid_value"), "unit of " + item.get("No"));
    }
    Map<String, Object> resource = products.get("R101");
    assertEquals(3, ((Number) resource.get("producttypecode")).intValue(), "a resource is a service product");
    assertEquals(units.get("HOUR"), resource.get("_defaultuomid_value"));
    JsonObject again = sync(ItemMappings.ITEM_PRODUCT);
    assertEquals(0, again.getLong("inserted") + again.getLong("modified"), again.encode());
  }

  @Test
  @Order(2)
  void anInventoryChangeReachesQuantityOnHandAndAvailabilityAnswersTheErpFigure() throws Exception {
    String itemNo = rows(erp.get().baseUrl(), "Item").stream().filter(i -> !Boolean.TRUE.equals(i.get("Blocked")))
        .findFirst().orElseThrow().get("No").toString();
    String product = productOf(itemNo);
    http("POST", erp.get().baseUrl() + "/__admin/sim/stock", "{\"itemNo\":\"" + itemNo + "\",\"inventory\":4242}");

    // On demand, before any run: the ERP's figure, read now.
    TandemExtension.ApiResponse now = tandem.api("GET", "/api/v1/availability/" + product, null);
    assertEquals(200, now.status(), now.body());
    assertEquals(4242, now.json().getInteger("inventory"));
    assertEquals(itemNo, now.json().getString("erpItemNo"));
    assertEquals(product, now.json().getString("crmProductId"));

    // A posting leaves the Item alone: ITEM-PRODUCT has nothing to do; the Item Availability job carries it.
    JsonObject counts = sync(ItemMappings.ITEM_PRODUCT);
    assertEquals(0, counts.getLong("modified"), counts.encode());
    JsonObject job = tandem.runJob("/api/v1/ledger-jobs/" + ItemMappings.ITEM_AVAILABILITY + "/run", new JsonObject());
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    Map<String, Object> p = rows(crm.get().baseUrl(), "products").stream()
        .filter(r -> product.equals(r.get("productid"))).findFirst().orElseThrow();
    assertEquals(4242, ((Number) p.get("quantityonhand")).intValue());
  }

  @Test
  @Order(3)
  void availabilityNamesWhatIsWrong() throws Exception {
    String unknown = UUID.randomUUID().toString();
    TandemExtension.ApiResponse notCoupled = tandem.api("GET", "/api/v1/availability/" + unknown, null);
    assertEquals(404, notCoupled.status(), notCoupled.body());
    assertTrue(notCoupled.body().contains(unknown) && notCoupled.body().contains("ITEM-PRODUCT"), notCoupled.body());
    assertEquals(400, tandem.api("GET", "/api/v1/availability/not-a-guid", null).status());

    String product = couplings(ItemMappings.ITEM_PRODUCT).values().iterator().next();
    http("POST", erp.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/Item\",\"method\":\"GET\","
        + "\"kind\":\"STATUS\",\"status\":401,\"rate\":1.0}");
    try {
      TandemExtension.ApiResponse down = tandem.api("GET", "/api/v1/availability/" + product, null);
      assertEquals(503, down.status(), down.body());
      assertTrue(down.body().contains(product) && down.body().contains("401"), down.body());
    } finally {
      http("DELETE", erp.get().baseUrl() + "/__admin/sim/faults", null);
    }
    assertEquals(200, tandem.api("GET", "/api/v1/availability/" + product, null).status(), "and back");
  }
}
