package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cost model and service protection as Dataverse charges them: latency and per-operation execution time,
 * $batch and *Multiple charging every operation, the remaining-budget headers, the execution-time limit and a
 * Retry-After that grows while a throttled client keeps sending, one budget per application user.
 */
class DataverseCostModelTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static HttpResponse<String> raw(String method, String url, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String token(String client, String secret) throws Exception {
    HttpResponse<String> r = raw("POST", crm.get().tokenUrl(), "grant_type=client_credentials&client_id=" + client
        + "&client_secret=" + secret + "&scope=" + java.net.URLEncoder.encode(crm.get().scope(), java.nio.charset.StandardCharsets.UTF_8),
        "Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, r.statusCode(), r.body());
    return (String) Json.object(r.body()).get("access_token");
  }

  static HttpResponse<String> api(String token, String method, String path, String body, String... headers)
      throws Exception {
    List<String> h = new ArrayList<>(List.of(headers));
    h.add("Authorization");
    h.add("Bearer " + token);
    if (body != null && !List.of(headers).contains("Content-Type")) {
      h.add("Content-Type");
      h.add("application/json");
    }
    return raw(method, crm.get().apiUrl() + "/" + path, body, h.toArray(new String[0]));
  }

  private static void admin(String path, String body) throws Exception {
    HttpResponse<String> r = raw("POST", crm.get().baseUrl() + "/__admin/sim/" + path, body);
    assertTrue(r.statusCode() / 100 == 2, r.body());
  }

  private static double timeLeft(HttpResponse<String> r) {
    return Double.parseDouble(r.headers().firstValue("x-ms-ratelimit-time-remaining-xrm-requests").orElseThrow());
  }

  private static long burstLeft(HttpResponse<String> r) {
    return Long.parseLong(r.headers().firstValue("x-ms-ratelimit-burst-remaining-xrm-requests").orElseThrow());
  }

  private static String code(HttpResponse<String> r) {
    return String.valueOf(((Map<?, ?>) Json.object(r.body()).get("error")).get("code"));
  }

  private static String batchOfCreates(int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append("--batch_c\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
          .append("POST /api/data/v9.2/accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n")
          .append("{\"name\":\"B").append(i).append("\"}\r\n");
    }
    return b.append("--batch_c--\r\n").toString();
  }

  private static String targets(int n) {
    StringBuilder b = new StringBuilder("{\"Targets\":[");
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",").append("{\"@odata.type\":\"Microsoft.Dynamics.CRM.account\",\"name\":\"M")
          .append(i).append("\"}");
    }
    return b.append("]}").toString();
  }

  @BeforeEach
  void reset() throws Exception {
    admin("reset", null);
    admin("limits", "{\"requests\":6000,\"executionMs\":1200000,\"concurrent\":52,\"windowMs\":300000,"
        + "\"dopHint\":52}");
  }

  @AfterEach
  void fast() throws Exception {
    admin("costs", "{\"profile\":\"fast\"}");
  }

  @Test
  void fastProfileIsTheDefaultAndStillSendsTheRemainingBudgets() throws Exception {
    Map<String, Object> costs = Json.object(raw("GET", crm.get().baseUrl() + "/__admin/sim/costs", null).body());
    assertEquals("fast", costs.get("profile"));
    String t = token("tandem-sync", "tandem-secret");
    HttpResponse<String> first = api(t, "GET", "accounts", null);
    HttpResponse<String> second = api(t, "GET", "accounts", null);
    assertEquals(5999, burstLeft(first));
    assertEquals(5998, burstLeft(second));
    assertTrue(timeLeft(second) <= 1_200_000 && timeLeft(second) > 1_100_000, String.valueOf(timeLeft(second)));
  }

  /**
   * learn.microsoft.com "Send parallel requests" (real-endpoints.md C16, [DV-PAR]): "use the integer value returned
   * from the x-ms-dop-hint response header. This value provides a recommended degree of parallelism for the
   * environment." Every answer carries it; the environment (here the admin route) decides its value.
   */
  @Test
  void everyAnswerCarriesTheRecommendedDegreeOfParallelism() throws Exception {
    String t = token("tandem-sync", "tandem-secret");
    HttpResponse<String> r = api(t, "GET", "accounts", null);
    assertEquals("52", r.headers().firstValue("x-ms-dop-hint").orElseThrow(), "the default is the concurrency limit");
    admin("limits", "{\"dopHint\":4}");
    HttpResponse<String> lowered = api(t, "GET", "accounts?$top=1", null);
    assertEquals(200, lowered.statusCode(), lowered.body());
    assertEquals("4", lowered.headers().firstValue("x-ms-dop-hint").orElseThrow());
    HttpResponse<String> batch = api(t, "POST", "$batch", batchOfCreates(2), "Content-Type",
        "multipart/mixed; boundary=batch_c");
    assertEquals("4", batch.headers().firstValue("x-ms-dop-hint").orElseThrow(), "a $batch answer carries it too");
  }

  @Test
  void realisticProfileDelaysTheAnswerByLatencyPlusExecutionAndChargesTheExecution() throws Exception {
    admin("costs", "{\"profile\":\"realistic\",\"timeScale\":0.1}");
    String t = token("tandem-sync", "tandem-secret");
    // 100 creates in one $batch: one request (5 ms) + per part pipeline (5 ms) and create (20 ms) = 2505 ms,
    // a tenth of it on this scale; the budget is 1,200,000 ms scaled alike.
    long t0 = System.nanoTime();
    HttpResponse<String> batch = api(t, "POST", "$batch", batchOfCreates(100), "Content-Type",
        "multipart/mixed; boundary=batch_c");
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(200, batch.statusCode(), batch.body());
    assertEquals(120_000 - 250.5, timeLeft(batch), 0.001);
    assertEquals(5999, burstLeft(batch), "a $batch is one request");
    assertTrue(took >= 255, "latency 5 ms + execution 250.5 ms, took " + took);

    // CreateMultiple of 100: bulk rate (half the per-operation cost): 5 + 100 * 10 = 1005 ms -> 100.5
    HttpResponse<String> multiple = api(t, "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", targets(100));
    assertEquals(200, multiple.statusCode(), multiple.body());
    assertEquals(120_000 - 250.5 - 100.5, timeLeft(multiple), 0.001);

    // return=representation adds a retrieve: 5 + 20 + 5 = 30 -> 3.0
    HttpResponse<String> rep = api(t, "POST", "accounts", "{\"name\":\"R\"}", "Prefer", "return=representation");
    assertEquals(201, rep.statusCode(), rep.body());
    assertEquals(120_000 - 250.5 - 100.5 - 3.0, timeLeft(rep), 0.001);

    // upsert (PATCH) costs more than an update (PATCH with If-Match: *): 5 + 30 vs 5 + 20
    String id = rep.headers().firstValue("OData-EntityId").orElseThrow().replaceAll(".*\\((.*)\\)", "$1");
    HttpResponse<String> upsert = api(t, "PATCH", "accounts(" + id + ")", "{\"name\":\"U\"}");
    assertEquals(120_000 - 354.0 - 3.5, timeLeft(upsert), 0.001);
    HttpResponse<String> update = api(t, "PATCH", "accounts(" + id + ")", "{\"name\":\"V\"}", "If-Match", "*");
    assertEquals(120_000 - 357.5 - 2.5, timeLeft(update), 0.001);

    // a page read charges per row: 5 + 201 rows * 0.2 = 45.2 -> 4.52
    HttpResponse<String> page = api(t, "GET", "accounts?$select=name", null);
    assertEquals(201, ((List<?>) Json.object(page.body()).get("value")).size());
    assertEquals(120_000 - 360.0 - 4.52, timeLeft(page), 0.001);
  }

  @Test
  void executionTimeLimitThrottlesAndRetryAfterGrowsWhileTheClientKeepsSending() throws Exception {
    admin("costs", "{\"profile\":\"realistic\",\"timeScale\":0.1}");
    // Budget 2000 ms per 20 s, i.e. 200 ms per 2 s on this scale; one batch of 100 creates uses 250.5 ms.
    admin("limits", "{\"executionMs\":2000,\"windowMs\":20000}");
    String t = token("tandem-sync", "tandem-secret");
    String batch = batchOfCreates(100);
    assertEquals(200, api(t, "POST", "$batch", batch, "Content-Type", "multipart/mixed; boundary=batch_c")
        .statusCode());
    HttpResponse<String> refused = api(t, "GET", "accounts?$top=1", null);
    assertEquals(429, refused.statusCode());
    assertEquals("0x80072321", code(refused));
    assertTrue(refused.body().contains("Combined execution time of incoming requests exceeded limit of 2000"),
        refused.body());
    int first = Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow());
    assertEquals(2, first, "until the batch leaves the 2 s window");

    // The client keeps sending without waiting: refused again, and told to wait longer (doubling, at most
    // twice the window).
    HttpResponse<String> again = api(t, "GET", "accounts?$top=1", null);
    assertEquals(429, again.statusCode());
    assertEquals("0x80072321", code(again));
    int last = Integer.parseInt(again.headers().firstValue("Retry-After").orElseThrow());
    assertEquals(4, last, "Retry-After grows from " + first);
    assertEquals("4", api(t, "GET", "accounts?$top=1", null).headers().firstValue("Retry-After").orElseThrow());
    // The admin API lists the refusals with the window they met: the first ran into the limit, the rest came in
    // during the penalty it set.
    HttpResponse<String> log = raw("GET", crm.get().baseUrl() + "/__admin/sim/throttling", null);
    List<?> refusals = (List<?>) Json.object(log.body()).get("refusals");
    assertEquals(3, refusals.size(), log.body());
    Map<?, ?> firstRefusal = (Map<?, ?>) refusals.get(0);
    assertEquals("execution time", firstRefusal.get("why"));
    assertEquals("0x80072321", firstRefusal.get("code"));
    assertEquals("GET /api/data/v9.2/accounts", firstRefusal.get("request"));
    assertTrue(((Number) firstRefusal.get("executionInWindowMs")).longValue() >= 200, log.body());
    assertEquals("sent during the penalty", ((Map<?, ?>) refusals.get(2)).get("why"));
    // The usage since the reset: the user's admitted and refused requests and the execution charged.
    HttpResponse<String> usage = raw("GET", crm.get().baseUrl() + "/__admin/sim/usage", null);
    Map<?, ?> users = (Map<?, ?>) Json.object(usage.body()).get("users");
    assertEquals(1, users.size(), usage.body());
    Map<?, ?> used = (Map<?, ?>) users.values().iterator().next();
    assertEquals(3, ((Number) used.get("throttled")).intValue(), usage.body());
    assertTrue(((Number) used.get("requests")).intValue() >= 1, usage.body());
    assertTrue(((Number) used.get("executionMs")).doubleValue() >= 250, "the batch's 250.5 ms: " + usage.body());
    // Another application user has a budget of its own.
    crm.get().addApplicationUser("second-app", "second-secret");
    assertEquals(200, api(token("second-app", "second-secret"), "GET", "accounts?$top=1", null).statusCode());

    // Waiting as told gets through.
    Thread.sleep(last * 1000L + 100);
    HttpResponse<String> ok = api(t, "GET", "accounts?$top=1", null);
    assertEquals(200, ok.statusCode(), ok.body());
  }

  @Test
  void requestCountRetryAfterGrowsToo() throws Exception {
    admin("limits", "{\"requests\":3,\"windowMs\":2000}");
    String t = token("tandem-sync", "tandem-secret");
    for (int i = 0; i < 3; i++) {
      assertEquals(200, api(t, "GET", "accounts", null).statusCode());
    }
    HttpResponse<String> r = api(t, "GET", "accounts", null);
    assertEquals("0x80072322", code(r));
    int first = Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow());
    HttpResponse<String> again = api(t, "GET", "accounts", null);
    assertEquals("0x80072322", code(again));
    assertTrue(Integer.parseInt(again.headers().firstValue("Retry-After").orElseThrow()) >= first);
  }

  @Test
  void timeScaleShrinksTheWindow() throws Exception {
    // realistic on a scale of 0.01: the 300 s window lasts 3 s, so 3 requests per window run out and come back.
    admin("costs", "{\"profile\":\"realistic\",\"timeScale\":0.01}");
    admin("limits", "{\"requests\":3}");
    String t = token("tandem-sync", "tandem-secret");
    for (int i = 0; i < 3; i++) {
      assertEquals(200, api(t, "GET", "accounts", null).statusCode());
    }
    HttpResponse<String> refused = api(t, "GET", "accounts", null);
    assertEquals(429, refused.statusCode());
    int retry = Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retry >= 1 && retry <= 3, "at most the scaled window: " + retry);
    Thread.sleep(retry * 1000L + 100);
    assertEquals(200, api(t, "GET", "accounts", null).statusCode());
  }

  @Test
  void badCostSettingsAre400() throws Exception {
    HttpResponse<String> r = raw("POST", crm.get().baseUrl() + "/__admin/sim/costs", "{\"timeScale\":-1}");
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("timeScale"), r.body());
  }
}
