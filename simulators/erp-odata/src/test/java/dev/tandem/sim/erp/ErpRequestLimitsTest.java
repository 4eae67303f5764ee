package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** BC online's request limits and the cost model: window, processing slots, queue, timeouts, FlowField cost. */
class ErpRequestLimitsTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final HttpClient HTTP = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(16)).build();

  private static HttpResponse<String> call(String method, String url, String body) throws Exception {
    ErpSimulator.Options o = erp.get().options();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
            (o.user() + ":" + o.accessKey()).getBytes(StandardCharsets.UTF_8)));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Map<String, Object> costs(String body) throws Exception {
    return Json.object(call("POST", erp.get().baseUrl() + "/__admin/sim/costs", body).body());
  }

  @BeforeEach
  void reset() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/reset", null);
    costs("{\"profile\":\"fast\"}");
  }

  @AfterEach
  void fast() throws Exception {
    costs("{\"profile\":\"fast\"}");
  }

  @Test
  void theRealisticProfileChargesLatencyAndServerTimeAndFlowFieldsCostMore() throws Exception {
    call("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":1,\"counts\":{\"Customer\":2000}}");
    // 1 model ms = 1 ms: latency 0, 1 ms per row, 10 ms per FlowField per row.
    costs("{\"profile\":\"realistic\",\"timeScale\":1,\"latencyMs\":0,\"requestMs\":0,\"readRowMs\":0.1,"
        + "\"flowFieldMs\":1}");
    String customers = erp.get().companyUrl() + "/Customer?$top=500";
    long t0 = System.nanoTime();
    assertEquals(200, call("GET", customers + "&$select=No,Name", null).statusCode());
    long plain = (System.nanoTime() - t0) / 1_000_000;
    t0 = System.nanoTime();
    assertEquals(200, call("GET", customers, null).statusCode());
    long withFlowFields = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(plain >= 45, "500 rows at 0.1 ms: " + plain + " ms");
    assertTrue(withFlowFields >= 500, "plus Balance_LCY at 1 ms a row: " + withFlowFields + " ms");
    assertEquals("realistic", costs("{}").get("profile"));
  }

  @Test
  void fiveRequestsAreProcessedAtOnceAndTheRestQueue() throws Exception {
    costs("{\"profile\":\"realistic\",\"timeScale\":1,\"latencyMs\":0,\"requestMs\":200,\"readRowMs\":0,"
        + "\"flowFieldMs\":0}");
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      long t0 = System.nanoTime();
      List<Future<Integer>> all = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        all.add(pool.submit(() -> call("GET", erp.get().companyUrl() + "/Currency", null).statusCode()));
      }
      for (Future<Integer> f : all) {
        assertEquals(200, f.get());
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= 390, "10 requests of 200 ms on 5 slots take two rounds: " + ms + " ms");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void moreThan6000RequestsInTheWindowAre429() throws Exception {
    // Within one 5-minute window: 6000 requests pass, the rest are 429 until the window slides.
    costs("{\"profile\":\"realistic\",\"timeScale\":1,\"latencyMs\":0,\"requestMs\":0,\"readRowMs\":0,"
        + "\"flowFieldMs\":0}");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> all = new ArrayList<>();
      for (int i = 0; i < 6100; i++) {
        all.add(pool.submit(() -> call("GET", erp.get().companyUrl() + "/Currency?$top=1", null).statusCode()));
      }
      int ok = 0;
      int throttled = 0;
      for (Future<Integer> f : all) {
        int s = f.get();
        ok += s == 200 ? 1 : 0;
        throttled += s == 429 ? 1 : 0;
      }
      assertEquals(6000, ok);
      assertEquals(100, throttled);
      assertEquals(100, ((Number) costs("{}").get("throttled")).intValue());
      HttpResponse<String> r = call("GET", erp.get().companyUrl() + "/Currency?$top=1", null);
      assertEquals(429, r.statusCode());
      assertTrue(r.body().contains("Application_TooManyRequests"), r.body());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void anOperationOver8MinutesIs408AndARequestOver10Is504() throws Exception {
    // Time scale 0.0001: 8 minutes are 48 ms. An insert that costs 9 minutes is cancelled before it writes.
    costs("{\"profile\":\"realistic\",\"timeScale\":0.0001,\"latencyMs\":0,\"requestMs\":0,\"insertMs\":540000}");
    HttpResponse<String> slow = call("POST", erp.get().companyUrl() + "/Customer", "{\"Name\":\"Slow\"}");
    assertEquals(408, slow.statusCode(), slow.body());
    assertEquals(0, erp.get().store().table("Customer").size(), "cancelled, nothing written");
    // Inserts of 3 minutes each: a batch of four runs 12 minutes and the gateway answers 504, the work done.
    costs("{\"insertMs\":180000}");
    String company = "Company('" + erp.get().options().company().replace(" ", "%20") + "')";
    StringBuilder batch = new StringBuilder("{\"requests\":[");
    for (int i = 0; i < 4; i++) {
      batch.append(i == 0 ? "" : ",").append("{\"id\":\"").append(i).append("\",\"method\":\"POST\",\"url\":\"")
          .append(company).append("/Customer\",\"headers\":{\"Content-Type\":\"application/json\"},\"body\":")
          .append("{\"Name\":\"B").append(i).append("\"}}");
    }
    HttpResponse<String> timedOut = call("POST", erp.get().serviceRoot() + "/$batch", batch.append("]}").toString());
    assertEquals(504, timedOut.statusCode(), timedOut.body());
    assertEquals(4, erp.get().store().table("Customer").size(), "a gateway timeout does not undo the work");
  }
}
