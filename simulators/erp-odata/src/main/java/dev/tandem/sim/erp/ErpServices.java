package dev.tandem.sim.erp;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The page web services the ERP simulator publishes, with Business Central's field names, types and lengths.
 */
final class ErpServices {

  /** Field types as the pages expose them. */
  enum Type { CODE, TEXT, DECIMAL, INTEGER, BOOLEAN, DATE, OPTION, GUID, DATETIME }

  /**
   * A field: type and, for CODE and TEXT, its maximum length; OPTION fields list their values.
   *
   * @param readOnly a non-editable control (FlowFields, fields the table's triggers maintain): writing it is
   *     refused with {@code BadRequest_InvalidOperation}
   * @param relation the service whose (single-field) key a non-empty value must name ({@code TableRelation}),
   *     or null
   */
  record Field(String name, Type type, int length, List<String> options, boolean readOnly, String relation) {

    Field(String name, Type type, int length, List<String> options) {
      this(name, type, length, options, false, null);
    }

    Field readOnlyCopy() {
      return new Field(name, type, length, options, true, relation);
    }

    Field related(String service) {
      return new Field(name, type, length, options, readOnly, service);
    }
  }

  /**
   * A published page.
   *
   * @param name service name
   * @param keys key fields, in order
   * @param fields every field by name
   * @param numberPrefix prefix of the number series for the last key field, or null
   * @param readOnly whether writes are refused (posted documents, calculated views)
   */
  record Service(String name, List<String> keys, Map<String, Field> fields, String numberPrefix, boolean readOnly) {}

  static final Map<String, Service> ALL = new LinkedHashMap<>();

  /** Enum "Price Source Type": whom a price list is for (Assign-to Type). */
  private static final String[] PRICE_SOURCE_TYPES = {"All", "All Customers", "Customer", "Customer Price Group",
      "Customer Disc. Group", "All Vendors", "Vendor", "All Jobs", "Job", "Job Task", "Campaign", "Contact"};

  private static final class B {
    final Map<String, Field> fields = new LinkedHashMap<>();
    private String last;

    /** Marks the field just added read-only. */
    B ro() {
      fields.put(last, fields.get(last).readOnlyCopy());
      return this;
    }

    /** The field just added relates to another service's key. */
    B rel(String service) {
      fields.put(last, fields.get(last).related(service));
      return this;
    }

    private B add(Field f) {
      fields.put(f.name(), f);
      last = f.name();
      return this;
    }

    B code(String n, int len) {
      return add(new Field(n, Type.CODE, len, null));
    }

    B text(String n, int len) {
      return add(new Field(n, Type.TEXT, len, null));
    }

    B dec(String n) {
      return add(new Field(n, Type.DECIMAL, 0, null));
    }

    B integer(String n) {
      return add(new Field(n, Type.INTEGER, 0, null));
    }

    B bool(String n) {
      return add(new Field(n, Type.BOOLEAN, 0, null));
    }

    B date(String n) {
      return add(new Field(n, Type.DATE, 0, null));
    }

    B option(String n, String... values) {
      return add(new Field(n, Type.OPTION, 0, List.of(values)));
    }

    void register(String name, List<String> keys, String prefix, boolean readOnly) {
      fields.put("SystemId", new Field("SystemId", Type.GUID, 0, null));
      fields.put("SystemModifiedAt", new Field("SystemModifiedAt", Type.DATETIME, 0, null));
      ALL.put(name, new Service(name, keys, Map.copyOf(fields), prefix, readOnly));
    }
  }

