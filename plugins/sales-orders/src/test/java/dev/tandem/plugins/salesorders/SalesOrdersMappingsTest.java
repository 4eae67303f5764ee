package dev.tandem.plugins.salesorders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.ChildMapping;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpKey;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import dev.tandem.api.Setting;
import dev.tandem.runtime.config.ReferenceDocs;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The definitions of SALESORDER-ORDER and SOLINE-ORDERDETAIL, the plugin's settings and its value rules. */
class SalesOrdersMappingsTest {

  @Test
  void submittedCrmOrdersBecomeErpSalesOrdersWithTheirLines() {
    MappingDefinition orders = SalesOrderMappings.orders();
    assertEquals("SALESORDER-ORDER", orders.name());
    assertEquals(List.of("Document_Type", "No"), orders.erpKeyFields());
    assertEquals("salesorders", orders.crmEntitySet());
    assertEquals(Direction.FROM_CRM, orders.direction());
    assertEquals("statecode eq 1", orders.crmFilter(), "submitted orders only");
    assertEquals(1, orders.children().size());
    ChildMapping lines = orders.children().get(0);
    assertEquals("SOLINE-ORDERDETAIL", lines.lines().name());
    assertEquals(List.of("Document_Type", "Document_No", "Line_No"), lines.lines().erpKeyFields());
    assertEquals("salesorderid", lines.crmParentColumn());
    ErpKey header = ErpKey.of(Map.of("Document_Type", "Order", "No", "ORD-1"));
    assertEquals("Document_Type eq 'Order' and Document_No eq 'ORD-1'", lines.filterOf(header));
    assertTrue(orders.dependencies().contains(MappingDependency.on("CUSTOMER")));
    assertTrue(orders.dependencies().contains(MappingDependency.on("ITEM-PRODUCT")));
    assertTrue(orders.dependencies().contains(MappingDependency.optional("RESOURCE-PRODUCT")));
    assertTrue(orders.schedule().getSeconds() <= 5, "a short poll, not the reference's 30 minutes");
  }

  @Test
  void theHeaderFieldsComeFromTheCrmOrder() {
    Map<String, String> byErp = new java.util.HashMap<>();
    SalesOrderMappings.orders().fields().forEach(f -> byErp.put(f.erpField(), f.crmField()));
    assertEquals("name", byErp.get("External_Document_No"));
    assertEquals("ordernumber", byErp.get("No"));
    assertEquals("ordernumber", byErp.get("Your_Reference"));
    assertEquals("requestdeliveryby", byErp.get("Requested_Delivery_Date"));
    assertEquals("shipto_line1", byErp.get("Ship_to_Address"));
    assertEquals("2027-01-15", SalesOrderMappings.DATE_ONLY.apply("2027-01-15T00:00:00Z"));
    assertNull(SalesOrderMappings.DATE_ONLY.apply(null));
  }

  @Test
  void theManualDiscountAmountIsALineDiscountPercent() {
    JsonObject line = new JsonObject().put("priceperunit", 12.5).put("quantity", 4).put("manualdiscountamount", 5);
    assertEquals(0, new BigDecimal("10").compareTo(OrderFieldMapper.discountPercent(line)));
    assertEquals(BigDecimal.ZERO, OrderFieldMapper.discountPercent(new JsonObject().put("priceperunit", 3)
        .put("quantity", 1)));
    assertEquals(BigDecimal.ZERO, OrderFieldMapper.discountPercent(new JsonObject().put("manualdiscountamount", 1)),
        "no price: nothing to take a percent of");
  }

  @Test
  void numbersAndEmptyTextCompareByValue() {
    assertTrue(OrderFieldMapper.same(2, 2.0));
    assertTrue(OrderFieldMapper.same(null, ""));
    assertFalse(OrderFieldMapper.same("A", "B"));
    assertFalse(OrderFieldMapper.same(10.5, 10.4));
  }

  @Test
  void theSettingsAreChecked() {
    List<Setting> declared = new SalesOrdersPlugin().settings();
    assertTrue(Setting.problems(declared, new JsonObject().put("writeInItem", "misc").put("localCurrencyCode", "eur"),
        "plugins.sales-orders", null).isEmpty());
    assertEquals(List.of("unknown key 'plugins.sales-orders.writeinItem': did you mean "
        + "'plugins.sales-orders.writeInItem'?"), Setting.problems(declared, new JsonObject().put("writeinItem", "X"),
            "plugins.sales-orders", null));
    assertEquals(List.of("plugins.sales-orders.writeInItem = '" + "X".repeat(21) + "' is not an ERP item number (1 to"
        + " 20 characters)"), Setting.problems(declared, new JsonObject().put("writeInItem", "X".repeat(21)),
            "plugins.sales-orders", null));
  }

  @Test
  void theOperationsGuideShowsTheSettings() throws Exception {
    String problem = ReferenceDocs.check(ReferenceDocs.find("docs/operations.md"), "plugins.sales-orders",
        Setting.markdown(new SalesOrdersPlugin().settings(), "plugins.sales-orders"),
        "mvn -o -B -pl plugins/sales-orders -am -Dtest=SalesOrdersMappingsTest -Dsurefire.failIfNoSpecifiedTests=false "
            + "-Dtandem.docs.update=true test");
    assertNull(problem, problem);
  }
}
