package dev.tandem.plugins.customers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The definitions of the customers plugin's six mappings and their value rules, without a node or a simulator. */
class CustomersMappingsTest {

  @Test
  void thePluginDeclaresItsMappingsCodeTablesFirst() {
    assertEquals(List.of("PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT", "SALESPEOPLE", "CUSTOMER", "CONTACT"),
        new CustomersPlugin().mappings().stream().map(MappingDefinition::name).toList());
  }

  @Test
  void customersGoBothWaysOwnedByTheirSalesperson() {
    MappingDefinition customer = CustomerMappings.customer();
    assertEquals("Customer", customer.erpEntitySet());
    assertEquals("accounts", customer.crmEntitySet());
    assertEquals(Direction.BIDIRECTIONAL, customer.direction());
    Map<String, FieldMapping> byCrm = byCrmField(customer);
    assertEquals("SALESPEOPLE", byCrm.get("ownerid").lookupMapping());
    assertEquals("CURRENCY", byCrm.get("transactioncurrencyid").lookupMapping());
    assertEquals(Direction.TO_CRM, byCrm.get("accountnumber").direction(), "the ERP numbers its customers");
    assertEquals(3, byCrm.get("customertypecode").constant(), "a customer account");
    assertEquals(CustomerMappings.PAYMENT_TERMS, byCrm.get("paymenttermscode").lookupMapping());
    assertTrue(customer.dependencies().contains(MappingDependency.on("SALESPEOPLE")));
    assertTrue(customer.dependencies().contains(MappingDependency.optional("CURRENCY")),
        "the currency only when the prices plugin provides CURRENCY");
    assertEquals("x".repeat(100), byCrm.get("name").transformations().get(0).apply("x".repeat(120)));
  }

  @Test
  void salespeopleAreLicensedCrmUsersCodedByTheirEmail() {
    MappingDefinition salespeople = CustomerMappings.salespeople();
    assertEquals(Direction.FROM_CRM, salespeople.direction());
    assertEquals("isdisabled eq false and islicensed eq true", salespeople.crmFilter());
    assertEquals("E_Mail", salespeople.matchFields().get(0).erpField());
    assertEquals("JANE.DOE", CustomerMappings.EMAIL_TO_CODE.apply("jane.doe@example.com"));
    assertEquals("ABCDEFGHIJKLMNOPQRST", CustomerMappings.EMAIL_TO_CODE.apply("abcdefghijklmnopqrstuvwxyz@x.org"));
    assertEquals("OHARA", CustomerMappings.EMAIL_TO_CODE.apply("o'hara@example.com"), "only code characters");
    assertNull(CustomerMappings.EMAIL_TO_CODE.apply(null));
    assertEquals(" ", CustomerMappings.EMAIL_TO_CODE.apply(" "), "a blank address stays as it is");
  }

  @Test
  void codeTablesBecomeTheAccountsOptionSetsOneWay() {
    for (MappingDefinition m : List.of(CustomerMappings.paymentTerms(), CustomerMappings.shipmentMethod(),
        CustomerMappings.shippingAgent())) {
      assertEquals(Direction.TO_CRM, m.direction(), m.name());
      assertEquals("account", m.optionSetEntity(), m.name());
      assertEquals("Code", m.erpKey(), m.name());
    }
    assertEquals("address1_freighttermscode", CustomerMappings.shipmentMethod().optionSetAttribute());
    assertEquals("address1_shippingmethodcode", CustomerMappings.shippingAgent().optionSetAttribute());
  }

  @Test
  void contactsArePersonsOfACoupledCompany() {
    MappingDefinition contact = CustomerMappings.contact();
    assertEquals(Direction.BIDIRECTIONAL, contact.direction());
    assertEquals("Type eq 'Person' and Company_No ne ''", contact.erpFilter());
    assertEquals("CUSTOMER", byCrmField(contact).get("parentcustomerid_account").lookupMapping());
    assertEquals(List.of(MappingDependency.on("CUSTOMER")), contact.dependencies());
    FieldMapping type = contact.fields().stream().filter(f -> "Type".equals(f.erpField())).findFirst().orElseThrow();
    assertEquals("Person", type.constant());
    assertEquals(Direction.FROM_CRM, type.direction());
  }

  private static Map<String, FieldMapping> byCrmField(MappingDefinition m) {
    Map<String, FieldMapping> byCrm = new HashMap<>();
    m.fields().stream().filter(f -> f.crmField() != null).forEach(f -> byCrm.put(f.crmField(), f));
    return byCrm;
  }
}
