package dev.tandem.plugins.salesorders;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.LedgerJobDefinition;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import dev.tandem.api.Transformation;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The definitions of SALESORDER-ORDER and its lines SOLINE-ORDERDETAIL (the reference system's: CRM submitted orders
 * in, the ERP number and status back). The plain fields are declared here and mapped by the runtime's field mapper;
 * the references that need a choice or a check — customer, currency, price list, product (item, resource or the
 * write-in item), unit, discount, line number — are resolved by {@link OrderFieldMapper}.
 */
public final class SalesOrderMappings {

  /** The header mapping. */
  public static final String ORDERS = "SALESORDER-ORDER";
  /** The lines' mapping. */
  public static final String LINES = "SOLINE-ORDERDETAIL";
  /** The CRM's submitted state (statecode 1): the only orders taken in. */
  static final String SUBMITTED = "statecode eq 1";

  /** Mappings whose couplings the orders look up through. */
  static final String CUSTOMER = "CUSTOMER";
  static final String ITEM_PRODUCT = "ITEM-PRODUCT";
  static final String RESOURCE_PRODUCT = "RESOURCE-PRODUCT";
  static final String BASE_UNIT = "UNIT-OF-MEASURE-BASE";
  static final String CURRENCY = "CURRENCY";
  static final String PRICE_GROUP = "CUSTPRCGRP-PRICE";

  /** A CRM date-time ({@code 2026-12-10T00:00:00Z}) as an ERP date ({@code 2026-12-10}). */
  static final Transformation DATE_ONLY = new Transformation("dateOnly",
      v -> v == null || v.toString().length() < 10 ? v : v.toString().substring(0, 10));

  private SalesOrderMappings() {}

  /**
   * SOLINE-ORDERDETAIL: CRM order products become sales lines of the order's ERP sales order. Key {@code
   * Document_Type, Document_No, Line_No}; the line number is the CRM line item number times 10000 (BC's step).
   *
   * @return the lines' mapping
   */
  public static MappingDefinition lines() {
    return MappingDefinition.builder(LINES)
        .erpKey("SalesOrderLine", "Document_Type", "Document_No", "Line_No")
        .crm("salesorderdetails", "salesorderdetailid")
        .direction(Direction.FROM_CRM)
        // The first 100 characters (Text[100]); the rest follows in comment lines (CommentLines), as the reference.
        .field(FieldMapping.of("Description", "productdescription", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(CommentLines.DESCRIPTION)))
        .field("Quantity", "quantity", Direction.FROM_CRM)
        // The CRM priced the line (price list, or the salesperson's override): the ERP order keeps that price.
        .field("Unit_Price", "priceperunit", Direction.FROM_CRM)
        .build();
  }

  /**
   * SALESORDER-ORDER: submitted CRM orders become ERP sales orders with their lines, in one change set.
   *
   * @return the header mapping, its lines with it
   */
  public static MappingDefinition orders() {
    Map<String, String> parent = new LinkedHashMap<>();
    parent.put("Document_Type", "Document_Type");
    parent.put("Document_No", "No");
    return MappingDefinition.builder(ORDERS)
        .erpKey("SalesOrder", "Document_Type", "No")
        .crm("salesorders", "salesorderid")
        .direction(Direction.FROM_CRM)
        .filters(null, SUBMITTED)
        .field(constant("Document_Type", "Order"))
        // The CRM order number is the ERP order's No. (Manual Nos. on the order series): a change set whose answer
        // was lost is found again by that key, never created twice.
        .field(FieldMapping.of("No", "ordernumber", Direction.FROM_CRM).transformedBy(Transformation.UPPER_CASE)
            .transformedBy(Transformation.truncate(20)))
        // External Document No. is Code[35]: the ERP keeps it in upper case.
        .field(FieldMapping.of("External_Document_No", "name", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(35)).transformedBy(Transformation.UPPER_CASE))
        .field(FieldMapping.of("Your_Reference", "ordernumber", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(35)))
        .field(FieldMapping.of("Requested_Delivery_Date", "requestdeliveryby", Direction.FROM_CRM)
            .transformedBy(DATE_ONLY))
        .field(FieldMapping.of("Ship_to_Address", "shipto_line1", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(100)))
        .field(FieldMapping.of("Ship_to_City", "shipto_city", Direction.FROM_CRM)
            .transformedBy(Transformation.truncate(30)))
        .field(FieldMapping.of("Ship_to_Post_Code", "shipto_postalcode", Direction.FROM_CRM)
            .transformedBy(Transformation.UPPER_CASE).transformedBy(Transformation.truncate(20)))
        .child(lines(), parent, "salesorderid")
        .dependsOn(CUSTOMER)
        .dependsOn(ITEM_PRODUCT)
        .dependsOn(MappingDependency.optional(RESOURCE_PRODUCT))
        .dependsOn(MappingDependency.optional(BASE_UNIT))
        .dependsOn(MappingDependency.optional(CURRENCY))
        .dependsOn(MappingDependency.optional(PRICE_GROUP))
        // A short poll of the submitted orders, so one reaches the ERP within 5 s (the reference's job ran every 30
        // minutes): a run that finds nothing costs one CRM and one ERP read, 150 each per 5 minutes of Dataverse's
        // 6,000 and BC's 6,000 (2.5 %), whatever the number of nodes (one job per schedule at a time).
        .schedule(Duration.ofSeconds(2))
        .build();
  }