  static {
    new B().code("No", 20).text("Name", 100).text("Name_2", 50).text("Address", 100).text("Address_2", 50)
        .text("City", 30).code("Post_Code", 20).code("Country_Region_Code", 10).text("County", 30)
        .text("Phone_No", 30).text("Fax_No", 30).text("E_Mail", 80).text("Home_Page", 80).text("Contact", 100)
        .code("Salesperson_Code", 20).rel("SalespersonPurchaser").code("Currency_Code", 10).rel("Currency")
        .code("Customer_Price_Group", 10).rel("CustomerPriceGroup").code("Payment_Terms_Code", 10).rel("PaymentTerms")
        .code("Shipment_Method_Code", 10).rel("ShipmentMethod").code("Shipping_Agent_Code", 10).rel("ShippingAgent")
        .dec("Credit_Limit_LCY").dec("Balance_LCY").ro()
        // Table 18 FlowFields the statistics read: 67 Balance Due (LCY) (page 21's, under its Date Filter
        // 0D..WORKDATE), 113 Outstanding Orders (LCY), 114 Shipped Not Invoiced (LCY) and 62 Sales (LCY), which
        // page 21 does not show (page 9082 does): here on the Customer page as a published page extension has them.
        .dec("Balance_Due_LCY").ro().dec("Outstanding_Orders_LCY").ro().dec("Shipped_Not_Invoiced_LCY").ro()
        .dec("Sales_LCY").ro()
        .option("Blocked", " ", "Ship", "Invoice", "All").date("Last_Date_Modified").ro()
        .register("Customer", List.of("No"), "C", false);
    new B().code("No", 20).option("Type", "Company", "Person").code("Company_No", 20).text("Company_Name", 100)
        .text("Name", 100).text("First_Name", 30).text("Middle_Name", 30).text("Surname", 30).text("Job_Title", 30)
        .text("Address", 100).text("City", 30).code("Post_Code", 20).code("Country_Region_Code", 10)
        .text("Phone_No", 30).text("Mobile_Phone_No", 30).text("E_Mail", 80).code("Salesperson_Code", 20)
        .rel("SalespersonPurchaser").register("Contact", List.of("No"), "CT", false);
    new B().code("Code", 20).text("Name", 50).text("E_Mail", 80).text("Phone_No", 30).text("Job_Title", 30)
        .bool("Blocked").register("SalespersonPurchaser", List.of("Code"), null, false);
    new B().code("Code", 10).text("Description", 30).text("Symbol", 10).code("ISO_Code", 3)
        .dec("Amount_Rounding_Precision").register("Currency", List.of("Code"), null, false);
    new B().code("Code", 10).text("Description", 50).code("International_Standard_Code", 10)
        .register("UnitOfMeasure", List.of("Code"), null, false);
    new B().code("No", 20).text("Description", 100).text("Description_2", 50).code("Base_Unit_of_Measure", 10)
        .rel("UnitOfMeasure").dec("Unit_Price").dec("Unit_Cost").dec("Inventory").ro().code("Item_Category_Code", 20).bool("Blocked")
        .option("Type", "Inventory", "Service", "Non-Inventory").register("Item", List.of("No"), "I", false);
    new B().code("No", 20).text("Name", 100).option("Type", "Person", "Machine").code("Base_Unit_of_Measure", 10)
        .rel("UnitOfMeasure").dec("Unit_Price").dec("Unit_Cost").bool("Blocked").register("Resource", List.of("No"), "R", false);
    new B().code("Code", 10).text("Description", 100).register("CustomerPriceGroup", List.of("Code"), null, false);
    new B().code("Item_No", 20).rel("Item").option("Sales_Type", "Customer", "Customer Price Group", "All Customers", "Campaign")
        .code("Sales_Code", 20).code("Currency_Code", 10).rel("Currency").code("Unit_of_Measure_Code", 10)
        .rel("UnitOfMeasure").date("Starting_Date")
        .dec("Minimum_Quantity").dec("Unit_Price")
        .register("SalesPrice", List.of("Item_No", "Sales_Type", "Sales_Code", "Currency_Code", "Unit_of_Measure_Code",
            "Starting_Date"), null, false);
    new B().code("Code", 10).text("Description", 100).text("Due_Date_Calculation", 20)
        .register("PaymentTerms", List.of("Code"), null, false);
    new B().code("Code", 10).text("Description", 100).register("ShipmentMethod", List.of("Code"), null, false);
    // Table 291 "Shipping Agent": the carrier (the CRM account's shipping method).
    new B().code("Code", 10).text("Name", 50).text("Internet_Address", 250).text("Account_No", 30)
        .register("ShippingAgent", List.of("Code"), null, false);
    // Tables 7000 "Price List Header" and 7001 "Price List Line" (BC 16 and later), which replace Sales Price.
    // Source_No and Asset_No relate to the table their type names (see ErpSimulator.conditionalRelation).
    new B().code("Code", 20).text("Description", 250).option("Source_Group", "All", "Customer", "Vendor", "Job")
        .option("Source_Type", PRICE_SOURCE_TYPES).code("Source_No", 20).code("Currency_Code", 10).rel("Currency")
        .date("Starting_Date").date("Ending_Date").option("Price_Type", "Any", "Sale", "Purchase")
        .option("Amount_Type", "Any", "Price", "Discount").option("Status", "Draft", "Active", "Inactive")
        .bool("Price_Includes_VAT").bool("Allow_Line_Disc").bool("Allow_Invoice_Disc").bool("Allow_Updating_Defaults")
        .register("PriceListHeader", List.of("Code"), "S-PL", false);
    new B().code("Price_List_Code", 20).rel("PriceListHeader").integer("Line_No")
        .option("Source_Type", PRICE_SOURCE_TYPES).code("Source_No", 20)
        .option("Asset_Type", "Item", " ", "Item Discount Group", "Resource", "Resource Group", "Service Cost",
            "G/L Account")
        .code("Asset_No", 20).code("Variant_Code", 10).text("Description", 100).code("Currency_Code", 10)
        .rel("Currency").date("Starting_Date").date("Ending_Date").dec("Minimum_Quantity")
        .code("Unit_of_Measure_Code", 10).rel("UnitOfMeasure").option("Amount_Type", "Any", "Price", "Discount")
        .dec("Unit_Price").dec("Line_Discount_Percent").option("Price_Type", "Any", "Sale", "Purchase")
        .option("Status", "Draft", "Active", "Inactive").bool("Allow_Line_Disc").bool("Allow_Invoice_Disc")
        .register("PriceListLine", List.of("Price_List_Code", "Line_No"), null, false);
    new B().option("Document_Type", "Quote", "Order", "Invoice", "Credit Memo").code("No", 20)
        .code("Sell_to_Customer_No", 20).rel("Customer").text("Sell_to_Customer_Name", 100)
        .code("External_Document_No", 35).date("Order_Date").code("Currency_Code", 10).rel("Currency")
        .option("Status", "Open", "Released", "Pending Approval").ro().code("Salesperson_Code", 20)
        .rel("SalespersonPurchaser").dec("Amount").ro().code("Customer_Price_Group", 10).rel("CustomerPriceGroup")
        // Page 42's Your Reference, Requested Delivery Date and ship-to block (table 36 fields 11, 5790, 13-17).
        .text("Your_Reference", 35).date("Requested_Delivery_Date").text("Ship_to_Name", 100)
        .text("Ship_to_Address", 100).text("Ship_to_City", 30).code("Ship_to_Post_Code", 20)
        .register("SalesOrder", List.of("Document_Type", "No"), "SO", false);
    new B().option("Document_Type", "Quote", "Order", "Invoice", "Credit Memo").code("Document_No", 20)
        .integer("Line_No").option("Type", " ", "G/L Account", "Item", "Resource", "Fixed Asset", "Charge (Item)")
        .code("No", 20).text("Description", 100).dec("Quantity").code("Unit_of_Measure_Code", 10)
        .rel("UnitOfMeasure").dec("Unit_Price").dec("Line_Amount").dec("Quantity_Shipped").ro()
        .dec("Line_Discount_Percent").dec("Quantity_Invoiced").ro()
        // Table 37 field 2 "Sell-to Customer No.": the header's, copied to each line (the simulator's orders are
        // billed to their sell-to customer, so it is also the Bill-to Customer No. the customer FlowFields sum by).
        .code("Sell_to_Customer_No", 20).ro()
        // Table 37 field 80 "Attached to Line No.": a comment or extended-text line's parent line; deleting the
        // parent deletes it (Sales Line OnDelete).
        .integer("Attached_to_Line_No")
        .register("SalesOrderLine", List.of("Document_Type", "Document_No", "Line_No"), null, false);
    new B().code("No", 20).code("Sell_to_Customer_No", 20).text("Sell_to_Customer_Name", 100).code("Order_No", 20)
        .code("External_Document_No", 35).date("Posting_Date").date("Due_Date").code("Currency_Code", 10)
        .dec("Amount").bool("Closed").register("SalesInvoice", List.of("No"), "PSI", true);
    // Ledgers: posted entries, numbered by the posting routine (Entry No.), never written through the page. Item
    // Ledger Entry (table 32) carries the quantity Item.Inventory sums; Cust. Ledger Entry (table 21) the amount
    // Customer.Balance (LCY) sums (in BC through Detailed Cust. Ledg. Entry, one level the simulator folds in).
    new B().integer("Entry_No").code("Item_No", 20).rel("Item").date("Posting_Date")
        .option("Entry_Type", "Purchase", "Sale", "Positive Adjmt.", "Negative Adjmt.", "Transfer", "Consumption",
            "Output")
        .code("Document_No", 20).text("Description", 100).code("Location_Code", 10).dec("Quantity")
        .dec("Remaining_Quantity").bool("Open")
        .register("ItemLedgerEntries", List.of("Entry_No"), null, true);
    new B().integer("Entry_No").code("Customer_No", 20).rel("Customer").date("Posting_Date")
        .option("Document_Type", " ", "Payment", "Invoice", "Credit Memo", "Finance Charge Memo", "Reminder",
            "Refund")
        .code("Document_No", 20).text("Description", 100).code("Currency_Code", 10).dec("Amount_LCY").bool("Open")
        // Table 21 fields 24 Due Date, 15 Remaining Amt. (LCY) (a FlowField over the detailed entries in BC, kept on
        // the entry here) and 18 Sales (LCY), the amount excluding VAT of an invoice or credit memo.
        .date("Due_Date").dec("Remaining_Amt_LCY").dec("Sales_LCY")
        .register("CustLedgerEntries", List.of("Entry_No"), null, true);
    new B().code("Document_No", 20).integer("Line_No").option("Type", " ", "G/L Account", "Item", "Resource")
        .code("No", 20).text("Description", 100).dec("Quantity").code("Unit_of_Measure_Code", 10).dec("Unit_Price")
        .dec("Line_Amount").register("SalesInvoiceLine", List.of("Document_No", "Line_No"), null, true);
  }

  private ErpServices() {}
}
