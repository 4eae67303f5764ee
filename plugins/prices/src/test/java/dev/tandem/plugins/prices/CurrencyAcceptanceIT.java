package dev.tandem.plugins.prices;

import dev.tandem.testkit.MappingAcceptanceSuite;
import java.util.List;
import java.util.Map;

/** CURRENCY, one way from the ERP, passes the test kit's acceptance suite from an empty CRM. */
class CurrencyAcceptanceIT extends MappingAcceptanceSuite {

  @Override
  protected String mapping() {
    return "CURRENCY";
  }

  @Override
  protected List<String> prerequisites() {
    return List.of();
  }

  @Override
  protected Map<String, Integer> erpSeed() {
    return Map.of("SalespersonPurchaser", 0, "Currency", 30);
  }

  @Override
  protected Map<String, Integer> crmSeed() {
    return Map.of("systemusers", 2, "transactioncurrencies", 0);
  }

  @Override
  protected String[] erpRecord() {
    return new String[] {"Currency", "Code", "Description"};
  }

  @Override
  protected String[] crmRecord() {
    return new String[] {"transactioncurrencies", "currencyname"};
  }
}
