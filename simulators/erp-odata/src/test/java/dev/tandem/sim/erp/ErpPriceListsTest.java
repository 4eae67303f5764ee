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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The price list pages of Business Central online, which replace the removed Sales Price page: tables 7000 "Price
 * List Header" and 7001 "Price List Line" of the base application (StefanMaron/MSDyn365BC.Code.History,
 * BaseApp/.../Pricing/PriceList/PriceListLine.Table.al: key "Price List Code","Line No." with Line No.
 * AutoIncrement; Asset No. related to Item or Resource by Asset Type; CopyFrom(PriceListHeader) giving a new line the
 * header's price type, amount type, assign-to, dates and currency unless the header allows updating defaults), and
 * the Shipping Agent code table (table 291). NAV 2017 has no price lists [BC-CODE, real-endpoints.md E5].
 */
class ErpPriceListsTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static String token;

  private static HttpResponse<String> call(String method, String url, String body) throws Exception {
    if (token == null) {
      ErpSimulator.Options o = erp.get().options();
      HttpResponse<String> t = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().tokenUrl()))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + o.clientId()
              + "&client_secret=" + o.clientSecret() + "&scope=" + enc(ErpSimulator.scope()))).build(),
          HttpResponse.BodyHandlers.ofString());
      token = (String) Json.object(t.body()).get("access_token");
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static Map<String, Object> json(HttpResponse<String> r) {
    return Json.object(r.body());
  }

  private static String code(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) json(r).get("error")).get("code"));
  }

  @BeforeEach
  void seed() throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/reset"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":3,\"counts\":{\"Item\":30,\"Resource\":4}}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void priceListsArePublishedWithTheirFieldsAndSalesPriceIsNot() throws Exception {
    HttpResponse<String> headers = call("GET", erp.get().companyUrl() + "/PriceListHeader?$filter="
        + enc("Price_Type eq 'Sale' and Amount_Type eq 'Price'"), null);
    assertEquals(200, headers.statusCode(), headers.body());
    List<Map<String, Object>> hs = Json.objects(json(headers).get("value"));
    assertTrue(hs.stream().anyMatch(h -> "S-RETAIL-EUR".equals(h.get("Code")) && "EUR".equals(h.get("Currency_Code"))
        && "2026-12-31".equals(h.get("Ending_Date")) && "Customer Price Group".equals(h.get("Source_Type"))), hs
        .toString());
    assertTrue(hs.stream().noneMatch(h -> "P-VENDORS".equals(h.get("Code")) || "S-DISC".equals(h.get("Code"))));
    HttpResponse<String> lines = call("GET", erp.get().companyUrl() + "/PriceListLine?$filter="
        + enc("Asset_Type eq 'Resource'"), null);
    assertEquals(200, lines.statusCode(), lines.body());
    List<Map<String, Object>> ls = Json.objects(json(lines).get("value"));
    assertEquals(4, ls.size(), ls.toString());
    assertTrue(ls.stream().allMatch(l -> "HOUR".equals(l.get("Unit_of_Measure_Code"))
        && "Customer Price Group".equals(l.get("Source_Type")) && "RETAIL".equals(l.get("Source_No"))), ls.toString());
    HttpResponse<String> legacy = call("GET", erp.get().companyUrl() + "/SalesPrice", null);
    assertEquals(404, legacy.statusCode(), legacy.body());
    String metadata = call("GET", erp.get().serviceRoot() + "/$metadata", null).body();
    assertTrue(metadata.contains("<EntitySet Name=\"PriceListLine\"") && metadata.contains("Name=\"Asset_No\"")
        && metadata.contains("<EntitySet Name=\"ShippingAgent\"") && !metadata.contains("\"SalesPrice\""));
  }

  @Test
  void aNewLineTakesItsHeadersDefaultsAndTheNextLineNumber() throws Exception {
    HttpResponse<String> r = call("POST", erp.get().companyUrl() + "/PriceListLine", "{\"Price_List_Code\":"
        + "\"S-RETAIL-EUR\",\"Asset_Type\":\"Item\",\"Asset_No\":\"I1001\",\"Unit_of_Measure_Code\":\"PCS\","
        + "\"Unit_Price\":12.5,\"Currency_Code\":\"GBP\",\"Price_Type\":\"Purchase\"}");
    assertEquals(201, r.statusCode(), r.body());
    Map<String, Object> line = json(r);
    assertEquals("EUR", line.get("Currency_Code"), "the header's currency, as it does not allow updating defaults");
    assertEquals("Sale", line.get("Price_Type"));
    assertEquals("2026-12-31", line.get("Ending_Date"));
    assertEquals("RETAIL", line.get("Source_No"));
    int no = ((Number) line.get("Line_No")).intValue();
    assertTrue(no > 0 && no % 10_000 == 0, "next line number: " + no);
    HttpResponse<String> again = call("GET", erp.get().companyUrl() + "/PriceListLine(Price_List_Code='S-RETAIL-EUR',"
        + "Line_No=" + no + ")", null);
    assertEquals(200, again.statusCode(), again.body());
  }

  @Test
  void assetAndHeaderMustExist() throws Exception {
    HttpResponse<String> unknownItem = call("POST", erp.get().companyUrl() + "/PriceListLine",
        "{\"Price_List_Code\":\"S-RETAIL\",\"Asset_Type\":\"Item\",\"Asset_No\":\"NOPE\",\"Unit_Price\":1}");
    assertEquals(400, unknownItem.statusCode(), unknownItem.body());
    assertEquals("Internal_InvalidTableRelation", code(unknownItem));
    assertTrue(unknownItem.body().contains("(Item)"), unknownItem.body());
    HttpResponse<String> itemAsResource = call("POST", erp.get().companyUrl() + "/PriceListLine",
        "{\"Price_List_Code\":\"S-RETAIL\",\"Asset_Type\":\"Resource\",\"Asset_No\":\"I1001\",\"Unit_Price\":1}");
    assertEquals("Internal_InvalidTableRelation", code(itemAsResource), itemAsResource.body());
    HttpResponse<String> noHeader = call("POST", erp.get().companyUrl() + "/PriceListLine",
        "{\"Price_List_Code\":\"S-NONE\",\"Line_No\":10000,\"Asset_Type\":\"Item\",\"Asset_No\":\"I1001\"}");
    assertEquals("Internal_InvalidTableRelation", code(noHeader), noHeader.body());
    HttpResponse<String> badGroup = call("POST", erp.get().companyUrl() + "/PriceListHeader",
        "{\"Description\":\"x\",\"Source_Type\":\"Customer Price Group\",\"Source_No\":\"NOGROUP\"}");
    assertEquals("Internal_InvalidTableRelation", code(badGroup), badGroup.body());
    HttpResponse<String> numbered = call("POST", erp.get().companyUrl() + "/PriceListHeader",
        "{\"Description\":\"x\",\"Source_Type\":\"Customer Price Group\",\"Source_No\":\"RETAIL\"}");
    assertEquals(201, numbered.statusCode(), numbered.body());
    assertTrue(String.valueOf(json(numbered).get("Code")).startsWith("S-PL"), numbered.body());
  }

  @Test
  void navHasNoPriceLists() throws Exception {
    ErpSimulator nav = new ErpSimulator(ErpSimulator.Options.defaults());
    assertEquals(null, ErpSimulator.published(nav.options(), "PriceListHeader"));
    assertEquals(null, ErpSimulator.published(nav.options(), "PriceListLine"));
    assertTrue(ErpSimulator.published(nav.options(), "SalesPrice") != null);
    assertTrue(ErpSimulator.published(nav.options(), "ShippingAgent") != null);
  }
}
