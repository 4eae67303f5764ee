package dev.tandem.plugins.items;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.LedgerJobDefinition;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.PluginContext;
import dev.tandem.api.VerticleContribution;
import java.util.List;
import org.pf4j.Extension;

/**
 * The items plugin: UNIT-OF-MEASURE and UNIT-OF-MEASURE-BASE (ERP units of measure to CRM unit groups and their
 * base units), ITEM-PRODUCT (items to products) and RESOURCE-PRODUCT (resources to service products), run by the
 * runtime's engine; the Item Availability job (new item ledger entries: inventory to quantity on hand), run by the
 * runtime; and item availability on demand, which this plugin answers.
 */
@Extension
public class ItemsPlugin implements EntityPlugin {

  @Override
  public List<MappingDefinition> mappings() {
    return List.of(ItemMappings.unitGroup(), ItemMappings.baseUnit(), ItemMappings.itemProduct(),
        ItemMappings.resourceProduct());
  }

  @Override
  public List<LedgerJobDefinition> ledgerJobs() {
    return List.of(ItemMappings.itemAvailability());
  }

  @Override
  public List<VerticleContribution> verticles(PluginContext context) {
    return List.of(VerticleContribution.service(ItemMappings.ITEM_PRODUCT, () -> new AvailabilityVerticle(context)));
  }
}
