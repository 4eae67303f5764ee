package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sales prices of customer price groups, with the items plugin installed: after CURRENCY, CUSTPRCGRP-PRICE and the
 * items plugin's units and products, every price whose item is coupled lands as a price list item in its group's
 * price list, with its product, unit group, unit, amount and currency (EUR prices in EUR, empty-currency ones in
 * the local currency USD). The prices of an item that is not coupled fail with the engine's message naming the item
 * and ITEM-PRODUCT; once it is coupled, they are read again by their SystemId and go through.
 *
 * <p>The items plugin's jar comes from the reactor build ({@code tandem.items.jar}, set by the module's failsafe
 * configuration).
 */
class SalesPricesIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar",
          "tandem.items.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject().put("localCurrencyCode", "USD"));

  @Test
  void pricesLandInTheirPriceListsInTheirCurrency() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed",
        "{\"seed\":12,\"counts\":{\"SalespersonPurchaser\":0,\"Item\":60}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":12,\"counts\":{\"systemusers\":2}}");
    for (String m : List.of("CURRENCY", "CUSTPRCGRP-PRICE", "UNIT-OF-MEASURE", "UNIT-OF-MEASURE-BASE",
        "ITEM-PRODUCT")) {
      tandem.syncSucceeded(m);
    }
    Map<String, String> products = tandem.coupledCrmIds("ITEM-PRODUCT");
    List<Map<String, Object>> prices = rows(erp.get().baseUrl(), "SalesPrice").stream()
        .filter(p -> "Customer Price Group".equals(p.get("Sales_Type"))).toList();
    assertTrue(prices.stream().anyMatch(p -> "EUR".equals(p.get("Currency_Code"))), "some prices in EUR");
    assertTrue(prices.stream().anyMatch(p -> "".equals(p.get("Currency_Code"))), "some in the local currency");
    // One coupled item with prices is uncoupled: its prices must fail, naming it.
    String item = prices.stream().map(p -> (String) p.get("Item_No")).filter(products::containsKey).findFirst()
        .orElseThrow();
    String product = products.get(item);
    JsonObject coupling = tandem.api("GET", "/api/v1/couplings?mapping=ITEM-PRODUCT&erpId=" + item, null).json()
        .getJsonArray("couplings").getJsonObject(0);
    assertEquals(204, tandem.api("DELETE", "/api/v1/couplings/" + coupling.getLong("id"), null).status());
    products.remove(item);
    long expected = prices.stream().filter(p -> products.containsKey((String) p.get("Item_No"))).count();
    long notCoupled = prices.size() - expected;
    assertTrue(notCoupled > 0 && expected > 10, expected + " coupled, " + notCoupled + " not");

    JsonObject first = tandem.syncSucceeded("SALESPRC-PRODPRICE");
    assertEquals(expected, (long) first.getInteger("inserted"), first.encode());
    assertEquals(notCoupled, (long) first.getInteger("failed"), first.encode());
    JsonArray errors = tandem.api("GET", "/api/v1/errors?mapping=SALESPRC-PRODPRICE&limit=100", null).json()
        .getJsonArray("errors");
    assertEquals(notCoupled, errors.size(), errors.encode());
    for (Object o : errors) {
      String message = ((JsonObject) o).getString("message");
      assertEquals("LOOKUP", ((JsonObject) o).getString("stage"), message);
      assertTrue(message.matches("ERP SalesPrice [0-9a-f-]{36}: Item_No refers to " + item
          + ", which is not coupled in mapping ITEM-PRODUCT: couple or synchronize ITEM-PRODUCT first"), message);
    }
    checkPriceListItems(prices, products, expected);

    // Coupled again: the failed prices are read again by their SystemId and go through.
    assertEquals(201, tandem.api("POST", "/api/v1/couplings", new JsonObject().put("mapping", "ITEM-PRODUCT")
        .put("erpId", item).put("crmId", product)).status());
    products.put(item, product);
    JsonObject retried = tandem.syncSucceeded("SALESPRC-PRODPRICE");
    assertEquals(notCoupled, (long) retried.getInteger("inserted"), retried.encode());
    assertEquals(0, retried.getInteger("failed"), retried.encode());
    checkPriceListItems(prices, products, prices.size());

    JsonObject again = tandem.syncSucceeded("SALESPRC-PRODPRICE");
    assertEquals(0, again.getInteger("inserted") + again.getInteger("modified") + again.getInteger("failed"),
        again.encode());
  }

  private static void checkPriceListItems(List<Map<String, Object>> prices, Map<String, String> products,
      long expected) throws Exception {
    Map<String, String> priceLists = tandem.coupledCrmIds("CUSTPRCGRP-PRICE");
    Map<String, String> currencies = tandem.coupledCrmIds("CURRENCY");
    Map<String, String> unitGroups = tandem.coupledCrmIds("UNIT-OF-MEASURE");
    Map<String, String> units = tandem.coupledCrmIds("UNIT-OF-MEASURE-BASE");
    Map<String, String> coupled = tandem.coupledCrmIds("SALESPRC-PRODPRICE");
    assertEquals(expected, coupled.size());
    assertNotEquals(currencies.get("EUR"), currencies.get("USD"));
    Map<String, Map<String, Object>> items = rows(crm.get().baseUrl(), "productpricelevels").stream()
        .collect(Collectors.toMap(r -> (String) r.get("productpricelevelid"), r -> r));
    assertEquals(expected, items.size(), "one price list item per coupled price, no duplicates");
    Map<String, Integer> inEur = new HashMap<>();
    for (Map<String, Object> p : prices) {
      String crmId = coupled.get(((String) p.get("SystemId")).toLowerCase());
      if (!products.containsKey((String) p.get("Item_No"))) {
        continue;
      }
      Map<String, Object> row = items.get(crmId);
      String what = "price " + p.get("Item_No") + "/" + p.get("Sales_Code") + "/" + p.get("Currency_Code");
      assertTrue(row != null, what + " is a price list item");
      assertEquals(priceLists.get((String) p.get("Sales_Code")), row.get("_pricelevelid_value"), what);
      assertEquals(products.get((String) p.get("Item_No")), row.get("_productid_value"), what);
      assertEquals(units.get((String) p.get("Unit_of_Measure_Code")), row.get("_uomid_value"), what);
      assertEquals(unitGroups.get((String) p.get("Unit_of_Measure_Code")), row.get("_uomscheduleid_value"), what);
      String currency = "".equals(p.get("Currency_Code")) ? "USD" : (String) p.get("Currency_Code");
      assertEquals(currencies.get(currency), row.get("_transactioncurrencyid_value"), what);
      assertEquals(0, new BigDecimal(String.valueOf(p.get("Unit_Price")))
          .compareTo(new BigDecimal(String.valueOf(row.get("amount")))), what);
      inEur.merge(currency, 1, Integer::sum);
    }
    assertTrue(inEur.getOrDefault("EUR", 0) > 0 && inEur.getOrDefault("USD", 0) > 0, inEur.toString());
  }
}
