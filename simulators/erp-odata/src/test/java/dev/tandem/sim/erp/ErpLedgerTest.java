package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * FlowFields and ledger entries, on both profiles.
 *
 * <p>Sources: the BC base application (StefanMaron/MSDyn365BC.Code.History, BaseApp "Inventory/Item/Item.Table.al")
 * declares table 27 Item field 68 {@code Inventory} as {@code FieldClass = FlowField; CalcFormula =
 * sum("Item Ledger Entry".Quantity where("Item No." = field("No."), …)); Editable = false}, and Customer
 * "Balance (LCY)" likewise as a sum over the customer's ledger amounts; "Item Ledger Entry" (table 32) is keyed by
 * "Entry No.", which the posting routine assigns in ascending order. Posting writes entries and never modifies the
 * Item or Customer record, so their SystemModifiedAt stays (real-endpoints.md E2). By default a page's ETag
 * covers its FlowFields; the option "Exclude Non-Editable FlowFields" exists since 2021 wave 1 [BC-ETAG], so a
 * posting changes the ETag and a PATCH with the older one is refused 409 Request_EntityChanged (E6). Writing a
 * FlowField or another non-editable control is refused: BadRequest_InvalidOperation "Control '…' is read-only"
 * [BC-ERR] (E3).
 */
class ErpLedgerTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> nav = new SimulatorExtension<>(ErpSimulator::new);

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> online =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static String auth(ErpSimulator sim) throws Exception {
    ErpSimulator.Options o = sim.options();
    if (sim.options().profile() == ErpSimulator.Profile.NAV) {
      return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
          .getBytes(StandardCharsets.UTF_8));
    }
    String form = "grant_type=client_credentials&client_id=" + enc(o.clientId()) + "&client_secret="
        + enc(o.clientSecret()) + "&scope=" + enc(ErpSimulator.scope());
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(sim.tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
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

  private static Map<String, Object> ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> value(HttpResponse<String> r) {
    return (List<Map<String, Object>>) ok(r).get("value");
  }

  private static String code(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) Json.object(r.body()).get("error")).get("code"));
  }

  private static void setUp(ErpSimulator sim) throws Exception {
    assertEquals(200, call(sim, "POST", sim.baseUrl() + "/__admin/sim/reset", null).statusCode());
    call(sim, "POST", sim.baseUrl() + "/__admin/sim/rows/UnitOfMeasure", "{\"rows\":[{\"Code\":\"PCS\"}]}");
    assertEquals(201, call(sim, "POST", sim.companyUrl() + "/Item",
        "{\"No\":\"1000\",\"Description\":\"Bicycle\",\"Base_Unit_of_Measure\":\"PCS\"}").statusCode());
    assertEquals(201, call(sim, "POST", sim.companyUrl() + "/Item",
        "{\"No\":\"2000\",\"Description\":\"Lamp\",\"Base_Unit_of_Measure\":\"PCS\"}").statusCode());
  }

  private static Map<String, Object> post(ErpSimulator sim, String body) throws Exception {
    return ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/stock", body));
  }

  @Test
  void inventoryIsTheSumOfItemLedgerEntriesAndPostingLeavesTheItemAlone() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      Map<String, Object> before = ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null));
      assertEquals(0, ((Number) before.get("Inventory")).intValue());
      post(sim, "{\"itemNo\":\"1000\",\"quantity\":10}");
      post(sim, "{\"itemNo\":\"2000\",\"quantity\":4}");
      post(sim, "{\"itemNo\":\"1000\",\"quantity\":-2.5,\"entryType\":\"Sale\"}");
      Map<String, Object> after = ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null));
      assertEquals(7.5, ((Number) after.get("Inventory")).doubleValue(), sim.options().profile().id());
      assertEquals(before.get("SystemModifiedAt"), after.get("SystemModifiedAt"), "posting never modifies the Item");
      assertNotEquals(before.get("@odata.etag"), after.get("@odata.etag"), "the ETag covers the FlowField");
      // An incremental read of the items by SystemModifiedAt does not see the posting (E2).
      assertEquals(0, value(call(sim, "GET", sim.companyUrl() + "/Item?$filter="
          + enc("No eq '1000' and SystemModifiedAt gt " + before.get("SystemModifiedAt")), null)).size());

      List<Map<String, Object>> entries = value(call(sim, "GET", sim.companyUrl() + "/ItemLedgerEntries", null));
      assertEquals(3, entries.size());
      assertEquals(List.of(1L, 2L, 3L), entries.stream().map(e -> ((Number) e.get("Entry_No")).longValue()).toList());
      assertEquals("2000", entries.get(1).get("Item_No"));
      assertEquals("Sale", entries.get(2).get("Entry_Type"));
      assertTrue(entries.get(0).get("Posting_Date") instanceof String);
      // The incremental read of entries: after the last entry number seen.
      List<Map<String, Object>> newer = value(call(sim, "GET", sim.companyUrl() + "/ItemLedgerEntries?$filter="
          + enc("Entry_No gt 1") + "&$orderby=Entry_No", null));
      assertEquals(List.of(2L, 3L), newer.stream().map(e -> ((Number) e.get("Entry_No")).longValue()).toList());
      // "inventory" posts the difference as an adjustment.
      Map<String, Object> counted = post(sim, "{\"itemNo\":\"1000\",\"inventory\":12}");
      assertEquals(12, ((Number) counted.get("Inventory")).intValue());
      assertEquals(4.5, ((Number) ((Map<?, ?>) counted.get("entry")).get("Quantity")).doubleValue());
    }
  }

  @Test
  void ledgerEntriesArePagedAndReadOnly() throws Exception {
    ErpSimulator sim = online.get();
    setUp(sim);
    StringBuilder many = new StringBuilder("{\"entries\":[");
    for (int i = 0; i < 25; i++) {
      many.append(i == 0 ? "" : ",").append("{\"itemNo\":\"").append(i % 2 == 0 ? "1000" : "2000")
          .append("\",\"quantity\":1}");
    }
    assertEquals(25, ((Number) post(sim, many + "]}").get("posted")).intValue());
    HttpResponse<String> page = call(sim, "GET", sim.companyUrl() + "/ItemLedgerEntries?$filter="
        + enc("Entry_No gt 5"), null, "Prefer", "odata.maxpagesize=10");
    List<Map<String, Object>> first = value(page);
    assertEquals(10, first.size());
    assertEquals(6L, ((Number) first.get(0).get("Entry_No")).longValue());
    String next = String.valueOf(Json.object(page.body()).get("@odata.nextLink"));
    List<Map<String, Object>> second = value(call(sim, "GET", next, null, "Prefer", "odata.maxpagesize=10"));
    assertEquals(16L, ((Number) second.get(0).get("Entry_No")).longValue());
    assertEquals(13, ((Number) ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null)).get("Inventory"))
        .intValue());
    // Entries are posted, never written through the page.
    HttpResponse<String> insert = call(sim, "POST", sim.companyUrl() + "/ItemLedgerEntries",
        "{\"Item_No\":\"1000\",\"Quantity\":5}");
    assertEquals(405, insert.statusCode(), insert.body());
    // A posting for an unknown item is a table relation error.
    HttpResponse<String> unknown = call(sim, "POST", sim.baseUrl() + "/__admin/sim/stock",
        "{\"itemNo\":\"9999\",\"quantity\":1}");
    assertEquals(404, unknown.statusCode(), unknown.body());
  }

  @Test
  void aPostingChangesTheEtagSoAPatchWithTheOldOneIsRefused() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      String etag = String.valueOf(ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null)).get("@odata.etag"));
      post(sim, "{\"itemNo\":\"1000\",\"quantity\":3}");
      HttpResponse<String> stale = call(sim, "PATCH", sim.companyUrl() + "/Item('1000')",
          "{\"Description\":\"Racing bicycle\"}", "If-Match", etag);
      assertEquals(409, stale.statusCode(), stale.body());
      assertEquals("Request_EntityChanged", code(stale));
      // Re-read, and the new ETag is accepted.
      String fresh = String.valueOf(ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null)).get("@odata.etag"));
      assertEquals(200, call(sim, "PATCH", sim.companyUrl() + "/Item('1000')", "{\"Description\":\"Racing bicycle\"}",
          "If-Match", fresh).statusCode());
    }
  }

  @Test
  void withExcludeNonEditableFlowFieldsAPostingKeepsTheEtag() throws Exception {
    ErpSimulator sim = nav.get();
    setUp(sim);
    ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/etag", "{\"excludeFlowFields\":true}"));
    String etag = String.valueOf(ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null)).get("@odata.etag"));
    post(sim, "{\"itemNo\":\"1000\",\"quantity\":3}");
    assertEquals(200, call(sim, "PATCH", sim.companyUrl() + "/Item('1000')", "{\"Description\":\"Racing bicycle\"}",
        "If-Match", etag).statusCode());
  }

  @Test
  void balanceIsTheSumOfCustomerLedgerEntries() throws Exception {
    for (ErpSimulator sim : List.of(nav.get(), online.get())) {
      setUp(sim);
      Map<String, Object> c = Json.object(call(sim, "POST", sim.companyUrl() + "/Customer", "{\"Name\":\"Fabrikam\"}")
          .body());
      String no = String.valueOf(c.get("No"));
      ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/customer-entries", "{\"customerNo\":\"" + no
          + "\",\"amount\":1200.50}"));
      ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/customer-entries", "{\"customerNo\":\"" + no
          + "\",\"amount\":-200.50,\"documentType\":\"Payment\"}"));
      Map<String, Object> after = ok(call(sim, "GET", sim.companyUrl() + "/Customer('" + no + "')", null));
      assertEquals(1000, ((Number) after.get("Balance_LCY")).intValue());
      assertEquals(c.get("SystemModifiedAt"), after.get("SystemModifiedAt"));
      HttpResponse<String> stale = call(sim, "PATCH", sim.companyUrl() + "/Customer('" + no + "')",
          "{\"Name\":\"Fabrikam Inc.\"}", "If-Match", String.valueOf(c.get("@odata.etag")));
      assertEquals(409, stale.statusCode());
      assertEquals("Request_EntityChanged", code(stale));
      assertEquals(2, value(call(sim, "GET", sim.companyUrl() + "/CustLedgerEntries?$filter="
          + enc("Customer_No eq '" + no + "'"), null)).size());
    }
  }

  @Test
  void flowFieldsAreReadOnlyAndCostMoreToRead() throws Exception {
    ErpSimulator sim = online.get();
    setUp(sim);
    String etag = String.valueOf(ok(call(sim, "GET", sim.companyUrl() + "/Item('1000')", null)).get("@odata.etag"));
    HttpResponse<String> write = call(sim, "PATCH", sim.companyUrl() + "/Item('1000')", "{\"Inventory\":50}",
        "If-Match", etag);
    assertEquals(400, write.statusCode(), write.body());
    assertEquals("BadRequest_InvalidOperation", code(write));
    assertTrue(write.body().contains("Control 'Inventory' is read-only"), write.body());
    ErpCosts costs = ErpCosts.realistic(1);
    assertTrue(costs.readCost(100, 1) > costs.readCost(100, 0), "a FlowField costs per row read");
  }

  @Test
  void seededInventoryComesFromOpeningEntries() throws Exception {
    ErpSimulator sim = nav.get();
    call(sim, "POST", sim.baseUrl() + "/__admin/sim/reset", null);
    ok(call(sim, "POST", sim.baseUrl() + "/__admin/sim/seed", "{\"seed\":3,\"counts\":{\"Item\":20}}"));
    double inventory = 0;
    for (Map<String, Object> i : value(call(sim, "GET", sim.companyUrl() + "/Item?$select=No,Inventory", null))) {
      inventory += ((Number) i.get("Inventory")).doubleValue();
    }
    double entries = 0;
    for (Map<String, Object> e : value(call(sim, "GET", sim.companyUrl() + "/ItemLedgerEntries", null))) {
      entries += ((Number) e.get("Quantity")).doubleValue();
    }
    assertTrue(inventory > 0);
    assertEquals(inventory, entries, 1e-9);
  }
}
