package dev.tandem.plugins.salesorders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.testkit.HeaderLinesAcceptanceSuite;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * SALESORDER-ORDER with SOLINE-ORDERDETAIL passes the test kit's parent/child acceptance suite (orders submitted in
 * the CRM, as the plugin takes only those), then the plugin's own rules against both simulators: one record error
 * naming every cause of an order that cannot be created, retried once fixed; catalog lines through ITEM-PRODUCT and
 * the unit mapping; the ERP number and status back; posting fulfils the CRM order; cancellation before and after the
 * ERP released the order.
 */
class SalesOrdersAcceptanceIT extends HeaderLinesAcceptanceSuite {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static String account;
  private static String priceList;
  private static String currency;

  @Override
  protected String mapping() {
    return SalesOrderMappings.ORDERS;
  }

  @Override
  protected String linesMapping() {
    return SalesOrderMappings.LINES;
  }

  @Override
  protected void prepare() throws Exception {
    // The ERP customer and the write-in item (the plugin's default writeInItem), as a person would set them up.
    assertEquals(201, erp("POST", "UnitOfMeasure", new JsonObject().put("Code", "PCS").put("Description", "Piece")));
    assertEquals(201, erp("POST", "Customer", new JsonObject().put("No", "C-ORDERS").put("Name", "Orders customer")));
    assertEquals(201, erp("POST", "Item", new JsonObject().put("No", "WRITE-IN").put("Description", "Write-in")
        .put("Base_Unit_of_Measure", "PCS")));
    account = crmCreate("accounts", new JsonObject().put("name", "Orders account"));
    JsonArray eur = crmGet("transactioncurrencies?$filter=isocurrencycode%20eq%20'EUR'").getJsonArray("value");
    currency = eur.isEmpty() ? crmCreate("transactioncurrencies", new JsonObject().put("isocurrencycode", "EUR")
        .put("currencyname", "Euro").put("currencysymbol", "€").put("exchangerate", 1.0).put("currencyprecision", 2))
        : eur.getJsonObject(0).getString("transactioncurrencyid");
    priceList = crmCreate("pricelevels", new JsonObject().put("name", "Orders prices")
        .put("transactioncurrencyid@odata.bind", "/transactioncurrencies(" + currency + ")"));
    couple("CUSTOMER", "C-ORDERS", account);
  }

  @Override
  protected JsonObject crmHeader(String number) {
    return new JsonObject().put("name", "Order " + number).put("ordernumber", number)
        .put("customerid_account@odata.bind", "/accounts(" + account + ")")
        .put("pricelevelid@odata.bind", "/pricelevels(" + priceList + ")")
        .put("transactioncurrencyid@odata.bind", "/transactioncurrencies(" + currency + ")")
        .put("requestdeliveryby", "2027-01-15T00:00:00Z").put("shipto_line1", "1 Harbour Road")
        .put("shipto_city", "Dublin").put("shipto_postalcode", "d02 x285");
  }

  @Override
  protected void submit(String crmHeaderId) throws Exception {
    person("PATCH", "salesorders(" + crmHeaderId + ")", new JsonObject().put("statecode", 1).put("statuscode", 3));
  }

  @Override
  protected void reopen(String crmHeaderId) throws Exception {
    person("PATCH", "salesorders(" + crmHeaderId + ")", new JsonObject().put("statecode", 0).put("statuscode", 1));
  }

  /**
   * A text of any length the CRM holds goes to the ERP (the rest in comment lines), so the line the ERP refuses is a
   * catalog line whose item was deleted in the ERP after its product was coupled; the fix is the item back.
   */
  @Override
  protected JsonObject refusedCrmLine(int lineNumber) throws Exception {
    assertEquals(201, erp("POST", "Item", new JsonObject().put("No", "GONE-1").put("Description", "Gone item")
        .put("Base_Unit_of_Measure", "PCS")));
    String group = crmCreate("uomschedules", new JsonObject().put("name", "REFUSED").put("baseuomname", "REFUSED"));
    String unit = String.valueOf(crmGet("uoms?$filter=" + enc("_uomscheduleid_value eq " + group))
        .getJsonArray("value").getJsonObject(0).getString("uomid"));
    String product = product("GONE-1", group, unit);
    couple("ITEM-PRODUCT", "GONE-1", product);
    assertEquals(204, erpDelete("Item('GONE-1')"));
    return new JsonObject().put("lineitemnumber", lineNumber).put("productid@odata.bind", "/products(" + product + ")")
        .put("quantity", 1).put("ispriceoverridden", true).put("priceperunit", 4.0);
  }

