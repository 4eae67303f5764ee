package dev.tandem.plugins.customers;

import dev.tandem.api.EntityPlugin;
import dev.tandem.api.MappingDefinition;
import java.util.List;
import org.pf4j.Extension;

/**
 * The customers plugin: PAYMENT-TERMS, SHIPMENT-METHOD and SHIPPING-AGENT (ERP code tables to the account's option
 * sets), SALESPEOPLE (CRM users to ERP salespeople), CUSTOMER (ERP customers with CRM accounts) and CONTACT (ERP
 * person contacts with CRM contacts). It declares mappings only; the runtime's engine runs them.
 */
@Extension
public class CustomersPlugin implements EntityPlugin {

  @Override
  public List<MappingDefinition> mappings() {
    return List.of(CustomerMappings.paymentTerms(), CustomerMappings.shipmentMethod(), CustomerMappings.shippingAgent(),
        CustomerMappings.salespeople(), CustomerMappings.customer(), CustomerMappings.contact());
  }
}
