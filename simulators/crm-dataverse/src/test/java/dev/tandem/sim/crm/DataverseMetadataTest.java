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
 * Table definitions, change tracking per table and alternate keys, as Dataverse serves and enforces them. Sources:
 * Microsoft, "Use change tracking to synchronize data with external systems" (ChangeTrackingEnabled, cannot be
 * turned off, delta pages), "Web service error codes" (0x80072491 ChangeTrackingNotEnabledForEntity), "Define
 * alternate keys to reference rows" (EntityKeyIndexStatus Pending → Active; values with / &lt; &gt; * % &amp; : \ ? +
 * don't work in GET/PATCH), "Query table definitions using the Web API", "Page results using OData" (5000 per page).
 */
class DataverseMetadataTest {

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
    organization("{\"state\":\"tandem-solution\",\"keyIndexDelayMs\":60000}");
    raw("POST", crm.get().baseUrl() + "/__admin/sim/reset", null);
    HttpResponse<String> t = raw("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=tandem-secret&scope=" + q(crm.get().scope()),
        "Content-Type", "application/x-www-form-urlencoded");
    token = (String) Json.object(t.body()).get("access_token");
  }

  @Test
  void entityDefinitionsAttributesAndKeysReadTheWayDataverseServesThem() throws Exception {
    HttpResponse<String> one = api("GET", "EntityDefinitions(LogicalName='account')?$select="
        + "LogicalName,EntitySetName,ChangeTrackingEnabled", null);
    assertEquals(200, one.statusCode(), one.body());
    assertEquals("accounts", json(one).get("EntitySetName"));
    assertEquals(true, json(one).get("ChangeTrackingEnabled"));
    assertNotNull(json(one).get("MetadataId"));
    assertNull(json(one).get("PrimaryIdAttribute"), "only the selected properties (and MetadataId)");

    List<Map<String, Object>> attributes = Json.objects(json(api("GET",
        "EntityDefinitions(LogicalName='account')/Attributes", null)).get("value"));
    Map<String, Object> number = attributes.stream().filter(a -> "accountnumber".equals(a.get("LogicalName")))
        .findFirst().orElseThrow();
    assertEquals(20, ((Number) number.get("MaxLength")).intValue());
    Map<String, Object> name = attributes.stream().filter(a -> "name".equals(a.get("LogicalName"))).findFirst()
        .orElseThrow();
    assertEquals("ApplicationRequired", ((Map<?, ?>) name.get("RequiredLevel")).get("Value"));

    List<Map<String, Object>> keys = Json.objects(json(api("GET", "EntityDefinitions(LogicalName='account')/Keys",
        null)).get("value"));
    assertEquals(1, keys.size(), keys.toString());
    assertEquals(List.of("accountnumber"), keys.get(0).get("KeyAttributes"));
    assertEquals("Active", keys.get(0).get("EntityKeyIndexStatus"));

    List<Map<String, Object>> tracked = Json.objects(json(api("GET", "EntityDefinitions?$select=LogicalName"
        + "&$filter=" + q("ChangeTrackingEnabled eq true"), null)).get("value"));
    Set<String> names = new HashSet<>();
    tracked.forEach(t -> names.add((String) t.get("LogicalName")));
    assertEquals(new HashSet<>(DataverseMetadata.TANDEM_TRACKED), names);
    assertEquals(404, api("GET", "EntityDefinitions(LogicalName='nosuchtable')", null).statusCode());
    assertEquals(400, api("GET", "EntityDefinitions(LogicalName='account')?$select=NoSuchProperty", null)
        .statusCode());
  }

  @Test
  void aFreshOrganizationRefusesChangeTrackingUntilItIsEnabledAndNeverTurnsItOff() throws Exception {
    organization("{\"state\":\"fresh\"}");
    HttpResponse<String> refused = api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes");
    assertEquals(400, refused.statusCode(), refused.body());
    assertEquals("0x80072491", code(refused));
    assertEquals(false, json(api("GET", "EntityDefinitions(LogicalName='account')?$select=ChangeTrackingEnabled",
        null)).get("ChangeTrackingEnabled"));

    assertEquals(405, api("PATCH", "EntityDefinitions(LogicalName='account')", "{\"ChangeTrackingEnabled\":true}")
        .statusCode(), "metadata is updated with PUT");
    HttpResponse<String> put = api("PUT", "EntityDefinitions(LogicalName='account')",
        "{\"LogicalName\":\"account\",\"ChangeTrackingEnabled\":true}", "MSCRM.MergeLabels", "true");
    assertEquals(204, put.statusCode(), put.body());
    HttpResponse<String> tracked = api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes");
    assertEquals(200, tracked.statusCode(), tracked.body());
    assertNotNull(json(tracked).get("@odata.deltaLink"));
    HttpResponse<String> off = api("PUT", "EntityDefinitions(LogicalName='account')",
        "{\"LogicalName\":\"account\",\"ChangeTrackingEnabled\":false}");
    assertEquals(400, off.statusCode(), off.body());

    // The Java API does the same for other simulator code; contacts stay untracked.
    crm.get().metadata().enableChangeTracking("product");
    assertEquals(200, api("GET", "products?$select=name", null, "Prefer", "odata.track-changes").statusCode());
    assertEquals(400, api("GET", "contacts?$select=lastname", null, "Prefer", "odata.track-changes").statusCode());
  }

  @Test
  void alternateKeysExistOnlyOnceCreatedAndServeOnlyWhenActive() throws Exception {
    organization("{\"state\":\"fresh\",\"keyIndexDelayMs\":300}");
    assertEquals(204, api("POST", "accounts", "{\"name\":\"Alpha\",\"accountnumber\":\"A1\"}").statusCode());
    HttpResponse<String> noKey = api("GET", "accounts(accountnumber='A1')", null);
    assertEquals(400, noKey.statusCode(), noKey.body());
    assertEquals(0, Json.objects(json(api("GET", "EntityDefinitions(LogicalName='account')/Keys", null))
        .get("value")).size());

    HttpResponse<String> created = api("POST", "EntityDefinitions(LogicalName='account')/Keys",
        "{\"SchemaName\":\"tandem_accountnumber\",\"DisplayName\":{\"LocalizedLabels\":[]},"
            + "\"KeyAttributes\":[\"accountnumber\"]}");
    assertEquals(204, created.statusCode(), created.body());
    assertTrue(created.headers().firstValue("OData-EntityId").orElseThrow().contains("/Keys("));
    // Under a fast profile time scale 1 the index takes the configured 300 ms; until then the key is Pending.
    DataverseMetadata.Key key = crm.get().metadata().key("account", "accountnumber");
    if (key.status() == DataverseMetadata.KeyStatus.Pending) {
      HttpResponse<String> pending = api("GET", "accounts(accountnumber='A1')", null);
      if (crm.get().metadata().key("account", "accountnumber").status() == DataverseMetadata.KeyStatus.Pending) {
        assertEquals(400, pending.statusCode(), pending.body());
        assertTrue(pending.body().contains("not active"), pending.body());
      }
    }
    long deadline = System.currentTimeMillis() + 30_000;
    while (crm.get().metadata().key("account", "accountnumber").status() != DataverseMetadata.KeyStatus.Active) {
      assertTrue(System.currentTimeMillis() < deadline, "the key's index never became Active");
      Thread.sleep(50);
    }
    HttpResponse<String> active = api("GET", "accounts(accountnumber='A1')?$select=name", null);
    assertEquals(200, active.statusCode(), active.body());
    assertEquals("Alpha", json(active).get("name"));

    HttpResponse<String> duplicate = api("POST", "EntityDefinitions(LogicalName='account')/Keys",
        "{\"SchemaName\":\"other\",\"KeyAttributes\":[\"accountnumber\"]}");
    assertEquals(400, duplicate.statusCode(), duplicate.body());
    crm.get().metadata().failKey("account", "tandem_accountnumber", true);
    assertEquals(400, api("GET", "accounts(accountnumber='A1')", null).statusCode());
    assertEquals("Failed", Json.objects(json(api("GET", "EntityDefinitions(LogicalName='account')/Keys", null))
        .get("value")).get(0).get("EntityKeyIndexStatus"));
  }

  @Test
  void keyValuesWithReservedCharactersCannotBeAddressedByKey() throws Exception {
    for (String v : List.of("A/100", "70000+1", "R&D", "50%", "A:1", "A*", "A?", "A<1", "A>1", "A\\1")) {
      HttpResponse<String> r = api("PATCH", "accounts(accountnumber='" + q(v) + "')", "{\"name\":\"X\"}");
      assertTrue(r.statusCode() == 400 || r.statusCode() == 404, v + " -> " + r.statusCode() + " " + r.body());
      assertFalse(r.body().startsWith("{"), "the front end refuses it, not Dataverse: " + r.body());
      int get = api("GET", "accounts(accountnumber='" + q(v) + "')", null).statusCode();
      assertTrue(get == 400 || get == 404, v + " GET -> " + get);
    }
    assertEquals(0, ((Number) json(raw("GET", crm.get().baseUrl() + "/__admin/sim/counts", null))
        .getOrDefault("accounts", 0)).intValue(), "nothing was written");
    // The same values work in a body and in $filter: the fallback by value and write by id.
    String id = java.util.UUID.randomUUID().toString();
    assertEquals(204, api("PATCH", "accounts(" + id + ")", "{\"name\":\"R and D\",\"accountnumber\":\"R&D\"}")
        .statusCode());
    HttpResponse<String> found = api("GET", "accounts?$select=accountid&$filter=" + q("accountnumber eq 'R&D'"),
        null);
    assertEquals(id, Json.objects(json(found).get("value")).get(0).get("accountid"));
  }

  @Test
  void deltaResultsPageAt5000WithANextLinkAndEndInADeltaLink() throws Exception {
    String link = (String) json(api("GET", "accounts?$select=name", null, "Prefer", "odata.track-changes"))
        .get("@odata.deltaLink");
    assertNotNull(link);
    StringBuilder rows = new StringBuilder("{\"rows\":[");
    for (int i = 0; i < 5_250; i++) {
      rows.append(i == 0 ? "" : ",").append("{\"name\":\"N").append(i).append("\"}");
    }
    HttpResponse<String> inserted = raw("POST", crm.get().baseUrl() + "/__admin/sim/rows/accounts",
        rows.append("]}").toString());
    assertEquals(200, inserted.statusCode(), inserted.body());
    List<?> ids = (List<?>) json(inserted).get("ids");
    assertEquals(204, api("DELETE", "accounts(" + ids.get(0) + ")", null).statusCode());

    Set<String> seen = new HashSet<>();
    int deleted = 0;
    int pages = 0;
    String next = link;
    String deltaLink = null;
    while (next != null) {
      HttpResponse<String> page = api("GET", next, null, "Prefer", "odata.track-changes");
      assertEquals(200, page.statusCode(), page.body());
      List<Map<String, Object>> value = Json.objects(json(page).get("value"));
      assertTrue(value.size() <= 5000, "page of " + value.size());
      for (Map<String, Object> v : value) {
        if (v.containsKey("reason")) {
          deleted++;
        } else {
          assertTrue(seen.add((String) v.get("accountid")), "twice: " + v);
        }
      }
      pages++;
      next = (String) json(page).get("@odata.nextLink");
      deltaLink = (String) json(page).get("@odata.deltaLink");
      assertTrue(next == null ^ deltaLink == null, "a page ends in a next link or in the delta link");
    }
    assertEquals(2, pages);
    assertEquals(5_249, seen.size());
    assertEquals(1, deleted);
    assertEquals(0, Json.objects(json(api("GET", deltaLink, null, "Prefer", "odata.track-changes")).get("value"))
        .size());
    // A smaller odata.maxpagesize pages the same way.
    api("PATCH", "accounts(" + ids.get(1) + ")", "{\"name\":\"changed\"}");
    api("PATCH", "accounts(" + ids.get(2) + ")", "{\"name\":\"changed\"}");
    HttpResponse<String> small = api("GET", deltaLink, null, "Prefer", "odata.track-changes,odata.maxpagesize=1");
    assertEquals(1, Json.objects(json(small).get("value")).size());
    assertNotNull(json(small).get("@odata.nextLink"));
  }
}
