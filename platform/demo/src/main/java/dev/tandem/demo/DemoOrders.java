package dev.tandem.demo;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * After the demo's full synchronization: a salesperson's part of lead-to-cash, through the CRM's Web API as a person
 * does it — a few orders of synchronized accounts and products, created and submitted — then the ERP user's part,
 * through the ERP simulator's admin API (posting is not a web-service call in BC): some of the orders, once Tandem
 * made them ERP orders, are shipped and invoiced, so their status, invoices and the customers' balances show in the
 * CRM.
 */
final class DemoOrders {

  static final int ORDERS = 3;
  static final int POSTED = 2;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final String token;
  private final Map<String, String> env;
  private final String clientId;
  private final String clientSecret;
  private final PrintStream out;

  DemoOrders(String base, String token, Map<String, String> env, String clientId, String clientSecret,
      PrintStream out) {
    this.base = base;
    this.token = token;
    this.env = env;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.out = out;
  }

  private HttpResponse<String> send(String method, String url, String bearer, JsonObject body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(2))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject api(String path) throws Exception {
    HttpResponse<String> r = send("GET", base + path, token, null);
    if (r.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    return new JsonObject(r.body());
  }

  /**
   * Waits for the full synchronization, creates and submits the orders, waits until they are ERP orders and posts
   * some of them.
   *
   * @throws Exception when a step fails (its message says which)
   */
  void run() throws Exception {
    if (!api("/api/v1/mappings").getJsonArray("mappings").stream()
        .anyMatch(m -> "SALESORDER-ORDER".equals(((JsonObject) m).getString("name")))) {
      return;                                     // the sales-orders plugin is not installed
    }
    if (!awaitFullSync()) {
      out.println("tandem demo: the full synchronization did not finish; no demo orders");
      return;
    }
    JsonArray customers = api("/api/v1/couplings?mapping=CUSTOMER&limit=" + ORDERS).getJsonArray("couplings");
    JsonArray products = api("/api/v1/couplings?mapping=ITEM-PRODUCT&limit=" + (ORDERS + 1))
        .getJsonArray("couplings");
    if (customers.isEmpty() || products.size() < 2) {
      out.println("tandem demo: no coupled customers or products; no demo orders");
      return;
    }
    String crmApi = env.get("TANDEM_CRM_URL");
    String crmBase = crmApi.substring(0, crmApi.indexOf("/api/data"));
    String crm = crmToken(crmBase);
    List<String> numbers = new ArrayList<>();
    for (int i = 0; i < Math.min(ORDERS, customers.size()); i++) {
      String account = customers.getJsonObject(i).getString("crmId");
      String id = create(crmApi, crm, "salesorders", new JsonObject().put("name", "Demo order " + (i + 1))
          .put("customerid_account@odata.bind", "/accounts(" + account + ")")
          .put("requestdeliveryby", LocalDate.now().plusDays(7 + i) + "T00:00:00Z"));
      for (int l = 0; l < 2; l++) {
        String product = products.getJsonObject((i + l) % products.size()).getString("crmId");
        JsonObject p = new JsonObject(send("GET", crmApi + "/products(" + product + ")?$select=_defaultuomid_value",
            crm, null).body());
        create(crmApi, crm, "salesorderdetails", new JsonObject().put("lineitemnumber", l + 1)
            .put("salesorderid@odata.bind", "/salesorders(" + id + ")")
            .put("productid@odata.bind", "/products(" + product + ")")
            .put("uomid@odata.bind", "/uoms(" + p.getString("_defaultuomid_value") + ")")
            .put("quantity", 1 + l + i).put("ispriceoverridden", true).put("priceperunit", 25.0 + 10 * l));
      }
      HttpResponse<String> submitted = send("PATCH", crmApi + "/salesorders(" + id + ")", crm,
          new JsonObject().put("statecode", 1).put("statuscode", 3));
      if (submitted.statusCode() != 204) {
        throw new IllegalStateException("submitting the demo order: " + submitted.body());
      }
      numbers.add(new JsonObject(send("GET", crmApi + "/salesorders(" + id + ")?$select=ordernumber", crm, null)
          .body()).getString("ordernumber"));
    }
    out.println("tandem demo: " + numbers.size() + " CRM orders submitted: " + numbers);
    String erpUrl = env.get("TANDEM_ERP_URL");
    String erpBase = erpUrl.substring(0, erpUrl.indexOf('/', erpUrl.indexOf("//") + 2));
    int posted = 0;
    for (String number : numbers.subList(0, Math.min(POSTED, numbers.size()))) {
      if (awaitCoupled(number)) {
        HttpResponse<String> r = send("POST", erpBase + "/__admin/sim/sales-orders/post", null,
            new JsonObject().put("no", number.toUpperCase(java.util.Locale.ROOT)));
        if (r.statusCode() / 100 == 2) {
          posted++;
        } else {
          out.println("tandem demo: posting ERP order " + number + " failed: " + r.body());
        }
      }
    }
    out.println("tandem demo: " + posted + " of them shipped and invoiced in the ERP: their status, invoices and the"
        + " customers' balances reach the CRM within a minute");
  }

  private boolean awaitFullSync() throws Exception {
    for (int i = 0; i < 360; i++) {
      JsonObject run = api("/api/v1/full-sync").getJsonObject("run");
      if (run != null && !"RUNNING".equals(run.getString("status"))) {
        return true;
      }
      Thread.sleep(5_000);
    }
    return false;
  }

  /** Whether Tandem made the CRM order an ERP order (its coupling, keyed like the ERP's URL segment). */
  private boolean awaitCoupled(String number) throws Exception {
    String erpId = "Document_Type='Order',No='" + number.toUpperCase(java.util.Locale.ROOT).replace("'", "''") + "'";
    for (int i = 0; i < 60; i++) {
      if (!api("/api/v1/couplings?mapping=SALESORDER-ORDER&erpId=" + URLEncoder.encode(erpId, StandardCharsets.UTF_8))
          .getJsonArray("couplings").isEmpty()) {
        return true;
      }
      Thread.sleep(2_000);
    }
    out.println("tandem demo: order " + number + " did not reach the ERP within two minutes (GET /api/v1/errors)");
    return false;
  }

  private String crmToken(String crmBase) throws Exception {
    String form = "grant_type=client_credentials&client_id=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8)
        + "&client_secret=" + URLEncoder.encode(clientSecret, StandardCharsets.UTF_8) + "&scope="
        + URLEncoder.encode(crmBase + "/.default", StandardCharsets.UTF_8);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(env.get("TANDEM_CRM_TOKEN_URL")))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
        .build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("the CRM token for the demo orders: " + r.body());
    }
    return new JsonObject(r.body()).getString("access_token");
  }

  private String create(String crmApi, String bearer, String set, JsonObject body) throws Exception {
    HttpResponse<String> r = send("POST", crmApi + "/" + set, bearer, body);
    if (r.statusCode() != 204) {
      throw new IllegalStateException("creating a demo row in " + set + ": " + r.statusCode() + " " + r.body());
    }
    String entity = r.headers().firstValue("OData-EntityId").orElseThrow();
    return entity.substring(entity.lastIndexOf('(') + 1, entity.length() - 1);
  }
}
