package dev.tandem.plugins.items;

import dev.tandem.testkit.MappingAcceptanceSuite;
import java.util.List;
import java.util.Map;

/** ITEM-PRODUCT passes the test kit's acceptance suite (one way, ERP to CRM). */
class ItemsAcceptanceIT extends MappingAcceptanceSuite {

  @Override
  protected String mapping() {
    return ItemMappings.ITEM_PRODUCT;
  }

  @Override
  protected List<String> prerequisites() {
    return List.of(ItemMappings.UNIT_GROUP, ItemMappings.BASE_UNIT);
  }

  @Override
  protected Map<String, Integer> erpSeed() {
    return Map.of("SalespersonPurchaser", 0, "Item", 40);
  }

  @Override
  protected Map<String, Integer> crmSeed() {
    return Map.of("systemusers", 3);
  }

  @Override
  protected String[] erpRecord() {
    return new String[] {"Item", "No", "Description"};
  }

  @Override
  protected String[] crmRecord() {
    return new String[] {"products", "name"};
  }
}
