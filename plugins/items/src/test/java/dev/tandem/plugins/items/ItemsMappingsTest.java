package dev.tandem.plugins.items;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The definitions of the items plugin's mappings and its availability job, without a node or a simulator. */
class ItemsMappingsTest {

  @Test
  void unitsComeFirstThenTheProducts() {
    assertEquals(List.of("UNIT-OF-MEASURE", "UNIT-OF-MEASURE-BASE", "ITEM-PRODUCT", "RESOURCE-PRODUCT"),
        new ItemsPlugin().mappings().stream().map(MappingDefinition::name).toList());
    assertEquals(List.of(MappingDependency.on(ItemMappings.UNIT_GROUP)), ItemMappings.baseUnit().dependencies());
    for (MappingDefinition product : List.of(ItemMappings.itemProduct(), ItemMappings.resourceProduct())) {
      assertEquals(Direction.TO_CRM, product.direction(), product.name());
      assertEquals("products", product.crmEntitySet(), product.name());
      assertEquals("Blocked eq false", product.erpFilter(), product.name());
      assertTrue(product.dependencies().containsAll(List.of(MappingDependency.on(ItemMappings.UNIT_GROUP),
          MappingDependency.on(ItemMappings.BASE_UNIT))), product.name());
      Map<String, FieldMapping> byCrm = byCrmField(product);
      assertEquals(ItemMappings.UNIT_GROUP, byCrm.get("defaultuomscheduleid").lookupMapping(), product.name());
      assertEquals(ItemMappings.BASE_UNIT, byCrm.get("defaultuomid").lookupMapping(), product.name());
      assertEquals("productnumber", product.matchFields().get(0).crmField(), product.name());
    }
  }

  @Test
  void itemsAreSalesInventoryAndResourcesServices() {
    Map<String, FieldMapping> item = byCrmField(ItemMappings.itemProduct());
    Map<String, FieldMapping> resource = byCrmField(ItemMappings.resourceProduct());
    assertEquals(ItemMappings.SALES_INVENTORY, item.get("producttypecode").constant());
    assertEquals(ItemMappings.SERVICES, resource.get("producttypecode").constant());
    assertEquals("producttypecode eq " + ItemMappings.SALES_INVENTORY, ItemMappings.itemProduct().crmFilter(),
        "each product mapping reads back its own products only");
    assertEquals("Description", item.get("name").erpField());
    assertEquals("Name", resource.get("name").erpField());
    assertEquals("y".repeat(100), item.get("name").transformations().get(0).apply("y".repeat(101)));
    assertTrue(ItemMappings.itemProduct().fields().stream().noneMatch(f -> "quantityonhand".equals(f.crmField())),
        "quantity on hand has one writer, the availability job");
  }

  @Test
  void theAvailabilityJobPushesInventoryToQuantityOnHand() {
    assertEquals(List.of(ItemMappings.itemAvailability()), new ItemsPlugin().ledgerJobs());
    assertEquals(ItemMappings.ITEM_PRODUCT, ItemMappings.itemAvailability().mapping());
    assertEquals("quantityonhand", ItemMappings.itemAvailability().crmField());
  }

  private static Map<String, FieldMapping> byCrmField(MappingDefinition m) {
    Map<String, FieldMapping> byCrm = new HashMap<>();
    m.fields().stream().filter(f -> f.crmField() != null).forEach(f -> byCrm.put(f.crmField(), f));
    return byCrm;
  }
}
