package dev.tandem.sim.crm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The Dataverse tables the simulator serves: keys, columns with lengths, required columns, lookups, alternate keys. */
final class DataverseEntities {

  /** A lookup: navigation property, the column it is read back as, and the entity sets it may point to. */
  record Lookup(String navigation, String valueColumn, List<String> targets) {}

  /**
   * A table.
   *
   * @param set entity set name, e.g. accounts
   * @param logical logical name, e.g. account
   * @param key primary key column
   * @param columns text columns with their maximum length (0 = not text)
   * @param required columns a create must give
   * @param lookups lookups by every name they can be bound with ({@code ownerid}, {@code parentcustomerid_account})
   * @param alternateKeys alternate key columns
   * @param hasState whether it has statecode/statuscode
   */
  record Entity(String set, String logical, String key, Map<String, Integer> columns, List<String> required,
      Map<String, Lookup> lookups, List<String> alternateKeys, boolean hasState) {}

  static final Map<String, Entity> BY_SET = new LinkedHashMap<>();

  private static final class B {
    final String set;
    final String logical;
    final Map<String, Integer> columns = new LinkedHashMap<>();
    final Map<String, Lookup> lookups = new LinkedHashMap<>();
    List<String> required = List.of();
    List<String> alternate = List.of();
    boolean state = true;

    B(String set, String logical) {
      this.set = set;
      this.logical = logical;
    }

    B text(String name, int len) {
      columns.put(name, len);
      return this;
    }

    B other(String... names) {
      for (String n : names) {
        columns.put(n, 0);
      }
      return this;
    }

    B lookup(String nav, String... targets) {
      Lookup l = new Lookup(nav, "_" + nav + "_value", List.of(targets));
      lookups.put(nav, l);
      if (targets.length > 1) {
        for (String t : targets) {
          lookups.put(nav + "_" + singular(t), l);
        }
      }
      return this;
    }

    /** The owner: one navigation property that takes a user or a team (no typed binds, unlike other polymorphic lookups). */
    B owner() {
      lookups.put("ownerid", new Lookup("ownerid", "_ownerid_value", List.of("systemusers", "teams")));
      return this;
    }

    B required(String... r) {
      required = List.of(r);
      return this;
    }

    B alternate(String... a) {
      alternate = List.of(a);
      return this;
    }

    B noState() {
      state = false;
      return this;
    }

    void register() {
      BY_SET.put(set, new Entity(set, logical, logical + "id", Map.copyOf(columns), required, Map.copyOf(lookups),
          alternate, state));
    }
  }

  private static String singular(String set) {
    return switch (set) {
      case "accounts" -> "account";
      case "contacts" -> "contact";
      case "systemusers" -> "systemuser";
      default -> set.endsWith("s") ? set.substring(0, set.length() - 1) : set;
    };
  }

