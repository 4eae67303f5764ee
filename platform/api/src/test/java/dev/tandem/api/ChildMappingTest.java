package dev.tandem.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChildMappingTest {

  private static MappingDefinition lines() {
    return MappingDefinition.builder("LINES").erpKey("SalesOrderLine", "Document_Type", "Document_No", "Line_No")
        .crm("salesorderdetails", "salesorderdetailid").direction(Direction.FROM_CRM)
        .field("Line_No", "lineitemnumber", Direction.FROM_CRM).build();
  }

  private static Map<String, String> parent() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("Document_Type", "Document_Type");
    p.put("Document_No", "No");
    return p;
  }

  private static MappingDefinition.Builder header() {
    return MappingDefinition.builder("ORDERS").erpKey("SalesOrder", "Document_Type", "No")
        .crm("salesorders", "salesorderid").direction(Direction.FROM_CRM);
  }

  @Test
  void aHeaderDeclaresItsLinesWithTheParentKey() {
    MappingDefinition def = header().child(lines(), parent(), "salesorderid").build();
    assertEquals(List.of("Document_Type", "No"), def.erpKeyFields());
    assertTrue(def.compositeErpKey());
    ChildMapping c = def.children().get(0);
    Map<String, Object> head = new LinkedHashMap<>();
    head.put("Document_Type", "Order");
    head.put("No", "SO'1");
    ErpKey header = ErpKey.of(head);
    assertEquals("Document_Type eq 'Order' and Document_No eq 'SO''1'", c.filterOf(header));
    Map<String, Object> line = new LinkedHashMap<>(c.parentValues(header));
    line.put("Line_No", 10000L);
    assertEquals(header, c.headerOf(ErpKey.of(line)));
  }

  @Test
  void theParentKeyMustBeTheHeadersKeyAndTheLinesOwn() {
    Map<String, String> wrong = new LinkedHashMap<>();
    wrong.put("Document_No", "No");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> header().child(lines(), wrong, "salesorderid").build());
    assertTrue(e.getMessage().contains("ORDERS") && e.getMessage().contains("[No]"), e.getMessage());
    Map<String, String> foreign = new LinkedHashMap<>();
    foreign.put("Order_No", "No");
    assertThrows(IllegalArgumentException.class, () -> new ChildMapping(lines(), foreign, "salesorderid"));
  }

  @Test
  void effectiveDefinitionsKeepTheirLines() {
    MappingDefinition def = header().child(lines(), parent(), "salesorderid").build();
    MappingDefinition old = new MappingDefinition(def.name(), def.erpEntitySet(), def.crmEntitySet(), def.erpKey(),
        def.crmKey(), def.erpModifiedOn(), def.crmModifiedOn(), def.direction(), def.fields(), def.options(),
        def.erpFilter(), def.crmFilter(), def.matchFields(), def.dependencies(), def.schedule(),
        def.crmAlternateKey());
    assertTrue(old.children().isEmpty(), "the constructor of older plugins builds a mapping without lines");
    assertEquals(1, def.children().size());
  }

  @Test
  void keyFieldsAreNames() {
    assertThrows(IllegalArgumentException.class, () -> MappingDefinition.builder("X").erpKey("S"));
    assertThrows(IllegalArgumentException.class, () -> MappingDefinition.builder("X").erpKey("S", "a,b"));
  }
}
