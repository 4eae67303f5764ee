package dev.tandem.plugins.salesorders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SALESORDER-ORDER read with a CRM page size of 2: the submitted orders are read in pages of two, and an order of
 * the first page is changed by a person while the second page is on its way. Each page is a keyset query after the
 * last order read ({@code modifiedon}, then {@code salesorderid}), so the change moves only that order (it comes
 * once more at the end) and no other order slips past the pages: every order becomes exactly one ERP order, the
 * changed one with its change, and every CRM order gets its ERP number back (those reads span pages too). Then
 * the invoices of five posted orders each link to their CRM order, read by id two rows a page.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class SalesOrdersPagingIT {

  private static final int ORDERS = 7;
  private static final long DELAY_MS = 6000;
  private static String personToken;

  @RegisterExtension
  @Order(1)
  static final SimulatorExtension<ErpSimulator> ERP = SimulatorExtension.perTestClass(
      c -> new ErpSimulator(ErpSimulator.Options.defaults()));
  @RegisterExtension
  @Order(2)
  static final SimulatorExtension<DataverseSimulator> CRM = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static final TandemExtension TANDEM = TandemExtension.withPlugins(java.util.Arrays.stream(System.getProperty(
      "tandem.plugin.jar", "target/plugin.jar").split(java.io.File.pathSeparator)).map(Path::of).toArray(Path[]::new))
      .configure(c -> c
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
          .withJobs(new JobSettings(4, 4, 50, 2_000, 120_000, 5, 100, 1_000, 0))
          .withConnections(new Connections(TandemExtension.erpSettings(ERP.get()).withTimeouts(3, 30_000),
              new DataverseSettings(CRM.get().apiUrl(), CRM.get().tokenUrl(), "tandem-sync", "tandem-secret", null,
                  2, DataverseSettings.DATAVERSE_CONCURRENCY_LIMIT, 8, 5, 1000, 120_000))));

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  @Order(1)
  void anOrderChangedWhileTheHeadersArePagedIsSyncedOnceAndNoOtherIsSkipped() throws Exception {
    prepare();
    String account = crmCreate("accounts", new JsonObject().put("name", "Paging account"));
    couple("CUSTOMER", "C-PAGING", account);
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= ORDERS; i++) {
      String id = crmCreate("salesorders", new JsonObject().put("name", "Paged " + i).put("ordernumber", "PG-" + i)
          .put("customerid_account@odata.bind", "/accounts(" + account + ")"));
      crmCreate("salesorderdetails", new JsonObject().put("lineitemnumber", 1).put("isproductoverridden", true)
          .put("productdescription", "line of " + i).put("quantity", 1).put("ispriceoverridden", true)
          .put("priceperunit", 3.5).put("salesorderid@odata.bind", "/salesorders(" + id + ")"));
      person("PATCH", "salesorders(" + id + ")", new JsonObject().put("statecode", 1).put("statuscode", 3));
      ids.add(id);
    }
    // modifiedon has whole seconds: the edit below is to fall in a later second than every order's submission, so
    // it moves the order behind the rows read. (An edit in the same second keeps the order where it was, before the
    // last row read; this run writes what it read, and the next takes the change: it reads from its watermark less
    // an overlap.)
    Thread.sleep(1100);
    // The order the task's first page of two starts with, in the task's order.
    JsonObject first = crmGet("salesorders?$select=salesorderid,ordernumber&$orderby="
        + enc("modifiedon asc,salesorderid asc") + "&$filter=" + enc("statecode eq 1")).getJsonArray("value")
        .getJsonObject(0);
    // The second read of the headers waits before the CRM answers it: meanwhile a person edits that order.
    post(CRM.get().baseUrl() + "/__admin/sim/faults", new JsonObject().put("pathPattern", "/salesorders$")
        .put("method", "GET").put("kind", "LATENCY").put("latencyMs", DELAY_MS).put("nth", 2).put("times", 1));
    var started = TANDEM.api("POST", "/api/v1/mappings/" + SalesOrderMappings.ORDERS + "/sync", new JsonObject());
    assertEquals(202, started.status(), started.body());
    long until = System.currentTimeMillis() + 60_000;
    while (fired() == 0) {
      assertTrue(System.currentTimeMillis() < until, "the second page was never asked for");
      Thread.sleep(10);
    }
    long t0 = System.nanoTime();
    String edited = first.getString("salesorderid");
    person("PATCH", "salesorders(" + edited + ")", new JsonObject().put("statecode", 0).put("statuscode", 1));
    person("PATCH", "salesorders(" + edited + ")", new JsonObject().put("name", "Edited while paged"));
    person("PATCH", "salesorders(" + edited + ")", new JsonObject().put("statecode", 1).put("statuscode", 3));
    long editMs = (System.nanoTime() - t0) / 1_000_000;
    // Otherwise the job may have read every page before the order was submitted again (it then takes the change
    // in its next run): the case under test is an edit between two page reads.
    assertTrue(editMs < DELAY_MS - 1000, "the edit took " + editMs + " ms, not within the delayed page read");
    JsonObject job = TANDEM.awaitJob(started.json().getLong("jobId"));
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    assertEquals(1, fired(), "the delayed read was one of the job's");

    List<Map<String, Object>> headers = erpRows("SalesOrder", "startswith(No,'PG-')");
    assertEquals(ORDERS, headers.size(), "every order once: " + headers);
    assertEquals(ORDERS, new HashSet<>(headers.stream().map(h -> h.get("No")).toList()).size(), "no duplicate");
    assertEquals(ORDERS, job.getJsonObject("counts").getLong("inserted"), job.encode());
    String editedNo = first.getString("ordernumber").toUpperCase(java.util.Locale.ROOT);
    assertEquals("EDITED WHILE PAGED", erpRows("SalesOrder", "No eq '" + editedNo + "'").get(0)
        .get("External_Document_No"), "the order changed meanwhile carries its change");
    assertEquals(ORDERS, erpRows("SalesOrderLine", "startswith(Document_No,'PG-')").size(), "one line each");
    assertEquals(ORDERS, TANDEM.api("GET", "/api/v1/couplings?mapping=" + SalesOrderMappings.ORDERS + "&limit=5000",
        null).json().getJsonArray("couplings").size());
    // The ERP numbers went back to every order, though the CRM answers those reads two rows a page.
    for (String id : ids) {
      JsonObject o = crmGet("salesorders(" + id + ")?$select=ordernumber,tandem_erpordernumber");
      assertEquals(o.getString("ordernumber").toUpperCase(java.util.Locale.ROOT), o.getString("tandem_erpordernumber"),
          o.encode());
    }
    JsonObject again = TANDEM.sync(SalesOrderMappings.ORDERS);
    assertEquals("SUCCEEDED", again.getString("status"), again.encode());
    assertEquals(0, again.getJsonObject("counts").getLong("inserted"), "nothing twice: " + again.encode());
    assertEquals(ORDERS, erpRows("SalesOrder", "startswith(No,'PG-')").size());
  }

  @Test
  @Order(2)
  void invoicesOfMoreOrdersThanAPageAreEachLinkedToTheirOrder() throws Exception {
    // Five of the orders posted: the invoice task reads their CRM orders by id, two rows a page.
    Map<String, String> orderOf = new java.util.HashMap<>();
    for (int i = 1; i <= 5; i++) {
      admin("release", "PG-" + i);
      admin("post", "PG-" + i);
      orderOf.put("PG-" + i, crmGet("salesorders?$select=salesorderid&$filter=" + enc("ordernumber eq 'PG-" + i + "'"))
          .getJsonArray("value").getJsonObject(0).getString("salesorderid"));
    }
    JsonObject job = TANDEM.sync(SalesOrderMappings.INVOICES);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    List<Map<String, Object>> posted = erpRows("SalesInvoice", "startswith(Order_No,'PG-')");
    assertEquals(5, posted.size(), posted.toString());
    for (Map<String, Object> inv : posted) {
      JsonArray crm = crmGet("invoices?$select=invoicenumber,_salesorderid_value&$filter="
          + enc("invoicenumber eq '" + inv.get("No") + "'")).getJsonArray("value");
      assertEquals(1, crm.size(), "one CRM invoice for " + inv.get("No") + ": " + crm.encode());
      assertEquals(orderOf.get(String.valueOf(inv.get("Order_No"))), crm.getJsonObject(0)
          .getString("_salesorderid_value"), "linked to its CRM order: " + crm.encode());
    }
  }

  // ---- setup and helpers ------------------------------------------------------------------------------------

  private static void prepare() throws Exception {
    // A CRM user with a license and a client of their own: the test writes as a person, not as Tandem.
    post(CRM.get().baseUrl() + "/__admin/sim/seed", new JsonObject().put("seed", 5)
        .put("counts", new JsonObject().put("systemusers", 2)));
    String user = Json.objects(Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().baseUrl()
        + "/__admin/sim/rows/systemusers")).build(), HttpResponse.BodyHandlers.ofString()).body()).get("rows"))
        .stream().filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).findFirst().orElseThrow()
        .get("systemuserid").toString();
    post(CRM.get().baseUrl() + "/__admin/sim/clients", new JsonObject().put("clientId", "person")
        .put("clientSecret", "pw-person").put("userId", user));
    person("PUT", "EntityDefinitions(LogicalName='salesorderdetail')", new JsonObject()
        .put("ChangeTrackingEnabled", true));
    assertEquals(201, erp("UnitOfMeasure", new JsonObject().put("Code", "PCS").put("Description", "Piece")));
    assertEquals(201, erp("Customer", new JsonObject().put("No", "C-PAGING").put("Name", "Paging customer")));
    assertEquals(201, erp("Item", new JsonObject().put("No", "WRITE-IN").put("Description", "Write-in")
        .put("Base_Unit_of_Measure", "PCS")));
  }

  /** @return how often the fault rule fired */
  private static long fired() throws Exception {
    JsonArray rules = new JsonObject(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().baseUrl()
        + "/__admin/sim/faults")).build(), HttpResponse.BodyHandlers.ofString()).body()).getJsonArray("faults");
    long n = 0;
    for (Object r : rules) {
      n += ((JsonObject) r).getLong("fired", 0L);
    }
    return n;
  }

  private static void couple(String mapping, String erpId, String crmId) throws Exception {
    var r = TANDEM.api("POST", "/api/v1/couplings", new JsonObject().put("mapping", mapping).put("erpId", erpId)
        .put("crmId", crmId));
    assertEquals(201, r.status(), mapping + " " + erpId + ": " + r.body());
  }

  private static int erp(String service, JsonObject body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().companyUrl() + "/" + service))
        .header("Authorization", erpAuth()).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private static List<Map<String, Object>> erpRows(String service, String filter) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().companyUrl() + "/" + service
        + "?$filter=" + enc(filter))).header("Authorization", erpAuth()).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return Json.objects(Json.object(r.body()).get("value"));
  }

  private static String erpAuth() {
    ErpSimulator.Options o = ERP.get().options();
    return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
        .getBytes(StandardCharsets.UTF_8));
  }

  private static String crmCreate(String entitySet, JsonObject body) throws Exception {
    HttpResponse<String> r = personSend("POST", entitySet, body);
    assertEquals(204, r.statusCode(), entitySet + ": " + r.body());
    String entity = r.headers().firstValue("OData-EntityId").orElseThrow();
    return entity.substring(entity.lastIndexOf('(') + 1, entity.length() - 1);
  }

  private static JsonObject crmGet(String query) throws Exception {
    HttpResponse<String> r = personSend("GET", query, null);
    assertEquals(200, r.statusCode(), query + ": " + r.body());
    return new JsonObject(r.body());
  }

  private static void person(String method, String path, JsonObject body) throws Exception {
    HttpResponse<String> r = personSend(method, path, body);
    assertEquals(2, r.statusCode() / 100, method + " " + path + ": " + r.body());
  }

  private static HttpResponse<String> personSend(String method, String path, JsonObject body) throws Exception {
    if (personToken == null) {
      personToken = token();
    }
    return HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/" + path))
        .header("Authorization", "Bearer " + personToken).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String token() throws Exception {
    return new JsonObject(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=person&client_secret=pw-person&scope="
                + enc(CRM.get().scope()))).build(), HttpResponse.BodyHandlers.ofString()).body())
        .getString("access_token");
  }

  private static void admin(String action, String no) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().baseUrl()
        + "/__admin/sim/sales-orders/" + action)).POST(HttpRequest.BodyPublishers.ofString(
            new JsonObject().put("no", no).encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(2, r.statusCode() / 100, action + " " + no + ": " + r.body());
  }

  private static void post(String url, JsonObject body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() / 100 == 2, url + ": " + r.body());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
