package dev.tandem.plugins.items;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.LedgerJobDefinition;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.PluginContext;
import dev.tandem.api.Setting;
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

  /** {@code plugins.items.availability.user}. */
  static final Setting AVAILABILITY_USER = Setting.string("availability.user")
      .defaultDoc("the ERP connection's")
      .doc("the ERP web-service user item availability reads with (the reference system's \"item availability\" "
          + "OData user); with `availability.accessKey`");
  /** {@code plugins.items.availability.accessKey}. */
  static final Setting AVAILABILITY_ACCESS_KEY = Setting.string("availability.accessKey").asSecret()
      .defaultDoc("the ERP connection's").doc("that user's web service access key");

  @Override
  public List<Setting> settings() {
    return List.of(AVAILABILITY_USER, AVAILABILITY_ACCESS_KEY);
  }

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
