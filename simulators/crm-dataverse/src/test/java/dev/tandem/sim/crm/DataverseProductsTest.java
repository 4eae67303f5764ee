package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Products and units as Dataverse enforces them. Sources: Microsoft, "Product table/entity reference"
 * (defaultuomscheduleid, defaultuomid, quantitydecimal ApplicationRequired; pricelevelid IsValidForCreate False),
 * "Create a product" (Draft by default; publish), "uomschedule" / "uom" references (base unit created with the group,
 * named baseuomname; baseuom ApplicationRequired; isschedulebaseuom read-only; messages Create/Retrieve/Update/Delete).
 */
class DataverseProductsTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static String token;

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
    String url = path.startsWith("http") ? path : crm.get().apiUrl() + "/" + path;
    return raw(method, url, body, h.toArray(new String[0]));
  }

  private static Map<String, Object> json(HttpResponse<String> r) {
    return Json.object(r.body());
  }

  private static String code(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) json(r).get("error")).get("code"));
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static void organization(String body) throws Exception {
    HttpResponse<String> r = raw("POST", crm.get().baseUrl() + "/__admin/sim/organization", body);
    assertEquals(204, r.statusCode(), r.body());
  }

  @BeforeEach
  void reset() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/reset", null);
    HttpResponse<String> t = raw("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=tandem-secret&scope=" + q(crm.get().scope()),
        "Content-Type", "application/x-www-form-urlencoded");
    token = (String) Json.object(t.body()).get("access_token");
  }

  private static String idFrom(HttpResponse<String> r) {
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    return h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
  }

  @Test
  void aUnitGroupComesWithItsBaseUnitAndUnitsFollowTheirRules() throws Exception {
    HttpResponse<String> group = api("POST", "uomschedules", "{\"name\":\"PCS\",\"baseuomname\":\"PCS\"}");
    assertEquals(204, group.statusCode(), group.body());
    String groupId = idFrom(group);
    List<Map<String, Object>> units = Json.objects(json(api("GET", "uoms?$select=name,isschedulebaseuom,_baseuom_value"
        + "&$filter=" + q("_uomscheduleid_value eq " + groupId), null)).get("value"));
    assertEquals(1, units.size(), units.toString());
    assertEquals("PCS", units.get(0).get("name"));
    assertEquals(true, units.get(0).get("isschedulebaseuom"));
    String base = (String) units.get(0).get("uomid");

    HttpResponse<String> noBase = api("POST", "uoms", "{\"name\":\"BOX\",\"quantity\":12,"
        + "\"uomscheduleid@odata.bind\":\"/uomschedules(" + groupId + ")\"}");
    assertEquals(400, noBase.statusCode(), noBase.body());
    assertEquals("0x80040203", code(noBase));
    HttpResponse<String> flag = api("PATCH", "uoms(" + base + ")", "{\"isschedulebaseuom\":false}", "If-Match", "*");
    assertEquals(400, flag.statusCode(), flag.body());
    assertEquals(204, api("POST", "uoms", "{\"name\":\"BOX\",\"quantity\":12,\"uomscheduleid@odata.bind\":"
        + "\"/uomschedules(" + groupId + ")\",\"baseuom@odata.bind\":\"/uoms(" + base + ")\"}").statusCode());
    assertEquals(404, api("POST", "uoms/Microsoft.Dynamics.CRM.CreateMultiple", "{\"Targets\":[]}").statusCode(),
        "no *Multiple on uom");
  }

  @Test
  void productsNeedUnitsAndDecimalsStartInDraftAndArePublished() throws Exception {
    String groupId = idFrom(api("POST", "uomschedules", "{\"name\":\"PCS\",\"baseuomname\":\"PCS\"}"));
    String unitId = (String) Json.objects(json(api("GET", "uoms?$select=name&$filter="
        + q("_uomscheduleid_value eq " + groupId), null)).get("value")).get(0).get("uomid");
    HttpResponse<String> missing = api("POST", "products", "{\"name\":\"Bolt\",\"productnumber\":\"1000\"}");
    assertEquals(400, missing.statusCode(), missing.body());
    assertEquals("0x80040203", code(missing));
    String full = "\"name\":\"Bolt\",\"productnumber\":\"1000\",\"quantitydecimal\":0,"
        + "\"defaultuomscheduleid@odata.bind\":\"/uomschedules(" + groupId + ")\","
        + "\"defaultuomid@odata.bind\":\"/uoms(" + unitId + ")\"";
    String pricelevel = idFrom(api("POST", "pricelevels", "{\"name\":\"Retail\"}"));
    HttpResponse<String> withPriceList = api("POST", "products", "{" + full + ",\"pricelevelid@odata.bind\":"
        + "\"/pricelevels(" + pricelevel + ")\"}");
    assertEquals(400, withPriceList.statusCode(), "pricelevelid is not valid for create: " + withPriceList.body());
    assertEquals(400, api("POST", "products", "{" + full + ",\"statecode\":0,\"statuscode\":1}").statusCode(),
        "statecode is not valid for create");

    HttpResponse<String> created = api("POST", "products", "{" + full + "}");
    assertEquals(204, created.statusCode(), created.body());
    String product = idFrom(created);
    Map<String, Object> draft = json(api("GET", "products(" + product + ")?$select=statecode,statuscode", null));
    assertEquals(2, ((Number) draft.get("statecode")).intValue());
    assertEquals(0, ((Number) draft.get("statuscode")).intValue());
    String order = idFrom(api("POST", "salesorders", "{\"name\":\"SO1\"}"));
    HttpResponse<String> line = api("POST", "salesorderdetails", "{\"quantity\":1,\"salesorderid@odata.bind\":"
        + "\"/salesorders(" + order + ")\",\"productid@odata.bind\":\"/products(" + product + ")\"}");
    assertEquals(400, line.statusCode(), "a Draft product cannot be ordered: " + line.body());

    HttpResponse<String> published = api("POST", "products(" + product + ")/Microsoft.Dynamics.CRM."
        + "PublishProductHierarchy", "{}");
    assertEquals(204, published.statusCode(), published.body());
    Map<String, Object> active = json(api("GET", "products(" + product + ")?$select=statecode,statuscode", null));
    assertEquals(0, ((Number) active.get("statecode")).intValue());
    assertEquals(1, ((Number) active.get("statuscode")).intValue());
    assertEquals(204, api("POST", "salesorderdetails", "{\"quantity\":1,\"salesorderid@odata.bind\":"
        + "\"/salesorders(" + order + ")\",\"productid@odata.bind\":\"/products(" + product + ")\"}")
        .statusCode());
    assertEquals(400, api("POST", "products(" + product + ")/Microsoft.Dynamics.CRM.PublishProductHierarchy", "{}")
        .statusCode(), "only Draft products are published");

    // SetState through PATCH, as Dataverse allows for a product without a family.
    String second = idFrom(api("POST", "products", "{" + full.replace("1000", "1001") + "}"));
    assertEquals(204, api("PATCH", "products(" + second + ")", "{\"statecode\":0,\"statuscode\":1}", "If-Match",
        "*").statusCode());
    assertEquals(400, api("PATCH", "products(" + second + ")", "{\"statecode\":0,\"statuscode\":0}", "If-Match",
        "*").statusCode(), "a status that does not belong to the state");
  }
}
