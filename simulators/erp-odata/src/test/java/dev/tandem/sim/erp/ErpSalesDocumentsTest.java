package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sales orders and their lines as Business Central handles them on pages 42 "Sales Order" and 46 "Sales Order
 * Subform". Sources: the BC base application (StefanMaron/MSDyn365BC.Code.History): table 36 "Sales Header"
 * (field 120 Status, {@code Editable = false}; "No." from the order number series, TestNoSeries refusing manual
 * numbers), table 37 "Sales Line" (TableRelation of "No." on Item or Resource by Type; GetSalesHeader; TestStatusOpen
 * in OnInsert/OnModify/OnDelete; the price found on validating No. and Quantity; Line Amount), codeunit 414 "Release
 * Sales Document" ("There is nothing to release for the document of type %1 with the number %2."), codeunit 80
 * "Sales-Post" (posted invoice, item and customer ledger entries, the fully invoiced order deleted); Microsoft's
 * "Troubleshooting OData/API calls" error codes (Application_FieldValidationException for TestField,
 * Internal_RecordNotFound, Application_DialogException); "salesOrder resource type" (API v2.0 bound action
 * {@code Microsoft.NAV.shipAndInvoice}, 204); "Web services performance" (inserting child records of one parent in
 * parallel locks the parent). The lock error's code and text are the simulator's: BC documents the lock, not them.
 */
class ErpSalesDocumentsTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> nav = new SimulatorExtension<>(ErpSimulator::new);

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> online =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static String auth(ErpSimulator sim) throws Exception {
    ErpSimulator.Options o = sim.options();
    if (o.profile() == ErpSimulator.Profile.NAV) {
      return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
          .getBytes(StandardCharsets.UTF_8));
    }
    String form = "grant_type=client_credentials&client_id=" + enc(o.clientId()) + "&client_secret="
        + enc(o.clientSecret()) + "&scope=" + enc(ErpSimulator.scope());
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(sim.tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
        .build(), HttpResponse.BodyHandlers.ofString());
    return "Bearer " + Json.object(r.body()).get("access_token");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static HttpResponse<String> call(ErpSimulator sim, String method, String url, String body,
      String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (!url.contains("/__admin/")) {
      b.header("Authorization", auth(sim));
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Map<String, Object> created(HttpResponse<String> r) {
    assertEquals(201, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  private static Map<String, Object> ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  private static void refused(HttpResponse<String> r, int status, String code, String text) {
    assertEquals(status, r.statusCode(), r.body());
    Map<?, ?> e = (Map<?, ?>) Json.object(r.body()).get("error");
    assertEquals(code, e.get("code"), r.body());
    assertTrue(String.valueOf(e.get("message")).contains(text), r.body());
  }

  private static void admin(ErpSimulator sim, String path, String body) throws Exception {
    HttpResponse<String> r = call(sim, "POST", sim.baseUrl() + "/__admin/sim/" + path, body);
    assertTrue(r.statusCode() < 300, path + ": " + r.body());
  }

  /** A company with a unit, a price group, a customer in it, an item (list price 100) and a resource (60). */
  private static void setUp(ErpSimulator sim) throws Exception {
    admin(sim, "reset", null);
    admin(sim, "rows/UnitOfMeasure", "{\"rows\":[{\"Code\":\"PCS\"},{\"Code\":\"HOUR\"}]}");
    admin(sim, "rows/CustomerPriceGroup", "{\"rows\":[{\"Code\":\"RETAIL\"}]}");
    admin(sim, "rows/PaymentTerms", "{\"rows\":[{\"Code\":\"14 DAYS\",\"Due_Date_Calculation\":\"14D\"}]}");
    admin(sim, "rows/Customer", "{\"rows\":[{\"No\":\"C1\",\"Name\":\"Cycle shop\",\"Customer_Price_Group\":"
        + "\"RETAIL\",\"Payment_Terms_Code\":\"14 DAYS\"},{\"No\":\"C2\",\"Name\":\"Walk-in\"}]}");
    admin(sim, "rows/Item", "{\"rows\":[{\"No\":\"1000\",\"Description\":\"Bicycle\",\"Base_Unit_of_Measure\":"
        + "\"PCS\",\"Unit_Price\":100},{\"No\":\"1900\",\"Description\":\"Old bell\",\"Base_Unit_of_Measure\":"
        + "\"PCS\",\"Unit_Price\":5,\"Blocked\":true}]}");
    admin(sim, "rows/Resource", "{\"rows\":[{\"No\":\"R1\",\"Name\":\"Fitting\",\"Base_Unit_of_Measure\":"
        + "\"HOUR\",\"Unit_Price\":60}]}");
  }

  private static Map<String, Object> order(ErpSimulator sim, String customer) throws Exception {
    return created(call(sim, "POST", sim.companyUrl() + "/SalesOrder", "{\"Sell_to_Customer_No\":\"" + customer
        + "\",\"External_Document_No\":\"CRM-ORD-1\"}"));
  }

  private static HttpResponse<String> line(ErpSimulator sim, Object orderNo, String type, String no, int qty,
      String extra) throws Exception {
    return call(sim, "POST", sim.companyUrl() + "/SalesOrderLine", "{\"Document_Type\":\"Order\",\"Document_No\":\""
        + orderNo + "\",\"Type\":\"" + type + "\",\"No\":\"" + no + "\",\"Quantity\":" + qty + extra + "}");
  }

  private static String lineUrl(ErpSimulator sim, Object orderNo, int lineNo) {
    return sim.companyUrl() + "/SalesOrderLine(Document_Type='Order',Document_No='" + orderNo + "',Line_No="
        + lineNo + ")";
  }

  private static String orderUrl(ErpSimulator sim, Object orderNo) {
    return sim.companyUrl() + "/SalesOrder(Document_Type='Order',No='" + orderNo + "')";
  }

  @Test
  void theNumberComesFromTheSeriesAndManualNumbersOnlyWhereTheSeriesAllowsThem() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      Map<String, Object> o = order(sim, "C1");
      assertTrue(String.valueOf(o.get("No")).startsWith("SO"), o.toString());
      assertEquals("Order", o.get("Document_Type"), "page 42 shows orders only");
      assertEquals("Cycle shop", o.get("Sell_to_Customer_Name"), "validating the customer copies its name");
      assertEquals("RETAIL", o.get("Customer_Price_Group"));
      created(call(sim, "POST", sim.companyUrl() + "/SalesOrder", "{\"No\":\"MY-1\",\"Sell_to_Customer_No\":\"C1\"}"));
      admin(sim, "number-series", "{\"service\":\"SalesOrder\",\"manualNos\":false}");
      refused(call(sim, "POST", sim.companyUrl() + "/SalesOrder", "{\"No\":\"MY-2\",\"Sell_to_Customer_No\":\"C1\"}"),
          400, "Application_DialogException", "You may not enter numbers manually");
      refused(call(sim, "POST", sim.companyUrl() + "/SalesOrder", "{\"Status\":\"Released\"}"), 400,
          "BadRequest_InvalidOperation", "Control 'Status' is read-only.");
      // Customer.CheckBlockedCustOnDocs: a customer blocked for shipping cannot get an order.
      admin(sim, "rows/Customer", "{\"rows\":[{\"No\":\"C9\",\"Name\":\"On hold\",\"Blocked\":\"Ship\"}]}");
      refused(call(sim, "POST", sim.companyUrl() + "/SalesOrder", "{\"Sell_to_Customer_No\":\"C9\"}"), 400,
          "Application_DialogException", "You cannot create this type of document when Customer C9 is blocked with "
              + "type Ship");
    }
  }

  @Test
  void linesNeedAnExistingHeaderAndAnExistingItemOrResource() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      refused(line(sim, "SO-NONE", "Item", "1000", 1, ""), 404, "Internal_RecordNotFound",
          "The Sales Header does not exist. Identification fields and values: Document Type='Order',No.='SO-NONE'");
      Object no = order(sim, "C1").get("No");
      refused(line(sim, no, "Item", "9999", 1, ""), 400, "Internal_InvalidTableRelation", "(Item)");
      refused(line(sim, no, "Resource", "1000", 1, ""), 400, "Internal_InvalidTableRelation", "(Resource)");
      refused(line(sim, no, "Item", "1900", 1, ""), 400, "Application_FieldValidationException",
          "Blocked must be equal to 'No'  in Item: No.=1900. Current value is 'Yes'.");
      Map<String, Object> first = created(line(sim, no, "Item", "1000", 1, ""));
      Map<String, Object> second = created(line(sim, no, "Resource", "R1", 2, ""));
      assertEquals(10000, ((Number) first.get("Line_No")).intValue(), "AutoSplitKey numbers lines in 10000 steps");
      assertEquals(20000, ((Number) second.get("Line_No")).intValue());
      assertEquals("Bicycle", first.get("Description"), "from the item");
      assertEquals("PCS", first.get("Unit_of_Measure_Code"), "the item's base unit");
      assertEquals("Fitting", second.get("Description"));
      assertEquals(120.0, ((Number) second.get("Line_Amount")).doubleValue(), "2 hours at the resource's 60");
    }
  }

  @Test
  void theUnitPriceComesFromTheCustomersPriceGroupAndTheAmountsAreComputed() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      if (sim.options().profile() == ErpSimulator.Profile.NAV) {
        admin(sim, "rows/SalesPrice", "{\"rows\":[{\"Item_No\":\"1000\",\"Sales_Type\":\"Customer Price Group\","
            + "\"Sales_Code\":\"RETAIL\",\"Unit_Price\":80},{\"Item_No\":\"1000\",\"Sales_Type\":\"Customer Price "
            + "Group\",\"Sales_Code\":\"RETAIL\",\"Minimum_Quantity\":10,\"Unit_Price\":70,\"Unit_of_Measure_Code\":"
            + "\"PCS\"}]}");
      } else {
        admin(sim, "rows/PriceListHeader", "{\"rows\":[{\"Code\":\"S-RETAIL\",\"Source_Group\":\"Customer\","
            + "\"Source_Type\":\"Customer Price Group\",\"Source_No\":\"RETAIL\",\"Price_Type\":\"Sale\","
            + "\"Amount_Type\":\"Price\",\"Status\":\"Active\"}]}");
        admin(sim, "rows/PriceListLine", "{\"rows\":[{\"Price_List_Code\":\"S-RETAIL\",\"Asset_Type\":\"Item\","
            + "\"Asset_No\":\"1000\",\"Unit_Price\":80,\"Status\":\"Active\"},{\"Price_List_Code\":\"S-RETAIL\","
            + "\"Asset_Type\":\"Item\",\"Asset_No\":\"1000\",\"Minimum_Quantity\":10,\"Unit_Price\":70,"
            + "\"Status\":\"Active\"},{\"Price_List_Code\":\"S-RETAIL\",\"Asset_Type\":\"Item\",\"Asset_No\":"
            + "\"1000\",\"Unit_Price\":1,\"Status\":\"Draft\"}]}");
      }
      Map<String, Object> o = order(sim, "C1");
      Object no = o.get("No");
      String stamp = (String) o.get("SystemModifiedAt");
      Map<String, Object> one = created(line(sim, no, "Item", "1000", 1, ""));
      assertEquals(80.0, ((Number) one.get("Unit_Price")).doubleValue(), sim.options().profile().id()
          + ": the price group's price (a Draft line does not count)");
      Map<String, Object> ten = created(line(sim, no, "Item", "1000", 10, ",\"Line_Discount_Percent\":10"));
      assertEquals(70.0, ((Number) ten.get("Unit_Price")).doubleValue(), "the best price the quantity reaches");
      assertEquals(630.0, ((Number) ten.get("Line_Amount")).doubleValue(), "10 × 70 less 10 %");
      Map<String, Object> given = created(line(sim, no, "Item", "1000", 2, ",\"Unit_Price\":55"));
      assertEquals(55.0, ((Number) given.get("Unit_Price")).doubleValue(), "a price the client gives stands");
      Map<String, Object> walkIn = order(sim, "C2");
      assertEquals(100.0, ((Number) created(line(sim, walkIn.get("No"), "Item", "1000", 1, "")).get("Unit_Price"))
          .doubleValue(), "no price group: the item's unit price");
      // Changing the quantity finds the price again.
      Map<String, Object> more = ok(call(sim, "PATCH", lineUrl(sim, no, 10000), "{\"Quantity\":12}", "If-Match",
          "*"));
      assertEquals(70.0, ((Number) more.get("Unit_Price")).doubleValue());
      assertEquals(840.0, ((Number) more.get("Line_Amount")).doubleValue());
      Map<String, Object> header = ok(call(sim, "GET", orderUrl(sim, no), null));
      assertEquals(840.0 + 630.0 + 110.0, ((Number) header.get("Amount")).doubleValue(), "Amount sums the lines");
      assertEquals(stamp, header.get("SystemModifiedAt"), "Amount is a FlowField: the header is not modified");
    }
  }

  @Test
  void aReleasedOrderIsLockedUntilItIsReopened() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      Object no = order(sim, "C1").get("No");
      refused(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/release", "{\"no\":\"" + no + "\"}"),
          400, "Application_DialogException", "There is nothing to release for the document of type Order with the "
              + "number " + no + ".");
      created(line(sim, no, "Item", "1000", 1, ""));
      Map<String, Object> released = ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/release",
          "{\"no\":\"" + no + "\"}"));
      assertEquals("Released", released.get("Status"));
      String locked = "Status must be equal to 'Open'  in Sales Header: Document Type=Order, No.=" + no
          + ". Current value is 'Released'.";
      refused(call(sim, "PATCH", orderUrl(sim, no), "{\"External_Document_No\":\"X\"}", "If-Match", "*"), 400,
          "Application_FieldValidationException", locked);
      refused(line(sim, no, "Item", "1000", 1, ""), 400, "Application_FieldValidationException", locked);
      refused(call(sim, "PATCH", lineUrl(sim, no, 10000), "{\"Quantity\":3}", "If-Match", "*"), 400,
          "Application_FieldValidationException", locked);
      refused(call(sim, "DELETE", lineUrl(sim, no, 10000), null, "If-Match", "*"), 400,
          "Application_FieldValidationException", locked);
      refused(call(sim, "PATCH", orderUrl(sim, no), "{\"Status\":\"Open\"}", "If-Match", "*"), 400,
          "BadRequest_InvalidOperation", "Control 'Status' is read-only.");
      assertEquals("Open", ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/reopen", "{\"no\":\""
          + no + "\"}")).get("Status"));
      assertEquals(3, ((Number) ok(call(sim, "PATCH", lineUrl(sim, no, 10000), "{\"Quantity\":3}", "If-Match", "*"))
          .get("Quantity")).intValue(), "an Open order is editable again");
      // Release needs a customer; deleting a header deletes its lines.
      Object bare = created(call(sim, "POST", sim.companyUrl() + "/SalesOrder", "{}")).get("No");
      created(line(sim, bare, "Resource", "R1", 1, ""));
      refused(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/release", "{\"no\":\"" + bare + "\"}"),
          400, "Application_FieldValidationException", "Sell-to Customer No. must have a value in Sales Header");
      assertEquals(204, call(sim, "DELETE", orderUrl(sim, bare), null, "If-Match", "*").statusCode());
      assertEquals(0, rows(sim, "SalesOrderLine", "Document_No eq '" + bare + "'").size(), "lines go with the header");
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> rows(ErpSimulator sim, String page, String filter) throws Exception {
    return (List<Map<String, Object>>) ok(call(sim, "GET", sim.companyUrl() + "/" + page + "?$filter=" + enc(filter),
        null)).get("value");
  }

  @Test
  void postingWritesThePostedInvoiceAndTheLedgersAndLeavesItemAndCustomerAlone() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      admin(sim, "stock", "{\"itemNo\":\"1000\",\"quantity\":10}");
      Map<String, Object> itemBefore = rows(sim, "Item", "No eq '1000'").get(0);
      Map<String, Object> customerBefore = rows(sim, "Customer", "No eq 'C1'").get(0);
      Object held = order(sim, "C2").get("No");
      created(line(sim, held, "Item", "1000", 1, ""));
      Map<String, Object> c2 = rows(sim, "Customer", "No eq 'C2'").get(0);
      ok(call(sim, "PATCH", sim.companyUrl() + "/Customer('C2')", "{\"Blocked\":\"Invoice\"}", "If-Match",
          (String) c2.get("@odata.etag")));
      refused(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/post", "{\"no\":\"" + held + "\"}"), 400,
          "Application_DialogException", "You cannot post this type of document when Customer C2 is blocked with "
              + "type Invoice");
      assertEquals("Open", ok(call(sim, "GET", orderUrl(sim, held), null)).get("Status"), "nothing posted, not released");
      Object no = order(sim, "C1").get("No");
      created(line(sim, no, "Item", "1000", 3, ""));
      created(line(sim, no, "Resource", "R1", 2, ""));
      String invoiceNo;
      if (sim.options().profile() == ErpSimulator.Profile.NAV) {
        Map<String, Object> invoice = ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/post",
            "{\"no\":\"" + no + "\"}"));
        invoiceNo = (String) invoice.get("No");
      } else {
        String systemId = (String) rows(sim, "SalesOrder", "No eq '" + no + "'").get(0).get("SystemId");
        String company = (String) ((List<Map<String, Object>>) ok(call(sim, "GET", sim.serviceRoot() + "/Company",
            null)).get("value")).get(0).get("Id");
        String api = sim.baseUrl() + "/v2.0/" + sim.options().tenant() + "/" + sim.options().environment()
            + "/api/v2.0/companies(" + company + ")/salesOrders(" + systemId + ")/Microsoft.NAV.shipAndInvoice";
        HttpResponse<String> shipped = call(sim, "POST", api, "{}");
        assertEquals(204, shipped.statusCode(), shipped.body());
        invoiceNo = (String) rows(sim, "SalesInvoice", "Order_No eq '" + no + "'").get(0).get("No");
      }
      Map<String, Object> invoice = rows(sim, "SalesInvoice", "No eq '" + invoiceNo + "'").get(0);
      assertEquals(no, invoice.get("Order_No"));
      assertEquals("CRM-ORD-1", invoice.get("External_Document_No"));
      assertEquals(420.0, ((Number) invoice.get("Amount")).doubleValue(), "3 × 100 + 2 × 60");
      assertEquals(invoice.get("Posting_Date"), java.time.LocalDate.parse((String) invoice.get("Due_Date"))
          .minusDays(14).toString(), "due after the customer's payment terms (14D)");
      assertEquals(2, rows(sim, "SalesInvoiceLine", "Document_No eq '" + invoiceNo + "'").size());
      List<Map<String, Object>> sale = rows(sim, "ItemLedgerEntries", "Document_No eq '" + invoiceNo + "'");
      assertEquals(1, sale.size(), "one item line (the resource has no item ledger)");
      assertEquals("Sale", sale.get(0).get("Entry_Type"));
      assertEquals(-3, ((Number) sale.get(0).get("Quantity")).intValue());
      List<Map<String, Object>> entry = rows(sim, "CustLedgerEntries", "Document_No eq '" + invoiceNo + "'");
      assertEquals("Invoice", entry.get(0).get("Document_Type"));
      assertEquals(420.0, ((Number) entry.get(0).get("Amount_LCY")).doubleValue());
      Map<String, Object> item = rows(sim, "Item", "No eq '1000'").get(0);
      Map<String, Object> customer = rows(sim, "Customer", "No eq 'C1'").get(0);
      assertEquals(7, ((Number) item.get("Inventory")).intValue(), "10 in stock, 3 sold");
      assertEquals(420.0, ((Number) customer.get("Balance_LCY")).doubleValue());
      assertEquals(itemBefore.get("SystemModifiedAt"), item.get("SystemModifiedAt"), "FlowFields only");
      assertEquals(customerBefore.get("SystemModifiedAt"), customer.get("SystemModifiedAt"), "FlowFields only");
      assertEquals(404, call(sim, "GET", orderUrl(sim, no), null).statusCode(), "a fully invoiced order is deleted");
      assertEquals(0, rows(sim, "SalesOrderLine", "Document_No eq '" + no + "'").size());
      refused(call(sim, "POST", sim.companyUrl() + "/SalesInvoice", "{\"Sell_to_Customer_No\":\"C1\"}"), 405,
          "BadRequest_MethodNotAllowed", "read-only");
    }
  }

  @Test
  void parallelLineWritesOfOneHeaderCollideButOneBatchDoesNot() throws Exception {
    ErpSimulator sim = nav.get();
    setUp(sim);
    Object no = order(sim, "C1").get("No");
    Object other = order(sim, "C2").get("No");
    // Each line write holds its header's lock for 1.5 s: long enough to meet it deterministically.
    admin(sim, "sales-orders", "{\"lineLockMs\":1500}");
    CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> {
      try {
        return line(sim, no, "Item", "1000", 1, "");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(400);
    refused(line(sim, no, "Item", "1000", 2, ",\"Line_No\":20000"), 409, "Internal_LockTimeout",
        "the Sales Header table was locked by another user");
    assertEquals(201, line(sim, other, "Item", "1000", 1, "").statusCode(), "another header is not locked");
    assertEquals(201, first.get().statusCode(), first.get().body());
    created(line(sim, no, "Item", "1000", 2, ",\"Line_No\":20000"));

    admin(sim, "sales-orders", "{\"lineLockMs\":20}");
    StringBuilder batch = new StringBuilder("{\"requests\":[");
    for (int i = 0; i < 3; i++) {
      batch.append(i == 0 ? "" : ",").append("{\"id\":\"").append(i).append("\",\"method\":\"POST\",\"url\":\"")
          .append("Company('").append(sim.options().company()).append("')/SalesOrderLine\",\"atomicityGroup\":")
          .append("\"g1\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"Document_Type\":\"Order\",")
          .append("\"Document_No\":\"").append(other).append("\",\"Type\":\"Item\",\"No\":\"1000\",\"Quantity\":1}}");
    }
    Map<String, Object> answer = ok(call(sim, "POST", sim.serviceRoot() + "/$batch", batch.append("]}").toString()));
    for (Object r : (List<?>) answer.get("responses")) {
      assertEquals(201, ((Number) ((Map<?, ?>) r).get("status")).intValue(), r.toString());
    }
  }

  private static String linesBatch(ErpSimulator sim, Object orderNo, String... items) {
    StringBuilder batch = new StringBuilder("{\"requests\":[");
    for (int i = 0; i < items.length; i++) {
      batch.append(i == 0 ? "" : ",").append("{\"id\":\"").append(i).append("\",\"method\":\"POST\",\"url\":\"")
          .append("Company('").append(sim.options().company()).append("')/SalesOrderLine\",\"headers\":")
          .append("{\"Content-Type\":\"application/json\"},\"body\":{\"Document_Type\":\"Order\",\"Document_No\":\"")
          .append(orderNo).append("\",\"Type\":\"Item\",\"No\":\"").append(items[i]).append("\",\"Quantity\":1}}");
    }
    return batch.append("]}").toString();
  }

  private static List<Integer> statuses(HttpResponse<String> r) {
    return ((List<?>) ok(r).get("responses")).stream().map(p -> ((Number) ((Map<?, ?>) p).get("status")).intValue())
        .toList();
  }

  @Test
  void aTransactionalBatchLeavesNoHalfOrder() throws Exception {
    // "Using OData transactional $batch requests" (BC 17.1 and later): with Isolation: snapshot every part is
    // answered, and when one fails none of the changes stays.
    ErpSimulator sim = nav.get();
    setUp(sim);
    Object no = order(sim, "C1").get("No");
    HttpResponse<String> atomic = call(sim, "POST", sim.serviceRoot() + "/$batch", linesBatch(sim, no, "1000", "1000",
        "9999"), "Isolation", "snapshot");
    assertEquals(List.of(201, 201, 400), statuses(atomic));
    assertEquals(0, rows(sim, "SalesOrderLine", "Document_No eq '" + no + "'").size(), "rolled back");
    assertEquals(0.0, ((Number) ok(call(sim, "GET", orderUrl(sim, no), null)).get("Amount")).doubleValue());
    HttpResponse<String> plain = call(sim, "POST", sim.serviceRoot() + "/$batch", linesBatch(sim, no, "1000", "1000",
        "9999"));
    assertEquals(List.of(201, 201, 400), statuses(plain));
    assertEquals(2, rows(sim, "SalesOrderLine", "Document_No eq '" + no + "'").size(), "without it each part stands");
    HttpResponse<String> whole = call(sim, "POST", sim.serviceRoot() + "/$batch", linesBatch(sim, no, "1000", "1000"),
        "Isolation", "snapshot");
    assertEquals(List.of(201, 201), statuses(whole));
    assertEquals(4, rows(sim, "SalesOrderLine", "Document_No eq '" + no + "'").size());
  }

  private static double num(Map<String, Object> row, String field) {
    return ((Number) row.get(field)).doubleValue();
  }

  /**
   * The customer's statistics FlowFields (table 18 fields 113 Outstanding Orders (LCY), 114 Shipped Not Invoiced
   * (LCY), 62 Sales (LCY), 67 Balance Due (LCY)) follow the order lines and the customer ledger entries, and none of
   * them moves the Customer's SystemModifiedAt; a ship-only posting moves the amount from outstanding to shipped not
   * invoiced, invoicing it to the balance and sales.
   */
  @Test
  void theCustomerStatisticsFollowTheOrderLinesAndTheLedger() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      admin(sim, "stock", "{\"itemNo\":\"1000\",\"quantity\":10}");
      Map<String, Object> before = rows(sim, "Customer", "No eq 'C1'").get(0);
      Object no = order(sim, "C1").get("No");
      created(line(sim, no, "Item", "1000", 3, ""));
      Map<String, Object> second = created(line(sim, no, "Resource", "R1", 2, ""));
      assertEquals("C1", second.get("Sell_to_Customer_No"), "the line carries its header's customer");
      Map<String, Object> c = rows(sim, "Customer", "No eq 'C1'").get(0);
      assertEquals(420.0, num(c, "Outstanding_Orders_LCY"), "3 × 100 + 2 × 60 not shipped");
      assertEquals(0.0, num(c, "Shipped_Not_Invoiced_LCY"));
      assertEquals(before.get("SystemModifiedAt"), c.get("SystemModifiedAt"), "FlowFields only");
      assertTrue(!before.get("@odata.etag").equals(c.get("@odata.etag")), "the ETag carries the FlowFields");
      // A changed quantity, then a deleted line: the sums follow.
      ok(call(sim, "PATCH", lineUrl(sim, no, 10000), "{\"Quantity\":4}", "If-Match", "*"));
      assertEquals(520.0, num(rows(sim, "Customer", "No eq 'C1'").get(0), "Outstanding_Orders_LCY"));
      assertEquals(204, call(sim, "DELETE", lineUrl(sim, no, 20000), null, "If-Match", "*").statusCode());
      assertEquals(400.0, num(rows(sim, "Customer", "No eq 'C1'").get(0), "Outstanding_Orders_LCY"));
      created(line(sim, no, "Resource", "R1", 2, ""));
      // Post (Ship): the order stays, Released; the amount is shipped, not invoiced; the items leave the stock.
      Map<String, Object> shipped = ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/ship",
          "{\"no\":\"" + no + "\"}"));
      assertEquals("Released", shipped.get("Status"));
      c = rows(sim, "Customer", "No eq 'C1'").get(0);
      assertEquals(0.0, num(c, "Outstanding_Orders_LCY"));
      assertEquals(520.0, num(c, "Shipped_Not_Invoiced_LCY"));
      assertEquals(6, ((Number) rows(sim, "Item", "No eq '1000'").get(0).get("Inventory")).intValue());
      assertEquals(4.0, num(rows(sim, "SalesOrderLine", "Document_No eq '" + no + "' and Line_No eq 10000").get(0),
          "Quantity_Shipped"));
      // Post (Invoice): the order goes, its amount is on the balance and in the sales; not yet due (14 days).
      ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/sales-orders/post", "{\"no\":\"" + no + "\"}"));
      c = rows(sim, "Customer", "No eq 'C1'").get(0);
      assertEquals(0.0, num(c, "Shipped_Not_Invoiced_LCY"));
      assertEquals(520.0, num(c, "Balance_LCY"));
      assertEquals(520.0, num(c, "Sales_LCY"));
      assertEquals(0.0, num(c, "Balance_Due_LCY"), "due in 14 days");
      assertEquals(6, ((Number) rows(sim, "Item", "No eq '1000'").get(0).get("Inventory")).intValue(),
          "shipped once, not again when invoiced");
      Map<String, Object> entry = rows(sim, "CustLedgerEntries", "Customer_No eq 'C1'").get(0);
      assertEquals(java.time.LocalDate.now(java.time.ZoneOffset.UTC).plusDays(14).toString(), entry.get("Due_Date"));
      assertEquals(520.0, num(entry, "Remaining_Amt_LCY"));
      // An older invoice past its due date is overdue; a payment is no sale and lowers the balance due.
      String lastMonth = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(30).toString();
      admin(sim, "customer-entries", "{\"customerNo\":\"C1\",\"amount\":80,\"postingDate\":\"" + lastMonth
          + "\",\"dueDate\":\"" + lastMonth + "\"}");
      c = rows(sim, "Customer", "No eq 'C1'").get(0);
      assertEquals(80.0, num(c, "Balance_Due_LCY"));
      assertEquals(600.0, num(c, "Sales_LCY"));
      admin(sim, "customer-entries", "{\"customerNo\":\"C1\",\"amount\":-30,\"documentType\":\"Payment\"}");
      c = ok(call(sim, "GET", sim.companyUrl() + "/Customer('C1')", null));
      assertEquals(50.0, num(c, "Balance_Due_LCY"), "read by key too");
      assertEquals(570.0, num(c, "Balance_LCY"));
      assertEquals(600.0, num(c, "Sales_LCY"), "a payment is no sale");
      assertEquals(before.get("SystemModifiedAt"), c.get("SystemModifiedAt"), "FlowFields only");
      refused(call(sim, "PATCH", sim.companyUrl() + "/Customer('C1')", "{\"Outstanding_Orders_LCY\":1}",
          "If-Match", "*"), 400, "BadRequest_InvalidOperation", "Control 'Outstanding_Orders_LCY' is read-only.");
    }
  }

  /**
   * A line of type ' ' (a comment line: Sales Line Type " ") needs no number and carries only its text; one
   * attached to a line ("Attached to Line No.") is deleted with that line (Sales Line OnDelete), others stay.
   */
  @Test
  void aCommentLineNeedsNoNumberAndGoesWithTheLineItIsAttachedTo() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      Object no = order(sim, "C1").get("No");
      created(line(sim, no, "Item", "1000", 1, ""));
      Map<String, Object> comment = created(line(sim, no, " ", "", 0, ",\"Line_No\":10001,\"Description\":"
          + "\"gift wrapped\",\"Attached_to_Line_No\":10000"));
      assertEquals(" ", comment.get("Type"));
      assertEquals("gift wrapped", comment.get("Description"));
      assertEquals(0.0, num(comment, "Line_Amount"));
      created(line(sim, no, " ", "", 0, ",\"Line_No\":10002,\"Description\":\"not attached\""));
      assertEquals(204, call(sim, "DELETE", lineUrl(sim, no, 10000), null, "If-Match", "*").statusCode());
      List<Map<String, Object>> left = rows(sim, "SalesOrderLine", "Document_No eq '" + no + "'");
      assertEquals(List.of("not attached"), left.stream().map(l -> l.get("Description")).toList());
    }
  }
}
