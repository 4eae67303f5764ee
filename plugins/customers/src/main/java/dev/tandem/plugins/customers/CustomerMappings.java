package dev.tandem.plugins.customers;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import dev.tandem.api.MatchField;
import dev.tandem.api.Transformation;
import java.util.Locale;

/** The default mappings of the reference system for salespeople, customers and contacts. */
public final class CustomerMappings {

  /** Salesperson codes are made from the CRM user's e-mail address: upper case, at most 20 characters. */
  static final Transformation EMAIL_TO_CODE = new Transformation("emailToCode", v -> {
    if (!(v instanceof String s) || s.isBlank()) {
      return v;
    }
    String local = s.contains("@") ? s.substring(0, s.indexOf('@')) : s;
    String code = local.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9._-]", "");
    return code.length() > 20 ? code.substring(0, 20) : code;
  });

  /** The option-set mappings of the account's payment terms, freight terms and shipping method. */
  public static final String PAYMENT_TERMS = "PAYMENT-TERMS";
  /** Shipment methods to freight terms. */
  public static final String SHIPMENT_METHOD = "SHIPMENT-METHOD";
  /** Shipping agents to shipping methods. */
  public static final String SHIPPING_AGENT = "SHIPPING-AGENT";

  private CustomerMappings() {}

  /**
   * SALESPEOPLE: CRM users (enabled, licensed, not the integration user) become ERP salespeople.
   *
   * @return the mapping
   */
  public static MappingDefinition salespeople() {
    return MappingDefinition.builder("SALESPEOPLE")
        .erp("SalespersonPurchaser", "Code")
        .crm("systemusers", "systemuserid")
        .direction(Direction.FROM_CRM)
        .field(FieldMapping.of("Code", "internalemailaddress", Direction.FROM_CRM).transformedBy(EMAIL_TO_CODE))
        .field(FieldMapping.of("Name", "fullname", Direction.FROM_CRM).transformedBy(Transformation.truncate(50)))
        .field(FieldMapping.of("E_Mail", "internalemailaddress", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(80)))
        .field(FieldMapping.of("Phone_No", "mobilephone", Direction.FROM_CRM).transformedBy(Transformation.truncate(30)))
        .filters(null, "isdisabled eq false and islicensed eq true")
        .match(MatchField.of("E_Mail", "internalemailaddress", 1))
        .build();
  }

  /**
   * CUSTOMER: ERP customers (not blocked) with CRM accounts, both ways; the salesperson becomes the owner, the
   * currency goes through CURRENCY when the prices plugin provides it.
   *
   * @return the mapping
   */
  public static MappingDefinition customer() {
    return MappingDefinition.builder("CUSTOMER")
        .erp("Customer", "No")
        .crm("accounts", "accountid")
        .direction(Direction.BIDIRECTIONAL)
        .field(FieldMapping.of("Name", "name", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(100)))
        .field(FieldMapping.of("Address", "address1_line1", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(100)))
        .field(FieldMapping.of("Address_2", "address1_line2", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(50)))
        .field(FieldMapping.of("City", "address1_city", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Post_Code", "address1_postalcode", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(20)))
        .field(FieldMapping.of("County", "address1_county", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Phone_No", "telephone1", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Fax_No", "fax", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("E_Mail", "emailaddress1", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(80)))
        .field(FieldMapping.of("Home_Page", "websiteurl", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(80)))
        .field("No", "accountnumber", Direction.TO_CRM)
        .field("Credit_Limit_LCY", "creditlimit", Direction.TO_CRM)
        .field(FieldMapping.of(null, "customertypecode", Direction.TO_CRM).withConstant(3))
        .field(FieldMapping.of("Salesperson_Code", "ownerid", Direction.BIDIRECTIONAL).lookupThrough("SALESPEOPLE"))
        .field(FieldMapping.of("Currency_Code", "transactioncurrencyid", Direction.TO_CRM).lookupThrough("CURRENCY"))
        // The option columns resolve through the option-set mappings' couplings: each ERP code has its option.
        .field(FieldMapping.of("Payment_Terms_Code", "paymenttermscode", Direction.TO_CRM).lookupThrough(PAYMENT_TERMS))
        .field(FieldMapping.of("Shipment_Method_Code", "address1_freighttermscode", Direction.TO_CRM)
            .lookupThrough(SHIPMENT_METHOD))
        .field(FieldMapping.of("Shipping_Agent_Code", "address1_shippingmethodcode", Direction.TO_CRM)
            .lookupThrough(SHIPPING_AGENT))
        .filters("Blocked eq ' '", "statecode eq 0")
        .match(MatchField.of("Name", "name", 1))
        .match(MatchField.of("City", "address1_city", 1))
        .match(MatchField.of("E_Mail", "emailaddress1", 2))
        .dependsOn("SALESPEOPLE")
        .dependsOn(MappingDependency.optional("CURRENCY"))
        .dependsOn(PAYMENT_TERMS)
        .dependsOn(SHIPMENT_METHOD)
        .dependsOn(SHIPPING_AGENT)
        .build();
  }

  /**
   * PAYMENT-TERMS: the ERP's payment terms (table 3) become options of the account's {@code paymenttermscode},
   * one way, as the reference system's PAYMENT TERMS option mapping does.
   *
   * @return the mapping
   */
  public static MappingDefinition paymentTerms() {
    return optionSet(PAYMENT_TERMS, "PaymentTerms", "paymenttermscode");
  }

  /**
   * SHIPMENT-METHOD: the ERP's shipment methods (table 10, the Incoterms) become options of the account's freight
   * terms, {@code address1_freighttermscode}, as the reference maps them ("CRM Freight Terms").
   *
   * @return the mapping
   */
  public static MappingDefinition shipmentMethod() {
    return optionSet(SHIPMENT_METHOD, "ShipmentMethod", "address1_freighttermscode");
  }

  /**
   * SHIPPING-AGENT: the ERP's shipping agents (table 291, the carriers) become options of the account's shipping
   * method, {@code address1_shippingmethodcode}, as the reference maps them ("CRM Shipping Method").
   *
   * @return the mapping
   */
  public static MappingDefinition shippingAgent() {
    return optionSet(SHIPPING_AGENT, "ShippingAgent", "address1_shippingmethodcode");
  }

  private static MappingDefinition optionSet(String name, String service, String column) {
    return MappingDefinition.builder(name)
        .erp(service, "Code")
        .crmOptionSet("account", column)
        .direction(Direction.TO_CRM)
        .build();
  }

  /**
   * CONTACT: ERP person contacts of a company with CRM contacts that have a parent account, both ways.
   *
   * @return the mapping
   */
  public static MappingDefinition contact() {
    return MappingDefinition.builder("CONTACT")
        .erp("Contact", "No")
        .crm("contacts", "contactid")
        .direction(Direction.BIDIRECTIONAL)
        .field(FieldMapping.of("First_Name", "firstname", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Surname", "lastname", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("E_Mail", "emailaddress1", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(80)))
        .field(FieldMapping.of("Phone_No", "telephone1", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Mobile_Phone_No", "mobilephone", Direction.BIDIRECTIONAL)
            .transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Job_Title", "jobtitle", Direction.BIDIRECTIONAL).transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Type", null, Direction.FROM_CRM).withConstant("Person"))
        .field(FieldMapping.of("Company_No", "parentcustomerid_account", Direction.BIDIRECTIONAL).lookupThrough("CUSTOMER"))
        .filters("Type eq 'Person' and Company_No ne ''", "statecode eq 0 and _parentcustomerid_value ne null")
        .match(MatchField.of("E_Mail", "emailaddress1", 1))
        .dependsOn("CUSTOMER")
        .build();
  }
}
