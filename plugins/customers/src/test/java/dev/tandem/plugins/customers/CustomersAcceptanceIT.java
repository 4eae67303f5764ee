package dev.tandem.plugins.customers;

import dev.tandem.testkit.MappingAcceptanceSuite;
import java.util.List;
import java.util.Map;

/** CUSTOMER passes the test kit's acceptance suite. */
class CustomersAcceptanceIT extends MappingAcceptanceSuite {

  @Override
  protected String mapping() {
    return "CUSTOMER";
  }

  @Override
  protected List<String> prerequisites() {
    return List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT", "SALESPEOPLE");
  }

  @Override
  protected Map<String, Integer> erpSeed() {
    return Map.of("SalespersonPurchaser", 0, "Customer", 60);
  }

  @Override
  protected Map<String, Integer> crmSeed() {
    return Map.of("systemusers", 5);
  }

  @Override
  protected String[] erpRecord() {
    return new String[] {"Customer", "No", "City"};
  }

  @Override
  protected String[] crmRecord() {
    return new String[] {"accounts", "address1_city"};
  }

  @Override
  protected Map<String, Object> newCrmRow() {
    return Map.of("name", "Fjord Outfitters (made in the CRM)", "address1_city", "Bergen");
  }
}