  static {
    new B("accounts", "account").text("name", 160).text("accountnumber", 20).text("telephone1", 50).text("fax", 50)
        .text("emailaddress1", 100).text("websiteurl", 200).text("address1_line1", 250).text("address1_line2", 250)
        .text("address1_line3", 250).text("address1_city", 80).text("address1_postalcode", 20)
        .text("address1_country", 80).text("address1_county", 50).text("address1_primarycontactname", 150)
        .other("creditlimit", "paymenttermscode", "address1_freighttermscode", "address1_shippingmethodcode",
            "customertypecode", "revenue")
        // Columns Tandem's solution adds (money): the customer's statistics from the ERP in LCY (the sales-orders
        // plugin's CUSTOMER-STATISTICS job). They exist once the solution is imported (DataverseMetadata).
        .other("tandem_balance", "tandem_outstandingorders", "tandem_shippednotinvoiced", "tandem_totalsales",
            "tandem_overdueamounts")
        .lookup("transactioncurrencyid", "transactioncurrencies").lookup("primarycontactid", "contacts")
        .lookup("parentaccountid", "accounts").owner()
        .required("name").alternate("accountnumber").register();
    new B("contacts", "contact").text("firstname", 50).text("middlename", 50).text("lastname", 50)
        .text("fullname", 160).text("emailaddress1", 100).text("telephone1", 50).text("mobilephone", 50)
        .text("jobtitle", 100).text("address1_line1", 250).text("address1_city", 80).text("address1_postalcode", 20)
        .text("address1_country", 80)
        .lookup("parentcustomerid", "accounts", "contacts").owner()
        .lookup("transactioncurrencyid", "transactioncurrencies").required("lastname").register();
    new B("systemusers", "systemuser").text("firstname", 64).text("lastname", 64).text("fullname", 200)
        .text("domainname", 1024).text("internalemailaddress", 100).text("mobilephone", 64)
        .other("isdisabled", "islicensed", "applicationid", "accessmode").noState().register();
    new B("transactioncurrencies", "transactioncurrency").text("isocurrencycode", 5).text("currencyname", 100)
        .text("currencysymbol", 10).other("exchangerate", "currencyprecision")
        .required("isocurrencycode", "currencyname", "currencysymbol", "exchangerate", "currencyprecision")
        .alternate("isocurrencycode").register();
    new B("uomschedules", "uomschedule").text("name", 200).text("baseuomname", 100).text("description", 2000)
        .required("name", "baseuomname").alternate("name").register();
    new B("uoms", "uom").text("name", 100).other("quantity", "isschedulebaseuom")
        .lookup("uomscheduleid", "uomschedules").lookup("baseuom", "uoms").required("name", "baseuom").register();
    new B("products", "product").text("name", 100).text("productnumber", 100).text("description", 2000)
        .other("price", "standardcost", "currentcost", "quantityonhand", "quantitydecimal", "productstructure",
            "producttypecode")
        .lookup("defaultuomscheduleid", "uomschedules").lookup("defaultuomid", "uoms")
        .lookup("pricelevelid", "pricelevels").lookup("transactioncurrencyid", "transactioncurrencies")
        .required("name", "productnumber", "defaultuomscheduleid", "defaultuomid", "quantitydecimal")
        .alternate("productnumber").register();
    new B("pricelevels", "pricelevel").text("name", 100).text("description", 2000).other("begindate", "enddate")
        .lookup("transactioncurrencyid", "transactioncurrencies").required("name").alternate("name").register();
    new B("productpricelevels", "productpricelevel").other("amount", "percentage", "pricingmethodcode",
            "quantitysellingcode", "roundingpolicycode")
        .lookup("pricelevelid", "pricelevels").lookup("productid", "products").lookup("uomid", "uoms")
        .lookup("uomscheduleid", "uomschedules").lookup("transactioncurrencyid", "transactioncurrencies")
        .register();
    new B("salesorders", "salesorder").text("name", 300).text("ordernumber", 100).text("billto_line1", 250)
        .text("billto_city", 80).text("billto_postalcode", 20).text("shipto_line1", 250).text("shipto_city", 80)
        .text("shipto_postalcode", 20).text("description", 2000).other("totalamount", "ispricelocked")
        // Totals the pricing engine computes (IsValidForCreate False), the discount and freight a user enters, the
        // dates of submission and fulfilment; DataverseSalesOrders.
        .other("totallineitemamount", "totallineitemdiscountamount", "totaldiscountamount", "totalamountlessfreight",
            "totaltax", "discountamount", "discountpercentage", "freightamount", "pricingerrorcode", "submitdate",
            "datefulfilled", "requestdeliveryby")
        // Columns Tandem's solution adds: the ERP order's number and status (the sales-orders plugin writes them);
        // they exist once the solution is imported (DataverseMetadata).
        .text("tandem_erpordernumber", 20).text("tandem_erpstatus", 20)
        .lookup("customerid", "accounts", "contacts").lookup("pricelevelid", "pricelevels")
        .lookup("transactioncurrencyid", "transactioncurrencies").owner()
        .required("name").register();
    new B("salesorderdetails", "salesorderdetail").text("productdescription", 500)
        .other("quantity", "priceperunit", "baseamount", "extendedamount", "manualdiscountamount", "tax",
            "ispriceoverridden", "isproductoverridden", "lineitemnumber", "sequencenumber", "volumediscountamount",
            "pricingerrorcode", "description")
        .lookup("salesorderid", "salesorders").lookup("productid", "products").lookup("uomid", "uoms")
        .required("quantity", "salesorderid").register();
    new B("invoices", "invoice").text("name", 300).text("invoicenumber", 100).other("duedate", "totalamount")
        .text("description", 2000).other("totallineitemamount", "totallineitemdiscountamount", "totaldiscountamount",
            "totalamountlessfreight", "totaltax", "discountamount", "discountpercentage", "freightamount",
            "pricingerrorcode", "datedelivered", "ispricelocked")
        .lookup("salesorderid", "salesorders").lookup("pricelevelid", "pricelevels")
        .lookup("customerid", "accounts", "contacts").lookup("transactioncurrencyid", "transactioncurrencies")
        .required("name").register();
    new B("invoicedetails", "invoicedetail").text("productdescription", 500)
        .other("quantity", "priceperunit", "baseamount", "extendedamount", "lineitemnumber", "manualdiscountamount",
            "tax", "ispriceoverridden", "isproductoverridden", "volumediscountamount", "pricingerrorcode",
            "description")
        .lookup("invoiceid", "invoices").lookup("productid", "products").lookup("uomid", "uoms")
        .lookup("salesorderdetailid", "salesorderdetails")
        .required("quantity", "invoiceid").register();
    // The order close activity FulfillSalesOrder and CancelSalesOrder create (an activity: Open 0, Completed 1).
    new B("ordercloses", "orderclose").text("subject", 200).text("description", 2000).other("actualend")
        .lookup("salesorderid", "salesorders").register();
    new B("opportunities", "opportunity").text("name", 300).other("estimatedvalue", "estimatedclosedate")
        .lookup("parentaccountid", "accounts").lookup("parentcontactid", "contacts")
        .lookup("transactioncurrencyid", "transactioncurrencies").required("name").register();
    new B("teams", "team").text("name", 160).text("description", 2000).other("teamtype", "isdefault")
        .text("azureactivedirectoryobjectid", 100).noState().required("name").register();
    new B("roles", "role").text("name", 100).other("_businessunitid_value", "_parentroleid_value").noState()
        .required("name").register();
    // Set-up tables (DataverseSetup): imported solutions and the import jobs ImportSolution creates.
    new B("solutions", "solution").text("uniquename", 65).text("friendlyname", 256).text("version", 256)
        .other("ismanaged", "installedon").noState().required("uniquename").register();
    new B("importjobs", "importjob").text("solutionname", 256).other("progress", "startedon", "completedon", "data")
        .noState().register();
    new B("nav_connections", "nav_connection").text("nav_name", 100).text("nav_dynamicsnavurl", 250)
        .text("nav_dynamicsnavodataurl", 250).text("nav_dynamicsnavodatausername", 250)
        .text("nav_dynamicsnavodataaccesskey", 250).register();
  }

  private DataverseEntities() {}
}