  @Override
  protected void fixRefusedLine(String crmHeaderId, String crmLineId) throws Exception {
    assertEquals(201, erp("POST", "Item", new JsonObject().put("No", "GONE-1").put("Description", "Back again")
        .put("Base_Unit_of_Measure", "PCS")));
  }

  // ---- the plugin's own rules -------------------------------------------------------------------------------

  @Test
  @Order(10)
  void theHeaderCarriesTheOrdersReferencesAndTheErpNumberGoesBack() throws Exception {
    Map<String, Object> h = erpRows(erpHeader(ESCAPED)).get(0);
    assertEquals("C-ORDERS", h.get("Sell_to_Customer_No"));
    assertEquals("ORDER O'NEIL & CO #7", h.get("External_Document_No"), "the CRM order name, Code[35]");
    assertEquals(ESCAPED, h.get("Your_Reference"), "the CRM order number");
    assertEquals("2027-01-15", h.get("Requested_Delivery_Date"));
    assertEquals("1 Harbour Road", h.get("Ship_to_Address"));
    assertEquals("D02 X285", h.get("Ship_to_Post_Code"));
    JsonObject crm = order(ESCAPED);
    assertEquals("O'NEIL & CO #7", crm.getString("tandem_erpordernumber"));
    assertEquals("Open", crm.getString("tandem_erpstatus"));
    assertEquals(1, crm.getInteger("statecode"), "written back, and submitted again");
  }

  @Test
  @Order(11)
  void anOrderThatCannotBeCreatedGetsOneErrorNamingEachCause() throws Exception {
    // A customer nobody coupled, a product not coupled, a product coupled to a blocked item.
    String stranger = crmCreate("accounts", new JsonObject().put("name", "Not coupled"));
    assertEquals(201, erp("POST", "Item", new JsonObject().put("No", "BLOCKED-1").put("Description", "Blocked item")
        .put("Base_Unit_of_Measure", "PCS").put("Blocked", true)));
    assertEquals(201, erp("POST", "Item", new JsonObject().put("No", "CATALOG-1").put("Description", "Catalog item")
        .put("Base_Unit_of_Measure", "PCS").put("Unit_Price", 7.25)));
    String group = crmCreate("uomschedules", new JsonObject().put("name", "PCS").put("baseuomname", "PCS"));
    String unit = String.valueOf(crmGet("uoms?$filter=" + enc("_uomscheduleid_value eq " + group))
        .getJsonArray("value").getJsonObject(0).getString("uomid"));
    String uncoupled = product("UNCOUPLED", group, unit);
    String blocked = product("BLOCKED-1", group, unit);
    String catalog = product("CATALOG-1", group, unit);
    couple("UNIT-OF-MEASURE-BASE", "PCS", unit);
    couple("ITEM-PRODUCT", "BLOCKED-1", blocked);
    couple("ITEM-PRODUCT", "CATALOG-1", catalog);
    String id = crmCreate("salesorders", crmHeader("CAUSES-1")
        .put("customerid_account@odata.bind", "/accounts(" + stranger + ")"));
    String l1 = line(id, 1, uncoupled, unit, 2);
    String l2 = line(id, 2, blocked, unit, 1);
    String l3 = line(id, 3, catalog, unit, 4);
    submit(id);
    JsonObject job = succeeded();
    assertEquals(1, job.getJsonObject("counts").getLong("failed"), job.encode());
    assertEquals(0, erpRows(erpHeader("CAUSES-1")).size());
    List<JsonObject> errors = openErrors(id);
    assertEquals(1, errors.size(), "one error for the order: " + errors);
    String message = errors.get(0).getString("message");
    assertTrue(message.contains(stranger) && message.contains("CUSTOMER"), message);
    assertTrue(message.contains(uncoupled) && message.contains("ITEM-PRODUCT"), message);
    assertTrue(message.contains("item BLOCKED-1 is blocked"), message);
    assertTrue(!message.contains(l3), "the good line is not a cause: " + message);

    // Fixed where each cause is: the customer coupled, the product coupled, the item unblocked. The next run tries
    // the order first, from the error log, although the CRM order itself did not change.
    couple("CUSTOMER", "C-CAUSES", stranger, new JsonObject().put("No", "C-CAUSES").put("Name", "Causes customer"));
    assertEquals(201, erp("POST", "Item", new JsonObject().put("No", "NOW-COUPLED").put("Description", "Coupled later")
        .put("Base_Unit_of_Measure", "PCS").put("Unit_Price", 3)));
    couple("ITEM-PRODUCT", "NOW-COUPLED", uncoupled);
    assertEquals(200, erpPatch("Item('BLOCKED-1')", new JsonObject().put("Blocked", false)), "BC answers a PATCH with the record");
    succeeded();
    assertEquals(0, openErrors(id).size(), "resolved once it went through");
    Map<String, Object> h = erpRows(erpHeader("CAUSES-1")).get(0);
    assertEquals("C-CAUSES", h.get("Sell_to_Customer_No"));
    List<Map<String, Object>> lines = erpRows(erpLines("CAUSES-1"));
    assertEquals(List.of("NOW-COUPLED", "BLOCKED-1", "CATALOG-1"), lines.stream().map(l -> l.get("No")).toList());
    assertEquals(List.of(10000, 20000, 30000), lines.stream().map(l -> ((Number) l.get("Line_No")).intValue())
        .toList(), "line item number times 10000");
    assertEquals("PCS", lines.get(2).get("Unit_of_Measure_Code"));
    assertEquals(4.0, ((Number) lines.get(2).get("Quantity")).doubleValue());
    assertTrue(l1 != null && l2 != null);
  }

