package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Money columns come with a read-only base-currency value ({@code x_base = x / exchangerate}) and the record's
 * exchange rate, taken from its transaction currency when the record is created or updated; neither is valid for
 * create or update. Sources: "Transaction currency (currency) table" (learn.microsoft.com/power-apps/developer/
 * data-platform/transaction-currency-currency-entity), MoneyAttributeMetadata.IsBaseCurrency, the account table
 * reference (ExchangeRate, CreditLimit_Base: IsValidForCreate and IsValidForUpdate False). The refusal's code is
 * modelled (docs/simulators.md).
 */
class DataverseMoneyTest {

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

  private static String create(String set, String body) throws Exception {
    HttpResponse<String> r = api("POST", set, body);
    assertEquals(204, r.statusCode(), r.body());
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    return h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
  }

  private static Map<String, Object> row(String set, String id) throws Exception {
    return Json.object(api("GET", set + "(" + id + ")", null).body());
  }

  private static double num(Map<String, Object> row, String column) {
    return ((Number) row.get(column)).doubleValue();
  }

  private static String currency(String iso, double rate) throws Exception {
    return create("transactioncurrencies", "{\"isocurrencycode\":\"" + iso + "\",\"currencyname\":\"" + iso
        + "\",\"currencysymbol\":\"" + iso + "\",\"exchangerate\":" + rate + ",\"currencyprecision\":2}");
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
  void theBaseValueIsTheAmountDividedByTheRateTheRecordTookWhenItWasWritten() throws Exception {
    String chf = currency("CHF", 1.25);
    String id = create("accounts", "{\"name\":\"A\",\"creditlimit\":1000,\"revenue\":50,"
        + "\"transactioncurrencyid@odata.bind\":\"/transactioncurrencies(" + chf + ")\"}");
    Map<String, Object> a = row("accounts", id);
    assertEquals(1.25, num(a, "exchangerate"));
    assertEquals(800.0, num(a, "creditlimit_base"));
    assertEquals(40.0, num(a, "revenue_base"));
    // The currency's rate changes: a stored record keeps the rate it took until it is written again.
    assertEquals(204, api("PATCH", "transactioncurrencies(" + chf + ")", "{\"exchangerate\":2}", "If-Match", "*")
        .statusCode());
    assertEquals(800.0, num(row("accounts", id), "creditlimit_base"));
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"name\":\"A2\"}", "If-Match", "*").statusCode());
    a = row("accounts", id);
    assertEquals(2.0, num(a, "exchangerate"));
    assertEquals(500.0, num(a, "creditlimit_base"));
    assertEquals(25.0, num(a, "revenue_base"));
    // A record without a transaction currency is in the base currency; an empty amount has no base value.
    String plain = create("accounts", "{\"name\":\"B\",\"creditlimit\":12.345}");
    Map<String, Object> b = row("accounts", plain);
    assertEquals(1.0, num(b, "exchangerate"));
    assertEquals(12.345, num(b, "creditlimit_base"));
    assertNull(b.get("revenue_base"));
    assertTrue(b.containsKey("revenue_base"), "the column exists, empty");
    // $select and $filter know the computed columns.
    HttpResponse<String> selected = api("GET", "accounts?$select=creditlimit_base,exchangerate&$filter="
        + "creditlimit_base gt 100", null);
    assertEquals(200, selected.statusCode(), selected.body());
    List<Map<String, Object>> rows = Json.objects(Json.object(selected.body()).get("value"));
    assertEquals(1, rows.size());
    assertEquals(500.0, num(rows.get(0), "creditlimit_base"));
  }

  @Test
  void aBaseValueOrTheExchangeRateCannotBeWritten() throws Exception {
    HttpResponse<String> created = api("POST", "accounts", "{\"name\":\"A\",\"creditlimit\":10,"
        + "\"creditlimit_base\":10}");
    assertEquals(400, created.statusCode(), created.body());
    assertEquals("0x80048d19", code(created));
    assertTrue(created.body().contains("'creditlimit_base' of account is not valid for create"), created.body());
    HttpResponse<String> rate = api("POST", "accounts", "{\"name\":\"A\",\"exchangerate\":1}");
    assertEquals(400, rate.statusCode(), rate.body());
    assertEquals("0x80048d19", code(rate));
    String id = create("accounts", "{\"name\":\"A\",\"accountnumber\":\"C1\",\"creditlimit\":10}");
    HttpResponse<String> updated = api("PATCH", "accounts(" + id + ")", "{\"exchangerate\":3}", "If-Match", "*");
    assertEquals(400, updated.statusCode(), updated.body());
    assertTrue(updated.body().contains("is not valid for update"), updated.body());
    HttpResponse<String> upserted = api("PATCH", "accounts(accountnumber='C2')", "{\"name\":\"B\","
        + "\"creditlimit_base\":4}");
    assertEquals(400, upserted.statusCode(), upserted.body());
    assertEquals(404, api("GET", "accounts(accountnumber='C2')", null).statusCode(), "nothing was created");
    HttpResponse<String> multiple = api("POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        "{\"Targets\":[{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\","
            + "\"@odata.id\":\"accounts(accountnumber='C1')\",\"revenue_base\":1}]}");
    assertEquals(400, multiple.statusCode(), multiple.body());
    assertTrue(multiple.body().contains("revenue_base"), "refused for the base column: " + multiple.body());
    assertEquals(1.0, num(row("accounts", id), "exchangerate"));
    // The transaction currency's own rate is an ordinary column; a table without money has no exchangerate.
    assertEquals(204, api("PATCH", "transactioncurrencies(" + currency("JPY", 150) + ")", "{\"exchangerate\":151}",
        "If-Match", "*").statusCode());
    HttpResponse<String> contact = api("POST", "contacts", "{\"lastname\":\"L\",\"exchangerate\":1}");
    assertEquals(400, contact.statusCode(), contact.body());
    assertEquals("0x80060888", code(contact), "contacts have no money column in the simulator");
  }

  @Test
  void anOrdersTotalsAndItsLinesTakeTheOrdersRate() throws Exception {
    String chf = currency("CHF", 2);
    String account = create("accounts", "{\"name\":\"Shop\"}");
    String order = create("salesorders", "{\"name\":\"O\",\"freightamount\":30,\"customerid_account@odata.bind\":"
        + "\"/accounts(" + account + ")\",\"transactioncurrencyid@odata.bind\":\"/transactioncurrencies(" + chf
        + ")\"}");
    Map<String, Object> o = row("salesorders", order);
    assertEquals(2.0, num(o, "exchangerate"));
    assertEquals(15.0, num(o, "freightamount_base"));
    assertEquals(num(o, "totalamount") / 2, num(o, "totalamount_base"), 1e-9);
    String line = create("salesorderdetails", "{\"salesorderid@odata.bind\":\"/salesorders(" + order + ")\","
        + "\"quantity\":2,\"priceperunit\":10,\"isproductoverridden\":true,\"productdescription\":\"Write-in\"}");
    Map<String, Object> l = row("salesorderdetails", line);
    assertEquals(2.0, num(l, "exchangerate"));
    assertEquals(5.0, num(l, "priceperunit_base"));
    assertEquals(10.0, num(l, "extendedamount_base"));
    // The server's recalculation of the order's totals refreshes their base values too.
    o = row("salesorders", order);
    assertEquals(50.0, num(o, "totalamount"));
    assertEquals(25.0, num(o, "totalamount_base"));
  }

  @Test
  void theAttributeMetadataListsTheComputedColumnsAsReadOnly() throws Exception {
    HttpResponse<String> r = api("GET", "EntityDefinitions(LogicalName='account')/Attributes", null);
    assertEquals(200, r.statusCode(), r.body());
    Map<String, Map<String, Object>> byName = new java.util.HashMap<>();
    Json.objects(Json.object(r.body()).get("value")).forEach(a -> byName.put((String) a.get("LogicalName"), a));
    Map<String, Object> limit = byName.get("creditlimit");
    assertEquals("Money", limit.get("AttributeType"));
    assertEquals("#Microsoft.Dynamics.CRM.MoneyAttributeMetadata", limit.get("@odata.type"));
    assertEquals(false, limit.get("IsBaseCurrency"));
    assertEquals(true, limit.get("IsValidForCreate"));
    Map<String, Object> base = byName.get("creditlimit_base");
    assertEquals("Money", base.get("AttributeType"));
    assertEquals(true, base.get("IsBaseCurrency"));
    assertEquals(false, base.get("IsValidForCreate"));
    assertEquals(false, base.get("IsValidForUpdate"));
    Map<String, Object> rate = byName.get("exchangerate");
    assertEquals("Decimal", rate.get("AttributeType"));
    assertEquals(false, rate.get("IsValidForCreate"));
    assertEquals(false, rate.get("IsValidForUpdate"));
    assertNull(byName.get("tandem_balance_base"), "Tandem's balance is a decimal, not money");
  }
}
