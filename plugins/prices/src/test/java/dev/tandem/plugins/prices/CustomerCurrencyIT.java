package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * With the prices plugin installed next to the customers plugin, CUSTOMER's optional dependency on CURRENCY is met:
 * its Currency_Code lookup is switched on, and each account gets the transaction currency of its customer.
 */
class CustomerCurrencyIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar",
          "tandem.customers.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject());

  @Test
  void accountsGetTheirCustomersCurrency() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed",
        "{\"seed\":8,\"counts\":{\"SalespersonPurchaser\":0,\"Customer\":80}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":8,\"counts\":{\"systemusers\":2}}");
    JsonObject customer = tandem.api("GET", "/api/v1/mappings/CUSTOMER", null).json();
    JsonArray notes = customer.getJsonArray("notes", new JsonArray());
    assertTrue(notes.stream().noneMatch(n -> String.valueOf(n).contains("CURRENCY")), customer.encode());

    tandem.syncSucceeded("CURRENCY");
    tandem.syncSucceeded("SALESPEOPLE");
    for (String m : List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT")) {
      tandem.syncSucceeded(m);
    }
    JsonObject counts = tandem.syncSucceeded("CUSTOMER");
    assertEquals(0, counts.getInteger("failed"), counts.encode());

    Map<String, String> currencyId = new HashMap<>();
    rows(crm.get().baseUrl(), "transactioncurrencies").forEach(r -> currencyId.put((String) r.get("isocurrencycode"),
        (String) r.get("transactioncurrencyid")));
    Map<String, String> currencyOf = new HashMap<>();
    rows(erp.get().baseUrl(), "Customer").forEach(c -> currencyOf.put((String) c.get("No"),
        (String) c.get("Currency_Code")));
    int foreign = 0;
    int checked = 0;
    for (Map<String, Object> a : rows(crm.get().baseUrl(), "accounts")) {
      String code = currencyOf.get((String) a.get("accountnumber"));
      if (code == null || code.isEmpty()) {
        assertEquals(null, a.get("_transactioncurrencyid_value"), "no currency for " + a.get("accountnumber"));
      } else {
        assertEquals(currencyId.get(code), a.get("_transactioncurrencyid_value"), "currency of " + a.get("accountnumber"));
        foreign++;
      }
      checked++;
    }
    assertEquals((long) counts.getInteger("inserted"), checked);
    assertTrue(foreign > 10, "enough customers with a currency: " + foreign);
  }
}
