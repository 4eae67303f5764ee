package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.store.NewJob;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminApiIT {

  @TempDir
  static Path plugins;

  private static TestDatabase db;
  private static TandemRuntime rt;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.fresh();
    rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins));
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(rt);
    db.close();
  }

  private static HttpResponse<String> call(String method, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    JsonObject error = new JsonObject(r.body()).getJsonObject("error");
    assertEquals(code, error.getString("code"), r.body());
    assertTrue(error.getString("message").length() > 5, r.body());
  }

  @Test
  void apiNeedsTheBearerToken() throws Exception {
    HttpResponse<String> none = call("GET", "/api/v1/plugins", null);
    assertError(none, 401, "unauthorized");
    assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
    assertError(call("GET", "/api/v1/jobs", "Bearer wrong-token-0123456789"), 401, "unauthorized");
    assertError(call("GET", "/api/v1/jobs", "Basic " + TestRuntimes.TOKEN), 401, "unauthorized");
    assertError(call("GET", "/api/v1/nothing-here", null), 401, "unauthorized");
    HttpResponse<String> ok = call("GET", "/api/v1/plugins", "Bearer " + TestRuntimes.TOKEN);
    assertEquals(200, ok.statusCode());
    assertEquals(0, new JsonObject(ok.body()).getJsonArray("plugins").size());
  }

  @Test
  void unknownPathsAnd404sShareTheErrorShape() throws Exception {
    assertError(call("GET", "/nope", null), 404, "not_found");
    assertError(call("GET", "/api/v1/nothing-here", "Bearer " + TestRuntimes.TOKEN), 404, "not_found");
    assertError(call("GET", "/api/v1/jobs/987654", "Bearer " + TestRuntimes.TOKEN), 404, "not_found");
    assertError(call("GET", "/api/v1/jobs/abc", "Bearer " + TestRuntimes.TOKEN), 400, "bad_request");
    assertError(call("GET", "/api/v1/jobs?status=sleeping", "Bearer " + TestRuntimes.TOKEN), 400, "bad_request");
    assertError(call("POST", "/api/v1/schedules/NONE/wake", "Bearer " + TestRuntimes.TOKEN), 404, "not_found");
    assertError(call("POST", "/api/v1/jobs/987654/cancel", "Bearer " + TestRuntimes.TOKEN), 404, "not_found");
  }

  @Test
  void healthIsOpenAndReportsPostgres() throws Exception {
    HttpResponse<String> live = call("GET", "/health/live", null);
    assertEquals(200, live.statusCode());
    HttpResponse<String> ready = call("GET", "/health/ready", null);
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("UP", new JsonObject(ready.body()).getJsonObject("checks").getJsonObject("postgresql")
        .getString("status"));
  }

  @Test
  void jobsAreListedNewestFirstWithFiltersAndPaging() throws Exception {
    for (int i = 0; i < 3; i++) {
      rt.queue().enqueue(NewJob.of(JobKind.COUPLE, "LISTED"), 1).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    }
    TestRuntimes.await("jobs failed (no plugin serves LISTED)", 10_000,
        () -> db.queryLong("SELECT count(*) FROM job WHERE mapping = 'LISTED' AND status = 'failed'") == 3);
    HttpResponse<String> page = call("GET", "/api/v1/jobs?mapping=LISTED&limit=2", "Bearer " + TestRuntimes.TOKEN);
    JsonObject body = new JsonObject(page.body());
    assertEquals(2, body.getJsonArray("jobs").size());
    long first = body.getJsonArray("jobs").getJsonObject(0).getLong("id");
    long second = body.getJsonArray("jobs").getJsonObject(1).getLong("id");
    assertTrue(first > second);
    JsonObject job = body.getJsonArray("jobs").getJsonObject(0);
    assertEquals("FAILED", job.getString("status"));
    assertEquals("COUPLE", job.getString("kind"));
    assertEquals(0, job.getJsonObject("counts").getInteger("coupled"));
    assertTrue(job.getString("message").contains("no installed plugin provides mapping LISTED"));
    HttpResponse<String> next = call("GET", body.getString("next"), "Bearer " + TestRuntimes.TOKEN);
    assertEquals(1, new JsonObject(next.body()).getJsonArray("jobs").size());
    assertError(call("POST", "/api/v1/jobs/" + first + "/cancel", "Bearer " + TestRuntimes.TOKEN), 409, "conflict");
    HttpResponse<String> filtered = call("GET", "/api/v1/jobs?status=succeeded&mapping=LISTED",
        "Bearer " + TestRuntimes.TOKEN);
    assertEquals(0, new JsonObject(filtered.body()).getJsonArray("jobs").size());
  }

  @Test
  void metricsExposeJvmVertxPoolAndJobMeters() throws Exception {
    call("GET", "/health/ready", null);
    HttpResponse<String> m = call("GET", "/metrics", null);
    assertEquals(200, m.statusCode());
    String text = m.body();
    for (String name : new String[] {"jvm_memory_used_bytes", "vertx_http_server_requests_total",
        "vertx_pool_", "tandem_jobs_queued", "tandem_jobs_running", "tandem_jobs_claimed_total"}) {
      assertTrue(text.contains(name), "metrics contain " + name);
    }
  }
}
