package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Business Central online's price lists, with the items plugin installed: on the bc-online profile the prices plugin
 * declares PLHEADER-PRICE and PLLINE-PRODPRICE / PLLINE-RESPRICE instead of the legacy pair. The sales price lists
 * (price type Sale, amount type Price) become CRM price lists with their currency (empty: the local currency) and
 * dates; the discount and purchase lists stay in the ERP. Their item and resource lines with minimum quantity 0
 * become price list items with product, unit group, unit, currency and amount; quantity breaks stay in the ERP.
 * Second runs write nothing.
 */
class PriceListsIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar",
          "tandem.items.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject().put("localCurrencyCode", "USD"));

  @Test
  void salesPriceListsAndTheirLinesLandInTheCrm() throws Exception {
    assertEquals(404, tandem.api("GET", "/api/v1/mappings/SALESPRC-PRODPRICE", null).status(),
        "no legacy pricing on bc-online");
    assertEquals(404, tandem.api("GET", "/api/v1/mappings/CUSTPRCGRP-PRICE", null).status());
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed",
        "{\"seed\":21,\"counts\":{\"SalespersonPurchaser\":0,\"Item\":60,\"Resource\":5}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":21,\"counts\":{\"systemusers\":2}}");
    for (String m : List.of("CURRENCY", "PLHEADER-PRICE", "UNIT-OF-MEASURE", "UNIT-OF-MEASURE-BASE",
        "ITEM-PRODUCT", "RESOURCE-PRODUCT")) {
      tandem.syncSucceeded(m);
    }
    List<Map<String, Object>> headers = rows(erp.get().baseUrl(), "PriceListHeader");
    Set<String> sales = headers.stream().filter(h -> "Sale".equals(h.get("Price_Type"))
        && "Price".equals(h.get("Amount_Type"))).map(h -> (String) h.get("Code")).collect(Collectors.toSet());
    assertTrue(sales.size() < headers.size(), "discount and purchase price lists exist and are left out");
    Map<String, String> lists = tandem.coupledCrmIds("PLHEADER-PRICE");
    assertEquals(sales, lists.keySet());
    Map<String, String> currencies = tandem.coupledCrmIds("CURRENCY");
    Map<String, Map<String, Object>> levels = rows(crm.get().baseUrl(), "pricelevels").stream()
        .collect(Collectors.toMap(r -> (String) r.get("pricelevelid"), r -> r));
    for (Map<String, Object> h : headers) {
      if (!sales.contains((String) h.get("Code"))) {
        continue;
      }
      Map<String, Object> level = levels.get(lists.get((String) h.get("Code")));
      assertEquals(h.get("Code"), level.get("name"));
      String currency = "".equals(h.get("Currency_Code")) ? "USD" : (String) h.get("Currency_Code");
      assertEquals(currencies.get(currency), level.get("_transactioncurrencyid_value"), h.toString());
      assertEquals(h.get("Starting_Date"), level.get("begindate"));
      assertEquals("0001-01-01".equals(h.get("Ending_Date")) ? null : h.get("Ending_Date"), level.get("enddate"));
    }

    JsonObject items = tandem.syncSucceeded("PLLINE-PRODPRICE");
    JsonObject resources = tandem.syncSucceeded("PLLINE-RESPRICE");
    Map<String, String> products = tandem.coupledCrmIds("ITEM-PRODUCT");
    Map<String, String> services = tandem.coupledCrmIds("RESOURCE-PRODUCT");
    List<Map<String, Object>> lines = rows(erp.get().baseUrl(), "PriceListLine");
    List<Map<String, Object>> sold = lines.stream().filter(l -> sales.contains((String) l.get("Price_List_Code"))
        && new BigDecimal(String.valueOf(l.get("Minimum_Quantity"))).signum() == 0).toList();
    // Blocked items are not products: their lines fail, naming the item and ITEM-PRODUCT.
    List<Map<String, Object>> wanted = sold.stream().filter(l -> ("Item".equals(l.get("Asset_Type")) ? products
        : services).containsKey((String) l.get("Asset_No"))).toList();
    long blocked = sold.size() - wanted.size();
    assertTrue(blocked > 0 && wanted.size() > 20, wanted.size() + " lines of coupled products, " + blocked + " not");
    assertEquals(blocked, (long) items.getInteger("failed"), items.encode());
    assertEquals(0, resources.getInteger("failed"), resources.encode());
    for (Object o : tandem.api("GET", "/api/v1/errors?mapping=PLLINE-PRODPRICE&limit=100", null).json()
        .getJsonArray("errors")) {
      String message = ((JsonObject) o).getString("message");
      assertEquals("LOOKUP", ((JsonObject) o).getString("stage"), message);
      assertTrue(message.matches("ERP PriceListLine [0-9a-f-]{36}: Asset_No refers to I[0-9]+, which is "
          + "not coupled in mapping ITEM-PRODUCT: couple or synchronize ITEM-PRODUCT first"), message);
    }
    assertTrue(lines.stream().anyMatch(l -> sales.contains((String) l.get("Price_List_Code"))
        && new BigDecimal(String.valueOf(l.get("Minimum_Quantity"))).signum() > 0), "some quantity breaks");
    assertTrue(wanted.stream().anyMatch(l -> "Resource".equals(l.get("Asset_Type"))), "some resource lines");
    Map<String, Map<String, Object>> crmItems = rows(crm.get().baseUrl(), "productpricelevels").stream()
        .collect(Collectors.toMap(r -> (String) r.get("productpricelevelid"), r -> r));
    assertEquals(wanted.size(), crmItems.size(), "one price list item per sales line of minimum quantity 0");
    Map<String, String> coupledLines = tandem.coupledCrmIds("PLLINE-PRODPRICE");
    coupledLines.putAll(tandem.coupledCrmIds("PLLINE-RESPRICE"));
    Map<String, String> units = tandem.coupledCrmIds("UNIT-OF-MEASURE-BASE");
    Map<String, String> unitGroups = tandem.coupledCrmIds("UNIT-OF-MEASURE");
    for (Map<String, Object> l : wanted) {
      Map<String, Object> row = crmItems.get(coupledLines.get(((String) l.get("SystemId")).toLowerCase()));
      String what = "line " + l.get("Price_List_Code") + "/" + l.get("Line_No");
      assertTrue(row != null, what + " is a price list item");
      assertEquals(lists.get((String) l.get("Price_List_Code")), row.get("_pricelevelid_value"), what);
      Map<String, String> owner = "Item".equals(l.get("Asset_Type")) ? products : services;
      assertEquals(owner.get((String) l.get("Asset_No")), row.get("_productid_value"), what);
      assertEquals(units.get((String) l.get("Unit_of_Measure_Code")), row.get("_uomid_value"), what);
      assertEquals(unitGroups.get((String) l.get("Unit_of_Measure_Code")), row.get("_uomscheduleid_value"), what);
      String currency = "".equals(l.get("Currency_Code")) ? "USD" : (String) l.get("Currency_Code");
      assertEquals(currencies.get(currency), row.get("_transactioncurrencyid_value"), what);
      assertEquals(0, new BigDecimal(String.valueOf(l.get("Unit_Price")))
          .compareTo(new BigDecimal(String.valueOf(row.get("amount")))), what);
    }
    assertTrue(wanted.stream().anyMatch(l -> "EUR".equals(l.get("Currency_Code"))), "lines of the EUR lists");

    for (String m : List.of("PLHEADER-PRICE", "PLLINE-PRODPRICE", "PLLINE-RESPRICE")) {
      JsonObject again = tandem.syncSucceeded(m);
      assertEquals(0, again.getInteger("inserted") + again.getInteger("modified"), m + ": " + again.encode());
    }
  }
}
