package dev.tandem.sim.crm;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Orders, order products, invoices and invoice products as Dynamics 365 Sales handles them. Sources: Microsoft's
 * "Order (SalesOrder)" and "salesorderdetail" table references (statecode IsValidForCreate False, the state and
 * status choices, baseamount/extendedamount IsValidForCreate False and their descriptions, the totals' descriptions,
 * pricingerrorcode's choices), "Dynamics 365 Sales and privacy" (orders read-only when Fulfilled, Canceled,
 * Submitted or Invoiced; invoices when Paid, Canceled or Closed), the Web API action references FulfillSalesOrder and
 * CancelSalesOrder (OrderClose and Status, not nullable; Status -1 = the state's default reason, per
 * FulfillSalesOrderRequest.Status) and ConvertSalesOrderToInvoice (SalesOrderId, ColumnSet; returns the invoice), the
 * platform's "use the CancelSalesOrderRequest" refusal of a SetState to Canceled (Dynamics community forum), BC's
 * codeunit "CRM Sales Order to Sales Order" (sets Invoiced by update). Error codes for the read-only and closed-order
 * refusals are the simulator's (0x80040203).
 */
class DataverseSalesOrdersTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static String token;
  private String unit;
  private String product;
  private String unlisted;
  private String list;
  private String account;

  private static HttpResponse<String> raw(String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> api(String method, String path, String body, String... headers)
      throws Exception {
    List<String> h = new ArrayList<>(List.of(headers));
    h.add("Authorization");
    h.add("Bearer " + token);
    if (body != null) {
      h.add("Content-Type");
      h.add("application/json");
    }
    if (method.equals("PATCH") || method.equals("DELETE")) {
      h.add("If-Match");
      h.add("*");
    }
    return raw(method, crm.get().apiUrl() + "/" + path, body, h.toArray(new String[0]));
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String create(String set, String body) throws Exception {
    HttpResponse<String> r = api("POST", set, body);
    assertEquals(204, r.statusCode(), set + ": " + r.body());
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    return h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
  }

  private static Map<String, Object> row(String set, String id) throws Exception {
    HttpResponse<String> r = api("GET", set + "(" + id + ")", null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  private static void refused(HttpResponse<String> r, int status, String code, String text) {
    assertEquals(status, r.statusCode(), r.body());
    Map<?, ?> e = (Map<?, ?>) Json.object(r.body()).get("error");
    assertEquals(code, e.get("code"), r.body());
    assertTrue(String.valueOf(e.get("message")).contains(text), r.body());
  }

  private static double num(Map<String, Object> row, String column) {
    return ((Number) row.get(column)).doubleValue();
  }

  private static int integer(Map<String, Object> row, String column) {
    return ((Number) row.get(column)).intValue();
  }

  @BeforeEach
  void setUp() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/reset", null);
    HttpResponse<String> t = raw("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=tandem-secret&scope=" + q(crm.get().scope()),
        "Content-Type", "application/x-www-form-urlencoded");
    token = (String) Json.object(t.body()).get("access_token");
    String group = create("uomschedules", "{\"name\":\"PCS\",\"baseuomname\":\"PCS\"}");
    unit = (String) Json.objects(Json.object(api("GET", "uoms?$filter=" + q("_uomscheduleid_value eq " + group), null)
        .body()).get("value")).get(0).get("uomid");
    String units = "\"quantitydecimal\":0,\"defaultuomscheduleid@odata.bind\":\"/uomschedules(" + group + ")\","
        + "\"defaultuomid@odata.bind\":\"/uoms(" + unit + ")\"";
    product = create("products", "{\"name\":\"Bicycle\",\"productnumber\":\"1000\"," + units + "}");
    unlisted = create("products", "{\"name\":\"Lamp\",\"productnumber\":\"2000\"," + units + "}");
    for (String p : List.of(product, unlisted)) {
      assertEquals(204, api("POST", "products(" + p + ")/Microsoft.Dynamics.CRM.PublishProductHierarchy", "{}")
          .statusCode());
    }
    list = create("pricelevels", "{\"name\":\"RETAIL\"}");
    create("productpricelevels", "{\"amount\":25,\"pricingmethodcode\":1,\"pricelevelid@odata.bind\":\"/pricelevels("
        + list + ")\",\"productid@odata.bind\":\"/products(" + product + ")\",\"uomid@odata.bind\":\"/uoms(" + unit
        + ")\"}");
    account = create("accounts", "{\"name\":\"Cycle shop\",\"accountnumber\":\"C1\"}");
  }

  private String order() throws Exception {
    return create("salesorders", "{\"name\":\"Spring order\",\"customerid_account@odata.bind\":\"/accounts("
        + account + ")\",\"pricelevelid@odata.bind\":\"/pricelevels(" + list + ")\"}");
  }

  private HttpResponse<String> line(String order, String columns) throws Exception {
    return api("POST", "salesorderdetails", "{\"salesorderid@odata.bind\":\"/salesorders(" + order + ")\"," + columns
        + "}");
  }

  private String productLine(String order, int quantity) throws Exception {
    HttpResponse<String> r = line(order, "\"quantity\":" + quantity + ",\"productid@odata.bind\":\"/products("
        + product + ")\",\"uomid@odata.bind\":\"/uoms(" + unit + ")\"");
    assertEquals(204, r.statusCode(), r.body());
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    return h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
  }

  @Test
  void onlyAnActiveOrderIsEditableAndSetStateCannotCloseIt() throws Exception {
    refused(api("POST", "salesorders", "{\"name\":\"X\",\"statecode\":1,\"statuscode\":3}"), 400, "0x80048d19",
        "not valid for create");
    String order = order();
    Map<String, Object> created = row("salesorders", order);
    assertEquals(0, integer(created, "statecode"));
    assertEquals(1, integer(created, "statuscode"), "Active: New");
    String number = (String) created.get("ordernumber");
    assertTrue(number.matches("ORD-\\d{5}-[0-9A-F]{6}"), number);
    String detail = productLine(order, 1);
    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"name\":\"Spring order 2\",\"ordernumber\":"
        + "\"MINE\"}").statusCode());
    assertEquals(number, row("salesorders", order).get("ordernumber"), "ordernumber is not valid for update");

    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"statecode\":1,\"statuscode\":3}").statusCode(),
        "submitting is a SetState");
    refused(api("PATCH", "salesorders(" + order + ")", "{\"name\":\"Edited\"}"), 400, "0x80040203",
        "salesorder is Submitted and therefore read-only");
    refused(line(order, "\"quantity\":1,\"productid@odata.bind\":\"/products(" + product + ")\""), 400, "0x80040203",
        "read-only");
    refused(api("PATCH", "salesorderdetails(" + detail + ")", "{\"quantity\":5}"), 400, "0x80040203", "read-only");
    refused(api("DELETE", "salesorderdetails(" + detail + ")", null), 400, "0x80040203", "read-only");
    refused(api("PATCH", "salesorders(" + order + ")", "{\"statecode\":3,\"statuscode\":100001}"), 400, "0x80040203",
        "use the FulfillSalesOrderRequest");
    refused(api("PATCH", "salesorders(" + order + ")", "{\"statecode\":2,\"statuscode\":4}"), 400, "0x80040203",
        "This message can not be used to set the state of SalesOrder to Canceled. In order to set state of "
            + "SalesOrder to Canceled, use the CancelSalesOrderRequest Request message instead.");

    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"statecode\":0,\"statuscode\":1}").statusCode(),
        "back to Active, as BC's integration does");
    assertEquals(204, api("PATCH", "salesorderdetails(" + detail + ")", "{\"quantity\":5}").statusCode());
    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"statecode\":4,\"statuscode\":100003}")
        .statusCode(), "Invoiced by SetState, as BC's integration does");
    refused(api("PATCH", "salesorders(" + order + ")", "{\"description\":\"late\"}"), 400, "0x80040203",
        "Invoiced and therefore read-only");
  }

  @Test
  void fulfillAndCancelCloseTheOrderWithAnOrderClose() throws Exception {
    String order = order();
    productLine(order, 2);
    String close = "\"OrderClose\":{\"@odata.type\":\"Microsoft.Dynamics.CRM.orderclose\",\"subject\":\"Shipped\","
        + "\"actualend\":\"2026-12-01T10:00:00Z\",\"salesorderid@odata.bind\":\"/salesorders(" + order + ")\"}";
    refused(api("POST", "FulfillSalesOrder", "{" + close + "}"), 400, "0x80040203", "Required parameter 'Status'");
    refused(api("POST", "FulfillSalesOrder", "{\"Status\":100001}"), 400, "0x80040203",
        "Required parameter 'OrderClose'");
    refused(api("POST", "FulfillSalesOrder", "{" + close + ",\"Status\":4}"), 400, "0x80048408",
        "status code is invalid");
    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"statecode\":1,\"statuscode\":3}").statusCode());
    HttpResponse<String> fulfilled = api("POST", "FulfillSalesOrder", "{" + close + ",\"Status\":100002}");
    assertEquals(204, fulfilled.statusCode(), fulfilled.body());
    Map<String, Object> o = row("salesorders", order);
    assertEquals(3, integer(o, "statecode"));
    assertEquals(100002, integer(o, "statuscode"), "Fulfilled: Partial");
    assertEquals("2026-12-01T10:00:00Z", o.get("datefulfilled"));
    List<Map<String, Object>> closes = Json.objects(Json.object(api("GET", "ordercloses?$filter="
        + q("_salesorderid_value eq " + order), null).body()).get("value"));
    assertEquals(1, closes.size());
    assertEquals("Shipped", closes.get(0).get("subject"));
    refused(api("POST", "FulfillSalesOrder", "{" + close + ",\"Status\":100001}"), 400, "0x80040203",
        "salesorder is Fulfilled");
    refused(api("PATCH", "salesorders(" + order + ")", "{\"name\":\"x\"}"), 400, "0x80040203", "read-only");

    String other = order();
    HttpResponse<String> canceled = api("POST", "CancelSalesOrder", "{\"OrderClose\":{\"salesorderid@odata.bind\":"
        + "\"/salesorders(" + other + ")\"},\"Status\":-1}");
    assertEquals(204, canceled.statusCode(), canceled.body());
    Map<String, Object> c = row("salesorders", other);
    assertEquals(2, integer(c, "statecode"));
    assertEquals(4, integer(c, "statuscode"), "-1: the state's default reason (No Money)");
    // The binding the CRM 2016 reference shows: bound to the salesorder collection.
    String third = order();
    assertEquals(204, api("POST", "salesorders/Microsoft.Dynamics.CRM.FulfillSalesOrder", "{\"OrderClose\":"
        + "{\"salesorderid@odata.bind\":\"/salesorders(" + third + ")\"},\"Status\":100001}").statusCode());
  }

  @Test
  void linesArePricedFromTheOrdersPriceListAndTheTotalsFollow() throws Exception {
    String order = order();
    HttpResponse<String> listed = line(order, "\"quantity\":3,\"priceperunit\":999,\"manualdiscountamount\":5,"
        + "\"tax\":7,\"baseamount\":1,\"productid@odata.bind\":\"/products(" + product + ")\",\"uomid@odata.bind\":"
        + "\"/uoms(" + unit + ")\"");
    assertEquals(204, listed.statusCode(), listed.body());
    String h = listed.headers().firstValue("OData-EntityId").orElseThrow();
    Map<String, Object> first = row("salesorderdetails", h.substring(h.lastIndexOf('(') + 1, h.length() - 1));
    assertEquals(25.0, num(first, "priceperunit"), "the price list item's amount, not the client's price");
    assertEquals(75.0, num(first, "baseamount"), "computed: 3 × 25");
    assertEquals(77.0, num(first, "extendedamount"), "75 − 5 + 7 tax");
    assertEquals(0, integer(first, "pricingerrorcode"));

    assertEquals(204, line(order, "\"quantity\":2,\"priceperunit\":30,\"ispriceoverridden\":true,"
        + "\"productid@odata.bind\":\"/products(" + product + ")\",\"uomid@odata.bind\":\"/uoms(" + unit + ")\"")
        .statusCode());
    HttpResponse<String> notListed = line(order, "\"quantity\":1,\"productid@odata.bind\":\"/products(" + unlisted
        + ")\",\"uomid@odata.bind\":\"/uoms(" + unit + ")\"");
    assertEquals(204, notListed.statusCode(), notListed.body());
    String n = notListed.headers().firstValue("OData-EntityId").orElseThrow();
    String notListedId = n.substring(n.lastIndexOf('(') + 1, n.length() - 1);
    Map<String, Object> unpriced = row("salesorderdetails", notListedId);
    assertEquals(11, integer(unpriced, "pricingerrorcode"), "Product Not In Price Level");
    assertEquals(0.0, num(unpriced, "priceperunit"));
    HttpResponse<String> noUnit = line(order, "\"quantity\":1,\"productid@odata.bind\":\"/products(" + product + ")\"");
    String u = noUnit.headers().firstValue("OData-EntityId").orElseThrow();
    String noUnitId = u.substring(u.lastIndexOf('(') + 1, u.length() - 1);
    assertEquals(10, integer(row("salesorderdetails", noUnitId), "pricingerrorcode"), "Missing UOM");
    assertEquals(1, integer(row("salesorders", order), "pricingerrorcode"), "Detail Error on the order");
    assertEquals(204, api("DELETE", "salesorderdetails(" + notListedId + ")", null).statusCode());
    assertEquals(204, api("DELETE", "salesorderdetails(" + noUnitId + ")", null).statusCode());

    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"discountpercentage\":10,\"freightamount\":4,"
        + "\"totalamount\":1}").statusCode());
    Map<String, Object> o = row("salesorders", order);
    assertEquals(130.0, num(o, "totallineitemamount"), "(75 − 5) + 60");
    assertEquals(5.0, num(o, "totallineitemdiscountamount"));
    assertEquals(13.0, num(o, "totaldiscountamount"), "10 % of 130");
    assertEquals(117.0, num(o, "totalamountlessfreight"));
    assertEquals(7.0, num(o, "totaltax"));
    assertEquals(128.0, num(o, "totalamount"), "117 + 4 freight + 7 tax; the client's 1 is ignored");
    assertEquals(0, integer(o, "pricingerrorcode"));
  }

  @Test
  void writeInProductsHaveADescriptionAndNoProduct() throws Exception {
    String order = order();
    refused(line(order, "\"quantity\":1,\"isproductoverridden\":true,\"priceperunit\":12"), 400, "0x80040203",
        "'productdescription'");
    refused(line(order, "\"quantity\":1,\"isproductoverridden\":true,\"productdescription\":\"Gift wrap\","
        + "\"productid@odata.bind\":\"/products(" + product + ")\""), 400, "0x80040203", "has no productid");
    refused(line(order, "\"quantity\":1"), 400, "0x80040203", "'productid'");
    HttpResponse<String> writeIn = line(order, "\"quantity\":2,\"isproductoverridden\":true,\"productdescription\":"
        + "\"Gift wrap\",\"priceperunit\":12");
    assertEquals(204, writeIn.statusCode(), writeIn.body());
    String h = writeIn.headers().firstValue("OData-EntityId").orElseThrow();
    String id = h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
    Map<String, Object> w = row("salesorderdetails", id);
    assertEquals(24.0, num(w, "baseamount"), "the given price: a write-in product has no price list item");
    refused(api("PATCH", "salesorderdetails(" + id + ")", "{\"isproductoverridden\":false}"), 400, "0x80040203",
        "cannot be updated");
    assertEquals(24.0, num(row("salesorders", order), "totalamount"));
    // Only published products go on lines.
    String draft = create("products", "{\"name\":\"Prototype\",\"productnumber\":\"3000\",\"quantitydecimal\":0,"
        + "\"defaultuomscheduleid@odata.bind\":\"/uomschedules(" + row("uoms", unit).get("_uomscheduleid_value")
        + ")\",\"defaultuomid@odata.bind\":\"/uoms(" + unit + ")\"}");
    refused(line(order, "\"quantity\":1,\"productid@odata.bind\":\"/products(" + draft + ")\",\"uomid@odata.bind\":"
        + "\"/uoms(" + unit + ")\""), 400, "0x80043b1e", "is not active");
  }

  @Test
  void convertingAnOrderMakesAnInvoiceWithItsOwnStates() throws Exception {
    String order = order();
    productLine(order, 4);
    refused(api("POST", "ConvertSalesOrderToInvoice", "{\"ColumnSet\":{\"AllColumns\":true}}"), 400, "0x80040203",
        "Required parameter 'SalesOrderId'");
    assertEquals(404, api("POST", "ConvertSalesOrderToInvoice", "{\"SalesOrderId\":\""
        + java.util.UUID.randomUUID() + "\",\"ColumnSet\":{\"AllColumns\":true}}").statusCode());
    HttpResponse<String> r = api("POST", "ConvertSalesOrderToInvoice", "{\"SalesOrderId\":\"" + order
        + "\",\"ColumnSet\":{\"AllColumns\":false,\"Columns\":[\"name\",\"totalamount\",\"_salesorderid_value\"]}}");
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Object> invoice = Json.object(r.body());
    String id = (String) invoice.get("invoiceid");
    assertEquals("Spring order", invoice.get("name"));
    assertEquals(100.0, num(invoice, "totalamount"), "4 × 25");
    assertEquals(order, invoice.get("_salesorderid_value"));
    assertTrue(!invoice.containsKey("invoicenumber"), "only the columns asked for: " + invoice);
    List<Map<String, Object>> details = Json.objects(Json.object(api("GET", "invoicedetails?$filter="
        + q("_invoiceid_value eq " + id), null).body()).get("value"));
    assertEquals(1, details.size());
    assertEquals(100.0, num(details.get(0), "extendedamount"));
    Map<String, Object> stored = row("invoices", id);
    assertEquals(0, integer(stored, "statecode"));
    assertEquals(1, integer(stored, "statuscode"), "Active: New");
    assertTrue(String.valueOf(stored.get("invoicenumber")).startsWith("INV-"));

    assertEquals(204, api("PATCH", "invoices(" + id + ")", "{\"description\":\"first delivery\"}").statusCode());
    assertEquals(204, api("PATCH", "invoices(" + id + ")", "{\"statecode\":2,\"statuscode\":100001}").statusCode(),
        "Paid: Complete");
    refused(api("PATCH", "invoices(" + id + ")", "{\"description\":\"changed\"}"), 400, "0x80040203",
        "invoice is Paid and therefore read-only");
    refused(api("POST", "invoicedetails", "{\"quantity\":1,\"isproductoverridden\":true,\"productdescription\":\"x\","
        + "\"priceperunit\":1,\"invoiceid@odata.bind\":\"/invoices(" + id + ")\"}"), 400, "0x80040203", "read-only");
    refused(api("PATCH", "invoices(" + id + ")", "{\"statecode\":2,\"statuscode\":3}"), 400, "0x80048408",
        "status code is invalid");
  }

  @Test
  void thePricingMethodOfThePriceListItemAndAMissingPriceListAreHonoured() throws Exception {
    // Percent of List: the product's list price times the percentage; Percent Margin over standard cost:
    // cost / (1 − margin).
    assertEquals(204, api("PATCH", "products(" + unlisted + ")", "{\"price\":80,\"standardcost\":30}").statusCode());
    String percent = create("pricelevels", "{\"name\":\"PERCENT\"}");
    create("productpricelevels", "{\"percentage\":75,\"pricingmethodcode\":2,\"pricelevelid@odata.bind\":"
        + "\"/pricelevels(" + percent + ")\",\"productid@odata.bind\":\"/products(" + unlisted + ")\","
        + "\"uomid@odata.bind\":\"/uoms(" + unit + ")\"}");
    String margin = create("pricelevels", "{\"name\":\"MARGIN\"}");
    create("productpricelevels", "{\"percentage\":40,\"pricingmethodcode\":6,\"pricelevelid@odata.bind\":"
        + "\"/pricelevels(" + margin + ")\",\"productid@odata.bind\":\"/products(" + unlisted + ")\","
        + "\"uomid@odata.bind\":\"/uoms(" + unit + ")\"}");
    for (String[] c : new String[][] {{percent, "60.0"}, {margin, "50.0"}}) {
      String order = create("salesorders", "{\"name\":\"O\",\"pricelevelid@odata.bind\":\"/pricelevels(" + c[0]
          + ")\"}");
      assertEquals(204, line(order, "\"quantity\":1,\"productid@odata.bind\":\"/products(" + unlisted + ")\","
          + "\"uomid@odata.bind\":\"/uoms(" + unit + ")\"").statusCode());
      assertEquals(Double.parseDouble(c[1]), num(row("salesorders", order), "totalamount"));
    }
    String noList = create("salesorders", "{\"name\":\"No list\"}");
    HttpResponse<String> r = line(noList, "\"quantity\":1,\"productid@odata.bind\":\"/products(" + product + ")\","
        + "\"uomid@odata.bind\":\"/uoms(" + unit + ")\"");
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    assertEquals(2, integer(row("salesorderdetails", h.substring(h.lastIndexOf('(') + 1, h.length() - 1)),
        "pricingerrorcode"), "Missing Price Level");
  }
}
