package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The ERP simulator's protocol, over plain HTTP. */
class ErpSimulatorTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static String auth() {
    ErpSimulator.Options o = erp.get().options();
    return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes(StandardCharsets.UTF_8));
  }

  static HttpResponse<String> call(String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    boolean authGiven = false;
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
      authGiven |= headers[i].equals("Authorization");
    }
    if (!authGiven) {
      b.header("Authorization", auth());
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String customers() {
    return erp.get().companyUrl() + "/Customer";
  }

  private static Map<String, Object> json(HttpResponse<String> r) {
    return Json.object(r.body());
  }

  private static List<Map<String, Object>> value(HttpResponse<String> r) {
    return Json.objects(json(r).get("value"));
  }

  private static String errorCode(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) json(r).get("error")).get("code"));
  }

  private static String errorMessage(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) json(r).get("error")).get("message"));
  }

  @BeforeEach
  void reset() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/reset", null);
    call("DELETE", erp.get().baseUrl() + "/__admin/sim/faults", null);
  }

  private static Map<String, Object> create(String service, String body) throws Exception {
    HttpResponse<String> r = call("POST", erp.get().companyUrl() + "/" + service, body);
    assertEquals(201, r.statusCode(), r.body());
    return json(r);
  }

  @Test
  void adminInsertsGivenRowsAndRefusesInvalidOnes() throws Exception {
    HttpResponse<String> ok = call("POST", erp.get().baseUrl() + "/__admin/sim/rows/Customer",
        "{\"rows\":[{\"No\":\"X1\",\"Name\":\"Alpha\",\"City\":\"Lyon\"},{\"Name\":\"Beta\"}]}");
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals(2, ((Number) json(ok).get("inserted")).intValue());
    List<Map<String, Object>> rows = value(call("GET", customers() + "?$filter=" + q("Name eq 'Alpha'"), null));
    assertEquals("Lyon", rows.get(0).get("City"));
    assertEquals(1, value(call("GET", customers() + "?$filter=" + q("Name eq 'Beta'"), null)).size(),
        "a row without a number gets one");
    HttpResponse<String> tooLong = call("POST", erp.get().baseUrl() + "/__admin/sim/rows/Customer",
        "{\"rows\":[{\"No\":\"X2\",\"City\":\"" + "c".repeat(40) + "\"}]}");
    assertEquals(400, tooLong.statusCode(), tooLong.body());
    assertEquals(404, call("POST", erp.get().baseUrl() + "/__admin/sim/rows/Nope", "{\"rows\":[]}").statusCode());
  }

  @Test
  void wrongOrMissingCredentialsGive401() throws Exception {
    HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(URI.create(customers())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(401, missing.statusCode());
    assertEquals("Authentication_InvalidCredentials", errorCode(missing));
    HttpResponse<String> wrong = call("GET", customers(), null, "Authorization",
        "Basic " + Base64.getEncoder().encodeToString("TANDEM:wrong".getBytes(StandardCharsets.UTF_8)));
    assertEquals(401, wrong.statusCode());
    assertEquals(200, call("GET", customers(), null).statusCode());
  }

  @Test
  void companyListsTheCompanyAndAWrongCompanyIsRefused() throws Exception {
    HttpResponse<String> list = call("GET", erp.get().serviceRoot() + "/Company", null);
    assertEquals(200, list.statusCode(), list.body());
    assertEquals(List.of(erp.get().options().company()), value(list).stream().map(c -> c.get("Name")).toList());
    HttpResponse<String> wrong = call("GET", erp.get().serviceRoot() + "/Company('Nope')/Customer", null);
    assertEquals(400, wrong.statusCode());
    assertEquals("Internal_CompanyNotFound", errorCode(wrong));
    assertEquals(null, erp.get().tokenUrl(), "nav issues no tokens");
  }

  @Test
  void pagingThrough12345RowsReturnsEachExactlyOnce() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":7,\"counts\":{\"Customer\":12345}}");
    Set<String> seen = new HashSet<>();
    String url = customers() + "?$select=No,Name";
    int pages = 0;
    while (url != null) {
      HttpResponse<String> r = call("GET", url, null, "Prefer", "odata.maxpagesize=1000");
      assertEquals(200, r.statusCode(), r.body());
      for (Map<String, Object> row : value(r)) {
        assertTrue(seen.add((String) row.get("No")), "seen twice: " + row.get("No"));
        assertTrue(row.containsKey("@odata.etag"));
        assertFalse(row.containsKey("City"), "$select honoured");
      }
      url = (String) json(r).get("@odata.nextLink");
      pages++;
    }
    assertEquals(12345, seen.size());
    assertEquals(13, pages);

    // Ordered by the key, within a key range: ascending, each once, the range's bounds honoured.
    String previous = "C10100";
    int inRange = 0;
    url = customers() + "?$select=No&$orderby=No&$filter=" + java.net.URLEncoder.encode(
        "No gt 'C10100' and No lt 'C12000'", java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    while (url != null) {
      HttpResponse<String> r = call("GET", url, null, "Prefer", "odata.maxpagesize=500");
      assertEquals(200, r.statusCode(), r.body());
      for (Map<String, Object> row : value(r)) {
        String no = (String) row.get("No");
        assertTrue(no.compareTo(previous) > 0 && no.compareTo("C12000") < 0, previous + " then " + no);
        previous = no;
        inRange++;
      }
      url = (String) json(r).get("@odata.nextLink");
    }
    assertEquals(1899, inRange, "C10101 to C11999");
  }

  @Test
  void filtersSelectOrderTopAndCount() throws Exception {
    create("Customer", "{\"No\":\"A1\",\"Name\":\"O'Brien Ltd.\",\"City\":\"Dublin\",\"Credit_Limit_LCY\":500}");
    create("Customer", "{\"No\":\"A2\",\"Name\":\"Müller GmbH\",\"City\":\"München\",\"Credit_Limit_LCY\":1500}");
    create("Customer", "{\"No\":\"A3\",\"Name\":\"Åkesson AB\",\"City\":\"Malmö\",\"Credit_Limit_LCY\":2500}");
    List<Map<String, Object>> obrien = value(call("GET", customers() + "?$filter=" + q("Name eq 'O''Brien Ltd.'"), null));
    assertEquals(1, obrien.size());
    assertEquals("A1", obrien.get(0).get("No"));
    assertEquals(2, value(call("GET", customers() + "?$filter=" + q("Credit_Limit_LCY ge 1500"), null)).size());
    assertEquals(1, value(call("GET", customers() + "?$filter=" + q("startswith(Name,'Mü') and City eq 'München'"),
        null)).size());
    assertEquals(1, value(call("GET", customers() + "?$filter=" + q("contains(City,'lm')"), null)).size());
    assertEquals(2, value(call("GET", customers() + "?$filter=" + q("No eq 'A1' or No eq 'A3'"), null)).size());
    HttpResponse<String> refused = call("GET", customers() + "?$filter=" + q("No eq 'A1' or City eq 'Malmö'"), null);
    assertEquals(400, refused.statusCode());
    assertTrue(errorMessage(refused).startsWith(
        "The 'OR' operator is not supported on distinct fields on an OData filter."), refused.body());
    HttpResponse<String> ordered = call("GET", customers() + "?$orderby=" + q("Credit_Limit_LCY desc")
        + "&$top=2&$count=true&$select=No", null);
    assertEquals(3, json(ordered).get("@odata.count"));
    List<Map<String, Object>> top = value(ordered);
    assertEquals(List.of("A3", "A2"), List.of(top.get(0).get("No"), top.get(1).get("No")));
    assertEquals(400, call("GET", customers() + "?$filter=" + q("Name eq"), null).statusCode());
    HttpResponse<String> topOne = call("GET", customers() + "?$top=1", null, "Prefer", "odata.maxpagesize=1");
    assertEquals(1, value(topOne).size());
    assertFalse(json(topOne).containsKey("@odata.nextLink"), "$top reached: no next page");
    HttpResponse<String> topTwo = call("GET", customers() + "?$top=2", null, "Prefer", "odata.maxpagesize=1");
    HttpResponse<String> second = call("GET", (String) json(topTwo).get("@odata.nextLink"), null,
        "Prefer", "odata.maxpagesize=1");
    assertEquals(1, value(second).size());
    assertFalse(json(second).containsKey("@odata.nextLink"));
  }

  @Test
  void createUpperCasesCodesAssignsNumbersAndEnforcesLengths() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/rows/SalespersonPurchaser", "{\"rows\":[{\"Code\":\"JR\"}]}");
    Map<String, Object> c = create("Customer", "{\"Name\":\"New One\",\"Post_Code\":\"ab1 2cd\",\"Salesperson_Code\":\"jr\"}");
    assertTrue(((String) c.get("No")).startsWith("C"));
    assertEquals("AB1 2CD", c.get("Post_Code"));
    assertEquals("JR", c.get("Salesperson_Code"));
    assertTrue(((String) c.get("SystemModifiedAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
    HttpResponse<String> tooLong = call("POST", customers(), "{\"Name\":\"" + "x".repeat(101) + "\"}");
    assertEquals(400, tooLong.statusCode());
    assertEquals("Application_StringExceededLength", errorCode(tooLong));
    assertTrue(errorMessage(tooLong).startsWith(
        "The length of the string is 101, but it must be less than or equal to 100 characters."), tooLong.body());
    HttpResponse<String> unknown = call("POST", customers(), "{\"Nickname\":\"x\"}");
    assertEquals(400, unknown.statusCode());
    HttpResponse<String> dup = call("POST", customers(), "{\"No\":\"" + c.get("No") + "\"}");
    assertEquals("Internal_EntityWithSameKeyExists", errorCode(dup));
  }

  @Test
  void patchNeedsIfMatchAndAStaleEtagConflicts() throws Exception {
    Map<String, Object> c = create("Customer", "{\"No\":\"P1\",\"Name\":\"Before\"}");
    String url = customers() + "('P1')";
    assertEquals(400, call("PATCH", url, "{\"Name\":\"x\"}").statusCode());
    HttpResponse<String> ok = call("PATCH", url, "{\"Name\":\"After\"}", "If-Match", (String) c.get("@odata.etag"));
    assertEquals(200, ok.statusCode(), ok.body());
    Map<String, Object> after = json(ok);
    assertEquals("After", after.get("Name"));
    assertNotEquals(c.get("@odata.etag"), after.get("@odata.etag"));
    assertTrue(((String) after.get("SystemModifiedAt")).compareTo((String) c.get("SystemModifiedAt")) > 0);
    HttpResponse<String> stale = call("PATCH", url, "{\"Name\":\"Lost\"}", "If-Match", (String) c.get("@odata.etag"));
    assertEquals(409, stale.statusCode());
    assertEquals("Request_EntityChanged", errorCode(stale));
    assertTrue(errorMessage(stale).startsWith("Another user has already changed the record."));
    assertEquals(200, call("PATCH", url, "{\"Name\":\"Forced\"}", "If-Match", "*").statusCode());
    assertEquals(404, call("GET", customers() + "('NOPE')", null).statusCode());
    assertEquals(204, call("DELETE", url, null, "If-Match", "*").statusCode());
    assertEquals(404, call("GET", url, null).statusCode());
  }

  @Test
  void modifiedAtIsStrictlyIncreasingAndSelectsChangedRows() throws Exception {
    List<String> stamps = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      stamps.add((String) create("Customer", "{\"Name\":\"n" + i + "\"}").get("SystemModifiedAt"));
    }
    for (int i = 1; i < stamps.size(); i++) {
      assertTrue(stamps.get(i).compareTo(stamps.get(i - 1)) > 0, stamps.get(i - 1) + " then " + stamps.get(i));
    }
    List<Map<String, Object>> changed = value(call("GET", customers() + "?$filter="
        + q("SystemModifiedAt gt " + stamps.get(39)), null));
    assertEquals(10, changed.size());
  }

  @Test
  void seededRowsAreStampedInThePastNotAheadOfTheClock() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":3,\"counts\":{\"Customer\":20000}}");
    java.time.Instant after = java.time.Instant.now();
    List<Map<String, Object>> last = value(call("GET", customers() + "?$top=1&$orderby=SystemModifiedAt%20desc", null));
    java.time.Instant newest = java.time.Instant.parse((String) last.get(0).get("SystemModifiedAt"));
    assertFalse(newest.isAfter(after), "seeded as existing data: " + newest + " is not after " + after);
    String made = (String) create("Customer", "{\"Name\":\"after the seed\"}").get("SystemModifiedAt");
    assertTrue(java.time.Instant.parse(made).isAfter(newest), "a later change is still newer");
  }

  @Test
  void jsonBatchAnswersEachRequest() throws Exception {
    String company = "Company('" + q(erp.get().options().company()) + "')";
    String batch = "{\"requests\":["
        + "{\"id\":\"1\",\"method\":\"POST\",\"url\":\"" + company + "/Customer\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"No\":\"B1\",\"Name\":\"One\"}},"
        + "{\"id\":\"2\",\"method\":\"POST\",\"url\":\"" + company + "/Customer\",\"body\":{\"No\":\"B2\",\"Name\":\"" + "y".repeat(120) + "\"}},"
        + "{\"id\":\"3\",\"method\":\"GET\",\"url\":\"" + company + "/Customer('B1')\"}]}";
    HttpResponse<String> r = call("POST", erp.get().serviceRoot() + "/$batch", batch);
    assertEquals(200, r.statusCode(), r.body());
    List<Map<String, Object>> responses = Json.objects(json(r).get("responses"));
    assertEquals(3, responses.size());
    assertEquals(201, responses.get(0).get("status"));
    assertEquals(400, responses.get(1).get("status"));
    assertEquals(200, responses.get(2).get("status"));
    assertEquals("One", ((Map<?, ?>) responses.get(2).get("body")).get("Name"));
    StringBuilder tooMany = new StringBuilder("{\"requests\":[");
    for (int i = 0; i < 101; i++) {
      tooMany.append(i == 0 ? "" : ",").append("{\"id\":\"").append(i).append("\",\"method\":\"GET\",\"url\":\"")
          .append(company).append("/Customer\"}");
    }
    assertEquals(400, call("POST", erp.get().serviceRoot() + "/$batch", tooMany + "]}").statusCode());
  }

  @Test
  void stockChangesShowInInventoryAndAvailability() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/rows/UnitOfMeasure", "{\"rows\":[{\"Code\":\"PCS\"}]}");
    create("Item", "{\"No\":\"1000\",\"Description\":\"Bicycle\",\"Base_Unit_of_Measure\":\"PCS\"}");
    call("POST", erp.get().baseUrl() + "/__admin/sim/item-crm-ids", "{\"1000\":\"11111111-2222-3333-4444-555555555555\"}");
    HttpResponse<String> stock = call("POST", erp.get().baseUrl() + "/__admin/sim/stock", "{\"itemNo\":\"1000\",\"inventory\":12.5}");
    assertEquals(200, stock.statusCode(), stock.body());
    Map<String, Object> item = json(call("GET", erp.get().companyUrl() + "/Item('1000')", null));
    assertEquals(12.5, ((Number) item.get("Inventory")).doubleValue());
    List<Map<String, Object>> avail = value(call("GET", erp.get().companyUrl() + "/ProductItemAvailability?$filter="
        + q("CRM_ID eq 11111111-2222-3333-4444-555555555555"), null));
    assertEquals(1, avail.size());
    assertEquals("1000", avail.get(0).get("ItemNo"));
    assertEquals("PCS", avail.get(0).get("UOM"));
    assertEquals(12.5, ((Number) avail.get(0).get("Inventory")).doubleValue());
  }

  @Test
  void injectedFaultsAndStatistics() throws Exception {
    String admin = erp.get().baseUrl() + "/__admin/sim";
    call("POST", admin + "/stats/reset", null);
    assertEquals(201, call("POST", admin + "/faults", "{\"pathPattern\":\"/Customer\",\"kind\":\"STATUS\",\"status\":429,"
        + "\"retryAfterSeconds\":3,\"nth\":2}").statusCode());
    assertEquals(200, call("GET", customers(), null).statusCode());
    HttpResponse<String> throttled = call("GET", customers(), null);
    assertEquals(429, throttled.statusCode());
    assertEquals("3", throttled.headers().firstValue("Retry-After").orElse(""));
    assertEquals(200, call("GET", customers(), null).statusCode(), "only the 2nd");
    call("DELETE", admin + "/faults", null);

    call("POST", admin + "/faults", "{\"pathPattern\":\"/Item\",\"kind\":\"DROP\",\"nth\":1}");
    assertThrows(IOException.class, () -> call("GET", erp.get().companyUrl() + "/Item", null));
    call("DELETE", admin + "/faults", null);

    call("POST", admin + "/faults", "{\"pathPattern\":\"/Currency\",\"kind\":\"STATUS\",\"status\":503,\"rate\":0.5}");
    int failures = 0;
    for (int i = 0; i < 200; i++) {
      failures += call("GET", erp.get().companyUrl() + "/Currency", null).statusCode() == 503 ? 1 : 0;
    }
    assertTrue(failures > 60 && failures < 140, "about half: " + failures);
    call("DELETE", admin + "/faults", null);

    call("POST", admin + "/faults", "{\"pathPattern\":\"/UnitOfMeasure\",\"kind\":\"LATENCY\",\"latencyMs\":300,\"rate\":1.0}");
    call("POST", admin + "/stats/reset", null);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Callable<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      calls.add(() -> call("GET", erp.get().companyUrl() + "/UnitOfMeasure", null).statusCode());
    }
    long t0 = System.nanoTime();
    for (Future<Integer> f : pool.invokeAll(calls)) {
      assertEquals(200, f.get());
    }
    assertTrue((System.nanoTime() - t0) / 1_000_000 >= 290);
    pool.shutdown();
    Map<String, Object> stats = json(call("GET", admin + "/stats", null));
    assertEquals(8, ((Number) stats.get("total")).intValue());
    assertTrue(((Number) stats.get("peakConcurrency")).intValue() >= 4, stats.toString());
    assertEquals(8, ((Number) ((Map<?, ?>) stats.get("byRoute")).get("GET UnitOfMeasure")).intValue());
  }

  @Test
  void seedingIsDeterministic() throws Exception {
    String admin = erp.get().baseUrl() + "/__admin/sim";
    call("POST", admin + "/seed", "{\"seed\":99,\"counts\":{\"Customer\":50,\"Item\":20}}");
    String first = call("GET", customers() + "?$select=No,Name,City,Salesperson_Code&$orderby=No", null).body();
    call("POST", admin + "/reset", null);
    call("POST", admin + "/seed", "{\"seed\":99,\"counts\":{\"Customer\":50,\"Item\":20}}");
    String second = call("GET", customers() + "?$select=No,Name,City,Salesperson_Code&$orderby=No", null).body();
    assertEquals(stripEtags(first), stripEtags(second));
    assertTrue(first.chars().anyMatch(ch -> ch > 127), "non-ASCII names and cities");
    Map<String, Object> counts = json(call("GET", admin + "/counts", null));
    assertEquals(50, counts.get("Customer"));
    assertEquals(5, counts.get("Currency"));
    assertEquals(3, counts.get("CustomerPriceGroup"));
    assertTrue(((Number) counts.get("SalesPrice")).intValue() > 0, "sales prices of the seeded items");
  }

  @Test
  void morePriceGroupsAndCurrenciesAreAddedAfterTheNamedOnes() throws Exception {
    String admin = erp.get().baseUrl() + "/__admin/sim";
    call("POST", admin + "/reset", null);
    call("POST", admin + "/seed", "{\"seed\":3,\"counts\":{\"CustomerPriceGroup\":2}}");
    assertEquals(2, json(call("GET", admin + "/counts", null)).get("CustomerPriceGroup"));
    call("POST", admin + "/seed", "{\"seed\":3,\"counts\":{\"CustomerPriceGroup\":5,\"Customer\":20,"
        + "\"Currency\":7}}");
    assertEquals(List.of("DKK", "EUR", "GBP", "SEK", "USD", "X06", "X07"), Json.objects(json(call("GET",
        admin + "/rows/Currency", null)).get("rows")).stream().map(c -> (String) c.get("Code")).sorted().toList());
    List<Map<String, Object>> groups = Json.objects(json(call("GET", admin + "/rows/CustomerPriceGroup", null))
        .get("rows"));
    assertEquals(List.of("EXPORT", "PG4", "PG5", "RETAIL", "WHOLESALE"),
        groups.stream().map(g -> (String) g.get("Code")).sorted().toList());
    List<Map<String, Object>> customers = Json.objects(json(call("GET", admin + "/rows/Customer?top=100", null))
        .get("rows"));
    assertTrue(customers.stream().allMatch(c -> List.of("RETAIL", "WHOLESALE", "EXPORT")
        .contains(c.get("Customer_Price_Group"))), "customers refer to existing named groups");
  }

  private static List<Map<String, Object>> stripEtags(String body) {
    List<Map<String, Object>> rows = Json.objects(Json.object(body).get("value"));
    rows.forEach(r -> r.remove("@odata.etag"));
    return rows;
  }

  @Test
  void commandLineHelpListsTheOptions() {
    java.io.StringWriter out = new java.io.StringWriter();
    int rc = new picocli.CommandLine(new ErpMain()).setOut(new java.io.PrintWriter(out)).execute("--help");
    assertEquals(0, rc);
    assertTrue(out.toString().contains("--customers"));
    assertTrue(out.toString().contains("--port"));
  }
}