  @Test
  @Order(12)
  void releaseAndPostingGoBackToTheCrmOrder() throws Exception {
    String number = order(ESCAPED).getString("ordernumber");
    admin("release", number.toUpperCase());
    succeeded();
    assertEquals("Released", order(ESCAPED).getString("tandem_erpstatus"));
    assertEquals(1, order(ESCAPED).getInteger("statecode"), "still submitted");
    admin("post", number.toUpperCase());
    succeeded();
    JsonObject crm = order(ESCAPED);
    assertEquals("Invoiced", crm.getString("tandem_erpstatus"));
    assertEquals(4, crm.getInteger("statecode"), "fulfilled (shipped), then Invoiced, as BC sets it after posting");
    assertEquals(100003, crm.getInteger("statuscode"));
    assertTrue(crm.getString("datefulfilled") != null, crm.encode());
  }

  @Test
  @Order(13)
  void postedInvoicesBecomeCrmInvoicesOnceAndTheBalanceFollows() throws Exception {
    JsonObject order = order(ESCAPED);
    Map<String, Object> posted = erpRows(new String[] {"SalesInvoice", "Order_No eq 'O''NEIL & CO #7'"}).get(0);
    // The CRM's answer to the lines' batch is lost: the retry writes the same rows, no second invoice.
    post(CRM.get().baseUrl() + "/__admin/sim/faults", new JsonObject().put("pathPattern", "/\\$batch")
        .put("method", "POST").put("kind", "DROP_RESPONSE").put("nth", 2).put("times", 1));
    JsonObject job = TANDEM.sync(SalesOrderMappings.INVOICES);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    JsonArray invoices = crmGet("invoices?$filter=" + enc("invoicenumber eq '" + posted.get("No") + "'"))
        .getJsonArray("value");
    assertEquals(1, invoices.size(), invoices.encode());
    JsonObject inv = invoices.getJsonObject(0);
    assertEquals(order.getString("salesorderid"), inv.getString("_salesorderid_value"), "linked to its CRM order");
    assertEquals(account, inv.getString("_customerid_value"));
    assertEquals(priceList, inv.getString("_pricelevelid_value"));
    assertEquals(currency, inv.getString("_transactioncurrencyid_value"));
    assertEquals(String.valueOf(posted.get("Due_Date")), inv.getString("duedate").substring(0, 10));
    assertEquals(((Number) posted.get("Amount")).doubleValue(), inv.getDouble("totalamount"), 0.005,
        "the CRM's total of the invoice products is the ERP's amount");
    assertEquals(2, crmGet("invoicedetails?$filter=" + enc("_invoiceid_value eq " + inv.getString("invoiceid")))
        .getJsonArray("value").size());
    JsonObject again = TANDEM.sync(SalesOrderMappings.INVOICES);
    assertEquals(0, again.getJsonObject("counts").getLong("inserted"), again.encode());

    JsonObject stats = TANDEM.runJob("/api/v1/ledger-jobs/" + SalesOrderMappings.CUSTOMER_STATISTICS + "/run",
        new JsonObject());
    assertEquals("SUCCEEDED", stats.getString("status"), stats.encode());
    JsonObject acc = crmGet("accounts(" + account + ")?$select=tandem_balance");
    assertEquals(((Number) posted.get("Amount")).doubleValue(), acc.getDouble("tandem_balance"), 0.005,
        "the customer's balance (LCY) after the posted invoice");
  }

