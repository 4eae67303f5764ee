package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Over HTTP on two nodes sharing one database, against the simulators: a mapping's records side by side, paged by
 * key on each side with their coupling state (coupled, uncoupled on either side, with an error) and refused
 * parameters; and an operator's pause of a schedule, which no node's tick runs until it is woken on the other node.
 */
class RecordsAndSchedulesApiIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int CUSTOMERS = 12;
  private static TestDatabase db;
  private static TandemRuntime a;
  private static TandemRuntime b;
  private static Path work;

  @BeforeAll
  static void start() throws Exception {
    sim(erp.get().baseUrl(), "seed", "{\"seed\":3,\"counts\":{\"Customer\":" + CUSTOMERS + "}}");
    work = Files.createTempDirectory("tandem-records-test");
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "accounts", null, Map.of("test.records.Accounts",
        PluginJars.accountsToCrm("test.records")), work);
    db = TestDatabase.fresh();
    TandemConfig cfg = TestRuntimes.config(db.settings(), plugins)
        .withConnections(TestRuntimes.connections(erp.get(), crm.get()))
        .withSchedules(new ScheduleSettings(true, 200, 0, 30_000));
    a = TestRuntimes.start(cfg.withNodeId("records-a"));
    b = TestRuntimes.start(cfg.withNodeId("records-b"));
    TestRuntimes.await("every customer coupled", 60_000, () -> db.queryLong(
        "SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS' AND crm_id IS NOT NULL") == CUSTOMERS);
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(a);
    TestRuntimes.stop(b);
    if (db != null) {
      db.close();
    }
    if (work != null) {
      try (var files = Files.walk(work)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(java.io.File::delete);
      }
    }
  }

  private static void sim(String base, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/__admin/sim/" + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() / 100 == 2, path + ": " + r.body());
  }

  private static JsonObject api(TandemRuntime rt, String method, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    JsonObject out = r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body());
    return out.put("_status", r.statusCode());
  }

  private static void badRequest(String path, String names) throws Exception {
    JsonObject r = api(a, "GET", path, null);
    assertEquals(400, r.getInteger("_status"), path + ": " + r.encode());
    assertEquals("bad_request", r.getJsonObject("error").getString("code"));
    assertTrue(r.getJsonObject("error").getString("message").contains(names), r.encode());
  }

  @Test
  void bothSidesArePagedByKeyWithTheirCouplingState() throws Exception {
    // One coupling removed (an ERP-only and a CRM-only record), one with its last error.
    JsonArray all = api(a, "GET", "/api/v1/couplings?mapping=ACCOUNTS&limit=100", null).getJsonArray("couplings");
    JsonObject gone = all.getJsonObject(3);
    JsonObject failing = all.getJsonObject(5);
    assertEquals(204, api(a, "DELETE", "/api/v1/couplings/" + gone.getLong("id"), null).getInteger("_status"));
    db.exec("UPDATE coupling SET last_error = '[WRITE] name is too long' WHERE id = " + failing.getLong("id"));

    // The ERP side, 5 at a time, in key order, to the end.
    List<String> keys = new ArrayList<>();
    String next = "/api/v1/mappings/ACCOUNTS/records?side=erp&limit=5";
    int pages = 0;
    JsonObject uncoupled = null;
    JsonObject error = null;
    while (next != null) {
      JsonObject page = api(b, "GET", next, null);
      assertEquals(200, page.getInteger("_status"), page.encode());
      assertEquals("ERP", page.getString("side"));
      assertTrue(page.getJsonArray("fields").contains("Name"), page.encode());
      for (Object o : page.getJsonArray("records")) {
        JsonObject r = (JsonObject) o;
        keys.add(r.getString("key"));
        if (r.getString("key").equals(gone.getString("erpId"))) {
          uncoupled = r;
        }
        if (r.getString("key").equals(failing.getString("erpId"))) {
          error = r;
        }
      }
      next = page.getString("next");
      pages++;
    }
    assertEquals(CUSTOMERS, keys.size(), keys.toString());
    assertEquals(keys.stream().sorted().toList(), keys, "key order");
    assertEquals(keys.stream().distinct().count(), keys.size(), "no record twice");
    assertEquals(3, pages, "12 records in pages of 5: 5, 5, 2");
    assertNotNull(uncoupled);
    assertEquals("UNCOUPLED", uncoupled.getString("state"));
    assertNull(uncoupled.getValue("coupling"));
    assertNotNull(error);
    assertEquals("ERROR", error.getString("state"));
    assertEquals(failing.getString("crmId"), error.getJsonObject("coupling").getString("crmId"));
    assertEquals("[WRITE] name is too long", error.getJsonObject("coupling").getString("lastError"));

    // The CRM side: the account left without its customer is uncoupled there too; filtered by state.
    JsonObject crmOnly = api(a, "GET", "/api/v1/mappings/ACCOUNTS/records?side=crm&state=uncoupled&limit=200",
        null);
    assertEquals(200, crmOnly.getInteger("_status"), crmOnly.encode());
    assertEquals(1, crmOnly.getJsonArray("records").size(), crmOnly.encode());
    assertEquals(gone.getString("crmId"), crmOnly.getJsonArray("records").getJsonObject(0).getString("key"));
    assertEquals(CUSTOMERS, crmOnly.getInteger("read"), "the filter applies to the page read");
    JsonObject crmPage = api(a, "GET", "/api/v1/mappings/ACCOUNTS/records?side=crm&limit=4", null);
    List<String> crmKeys = new ArrayList<>();
    crmPage.getJsonArray("records").forEach(o -> crmKeys.add(((JsonObject) o).getString("key")));
    JsonObject crmNext = api(a, "GET", crmPage.getString("next"), null);
    assertTrue(crmNext.getJsonArray("records").getJsonObject(0).getString("key").compareTo(crmKeys.get(3)) > 0,
        "the next page starts after the last key");
    // from: the page that starts at a record (the error list's "open the record").
    JsonObject at = api(a, "GET", "/api/v1/mappings/ACCOUNTS/records?side=erp&limit=1&from="
        + gone.getString("erpId"), null);
    assertEquals(gone.getString("erpId"), at.getJsonArray("records").getJsonObject(0).getString("key"));

    badRequest("/api/v1/mappings/ACCOUNTS/records?side=both", "side");
    badRequest("/api/v1/mappings/ACCOUNTS/records?limit=0", "limit");
    badRequest("/api/v1/mappings/ACCOUNTS/records?limit=201", "limit");
    badRequest("/api/v1/mappings/ACCOUNTS/records?limit=ten", "limit");
    badRequest("/api/v1/mappings/ACCOUNTS/records?side=crm&after=C10001", "after");
    badRequest("/api/v1/mappings/ACCOUNTS/records?after=A&from=B", "after and from");
    badRequest("/api/v1/mappings/ACCOUNTS/records?state=happy", "state");
    badRequest("/api/v1/mappings/ACCOUNTS/records?sort=name", "sort");
    assertEquals(404, api(a, "GET", "/api/v1/mappings/NOPE/records", null).getInteger("_status"));
  }

  @Test
  void anErrorsRecordIsSkippedUntilRetried() throws Exception {
    JsonObject c = api(a, "GET", "/api/v1/couplings?mapping=ACCOUNTS&limit=100", null).getJsonArray("couplings")
        .getJsonObject(8);
    db.exec("INSERT INTO record_error (job_id, mapping, direction, erp_id, crm_id, message, kind, stage) VALUES "
        + "(NULL, 'ACCOUNTS', 'TO_CRM', '" + c.getString("erpId") + "', '" + c.getString("crmId") + "', "
        + "'name is too long', 'DATA', 'WRITE')");
    long error = db.queryLong("SELECT max(id) FROM record_error");
    JsonObject skipped = api(b, "POST", "/api/v1/errors/" + error + "/skip", null);
    assertEquals(200, skipped.getInteger("_status"), skipped.encode());
    assertEquals(c.getLong("id"), skipped.getLong("couplingId"));
    assertTrue(api(a, "GET", "/api/v1/couplings?mapping=ACCOUNTS&erpId=" + c.getString("erpId"), null)
        .getJsonArray("couplings").getJsonObject(0).getBoolean("skipped"));
    assertEquals(404, api(a, "POST", "/api/v1/errors/999999/skip", null).getInteger("_status"));
    assertEquals(400, api(a, "POST", "/api/v1/errors/x/skip", null).getInteger("_status"));
    // Retrying un-skips it.
    assertEquals(202, api(a, "POST", "/api/v1/errors/" + error + "/retry", null).getInteger("_status"));
    assertTrue(!api(a, "GET", "/api/v1/couplings?mapping=ACCOUNTS&erpId=" + c.getString("erpId"), null)
        .getJsonArray("couplings").getJsonObject(0).getBoolean("skipped"));
  }

  private static long scheduledJobs() {
    return db.queryLong("SELECT count(*) FROM job WHERE mapping = 'ACCOUNTS' AND schedule_id IS NOT NULL");
  }

  @Test
  void aPausedScheduleRunsOnNoNodeUntilItIsWoken() throws Exception {
    JsonObject missing = api(a, "POST", "/api/v1/schedules/ACCOUNTS/pause", "{}");
    assertEquals(400, missing.getInteger("_status"), missing.encode());
    assertTrue(missing.getJsonObject("error").getString("message").contains("'reason' is required"),
        missing.encode());
    assertEquals(400, api(a, "POST", "/api/v1/schedules/ACCOUNTS/pause", "{\"reason\":\"x\",\"by\":\""
        + "n".repeat(101) + "\"}").getInteger("_status"));
    assertEquals(400, api(a, "POST", "/api/v1/schedules/ACCOUNTS/pause", "{\"reason\":\"x\",\"when\":1}")
        .getInteger("_status"), "an unknown field");
    assertEquals(404, api(a, "POST", "/api/v1/schedules/NOPE/pause", "{\"reason\":\"x\"}").getInteger("_status"));

    JsonObject paused = api(a, "POST", "/api/v1/schedules/ACCOUNTS/pause",
        "{\"reason\":\"ERP upgrade tonight\",\"by\":\"anna\"}");
    assertEquals(200, paused.getInteger("_status"), paused.encode());
    assertEquals(1, paused.getInteger("paused"));
    // Seen the same on the other node, with who and when.
    JsonObject s = null;
    for (Object o : api(b, "GET", "/api/v1/schedules", null).getJsonArray("schedules")) {
      if ("ACCOUNTS".equals(((JsonObject) o).getString("mapping"))) {
        s = (JsonObject) o;
      }
    }
    assertNotNull(s);
    assertEquals("PAUSED", s.getString("state"));
    assertEquals("ERP upgrade tonight", s.getString("pausedReason"));
    assertEquals("anna (admin token)", s.getString("pausedBy"));
    assertNotNull(s.getString("pausedAt"));
    // The job a tick made just before the pause may still end; after that, none for many ticks on either node.
    TestRuntimes.await("no scheduled job queued or running", 30_000, () -> db.queryLong("SELECT count(*) FROM job "
        + "WHERE mapping = 'ACCOUNTS' AND status IN ('queued', 'running')") == 0);
    long before = scheduledJobs();
    Thread.sleep(2_000);
    assertEquals(before, scheduledJobs(), "ten schedule intervals on two nodes, no scheduled job");

    JsonObject woken = api(b, "POST", "/api/v1/schedules/ACCOUNTS/wake", null);
    assertEquals(200, woken.getInteger("_status"), woken.encode());
    TestRuntimes.await("a scheduled job after waking", 30_000, () -> scheduledJobs() > before);
    JsonObject after = api(a, "GET", "/api/v1/schedules", null).getJsonArray("schedules").stream()
        .map(JsonObject.class::cast).filter(o -> "ACCOUNTS".equals(o.getString("mapping"))).findFirst().orElseThrow();
    assertEquals("ACTIVE", after.getString("state"));
    assertNull(after.getValue("pausedBy"));
    assertNull(after.getValue("pausedReason"));
  }
}
