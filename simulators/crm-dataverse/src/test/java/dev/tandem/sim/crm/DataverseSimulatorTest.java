package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Dataverse simulator's protocol, over plain HTTP. */
class DataverseSimulatorTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(80)).build();
  private static String token;

  static HttpResponse<String> raw(String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String newToken() throws Exception {
    HttpResponse<String> r = raw("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=tandem-secret&scope=" + URLEncoder.encode(crm.get().scope(),
            StandardCharsets.UTF_8), "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, r.statusCode(), r.body());
    return (String) Json.object(r.body()).get("access_token");
  }

  static HttpResponse<String> api(String method, String path, String body, String... headers) throws Exception {
    List<String> h = new ArrayList<>(List.of(headers));
    h.add("Authorization");
    h.add("Bearer " + token);
    if (body != null && !List.of(headers).contains("Content-Type")) {
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

  private static String message(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) json(r).get("error")).get("message"));
  }

  private static String idFrom(HttpResponse<String> r) {
    String h = r.headers().firstValue("OData-EntityId").orElseThrow();
    return h.substring(h.lastIndexOf('(') + 1, h.length() - 1);
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @BeforeEach
  void reset() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/reset", null);
    raw("DELETE", crm.get().baseUrl() + "/__admin/sim/faults", null);
    raw("POST", crm.get().baseUrl() + "/__admin/sim/limits", "{\"requests\":6000,\"executionMs\":1200000,"
        + "\"concurrent\":52,\"windowMs\":300000}");
    token = newToken();
  }

  @Test
  void adminInsertsGivenRowsCreatedBySystem() throws Exception {
    HttpResponse<String> ok = raw("POST", crm.get().baseUrl() + "/__admin/sim/rows/accounts",
        "{\"rows\":[{\"name\":\"Alpha\",\"address1_city\":\"Lyon\"}]}");
    assertEquals(200, ok.statusCode(), ok.body());
    String id = String.valueOf(((List<?>) json(ok).get("ids")).get(0));
    Map<String, Object> row = json(api("GET", "accounts(" + id + ")", null));
    assertEquals("Lyon", row.get("address1_city"));
    assertEquals(DataverseAdmin.systemUserId(), row.get("_modifiedby_value"));
    assertEquals(404, raw("POST", crm.get().baseUrl() + "/__admin/sim/rows/nopes", "{\"rows\":[]}").statusCode());
  }

  @Test
  void tokensAreRequiredAndExpire() throws Exception {
    assertEquals(401, raw("GET", crm.get().apiUrl() + "/accounts", null).statusCode());
    assertEquals(401, raw("GET", crm.get().apiUrl() + "/accounts", null, "Authorization", "Bearer nope").statusCode());
    assertEquals(401, raw("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=wrong&scope=" + URLEncoder.encode(crm.get().scope(), StandardCharsets.UTF_8),
        "Content-Type", "application/x-www-form-urlencoded").statusCode());
    assertEquals(200, api("GET", "accounts", null).statusCode());
    raw("POST", crm.get().baseUrl() + "/__admin/sim/tokens/expire", null);
    assertEquals(401, api("GET", "accounts", null).statusCode());
    Map<String, Object> who = json(raw("GET", crm.get().apiUrl() + "/WhoAmI", null, "Authorization",
        "Bearer " + newToken()));
    assertEquals(crm.get().integrationUserId(), who.get("UserId"));
  }

  @Test
  void pagingThrough12345AccountsReturnsEachExactlyOnce() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":3,\"counts\":{\"accounts\":12345}}");
    Set<String> seen = new HashSet<>();
    String url = "accounts?$select=name,accountnumber";
    int pages = 0;
    while (url != null) {
      HttpResponse<String> r = api("GET", url, null, "Prefer", "odata.maxpagesize=5000");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("odata.maxpagesize=5000", r.headers().firstValue("Preference-Applied").orElse(""));
      for (Map<String, Object> row : Json.objects(json(r).get("value"))) {
        assertTrue(seen.add((String) row.get("accountid")));
      }
      url = (String) json(r).get("@odata.nextLink");
      pages++;
    }
    assertEquals(12345, seen.size());
    assertEquals(3, pages);
    assertEquals("5000", api("GET", "accounts/$count", null).body());
    assertEquals(5000, json(api("GET", "accounts?$count=true&$top=1", null)).get("@odata.count"));
  }

  @Test
  void createValidatesLengthsAndRequiredColumnsAndReturnsTheId() throws Exception {
    HttpResponse<String> created = api("POST", "accounts", "{\"name\":\"Müller GmbH\",\"accountnumber\":\"C1\"}");
    assertEquals(204, created.statusCode(), created.body());
    String id = idFrom(created);
    HttpResponse<String> rep = api("POST", "accounts?$select=name", "{\"name\":\"Rep\"}", "Prefer", "return=representation");
    assertEquals(201, rep.statusCode());
    assertEquals("Rep", json(rep).get("name"));
    HttpResponse<String> tooLong = api("POST", "accounts", "{\"name\":\"" + "n".repeat(161) + "\"}");
    assertEquals(400, tooLong.statusCode());
    assertEquals("0x80044331", code(tooLong));
    assertEquals("The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of "
        + "'160'.", message(tooLong));
    assertEquals(400, api("POST", "contacts", "{\"firstname\":\"No last name\"}").statusCode());
    assertEquals(400, api("POST", "accounts", "{\"name\":\"x\",\"nickname\":\"y\"}").statusCode());
    Map<String, Object> row = json(api("GET", "accounts(" + id + ")", null));
    assertEquals(crm.get().integrationUserId(), row.get("_modifiedby_value"));
    assertEquals(0, row.get("statecode"));
    assertNotNull(row.get("versionnumber"));
    HttpResponse<String> dup = api("POST", "accounts", "{\"name\":\"dup\",\"accountnumber\":\"c1\"}");
    assertEquals(412, dup.statusCode(), "alternate keys are unique");
  }

  @Test
  void etagsConditionalRequestsAndUpsert() throws Exception {
    String id = idFrom(api("POST", "accounts", "{\"name\":\"v1\",\"accountnumber\":\"K1\"}"));
    HttpResponse<String> got = api("GET", "accounts(" + id + ")", null);
    String etag = (String) json(got).get("@odata.etag");
    assertTrue(etag.matches("W/\"\\d+\""), etag);
    assertEquals(304, api("GET", "accounts(" + id + ")", null, "If-None-Match", etag).statusCode());
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"name\":\"v2\"}", "If-Match", etag).statusCode());
    HttpResponse<String> stale = api("PATCH", "accounts(" + id + ")", "{\"name\":\"v3\"}", "If-Match", etag);
    assertEquals(412, stale.statusCode());
    assertEquals("The version of the existing record doesn't match the RowVersion property provided.", message(stale));
    assertEquals(404, api("PATCH", "accounts(00000000-0000-0000-0000-000000000001)", "{\"name\":\"x\"}",
        "If-Match", "*").statusCode());
    assertEquals(412, api("PATCH", "accounts(" + id + ")", "{\"name\":\"x\"}", "If-None-Match", "*").statusCode());
    HttpResponse<String> upsertNew = api("PATCH", "accounts(accountnumber='K2')", "{\"name\":\"new by key\"}");
    assertEquals(204, upsertNew.statusCode(), upsertNew.body());
    Map<String, Object> byKey = json(api("GET", "accounts(accountnumber='K2')", null));
    assertEquals("new by key", byKey.get("name"));
    assertEquals(204, api("PATCH", "accounts(accountnumber='K2')", "{\"name\":\"updated by key\"}").statusCode());
    assertEquals("updated by key", json(api("GET", "accounts(accountnumber='K2')", null)).get("name"));
    assertEquals(204, api("DELETE", "accounts(" + id + ")", null).statusCode());
    assertEquals(404, api("DELETE", "accounts(" + id + ")", null).statusCode());
  }

  @Test
  void modifiedOnHasWholeSecondsWhileVersionNumbersStayUniqueAndIncreasing() throws Exception {
    // Dataverse stamps modifiedon to the second; several changes within one second share it.
    List<String> stamps = new ArrayList<>();
    List<Long> versions = new ArrayList<>();
    Set<String> etags = new HashSet<>();
    long until = System.currentTimeMillis() + 1500;
    String id = idFrom(api("POST", "accounts", "{\"name\":\"v0\"}"));
    for (int i = 1; System.currentTimeMillis() < until || i < 3; i++) {
      api("PATCH", "accounts(" + id + ")", "{\"name\":\"v" + i + "\"}");
      Map<String, Object> row = json(api("GET", "accounts(" + id + ")?$select=modifiedon,versionnumber", null));
      String stamp = (String) row.get("modifiedon");
      assertTrue(stamp.matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z"), stamp);
      stamps.add(stamp);
      versions.add(((Number) row.get("versionnumber")).longValue());
      assertTrue(etags.add((String) row.get("@odata.etag")), "each change has its own ETag");
    }
    for (int i = 1; i < versions.size(); i++) {
      assertTrue(versions.get(i) > versions.get(i - 1), "versionnumber increases: " + versions);
      assertTrue(stamps.get(i).compareTo(stamps.get(i - 1)) >= 0, "modifiedon does not go back: " + stamps);
    }
    assertTrue(new HashSet<>(stamps).size() < stamps.size(), "changes within 1.5 s share a stamp: " + stamps);
  }

  @Test
  void orderedPagingIsExactOnlyWithThePrimaryKeyAsTiebreak() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":4,\"counts\":{\"accounts\":3000}}");
    Set<String> stamps = new HashSet<>();
    int[] tied = pageAll("accounts?$select=modifiedon&$orderby=modifiedon", stamps);
    assertTrue(stamps.size() < 3000 / 500, "3000 rows seeded in a few seconds share stamps: " + stamps.size());
    assertTrue(tied[0] < 3000 || tied[1] > 0, "ties ordered anew on each page: " + tied[0] + " distinct, "
        + tied[1] + " repeated");
    int[] exact = pageAll("accounts?$select=modifiedon&$orderby=modifiedon%20asc,accountid%20asc", stamps);
    assertEquals(3000, exact[0]);
    assertEquals(0, exact[1]);
  }

  @Test
  void orderedPagingFollowsThePagingCookieSoARowChangedBetweenPagesShiftsNoOther() throws Exception {
    // Dataverse's next link carries a paging cookie (the last row's order-by values and primary key); the next page
    // starts after those values, decided when it is asked for (Microsoft, "Page results using FetchXml", "Paging
    // behaviors and ordering"). An offset would skip a row once a row before it moved to the end.
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      ids.add(idFrom(api("POST", "accounts", "{\"name\":\"Cookie " + i + "\",\"creditlimit\":" + i + "}")));
    }
    String url = "accounts?$select=name,creditlimit&$orderby=" + q("creditlimit asc,accountid asc");
    HttpResponse<String> first = api("GET", url, null, "Prefer", "odata.maxpagesize=4");
    assertEquals(List.of("Cookie 1", "Cookie 2", "Cookie 3", "Cookie 4"), names(first));
    // Between the reads, a row of the first page moves to the end (offset paging would now skip "Cookie 5").
    assertEquals(204, api("PATCH", "accounts(" + ids.get(1) + ")", "{\"creditlimit\":100}").statusCode());
    HttpResponse<String> second = api("GET", (String) json(first).get("@odata.nextLink"), null, "Prefer",
        "odata.maxpagesize=4");
    assertEquals(200, second.statusCode(), second.body());
    assertEquals(List.of("Cookie 5", "Cookie 6", "Cookie 7", "Cookie 8"), names(second),
        "the page starts after the cookie's values: no row shifted into the first page");
    HttpResponse<String> third = api("GET", (String) json(second).get("@odata.nextLink"), null, "Prefer",
        "odata.maxpagesize=4");
    assertEquals(List.of("Cookie 9", "Cookie 10", "Cookie 2"), names(third),
        "the moved row comes once more, after the rest");
    assertEquals(null, json(third).get("@odata.nextLink"));
    // A token that is not one the simulator issued is refused, not answered from the top.
    assertEquals(400, api("GET", url + "&$skiptoken=bm90LWEtdG9rZW4", null, "Prefer", "odata.maxpagesize=4")
        .statusCode());
  }

  private static List<Object> names(HttpResponse<String> r) throws Exception {
    return Json.objects(json(r).get("value")).stream().map(m -> m.get("name")).toList();
  }

  /** @return {distinct ids, repeated ids} over every page */
  private static int[] pageAll(String url, Set<String> stamps) throws Exception {
    Set<String> seen = new HashSet<>();
    int repeats = 0;
    String next = url;
    while (next != null) {
      HttpResponse<String> r = api("GET", next, null, "Prefer", "odata.maxpagesize=500");
      assertEquals(200, r.statusCode(), r.body());
      for (Map<String, Object> row : Json.objects(json(r).get("value"))) {
        repeats += seen.add((String) row.get("accountid")) ? 0 : 1;
        stamps.add((String) row.get("modifiedon"));
      }
      next = (String) json(r).get("@odata.nextLink");
    }
    return new int[] {seen.size(), repeats};
  }

  @Test
  void lookupsBindAndReadBack() throws Exception {
    String user = crm.get().integrationUserId();
    String acc = idFrom(api("POST", "accounts", "{\"name\":\"Parent\",\"ownerid@odata.bind\":\"/systemusers(" + user + ")\"}"));
    assertEquals(user, json(api("GET", "accounts(" + acc + ")?$select=name,ownerid", null)).get("_ownerid_value"));
    String contact = idFrom(api("POST", "contacts", "{\"lastname\":\"Åkesson\",\"firstname\":\"Björn\","
        + "\"parentcustomerid_account@odata.bind\":\"/accounts(" + acc + ")\"}"));
    Map<String, Object> c = json(api("GET", "contacts(" + contact + ")", null));
    assertEquals(acc, c.get("_parentcustomerid_value"));
    assertEquals("Björn Åkesson", c.get("fullname"));
    HttpResponse<String> missing = api("POST", "accounts", "{\"name\":\"x\",\"ownerid@odata.bind\":"
        + "\"/systemusers(11111111-1111-1111-1111-111111111111)\"}");
    assertEquals(404, missing.statusCode());
    assertEquals("0x80040217", code(missing));
    assertEquals("systemuser With Id = 11111111-1111-1111-1111-111111111111 Does Not Exist", message(missing));
  }

  @Test
  void queriesFilterSelectOrderAndCaseInsensitiveText() throws Exception {
    api("POST", "accounts", "{\"name\":\"O'Hara Ltd\",\"address1_city\":\"Dublin\",\"creditlimit\":100}");
    api("POST", "accounts", "{\"name\":\"Zeta AB\",\"address1_city\":\"Malmö\",\"creditlimit\":300}");
    api("POST", "accounts", "{\"name\":\"Alpha GmbH\",\"address1_city\":\"Berlin\",\"creditlimit\":200}");
    List<Map<String, Object>> r = Json.objects(json(api("GET", "accounts?$filter=" + q("name eq 'o''hara ltd'"),
        null)).get("value"));
    assertEquals(1, r.size());
    List<Map<String, Object>> ordered = Json.objects(json(api("GET", "accounts?$select=name&$orderby="
        + q("creditlimit desc") + "&$filter=" + q("creditlimit gt 100 or address1_city eq 'Dublin'"), null)).get("value"));
    assertEquals(List.of("Zeta AB", "Alpha GmbH", "O'Hara Ltd"), ordered.stream().map(m -> m.get("name")).toList());
    assertEquals(400, api("GET", "accounts?$filter=" + q("name eq"), null).statusCode());
  }

  @Test
  void changeSetIsAtomicAndContinueOnErrorGivesEachPartItsStatus() throws Exception {
    String bad = "x".repeat(200);
    String body = "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n"
        + part("changeset_1", "1", "POST", "accounts", "{\"name\":\"In change set\"}")
        + part("changeset_1", "2", "POST", "contacts", "{\"lastname\":\"Child\",\"parentcustomerid_account@odata.bind\":\"$1\"}")
        + part("changeset_1", "3", "POST", "accounts", "{\"name\":\"" + bad + "\"}")
        + "--changeset_1--\r\n--batch_1--\r\n";
    HttpResponse<String> r = api("POST", "$batch", body, "Content-Type", "multipart/mixed; boundary=batch_1");
    // Without continue-on-error: 400 with a multipart body that holds the failing part (Microsoft, "Execute batch
    // operations using the Web API").
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("multipart/mixed"), r.headers().map()
        .toString());
    assertTrue(r.body().contains("HTTP/1.1 400") && r.body().contains("0x80044331"), r.body());
    assertEquals(1, r.body().split("HTTP/1.1 ").length - 1, "only the failing part: " + r.body());
    assertEquals(0, ((Map<?, ?>) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/counts", null))).get("accounts"));
    assertEquals(0, ((Map<?, ?>) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/counts", null))).get("contacts"));

    String ok = "--batch_2\r\nContent-Type: multipart/mixed; boundary=changeset_2\r\n\r\n"
        + part("changeset_2", "1", "POST", "accounts", "{\"name\":\"Parent\"}")
        + part("changeset_2", "2", "POST", "contacts", "{\"lastname\":\"Child\",\"parentcustomerid_account@odata.bind\":\"$1\"}")
        + "--changeset_2--\r\n"
        + single("batch_2", "POST", "accounts", "{\"name\":\"" + bad + "\"}")
        + single("batch_2", "POST", "accounts", "{\"name\":\"After the bad one\"}")
        + "--batch_2--\r\n";
    HttpResponse<String> r2 = api("POST", "$batch", ok, "Content-Type", "multipart/mixed; boundary=batch_2",
        "Prefer", "odata.continue-on-error");
    assertEquals(200, r2.statusCode(), r2.body());
    assertTrue(r2.body().contains("HTTP/1.1 400"), r2.body());
    assertEquals(4, r2.body().split("HTTP/1.1 ").length - 1, r2.body());
    Map<?, ?> counts = json(raw("GET", crm.get().baseUrl() + "/__admin/sim/counts", null));
    assertEquals(2, counts.get("accounts"));
    assertEquals(1, counts.get("contacts"));
    Map<String, Object> child = Json.objects(json(api("GET", "contacts", null)).get("value")).get(0);
    assertNotNull(child.get("_parentcustomerid_value"), "Content-ID reference resolved");
  }

  private static String part(String boundary, String id, String method, String path, String json) {
    return "--" + boundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: "
        + id + "\r\n\r\n" + method + " /api/data/v9.2/" + path + " HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
        + json + "\r\n";
  }

  private static String single(String boundary, String method, String path, String json) {
    return "--" + boundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        + method + " /api/data/v9.2/" + path + " HTTP/1.1\r\nContent-Type: application/json\r\n\r\n" + json + "\r\n";
  }

  @Test
  void polymorphicLookupsNeedTypedBindsAndOwnersMayBeTeams() throws Exception {
    // Microsoft, "Associate table rows on create" / contact and salesorder references: parentcustomerid and
    // customerid are bound as parentcustomerid_account / parentcustomerid_contact; ownerid takes a systemuser or team.
    String account = idFrom(api("POST", "accounts", "{\"name\":\"Parent\"}"));
    HttpResponse<String> untyped = api("POST", "contacts", "{\"lastname\":\"A\",\"parentcustomerid@odata.bind\":"
        + "\"/accounts(" + account + ")\"}");
    assertEquals(400, untyped.statusCode(), untyped.body());
    assertEquals("0x80048d19", code(untyped));
    assertTrue(message(untyped).contains("undeclared property 'parentcustomerid'"), message(untyped));
    HttpResponse<String> wrongType = api("POST", "contacts", "{\"lastname\":\"B\","
        + "\"parentcustomerid_contact@odata.bind\":\"/accounts(" + account + ")\"}");
    assertEquals(400, wrongType.statusCode(), wrongType.body());
    String contact = idFrom(api("POST", "contacts", "{\"lastname\":\"C\",\"parentcustomerid_account@odata.bind\":"
        + "\"/accounts(" + account + ")\"}"));
    assertEquals(account, json(api("GET", "contacts(" + contact + ")?$select=_parentcustomerid_value", null))
        .get("_parentcustomerid_value"));

    String team = idFrom(api("POST", "teams", "{\"name\":\"Sales team\",\"teamtype\":0}"));
    HttpResponse<String> owned = api("POST", "accounts", "{\"name\":\"Team owned\",\"ownerid@odata.bind\":"
        + "\"/teams(" + team + ")\"}");
    assertEquals(204, owned.statusCode(), owned.body());
    assertEquals(team, json(api("GET", "accounts(" + idFrom(owned) + ")?$select=_ownerid_value", null))
        .get("_ownerid_value"));
    assertEquals(204, api("POST", "accounts", "{\"name\":\"User owned\",\"ownerid@odata.bind\":"
        + "\"/systemusers(" + crm.get().integrationUserId() + ")\"}").statusCode());
  }

  @Test
  void multipleActionsAreAtomic() throws Exception {
    HttpResponse<String> created = api("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        "{\"Targets\":[{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"M1\",\"accountnumber\":\"M1\"},"
            + "{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"M2\",\"accountnumber\":\"M2\"}]}");
    assertEquals(200, created.statusCode(), created.body());
    assertEquals(2, ((List<?>) json(created).get("Ids")).size());
    HttpResponse<String> rolledBack = api("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        "{\"Targets\":[{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"M3\"},"
            + "{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"" + "z".repeat(170) + "\"}]}");
    assertEquals(400, rolledBack.statusCode());
    assertTrue(rolledBack.body().contains("0x80044331"), "the long name, not the request: " + rolledBack.body());
    assertEquals(2, ((Map<?, ?>) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/counts", null))).get("accounts"));
    HttpResponse<String> upserted = api("POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        "{\"Targets\":[{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"@odata.id\":\"accounts(accountnumber='M1')\","
            + "\"name\":\"M1 changed\"},{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\","
            + "\"@odata.id\":\"accounts(accountnumber='M9')\",\"name\":\"M9 new\"}]}");
    assertEquals(204, upserted.statusCode(), upserted.body());
    assertEquals("M1 changed", json(api("GET", "accounts(accountnumber='M1')", null)).get("name"));
    assertEquals("M9 new", json(api("GET", "accounts(accountnumber='M9')", null)).get("name"));
  }

  @Test
  void multipleTargetsMustEachCarryTheirOdataType() throws Exception {
    HttpResponse<String> none = api("POST", "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        "{\"Targets\":[{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"T1\"},{\"name\":\"T2\"}]}");
    assertEquals(400, none.statusCode(), none.body());
    assertTrue(none.body().contains("item 1 of Targets"), none.body());
    HttpResponse<String> other = api("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        "{\"Targets\":[{\"@odata.type\":\"Microsoft.Dynamics.CRM.contact\",\"name\":\"T3\"}]}");
    assertEquals(400, other.statusCode(), other.body());
    assertEquals(0, ((Map<?, ?>) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/counts", null))).get("accounts"),
        "nothing written");
  }

  @Test
  void deltaLinkReturnsExactlyTheChangesAndDeletionsSinceItWasIssued() throws Exception {
    String a = idFrom(api("POST", "accounts", "{\"name\":\"A\"}"));
    String b = idFrom(api("POST", "accounts", "{\"name\":\"B\"}"));
    idFrom(api("POST", "accounts", "{\"name\":\"C\"}"));
    HttpResponse<String> initial = api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes");
    assertEquals(3, Json.objects(json(initial).get("value")).size());
    String delta = (String) json(initial).get("@odata.deltaLink");
    assertTrue(delta.contains("$deltatoken="), delta);
    api("PATCH", "accounts(" + a + ")", "{\"name\":\"A2\"}");
    api("DELETE", "accounts(" + b + ")", null);
    String d = idFrom(api("POST", "accounts", "{\"name\":\"D\"}"));
    HttpResponse<String> changes = api("GET", delta, null);
    assertEquals(200, changes.statusCode(), changes.body());
    assertTrue(((String) json(changes).get("@odata.context")).endsWith("/$delta"));
    List<Map<String, Object>> value = Json.objects(json(changes).get("value"));
    assertEquals(3, value.size(), value.toString());
    Set<String> changed = new HashSet<>();
    String deleted = null;
    for (Map<String, Object> v : value) {
      if (v.containsKey("reason")) {
        deleted = (String) v.get("id");
        assertTrue(((String) v.get("@odata.context")).endsWith("$deletedEntity"));
      } else {
        changed.add((String) v.get("accountid"));
      }
    }
    assertEquals(Set.of(a, d), changed);
    assertEquals(b, deleted);
    String next = (String) json(changes).get("@odata.deltaLink");
    assertEquals(0, Json.objects(json(api("GET", next, null)).get("value")).size(), "nothing since");
    assertEquals(400, api("GET", "accounts?$filter=" + q("name eq 'A'"), null, "Prefer", "odata.track-changes").statusCode());
  }

  @Test
  void deltaTokensExpireAfterTheRetentionOrWhenExpiredByTheAdminApi() throws Exception {
    api("POST", "accounts", "{\"name\":\"A\"}");
    String delta = (String) json(api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes"))
        .get("@odata.deltaLink");
    HttpResponse<String> fresh = api("GET", delta, null);
    assertEquals(200, fresh.statusCode(), fresh.body());
    String next = (String) json(fresh).get("@odata.deltaLink");
    assertEquals(204, raw("POST", crm.get().baseUrl() + "/__admin/sim/change-tracking/expire", null).statusCode());
    for (String link : List.of(delta, next)) {
      HttpResponse<String> expired = api("GET", link, null);
      assertEquals(400, expired.statusCode(), expired.body());
      assertEquals("0x80044352", code(expired));
      assertTrue(message(expired).contains("Please perform a full sync"), message(expired));
    }
    // A new tracking read starts over with a token that works.
    String restarted = (String) json(api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes"))
        .get("@odata.deltaLink");
    assertEquals(200, api("GET", restarted, null).statusCode());
    // Retention: a token older than the organization's change-tracking retention has expired.
    assertEquals(7 * 24 * 3600, ((Number) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/change-tracking",
        null)).get("retentionSeconds")).intValue(), "Dataverse's default: 7 days");
    assertEquals(204, raw("POST", crm.get().baseUrl() + "/__admin/sim/change-tracking", "{\"retentionSeconds\":1}")
        .statusCode());
    api("POST", "accounts", "{\"name\":\"B\"}");
    String shortLived = (String) json(api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes"))
        .get("@odata.deltaLink");
    Thread.sleep(1100);
    assertEquals("0x80044352", code(api("GET", shortLived, null)));
    assertEquals(400, raw("POST", crm.get().baseUrl() + "/__admin/sim/change-tracking", "{\"retentionSeconds\":0}")
        .statusCode());
  }

  @Test
  void aSkewedClockStampsModifiedOnBehindTheMachine() throws Exception {
    assertEquals(204, raw("POST", crm.get().baseUrl() + "/__admin/sim/clock", "{\"offsetMs\":-600000}").statusCode());
    String id = idFrom(api("POST", "accounts", "{\"name\":\"Late\"}"));
    java.time.Instant stamped = java.time.Instant.parse((String) json(api("GET", "accounts(" + id + ")", null))
        .get("modifiedon"));
    long behind = java.time.Duration.between(stamped, java.time.Instant.now()).toSeconds();
    assertTrue(behind >= 590 && behind <= 620, "stamped " + behind + " s behind");
    assertEquals(-600000, ((Number) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/clock", null))
        .get("offsetMs")).intValue());
  }

  @Test
  void the53rdConcurrentRequestIsRefusedWhenTheLimitIs52() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/faults", "{\"pathPattern\":\"/uoms\",\"kind\":\"LATENCY\","
        + "\"latencyMs\":1500,\"rate\":1.0}");
    ExecutorService pool = Executors.newFixedThreadPool(53);
    List<Callable<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 53; i++) {
      calls.add(() -> api("GET", "uoms", null));
    }
    List<HttpResponse<String>> results = new ArrayList<>();
    for (Future<HttpResponse<String>> f : pool.invokeAll(calls)) {
      results.add(f.get());
    }
    pool.shutdown();
    List<HttpResponse<String>> refused = results.stream().filter(r -> r.statusCode() == 429).toList();
    assertEquals(1, refused.size(), results.stream().map(HttpResponse::statusCode).toList().toString());
    assertEquals("0x80072326", code(refused.get(0)));
    assertTrue(refused.get(0).headers().firstValue("Retry-After").isPresent());
    assertEquals(52, results.stream().filter(r -> r.statusCode() == 200).count());
  }

  @Test
  void requestCountLimitAnswers429WithRetryAfter() throws Exception {
    raw("POST", crm.get().baseUrl() + "/__admin/sim/limits", "{\"requests\":5,\"windowMs\":60000}");
    for (int i = 0; i < 5; i++) {
      assertEquals(200, api("GET", "accounts", null).statusCode());
    }
    HttpResponse<String> r = api("GET", "accounts", null);
    assertEquals(429, r.statusCode());
    assertEquals("0x80072322", code(r));
    int retry = Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retry >= 1 && retry <= 60, String.valueOf(retry));
  }

  @Test
  void unknownColumnsInSelectFilterAndOrderbyAre400() throws Exception {
    String id = idFrom(api("POST", "accounts", "{\"name\":\"Known\"}"));
    for (String query : new String[] {"accounts?$select=name,nmae", "accounts?$filter=" + q("nmae eq 'Known'"),
        "accounts?$orderby=nmae", "accounts(" + id + ")?$select=nmae"}) {
      HttpResponse<String> r = api("GET", query, null);
      assertEquals(400, r.statusCode(), query + ": " + r.body());
      assertEquals("0x80060888", code(r));
      assertEquals("Could not find a property named 'nmae' on type 'Microsoft.Dynamics.CRM.account'.", message(r));
    }
    assertEquals(200, api("GET", "accounts?$select=name,_ownerid_value,modifiedon,statecode&$filter="
        + q("_modifiedby_value ne " + id) + "&$orderby=" + q("modifiedon desc,accountid"), null).statusCode());
  }

  @Test
  void setupActions() throws Exception {
    String user = crm.get().integrationUserId();
    HttpResponse<String> refused = api("POST", "ImportSolution", "{\"CustomizationFile\":\"UEsDBA==\","
        + "\"OverwriteUnmanagedCustomizations\":true,\"PublishWorkflows\":true}");
    assertEquals(403, refused.statusCode());
    Map<String, Object> admin = Json.objects(json(api("GET", "roles?$filter=" + q("name eq 'System Administrator'"),
        null)).get("value")).get(0);
    // Assigning a role needs prvAssignRole, which a user without roles lacks: an administrator grants it.
    assertEquals(403, api("POST", "systemusers(" + user + ")/systemuserroles_association/$ref",
        "{\"@odata.id\":\"" + crm.get().apiUrl() + "/roles(" + admin.get("roleid") + ")\"}").statusCode());
    assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl()
        + "/__admin/sim/setup/admins")).POST(HttpRequest.BodyPublishers.ofString("{\"clientId\":\"tandem-sync\","
        + "\"clientSecret\":\"tandem-secret\",\"roles\":[\"System Administrator\"]}")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
    String file = SolutionFiles.tandem();
    assertEquals(204, api("POST", "ImportSolution", "{\"CustomizationFile\":\"" + file + "\","
        + "\"OverwriteUnmanagedCustomizations\":true,\"PublishWorkflows\":true,\"ImportJobId\":\""
        + java.util.UUID.randomUUID() + "\"}").statusCode());
    HttpResponse<String> conn = api("POST", "nav_connections", "{\"nav_name\":\"ERP\",\"nav_dynamicsnavodataurl\":"
        + "\"http://erp/BC/ODataV4\",\"nav_dynamicsnavodatausername\":\"TANDEM\",\"nav_dynamicsnavodataaccesskey\":\"k\"}");
    assertEquals(204, conn.statusCode(), conn.body());
  }

  @Test
  void commandLineHelp() {
    java.io.StringWriter out = new java.io.StringWriter();
    assertEquals(0, new picocli.CommandLine(new DataverseMain()).setOut(new java.io.PrintWriter(out)).execute("--help"));
    assertTrue(out.toString().contains("--accounts"));
  }
}
