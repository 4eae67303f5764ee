package dev.tandem.plugins.prices;

import dev.tandem.testkit.MappingAcceptanceSuite;
import java.util.List;
import java.util.Map;

/** CUSTPRCGRP-PRICE, a one-way ERP-to-CRM mapping, passes the test kit's acceptance suite. */
class PricesAcceptanceIT extends MappingAcceptanceSuite {

  @Override
  protected String mapping() {
    return "CUSTPRCGRP-PRICE";
  }

  @Override
  protected List<String> prerequisites() {
    return List.of("CURRENCY");
  }

  @Override
  protected Map<String, Integer> erpSeed() {
    return Map.of("SalespersonPurchaser", 0, "CustomerPriceGroup", 30);
  }

  @Override
  protected Map<String, Integer> crmSeed() {
    return Map.of("systemusers", 2);
  }

  @Override
  protected String[] erpRecord() {
    return new String[] {"CustomerPriceGroup", "Code", "Description"};
  }

  @Override
  protected String[] crmRecord() {
    return new String[] {"pricelevels", "description"};
  }
}
