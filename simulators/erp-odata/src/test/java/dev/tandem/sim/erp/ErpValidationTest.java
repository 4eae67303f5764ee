package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What Business Central validates on insert and modify, and in queries: table relations, number series, read-only
 * controls, the concurrency token, unknown properties.
 */
class ErpValidationTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

  private static HttpResponse<String> call(String method, String url, String body, String... headers)
      throws Exception {
    ErpSimulator.Options o = erp.get().options();
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(body))
        .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
            (o.user() + ":" + o.accessKey()).getBytes(StandardCharsets.UTF_8)));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String company() {
    return erp.get().companyUrl();
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static Map<?, ?> error(HttpResponse<String> r) {
    return (Map<?, ?>) Json.object(r.body()).get("error");
  }

  private static void refused(HttpResponse<String> r, String code, String text) {
    assertEquals(400, r.statusCode(), r.body());
    assertEquals(code, error(r).get("code"), r.body());
    assertTrue(String.valueOf(error(r).get("message")).contains(text), r.body());
  }

  @BeforeEach
  void reset() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/reset", null);
    // The company's set-up: code tables, one salesperson.
    call("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":1,\"counts\":{\"SalespersonPurchaser\":1}}");
  }

  @Test
  void unknownRelatedCodesAreRefusedOnInsertAndModify() throws Exception {
    String customers = company() + "/Customer";
    for (String[] c : new String[][] {{"Salesperson_Code", "NOBODY", "SalespersonPurchaser"},
        {"Currency_Code", "XYZ", "Currency"}, {"Payment_Terms_Code", "60 DAYS", "PaymentTerms"},
        {"Customer_Price_Group", "VIP", "CustomerPriceGroup"}, {"Shipment_Method_Code", "MULE", "ShipmentMethod"}}) {
      refused(call("POST", customers, "{\"Name\":\"X\",\"" + c[0] + "\":\"" + c[1] + "\"}"),
          "Internal_InvalidTableRelation", "contains a value (" + c[1] + ") that cannot be found in the related "
              + "table (" + c[2] + ")");
    }
    HttpResponse<String> ok = call("POST", customers, "{\"Name\":\"Fine\",\"Salesperson_Code\":\"SP1\","
        + "\"Currency_Code\":\"EUR\",\"Payment_Terms_Code\":\"14 DAYS\",\"Customer_Price_Group\":\"RETAIL\","
        + "\"Shipment_Method_Code\":\"\"}");
    assertEquals(201, ok.statusCode(), ok.body());
    Map<String, Object> row = Json.object(ok.body());
    String url = customers + "('" + row.get("No") + "')";
    refused(call("PATCH", url, "{\"Salesperson_Code\":\"GHOST\"}", "If-Match", (String) row.get("@odata.etag")),
        "Internal_InvalidTableRelation", "(GHOST)");
    assertEquals(200, call("PATCH", url, "{\"Salesperson_Code\":\"\"}", "If-Match",
        (String) row.get("@odata.etag")).statusCode(), "an empty code relates to nothing");

    refused(call("POST", company() + "/Item", "{\"Description\":\"Bolt\",\"Base_Unit_of_Measure\":\"GROSS\"}"),
        "Internal_InvalidTableRelation", "(UnitOfMeasure)");
    refused(call("POST", company() + "/SalesOrderLine", "{\"Document_Type\":\"Order\",\"Document_No\":\"SO1\","
        + "\"Line_No\":10000,\"Type\":\"Item\",\"No\":\"NO-SUCH-ITEM\",\"Quantity\":1}"),
        "Internal_InvalidTableRelation", "(Item)");
  }

  @Test
  void explicitNumbersAreRefusedWhenTheSeriesHasNoManualNos() throws Exception {
    String customers = company() + "/Customer";
    assertEquals(201, call("POST", customers, "{\"No\":\"MANUAL1\",\"Name\":\"Allowed\"}").statusCode(),
        "Manual Nos. on by default, as in CRONUS");
    call("POST", erp.get().baseUrl() + "/__admin/sim/number-series", "{\"service\":\"Customer\",\"manualNos\":false}");
    refused(call("POST", customers, "{\"No\":\"MANUAL2\",\"Name\":\"Refused\"}"), "Application_DialogException",
        "You may not enter numbers manually");
    HttpResponse<String> numbered = call("POST", customers, "{\"Name\":\"Numbered\"}");
    assertEquals(201, numbered.statusCode(), numbered.body());
    assertTrue(String.valueOf(Json.object(numbered.body()).get("No")).startsWith("C"), "the ERP assigns No");
  }

  @Test
  void readOnlyControlsAreRefusedFromClients() throws Exception {
    refused(call("POST", company() + "/Customer", "{\"Name\":\"X\",\"Balance_LCY\":100}"),
        "BadRequest_InvalidOperation", "Control 'Balance_LCY' is read-only.");
    HttpResponse<String> c = call("POST", company() + "/Customer", "{\"Name\":\"Y\"}");
    Map<String, Object> row = Json.object(c.body());
    refused(call("PATCH", company() + "/Customer('" + row.get("No") + "')", "{\"Last_Date_Modified\":\"2026-01-01\"}",
        "If-Match", (String) row.get("@odata.etag")), "BadRequest_InvalidOperation", "Last_Date_Modified");
    refused(call("POST", company() + "/Item", "{\"Description\":\"Z\",\"Inventory\":5}"),
        "BadRequest_InvalidOperation", "Control 'Inventory' is read-only.");
  }

  @Test
  void aMissingIfMatchIsAnInvalidToken() throws Exception {
    HttpResponse<String> c = call("POST", company() + "/Customer", "{\"Name\":\"Y\"}");
    String url = company() + "/Customer('" + Json.object(c.body()).get("No") + "')";
    refused(call("PATCH", url, "{\"City\":\"Oslo\"}"), "BadRequest_InvalidToken",
        "Could not validate the client concurrency token");
    refused(call("DELETE", url, null), "BadRequest_InvalidToken", "concurrency token");
  }

  @Test
  void unknownPropertiesInSelectFilterAndOrderbyAreRefused() throws Exception {
    String customers = company() + "/Customer";
    refused(call("GET", customers + "?$select=No,Nmae", null), "BadRequest",
        "Could not find a property named 'Nmae' on type 'Microsoft.NAV.Customer'.");
    refused(call("GET", customers + "?$filter=" + q("Cty eq 'Oslo'"), null), "BadRequest", "'Cty'");
    refused(call("GET", customers + "?$orderby=" + q("Modified desc"), null), "BadRequest", "'Modified'");
    assertEquals(200, call("GET", customers + "?$select=No,Name&$filter=" + q("City eq 'Oslo'")
        + "&$orderby=" + q("SystemModifiedAt desc"), null).statusCode());
  }
}
