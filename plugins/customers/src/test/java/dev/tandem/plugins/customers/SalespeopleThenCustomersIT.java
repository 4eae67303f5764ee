package dev.tandem.plugins.customers;

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
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * 500 ERP customers of 10 salespeople, 20 CRM users: 9 salespeople coupled by hand, SALESPEOPLE then CUSTOMER.
 * Every account of a coupled salesperson carries its owner; customers of the uncoupled one fail with the message
 * that names the salesperson and the mapping to run first, while the others go through.
 */
class SalespeopleThenCustomersIT {

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




  private static String lastMessage;

  private static JsonObject sync(String mapping) throws Exception {
    JsonObject job = tandem.sync(mapping);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    lastMessage = job.getString("message");
    return job.getJsonObject("counts");
  }

  @Test
  void ownersFollowTheSalespeopleAndAnUncoupledOneIsNamed() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":31,\"counts\":{\"SalespersonPurchaser\":10,"
        + "\"Customer\":500}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":31,\"counts\":{\"systemusers\":20}}");
    List<String> users = rows(crm.get().baseUrl(), "systemusers").stream()
        .filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).map(u -> (String) u.get("systemuserid")).toList();
    Map<String, String> ownerOf = new HashMap<>();
    for (int i = 1; i <= 9; i++) {
      TandemExtension.ApiResponse r = tandem.api("POST", "/api/v1/couplings", new JsonObject()
          .put("mapping", "SALESPEOPLE").put("erpId", "SP" + i).put("crmId", users.get(i - 1)));
      assertEquals(201, r.status(), r.body());
      ownerOf.put("SP" + i, users.get(i - 1));
    }
    TandemExtension.ApiResponse twice = tandem.api("POST", "/api/v1/couplings", new JsonObject()
        .put("mapping", "SALESPEOPLE").put("erpId", "SP10").put("crmId", users.get(0)));
    assertEquals(409, twice.status(), "one-to-one: " + twice.body());

    JsonObject salespeople = sync("SALESPEOPLE");
    assertEquals(11, salespeople.getInteger("inserted"), salespeople.encode());

    List<Map<String, Object>> customers = rows(erp.get().baseUrl(), "Customer");
    long active = customers.stream().filter(c -> " ".equals(c.get("Blocked"))).count();
    long ofSp10 = customers.stream().filter(c -> " ".equals(c.get("Blocked")) && "SP10".equals(c.get("Salesperson_Code")))
        .count();
    for (String m : List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT")) {
      sync(m);
    }
    JsonObject counts = sync("CUSTOMER");
    assertEquals(active - ofSp10, (long) counts.getInteger("inserted"), counts.encode());
    assertEquals(ofSp10, (long) counts.getInteger("failed"), counts.encode());
    // The job's message sums it up in one line, as the dependency guard words it.
    assertTrue(lastMessage.contains("[LOOKUP] CUSTOMER: " + ofSp10 + " ERP Customer records refer through "
        + "Salesperson_Code to 1 records that are not coupled in SALESPEOPLE: SP10: couple SALESPEOPLE first"),
        lastMessage);
    JsonObject error = tandem.api("GET", "/api/v1/errors?mapping=CUSTOMER&limit=1", null).json()
        .getJsonArray("errors").getJsonObject(0);
    assertTrue(error.getString("message").contains("Salesperson_Code refers to SP10, which is not coupled in mapping "
        + "SALESPEOPLE: couple or synchronize SALESPEOPLE first"), error.encode());

    Map<String, String> salespersonOf = new HashMap<>();
    customers.forEach(c -> salespersonOf.put((String) c.get("No"), (String) c.get("Salesperson_Code")));
    int checked = 0;
    for (Map<String, Object> a : rows(crm.get().baseUrl(), "accounts")) {
      String sp = salespersonOf.get((String) a.get("accountnumber"));
      assertEquals(ownerOf.get(sp), a.get("_ownerid_value"), "owner of " + a.get("accountnumber"));
      checked++;
    }
    assertEquals(active - ofSp10, checked);
    JsonObject again = sync("CUSTOMER");
    assertEquals(0, again.getInteger("inserted") + again.getInteger("modified"), again.encode());
  }
}
