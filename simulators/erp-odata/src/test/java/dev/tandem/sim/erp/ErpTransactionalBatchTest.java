package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Transactional JSON {@code $batch} ({@code Isolation: snapshot}), Business Central 17.1 and later: "if an inner
 * request fails after another request(s) has committed changes, all changes within a batch will be reverted as if
 * the batch request never happened" (learn.microsoft.com/dynamics365/business-central/dev-itpro/webservices/
 * use-odata-batch). A sales order header and its lines written together either all exist or none does.
 */
class ErpTransactionalBatchTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

  private static HttpResponse<String> call(String method, String url, String body, String... headers)
      throws Exception {
    ErpSimulator.Options o = erp.get().options();
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(body))
        .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString((o.user() + ":"
            + o.accessKey()).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String company() {
    return "Company('" + erp.get().options().company().replace("'", "''").replace(" ", "%20") + "')";
  }

  private static String orderWithLines(String no, String secondItem) {
    String c = company();
    String customer = first("Customer", "No");
    String item = first("Item", "No");
    return "{\"requests\":["
        + "{\"id\":\"h\",\"method\":\"POST\",\"url\":\"" + c + "/SalesOrder\",\"headers\":{\"Content-Type\":\"application/json\"},"
        + "\"body\":{\"Document_Type\":\"Order\",\"No\":\"" + no + "\",\"Sell_to_Customer_No\":\"" + customer + "\"}},"
        + "{\"id\":\"l1\",\"method\":\"POST\",\"url\":\"" + c + "/SalesOrderLine\",\"headers\":{\"Content-Type\":\"application/json\"},"
        + "\"body\":{\"Document_Type\":\"Order\",\"Document_No\":\"" + no + "\",\"Line_No\":10000,\"Type\":\"Item\",\"No\":\""
        + item + "\",\"Quantity\":2}},"
        + "{\"id\":\"l2\",\"method\":\"POST\",\"url\":\"" + c + "/SalesOrderLine\",\"headers\":{\"Content-Type\":\"application/json\"},"
        + "\"body\":{\"Document_Type\":\"Order\",\"Document_No\":\"" + no + "\",\"Line_No\":20000,\"Type\":\"Item\",\"No\":\""
        + (secondItem == null ? item : secondItem) + "\",\"Quantity\":1}}]}";
  }

  private static String first(String service, String field) {
    try {
      HttpResponse<String> r = call("GET", erp.get().companyUrl() + "/" + service + "?$top=1", null);
      return (String) Json.objects(Json.object(r.body()).get("value")).get(0).get(field);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void seed() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/seed",
        "{\"seed\":1,\"counts\":{\"Customer\":2,\"Item\":2}}");
  }

  private static int count(String service, String filter) throws Exception {
    HttpResponse<String> r = call("GET", erp.get().companyUrl() + "/" + service + "?$filter="
        + java.net.URLEncoder.encode(filter, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"), null);
    assertEquals(200, r.statusCode(), r.body());
    return Json.objects(Json.object(r.body()).get("value")).size();
  }

  @Test
  void aFailingLineUndoesTheHeaderAndTheLinesBeforeIt() throws Exception {
    seed();
    HttpResponse<String> r = call("POST", erp.get().serviceRoot() + "/$batch",
        orderWithLines("T-1", "NO-SUCH-ITEM"), "Isolation", "snapshot");
    assertEquals(200, r.statusCode(), r.body());
    List<Map<String, Object>> responses = Json.objects(Json.object(r.body()).get("responses"));
    assertEquals(3, responses.size(), r.body());
    assertEquals(400, responses.get(2).get("status"), "the line of an unknown item fails: " + r.body());
    assertEquals(0, count("SalesOrder", "No eq 'T-1'"), "the header is reverted");
    assertEquals(0, count("SalesOrderLine", "Document_No eq 'T-1'"), "the first line is reverted");
  }

  @Test
  void theFirstFailureStopsTheBatch() throws Exception {
    seed();
    String c = company();
    String batch = "{\"requests\":["
        + "{\"id\":\"1\",\"method\":\"POST\",\"url\":\"" + c + "/SalesOrderLine\",\"body\":{\"Document_Type\":\"Order\","
        + "\"Document_No\":\"T-2\",\"Line_No\":10000,\"Type\":\"Item\",\"No\":\"NO-SUCH-ITEM\",\"Quantity\":1}},"
        + "{\"id\":\"2\",\"method\":\"POST\",\"url\":\"" + c + "/Customer\",\"body\":{\"Name\":\"never\"}}]}";
    HttpResponse<String> r = call("POST", erp.get().serviceRoot() + "/$batch", batch,
        "Isolation", "snapshot");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(1, Json.objects(Json.object(r.body()).get("responses")).size(), r.body());
    assertEquals(0, count("Customer", "Name eq 'never'"));
  }

  @Test
  void aGoodChangeSetWritesEverything() throws Exception {
    seed();
    HttpResponse<String> r = call("POST", erp.get().serviceRoot() + "/$batch",
        orderWithLines("T-3", null), "Isolation", "snapshot");
    List<Map<String, Object>> responses = Json.objects(Json.object(r.body()).get("responses"));
    assertEquals(List.of(201, 201, 201), responses.stream().map(x -> x.get("status")).toList(), r.body());
    assertEquals(1, count("SalesOrder", "No eq 'T-3'"));
    assertEquals(2, count("SalesOrderLine", "Document_No eq 'T-3'"));
  }

  @Test
  void withoutIsolationEachRequestStandsAlone() throws Exception {
    seed();
    HttpResponse<String> r = call("POST", erp.get().serviceRoot() + "/$batch",
        orderWithLines("T-4", "NO-SUCH-ITEM"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(1, count("SalesOrder", "No eq 'T-4'"), "the header stays");
    assertEquals(1, count("SalesOrderLine", "Document_No eq 'T-4'"), "the good line stays");
  }
}
