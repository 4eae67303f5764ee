package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ERP has EUR, USD, GBP, DKK and SEK; the CRM already has EUR, USD and GBP. CURRENCY couples the three the CRM
 * has (same ids, no duplicates) and creates the other two; CUSTPRCGRP-PRICE then makes a price list per customer
 * price group in the configured local currency (GBP here, not the default). Second runs change nothing.
 */
class CurrenciesThenPriceListsIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject().put("localCurrencyCode", "gbp"));

  @Test
  void currenciesAreCoupledOrCreatedThenPriceListsGetTheLocalCurrency() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":5,\"counts\":{}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":5,\"counts\":{}}");
    JsonObject prices = tandem.api("GET", "/api/v1/mappings/SALESPRC-PRODPRICE", null).json();
    assertEquals("DISABLED", prices.getString("state"), "without the items plugin: " + prices.encode());
    assertEquals("mapping SALESPRC-PRODPRICE depends on mapping ITEM-PRODUCT, which no installed plugin provides: "
        + "install the plugin that provides ITEM-PRODUCT", prices.getString("reason"));
    Map<String, String> before = isoToId();
    assertEquals(List.of("EUR", "GBP", "USD"), before.keySet().stream().sorted().toList());

    JsonObject first = tandem.syncSucceeded("CURRENCY");
    assertEquals(2, first.getInteger("inserted"), first.encode());
    assertEquals(3, first.getInteger("modified"), "the CRM's own rows are coupled through the upsert: " + first.encode());
    assertEquals(0, first.getInteger("failed"), first.encode());
    Map<String, String> after = isoToId();
    assertEquals(List.of("DKK", "EUR", "GBP", "SEK", "USD"), after.keySet().stream().sorted().toList(),
        "one CRM currency per ISO code");
    before.forEach((iso, id) -> assertEquals(id, after.get(iso), iso + " keeps its CRM id"));
    Map<String, String> coupled = tandem.coupledCrmIds("CURRENCY");
    assertEquals(5, coupled.size(), coupled.toString());
    coupled.forEach((code, id) -> assertEquals(after.get(code), id, "coupling of " + code));
    Map<String, Object> dkk = rows(crm.get().baseUrl(), "transactioncurrencies").stream()
        .filter(r -> "DKK".equals(r.get("isocurrencycode"))).findFirst().orElseThrow();
    assertEquals("Danish krone", dkk.get("currencyname"));
    assertEquals("kr.", dkk.get("currencysymbol"));
    assertEquals(2, ((Number) dkk.get("currencyprecision")).intValue());
    assertEquals(1.0, ((Number) dkk.get("exchangerate")).doubleValue());

    JsonObject again = tandem.syncSucceeded("CURRENCY");
    assertEquals(0, again.getInteger("inserted") + again.getInteger("modified") + again.getInteger("failed"),
        again.encode());

    JsonObject lists = tandem.syncSucceeded("CUSTPRCGRP-PRICE");
    assertEquals(3, lists.getInteger("inserted"), lists.encode());
    Map<String, Map<String, Object>> byName = rows(crm.get().baseUrl(), "pricelevels").stream()
        .collect(Collectors.toMap(r -> (String) r.get("name"), r -> r));
    assertEquals(List.of("EXPORT", "RETAIL", "WHOLESALE"), byName.keySet().stream().sorted().toList());
    assertEquals("Wholesale", byName.get("WHOLESALE").get("description"));
    byName.forEach((name, row) -> assertEquals(after.get("GBP"), row.get("_transactioncurrencyid_value"),
        "price list " + name + " is in the local currency"));
    assertEquals(Map.of("EXPORT", id(byName, "EXPORT"), "RETAIL", id(byName, "RETAIL"), "WHOLESALE",
        id(byName, "WHOLESALE")), tandem.coupledCrmIds("CUSTPRCGRP-PRICE"));

    JsonObject listsAgain = tandem.syncSucceeded("CUSTPRCGRP-PRICE");
    assertEquals(0, listsAgain.getInteger("inserted") + listsAgain.getInteger("modified"), listsAgain.encode());
    assertEquals(3, rows(crm.get().baseUrl(), "pricelevels").size());
  }

  private static String id(Map<String, Map<String, Object>> byName, String name) {
    return (String) byName.get(name).get("pricelevelid");
  }

  private static Map<String, String> isoToId() throws Exception {
    Map<String, String> out = new HashMap<>();
    for (Map<String, Object> r : rows(crm.get().baseUrl(), "transactioncurrencies")) {
      if (out.put((String) r.get("isocurrencycode"), (String) r.get("transactioncurrencyid")) != null) {
        throw new AssertionError("two CRM currencies with ISO code " + r.get("isocurrencycode"));
      }
    }
    return out;
  }
}