  @Test
  @Order(14)
  void cancellationBeforeReleaseCancelsTheErpOrderAfterReleaseItIsAnError() throws Exception {
    String open = orderId("LOST-1");
    String released = orderId("DROP-1");
    admin("release", "DROP-1");
    cancel(open);
    cancel(released);
    JsonObject job = succeeded();
    assertEquals(0, erpRows(erpHeader("LOST-1")).size(), "an Open ERP order is deleted: " + job.encode());
    assertEquals(0, erpRows(erpLines("LOST-1")).size());
    assertEquals(1, erpRows(erpHeader("DROP-1")).size(), "a Released one stays");
    List<JsonObject> errors = openErrors(released);
    assertEquals(1, errors.size());
    assertTrue(errors.get(0).getString("message").contains("after the ERP released"), errors.toString());
  }

  @Test
  @Order(15)
  void anOrderWithoutCurrencyPriceListOrAddressTakesTheCustomers() throws Exception {
    String id = crmCreate("salesorders", new JsonObject().put("name", "Plain order").put("ordernumber", "PLAIN-1")
        .put("customerid_account@odata.bind", "/accounts(" + account + ")"));
    crmCreate("salesorderdetails", crmLine(1, "plain line").put("salesorderid@odata.bind", "/salesorders(" + id + ")"));
    submit(id);
    JsonObject job = succeeded();
    assertEquals(1, job.getJsonObject("counts").getLong("inserted"), job.encode());
    Map<String, Object> h = erpRows(erpHeader("PLAIN-1")).get(0);
    assertEquals("C-ORDERS", h.get("Sell_to_Customer_No"));
    assertEquals(1, erpRows(erpLines("PLAIN-1")).size());
  }

  @Test
  @Order(16)
  void theCustomerStatisticsFollowTheOrdersTheirShipmentAndTheLedger() throws Exception {
    JsonObject before = statistics();
    // A new order: its lines move the customer's outstanding orders without a ledger entry.
    String id = crmCreate("salesorders", new JsonObject().put("name", "Stats order").put("ordernumber", "STATS-1")
        .put("customerid_account@odata.bind", "/accounts(" + account + ")"));
    crmCreate("salesorderdetails", crmLine(1, "stats line").put("salesorderid@odata.bind", "/salesorders(" + id + ")"));
    submit(id);
    succeeded();
    double amount = ((Number) erpRows(erpHeader("STATS-1")).get(0).get("Amount")).doubleValue();
    assertTrue(amount > 0, "the order has an amount");
    JsonObject ordered = statistics();
    assertEquals(before.getDouble("tandem_outstandingorders") + amount, ordered.getDouble("tandem_outstandingorders"),
        0.005, "outstanding orders rose by the new order: " + ordered.encode());
    // Shipped, not invoiced: the lines' Quantity Shipped moves (their SystemModifiedAt), still no customer entry.
    admin("ship", "STATS-1");
    JsonObject shipped = statistics();
    assertEquals(before.getDouble("tandem_outstandingorders"), shipped.getDouble("tandem_outstandingorders"), 0.005);
    assertEquals(before.getDouble("tandem_shippednotinvoiced") + amount,
        shipped.getDouble("tandem_shippednotinvoiced"), 0.005);
    // An older invoice, overdue by now, posted in the ERP: total sales and the overdue amounts follow the ledger.
    String lastMonth = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(30).toString();
    post(ERP.get().baseUrl() + "/__admin/sim/customer-entries", new JsonObject().put("customerNo", "C-ORDERS")
        .put("amount", 40).put("documentNo", "OLD-1").put("postingDate", lastMonth).put("dueDate", lastMonth));
    JsonObject overdue = statistics();
    assertEquals(shipped.getDouble("tandem_overdueamounts") + 40, overdue.getDouble("tandem_overdueamounts"), 0.005);
    assertEquals(shipped.getDouble("tandem_totalsales") + 40, overdue.getDouble("tandem_totalsales"), 0.005);
    assertEquals(shipped.getDouble("tandem_balance") + 40, overdue.getDouble("tandem_balance"), 0.005);
    // Every figure is the ERP's own.
    Map<String, Object> c = erpRows(new String[] {"Customer", "No eq 'C-ORDERS'"}).get(0);
    for (String[] f : new String[][] {{"Balance_LCY", "tandem_balance"},
        {"Outstanding_Orders_LCY", "tandem_outstandingorders"}, {"Shipped_Not_Invoiced_LCY", "tandem_shippednotinvoiced"},
        {"Sales_LCY", "tandem_totalsales"}, {"Balance_Due_LCY", "tandem_overdueamounts"}}) {
      assertEquals(((Number) c.get(f[0])).doubleValue(), overdue.getDouble(f[1]), 0.005, f[0] + " → " + f[1]);
    }
  }