  /** Posted sales invoices. */
  public static final String INVOICES = "POSTEDSALESINV-INV";
  /** Their lines. */
  public static final String INVOICE_LINES = "POSTEDSALESLINE-INV";

  /**
   * POSTEDSALESINV-INV with POSTEDSALESLINE-INV: posted sales invoices and their lines become CRM invoices with
   * invoice products (written by {@link InvoiceTask}: the CRM order, customer, price list and currency are resolved
   * there). Posted documents never change, so each is written once.
   *
   * @return the header mapping, its lines with it
   */
  public static MappingDefinition invoices() {
    MappingDefinition lines = MappingDefinition.builder(INVOICE_LINES)
        .erpKey("SalesInvoiceLine", "Document_No", "Line_No")
        .crm("invoicedetails", "invoicedetailid")
        .direction(Direction.TO_CRM)
        .field(FieldMapping.of("Description", "productdescription", Direction.TO_CRM)
            .transformedBy(Transformation.truncate(500)))
        .field("Quantity", "quantity", Direction.TO_CRM)
        .field("Unit_Price", "priceperunit", Direction.TO_CRM)
        .build();
    return MappingDefinition.builder(INVOICES)
        .erp("SalesInvoice", "No")
        .crm("invoices", "invoiceid")
        .direction(Direction.TO_CRM)
        .field("No", "invoicenumber", Direction.TO_CRM)
        .field("No", "name", Direction.TO_CRM)
        .field(FieldMapping.of("External_Document_No", "description", Direction.TO_CRM))
        .field("Due_Date", "duedate", Direction.TO_CRM)
        .child(lines, Map.of("Document_No", "No"), "invoiceid")
        .dependsOn(CUSTOMER)
        .dependsOn(ORDERS)
        .schedule(Duration.ofSeconds(30))
        .build();
  }

  /** Name of the Customer Statistics job. */
  public static final String CUSTOMER_STATISTICS = "CUSTOMER-STATISTICS";

  /** How often every coupled customer gets its statistics again: the overdue amount moves with the date alone. */
  static final Duration STATISTICS_REFRESH = Duration.ofHours(6);

  /**
   * CUSTOMER-STATISTICS, the reference's Customer Statistics job: the customer's balance, outstanding orders,
   * shipped not invoiced, total sales and overdue amounts (all in LCY; table 18 FlowFields Balance (LCY),
   * Outstanding Orders (LCY), Shipped Not Invoiced (LCY), Sales (LCY) and Balance Due (LCY)) on the coupled CRM
   * account, in columns Tandem's solution adds. FlowFields move without the Customer's SystemModifiedAt, so
   * CUSTOMER's own runs cannot carry them: the job follows the customer ledger entries (postings, payments) and the
   * sales order lines (orders written, changed, shipped), which name their customer, and gives every coupled
   * customer its figures again every {@link #STATISTICS_REFRESH} (an amount becoming overdue overnight, an order
   * deleted without a posting).
   *
   * @return the ledger job
   */
  public static LedgerJobDefinition customerStatistics() {
    Map<String, String> more = new LinkedHashMap<>();
    more.put("Outstanding_Orders_LCY", "tandem_outstandingorders");
    more.put("Shipped_Not_Invoiced_LCY", "tandem_shippednotinvoiced");
    more.put("Sales_LCY", "tandem_totalsales");
    more.put("Balance_Due_LCY", "tandem_overdueamounts");
    return new LedgerJobDefinition(CUSTOMER_STATISTICS, CUSTOMER, "CustLedgerEntries", "Entry_No", "Customer_No",
        "Balance_LCY", "tandem_balance", Duration.ofSeconds(30))
        .withFields(more)
        .alsoFollowing(new LedgerJobDefinition.Feed("SalesOrderLine", "Sell_to_Customer_No"))
        .refreshedEvery(STATISTICS_REFRESH);
  }

  private static FieldMapping constant(String erpField, Object value) {
    return new FieldMapping(erpField, null, Direction.FROM_CRM, value, List.of(), null, true, false);
  }
}
