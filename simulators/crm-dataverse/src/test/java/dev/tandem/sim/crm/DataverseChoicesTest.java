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
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Choice (picklist) values and state/status pairs are validated on create, update and upsert, as Dataverse does.
 * Sources: an out-of-range choice is 0x8004431A "A validation error occurred. The value … of '…' on record of type
 * '…' is outside the valid range. Accepted Values: …" (the message Microsoft's Project Operations documentation
 * quotes for msdyn_paymentterms); a status reason of another state is InvalidStateCodeStatusCode 0x80048408 (Web
 * service error codes, learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes);
 * "When you update the statecode property, always set the desired statuscode" (Update and delete table rows using
 * the Web API); the pairs are the tables' statecode/statuscode choices in the table reference pages.
 */
class DataverseChoicesTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static String token;

  private static HttpResponse<String> api(String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(crm.get().apiUrl() + "/" + path.replace(" ", "%20")
        .replace("'", "%27"))).header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String code(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) Json.object(r.body()).get("error")).get("code"));
  }

  private static String message(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) Json.object(r.body()).get("error")).get("message"));
  }

  private static String create(String set, String body) throws Exception {
    HttpResponse<String> r = api("POST", set, body);
    assertEquals(204, r.statusCode(), r.body());
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    return h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
  }

  private static Map<String, Object> row(String set, String id) throws Exception {
    return Json.object(api("GET", set + "(" + id + ")", null).body());
  }

  @BeforeEach
  void reset() throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl() + "/__admin/sim/reset"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> t = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=tandem-sync&client_secret=tandem-secret&scope="
                + URLEncoder.encode(crm.get().scope(), StandardCharsets.UTF_8))).build(),
        HttpResponse.BodyHandlers.ofString());
    token = (String) Json.object(t.body()).get("access_token");
  }

  @Test
  void aChoiceValueOutsideTheOptionSetIsRefusedOnCreateUpdateAndUpsert() throws Exception {
    HttpResponse<String> created = api("POST", "accounts", "{\"name\":\"A\",\"paymenttermscode\":7}");
    assertEquals(400, created.statusCode(), created.body());
    assertEquals("0x8004431A", code(created));
    assertEquals("A validation error occurred. The value 7 of 'paymenttermscode' on record of type 'account' is "
        + "outside the valid range. Accepted Values: 1,2,3,4.", message(created));
    String id = create("accounts", "{\"name\":\"A\",\"accountnumber\":\"C1\",\"paymenttermscode\":2}");
    HttpResponse<String> updated = api("PATCH", "accounts(" + id + ")", "{\"address1_shippingmethodcode\":8}",
        "If-Match", "*");
    assertEquals(400, updated.statusCode(), updated.body());
    assertEquals("0x8004431A", code(updated));
    HttpResponse<String> upserted = api("PATCH", "accounts(accountnumber='C2')",
        "{\"name\":\"B\",\"address1_freighttermscode\":3}");
    assertEquals(400, upserted.statusCode(), upserted.body());
    assertEquals("0x8004431A", code(upserted));
    assertEquals(404, api("GET", "accounts(accountnumber='C2')", null).statusCode(), "nothing was created");
    // Valid values, null and a value added with InsertOptionValue are taken.
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"paymenttermscode\":null,"
        + "\"address1_shippingmethodcode\":7}", "If-Match", "*").statusCode());
    HttpResponse<String> added = api("POST", "InsertOptionValue", "{\"EntityLogicalName\":\"account\","
        + "\"AttributeLogicalName\":\"paymenttermscode\",\"Label\":{\"LocalizedLabels\":[{\"Label\":\"COD\","
        + "\"LanguageCode\":1033}]}}");
    assertEquals(200, added.statusCode(), added.body());
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"paymenttermscode\":100000000}", "If-Match", "*")
        .statusCode());
    assertEquals(100_000_000, ((Number) row("accounts", id).get("paymenttermscode")).intValue());
    // Not an Edm.Int32 at all.
    HttpResponse<String> text = api("PATCH", "accounts(" + id + ")", "{\"paymenttermscode\":\"NET30\"}",
        "If-Match", "*");
    assertEquals(400, text.statusCode(), text.body());
    assertTrue(message(text).contains("Cannot convert the literal 'NET30' to the expected type 'Edm.Int32'"),
        text.body());
  }

  @Test
  void theStandardChoicesOfOtherTablesAreCheckedToo() throws Exception {
    HttpResponse<String> type = api("POST", "accounts", "{\"name\":\"A\",\"customertypecode\":13}");
    assertEquals(400, type.statusCode(), type.body());
    assertEquals("A validation error occurred. The value 13 of 'customertypecode' on record of type 'account' is "
        + "outside the valid range. Accepted Values: 1,2,3,4,5,6,7,8,9,10,11,12.", message(type));
    assertEquals(204, api("POST", "accounts", "{\"name\":\"B\",\"customertypecode\":3}").statusCode());
    HttpResponse<String> line = api("POST", "productpricelevels", "{\"pricingmethodcode\":7}");
    assertEquals(400, line.statusCode(), line.body());
    assertEquals("0x8004431A", code(line));
    HttpResponse<String> selling = api("POST", "productpricelevels", "{\"quantitysellingcode\":4}");
    assertEquals("0x8004431A", code(selling));
    HttpResponse<String> product = api("POST", "products", "{\"name\":\"P\",\"producttypecode\":5}");
    assertEquals(400, product.statusCode(), product.body());
    assertEquals("0x8004431A", code(product));
  }

  @Test
  void theStatusReasonMustBelongToTheState() throws Exception {
    String id = create("accounts", "{\"name\":\"A\"}");
    assertEquals(0, ((Number) row("accounts", id).get("statecode")).intValue());
    assertEquals(1, ((Number) row("accounts", id).get("statuscode")).intValue());
    HttpResponse<String> mismatch = api("PATCH", "accounts(" + id + ")", "{\"statecode\":1,\"statuscode\":1}",
        "If-Match", "*");
    assertEquals(400, mismatch.statusCode(), mismatch.body());
    assertEquals("0x80048408", code(mismatch));
    assertTrue(message(mismatch).startsWith("State code is invalid or state code is valid but status code is "
        + "invalid for a specified state code."), mismatch.body());
    HttpResponse<String> statusAlone = api("PATCH", "accounts(" + id + ")", "{\"statuscode\":2}", "If-Match", "*");
    assertEquals(400, statusAlone.statusCode(), "Inactive's reason on an Active account: " + statusAlone.body());
    HttpResponse<String> noState = api("PATCH", "accounts(" + id + ")", "{\"statecode\":5}", "If-Match", "*");
    assertEquals(400, noState.statusCode(), noState.body());
    assertEquals("0x80048408", code(noState));
    // A statecode alone takes the state's default status.
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"statecode\":1}", "If-Match", "*").statusCode());
    assertEquals(2, ((Number) row("accounts", id).get("statuscode")).intValue());
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"statecode\":0,\"statuscode\":1}", "If-Match", "*")
        .statusCode());
    // On create too.
    HttpResponse<String> createdWrong = api("POST", "contacts", "{\"lastname\":\"L\",\"statecode\":0,"
        + "\"statuscode\":2}");
    assertEquals(400, createdWrong.statusCode(), createdWrong.body());
    assertEquals("0x80048408", code(createdWrong));
  }

  @Test
  void eachTableHasItsOwnStatusReasons() throws Exception {
    String list = create("pricelevels", "{\"name\":\"Retail\"}");
    assertEquals(100001, ((Number) row("pricelevels", list).get("statuscode")).intValue());
    assertEquals(400, api("PATCH", "pricelevels(" + list + ")", "{\"statecode\":1,\"statuscode\":2}", "If-Match", "*")
        .statusCode());
    assertEquals(204, api("PATCH", "pricelevels(" + list + ")", "{\"statecode\":1,\"statuscode\":100002}",
        "If-Match", "*").statusCode());
    // Orders reach Fulfilled and Canceled only through their actions (DataverseSalesOrdersTest); Submitted and
    // Invoiced by SetState.
    String order = create("salesorders", "{\"name\":\"SO1\"}");
    HttpResponse<String> invoiced = api("PATCH", "salesorders(" + order + ")", "{\"statecode\":1,"
        + "\"statuscode\":100003}", "If-Match", "*");
    assertEquals(400, invoiced.statusCode(), "Invoiced is a reason of state 4: " + invoiced.body());
    assertEquals("0x80048408", code(invoiced));
    assertEquals(204, api("PATCH", "salesorders(" + order + ")", "{\"statecode\":1,\"statuscode\":3}",
        "If-Match", "*").statusCode());
  }
}