  @Test
  @Order(17)
  void aDescriptionLongerThanTheErpsFollowsItsLineAsCommentLines() throws Exception {
    String text = "A".repeat(100) + "B".repeat(100) + "C".repeat(50);
    String id = crmCreate("salesorders", new JsonObject().put("name", "Long text").put("ordernumber", "LONG-1")
        .put("customerid_account@odata.bind", "/accounts(" + account + ")"));
    String line = crmCreate("salesorderdetails", crmLine(1, text).put("salesorderid@odata.bind",
        "/salesorders(" + id + ")"));
    crmCreate("salesorderdetails", crmLine(2, "short").put("salesorderid@odata.bind", "/salesorders(" + id + ")"));
    long coupledBefore = couplings(linesMapping());
    submit(id);
    JsonObject job = succeeded();
    assertEquals(1, job.getJsonObject("counts").getLong("inserted"), job.encode());
    List<Map<String, Object>> lines = erpRows(erpLines("LONG-1"));
    assertEquals(List.of(10000, 10001, 10002, 20000), lines.stream().map(l -> ((Number) l.get("Line_No")).intValue())
        .toList());
    assertEquals(List.of("A".repeat(100), "B".repeat(100), "C".repeat(50), "short"),
        lines.stream().map(l -> l.get("Description")).toList());
    assertEquals(" ", lines.get(1).get("Type"), "a comment line");
    assertEquals(10000, ((Number) lines.get(2).get("Attached_to_Line_No")).intValue());
    assertEquals(coupledBefore + 2, couplings(linesMapping()), "comment lines are no CRM lines");
    // Shorter now: the comment lines follow, the one no longer needed goes.
    reopen(id);
    person("PATCH", "salesorderdetails(" + line + ")", new JsonObject().put("productdescription",
        "A".repeat(100) + "D".repeat(20)));
    submit(id);
    succeeded();
    assertEquals(List.of("A".repeat(100), "D".repeat(20), "short"), erpRows(erpLines("LONG-1")).stream()
        .map(l -> l.get("Description")).toList());
    // The line deleted in the CRM: its comment line goes with it in the ERP.
    reopen(id);
    person("DELETE", "salesorderdetails(" + line + ")", new JsonObject());
    submit(id);
    succeeded();
    assertEquals(List.of("short"), erpRows(erpLines("LONG-1")).stream().map(l -> l.get("Description")).toList());
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  /** Runs the statistics job and reads the account's statistics. */
  private static JsonObject statistics() throws Exception {
    JsonObject job = TANDEM.runJob("/api/v1/ledger-jobs/" + SalesOrderMappings.CUSTOMER_STATISTICS + "/run",
        new JsonObject());
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    JsonObject acc = crmGet("accounts(" + account + ")?$select=tandem_balance,tandem_outstandingorders,"
        + "tandem_shippednotinvoiced,tandem_totalsales,tandem_overdueamounts");
    for (String f : List.of("tandem_balance", "tandem_outstandingorders", "tandem_shippednotinvoiced",
        "tandem_totalsales", "tandem_overdueamounts")) {
      if (acc.getValue(f) == null) {
        acc.put(f, 0.0);
      }
    }
    return acc;
  }

  private void cancel(String id) throws Exception {
    HttpResponse<String> r = personSend("POST", "CancelSalesOrder", new JsonObject()
        .put("OrderClose", new JsonObject().put("@odata.type", "Microsoft.Dynamics.CRM.orderclose")
            .put("subject", "Customer withdrew").put("salesorderid@odata.bind", "/salesorders(" + id + ")"))
        .put("Status", 4));
    assertEquals(204, r.statusCode(), r.body());
  }

  private static void post(String url, JsonObject body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(2, r.statusCode() / 100, url + ": " + r.body());
  }

  private static void admin(String action, String no) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().baseUrl()
        + "/__admin/sim/sales-orders/" + action)).POST(HttpRequest.BodyPublishers.ofString(
            new JsonObject().put("no", no).encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode() / 100 * 100, r.body());
  }

  private static JsonObject order(String number) throws Exception {
    return crmGet("salesorders?$filter=" + enc("ordernumber eq '" + number.replace("'", "''") + "'"))
        .getJsonArray("value").getJsonObject(0);
  }

  private static String orderId(String number) throws Exception {
    return order(number).getString("salesorderid");
  }

  private static List<JsonObject> openErrors(String crmId) throws Exception {
    JsonArray all = TANDEM.api("GET", "/api/v1/errors?mapping=" + SalesOrderMappings.ORDERS, null).json()
        .getJsonArray("errors");
    return all.stream().map(o -> (JsonObject) o).filter(e -> crmId.equalsIgnoreCase(e.getString("crmId")))
        .filter(e -> e.getValue("resolvedAt") == null && !Boolean.TRUE.equals(e.getValue("resolved"))).toList();
  }

  private String product(String number, String group, String unit) throws Exception {
    String id = crmCreate("products", new JsonObject().put("name", number).put("productnumber", number)
        .put("defaultuomscheduleid@odata.bind", "/uomschedules(" + group + ")")
        .put("defaultuomid@odata.bind", "/uoms(" + unit + ")").put("quantitydecimal", 2));
    person("POST", "products(" + id + ")/Microsoft.Dynamics.CRM.PublishProductHierarchy", new JsonObject());
    return id;
  }

  private String line(String order, int number, String product, String unit, int quantity) throws Exception {
    return crmCreate("salesorderdetails", new JsonObject().put("lineitemnumber", number)
        .put("productid@odata.bind", "/products(" + product + ")").put("uomid@odata.bind", "/uoms(" + unit + ")")
        .put("quantity", quantity).put("ispriceoverridden", true).put("priceperunit", 5.0)
        .put("salesorderid@odata.bind", "/salesorders(" + order + ")"));
  }

  private static void couple(String mapping, String erpId, String crmId) throws Exception {
    var r = TANDEM.api("POST", "/api/v1/couplings", new JsonObject().put("mapping", mapping).put("erpId", erpId)
        .put("crmId", crmId));
    assertEquals(201, r.status(), mapping + " " + erpId + ": " + r.body());
  }

  private static void couple(String mapping, String erpId, String crmId, JsonObject erpRecord) throws Exception {
    assertEquals(201, erp("POST", "Customer", erpRecord));
    couple(mapping, erpId, crmId);
  }

  private static int erpPatch(String path, JsonObject body) throws Exception {
    String[] h = {"If-Match", "*"};
    return HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().companyUrl() + "/" + path))
        .header("Authorization", erpAuth()).header("Content-Type", "application/json").header(h[0], h[1])
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static int erpDelete(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().companyUrl() + "/" + path))
        .header("Authorization", erpAuth()).header("If-Match", "*").DELETE().build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static void person(String method, String path, JsonObject body) throws Exception {
    HttpResponse<String> r = personSend(method, path, body);
    assertEquals(2, r.statusCode() / 100, method + " " + path + ": " + r.body());
  }

  private static HttpResponse<String> personSend(String method, String path, JsonObject body) throws Exception {
    String token = new JsonObject(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=person&client_secret=pw-person&scope="
                + enc(CRM.get().scope()))).build(), HttpResponse.BodyHandlers.ofString()).body())
        .getString("access_token");
    return HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/" + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
