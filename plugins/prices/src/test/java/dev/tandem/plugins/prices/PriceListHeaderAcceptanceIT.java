package dev.tandem.plugins.prices;

import dev.tandem.testkit.MappingAcceptanceSuite;
import java.util.List;
import java.util.Map;

/** PLHEADER-PRICE, the one-way mapping of Business Central online's sales price lists, passes the acceptance suite. */
@MappingAcceptanceSuite.OnErpProfile("bc-online")
class PriceListHeaderAcceptanceIT extends MappingAcceptanceSuite {

  @Override
  protected String mapping() {
    return "PLHEADER-PRICE";
  }

  @Override
  protected List<String> prerequisites() {
    return List.of("CURRENCY");
  }

  @Override
  protected Map<String, Integer> erpSeed() {
    return Map.of("SalespersonPurchaser", 0, "PriceListHeader", 30);
  }

  @Override
  protected Map<String, Integer> crmSeed() {
    return Map.of("systemusers", 2);
  }

  @Override
  protected String[] erpRecord() {
    return new String[] {"PriceListHeader", "Code", "Description"};
  }

  @Override
  protected String[] crmRecord() {
    return new String[] {"pricelevels", "description"};
  }
}
