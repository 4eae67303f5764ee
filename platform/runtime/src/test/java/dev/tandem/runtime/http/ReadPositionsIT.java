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
import dev.tandem.sim.core.Json;
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
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read positions end to end, on a real node: the watermark after a full synchronization comes from the CRM's own
 * clock (minutes behind PostgreSQL's here), so no change made after it is lost; watermarks and the delta link are
 * shown, set and reset through the admin API; record ids given to the API are checked where they enter.
 */
class ReadPositionsIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = """
      package test.reads;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Reads implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("ACCOUNTS-IN")
              .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.FROM_CRM)
              .field("Name", "name", Direction.FROM_CRM)
              .build());
        }
      }
      """;

  @TempDir
  Path work;
  private TestDatabase db;
  private TandemRuntime rt;

  private static HttpResponse<String> http(String method, String url, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> api(String method, String path, String body) throws Exception {
    return http(method, "http://localhost:" + rt.httpPort() + path, body);
  }

  private JsonObject ok(String method, String path, String body) throws Exception {
    HttpResponse<String> r = api(method, path, body);
    assertTrue(r.statusCode() / 100 == 2, method + " " + path + ": " + r.statusCode() + " " + r.body());
    return new JsonObject(r.body());
  }

  private void bad(String method, String path, String body, String names) throws Exception {
    HttpResponse<String> r = api(method, path, body);
    assertEquals(400, r.statusCode(), r.body());
    JsonObject error = new JsonObject(r.body()).getJsonObject("error");
    assertEquals("bad_request", error.getString("code"), r.body());
    assertTrue(error.getString("message").contains(names), "names " + names + ": " + r.body());
  }

  private static void sim(String base, String path, String body) throws Exception {
    HttpResponse<String> r = http("POST", base + "/__admin/sim/" + path, body);
    assertTrue(r.statusCode() / 100 == 2, path + ": " + r.body());
  }

  private JsonObject sync() throws Exception {
    long id = ok("POST", "/api/v1/mappings/ACCOUNTS-IN/sync", "{}").getLong("jobId");
    TestRuntimes.await("job " + id, 30_000, () -> !List.of("queued", "running").contains(
        db.queryString("SELECT status FROM job WHERE id = " + id)));
    JsonObject job = ok("GET", "/api/v1/jobs/" + id, null);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job.getJsonObject("counts");
  }

  private long customers(String name) throws Exception {
    return Json.objects(Json.object(http("GET", erp.get().baseUrl() + "/__admin/sim/rows/Customer?top=1000", null)
        .body()).get("rows")).stream().filter(c -> name.equals(c.get("Name"))).count();
  }

  @BeforeEach
  void start() throws Exception {
    sim(erp.get().baseUrl(), "reset", "");
    sim(crm.get().baseUrl(), "reset", "");
    // The CRM's clock is ten minutes behind this machine's (and PostgreSQL's).
    sim(crm.get().baseUrl(), "clock", "{\"offsetMs\":-600000}");
    sim(crm.get().baseUrl(), "seed", "{\"seed\":3,\"counts\":{\"accounts\":20}}");
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "reads", null, Map.of("test.reads.Reads", PLUGIN), work);
    db = TestDatabase.fresh();
    TandemConfig cfg = TestRuntimes.config(db.settings(), plugins)
        .withConnections(TestRuntimes.connections(erp.get(), crm.get()))
        .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000));
    rt = TestRuntimes.start(cfg);
  }

  @AfterEach
  void stop() throws Exception {
    TestRuntimes.stop(rt);
    db.close();
    sim(crm.get().baseUrl(), "clock", "{\"offsetMs\":0}");
  }

  @Test
  void afterAFullSynchronizationAnEndpointClockMinutesBehindLosesNoChange() throws Exception {
    assertEquals(202, api("POST", "/api/v1/full-sync/start", "{\"mappings\":[\"ACCOUNTS-IN\"]}").statusCode());
    TestRuntimes.await("full synchronization ended", 60_000, () -> {
      try {
        JsonObject run = ok("GET", "/api/v1/full-sync", null).getJsonObject("run");
        return run != null && !"RUNNING".equals(run.getString("status"));
      } catch (Exception e) {
        return false;
      }
    });
    assertEquals("SUCCEEDED", ok("GET", "/api/v1/full-sync", null).getJsonObject("run").getString("status"));
    assertEquals(20, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS-IN'"));
    // Someone creates an account right after: stamped by the CRM's clock, ten minutes "ago" by PostgreSQL's.
    sim(crm.get().baseUrl(), "rows/accounts", "{\"rows\":[{\"name\":\"Right After Ltd.\"}]}");
    JsonObject counts = sync();
    assertEquals(1, counts.getInteger("inserted"), counts.encode());
    assertEquals(1, customers("Right After Ltd."));

    JsonObject marks = ok("GET", "/api/v1/mappings/ACCOUNTS-IN/watermarks", null);
    assertEquals(300, marks.getInteger("overlapSeconds"), marks.encode());
    JsonObject crmSide = side(marks, "CRM");
    Instant readTo = Instant.parse(crmSide.getString("modifiedOn"));
    long behind = Duration.between(readTo, Instant.now()).toSeconds();
    assertTrue(behind > 540 && behind < 700, "read up to the CRM's own newest stamp, " + behind + " s ago: " + marks);
    assertEquals(readTo.minusSeconds(300), Instant.parse(crmSide.getString("readFrom")));
    assertTrue(crmSide.getString("deltaLink").contains("$deltatoken="), marks.encode());
  }

  private static JsonObject side(JsonObject marks, String side) {
    JsonArray all = marks.getJsonArray("watermarks");
    for (int i = 0; i < all.size(); i++) {
      if (side.equals(all.getJsonObject(i).getString("side"))) {
        return all.getJsonObject(i);
      }
    }
    throw new AssertionError("no " + side + " watermark: " + marks.encode());
  }

  @Test
  void watermarksAndTheDeltaLinkAreShownSetAndReset() throws Exception {
    assertEquals(20, sync().getInteger("inserted"));
    String path = "/api/v1/mappings/ACCOUNTS-IN/watermarks";
    JsonObject marks = ok("GET", path, null);
    JsonObject crmSide = side(marks, "CRM");
    assertNotNull(crmSide.getString("modifiedOn"), marks.encode());
    String link = crmSide.getString("deltaLink");
    assertTrue(link.contains("$deltatoken="), marks.encode());

    // Set back: the next run reads every row again, each recognized as unchanged.
    JsonObject set = ok("PUT", path, "{\"side\":\"CRM\",\"modifiedOn\":\"2000-01-01T00:00:00Z\"}");
    assertEquals("2000-01-01T00:00:00Z", side(set, "CRM").getString("modifiedOn"), set.encode());
    assertEquals(link, side(set, "CRM").getString("deltaLink"), "the link stays unless given");
    JsonObject again = sync();
    assertEquals(20, again.getInteger("unchanged"), again.encode());
    assertEquals(0, again.getInteger("inserted"), again.encode());
    assertTrue(Instant.parse(side(ok("GET", path, null), "CRM").getString("modifiedOn"))
        .isAfter(Instant.parse("2020-01-01T00:00:00Z")), "moved forward again by the run");

    // Reset: both sides forgotten; the next run reads everything and starts change tracking over.
    JsonObject reset = ok("DELETE", path, null);
    assertTrue(reset.getInteger("reset") >= 1, reset.encode());
    assertEquals(0, reset.getJsonArray("watermarks").size(), reset.encode());
    assertEquals(20, sync().getInteger("unchanged"));
    assertTrue(side(ok("GET", path, null), "CRM").getString("deltaLink").contains("$deltatoken="));
    ok("PUT", path, "{\"side\":\"CRM\",\"modifiedOn\":null,\"deltaLink\":null}");
    assertNull(side(ok("GET", path, null), "CRM").getString("deltaLink"));

    // Bad input names the field.
    bad("PUT", path, "{\"side\":\"BOTH\",\"modifiedOn\":null}", "side");
    bad("PUT", path, "{\"side\":\"ERP\",\"modifiedOn\":\"yesterday\"}", "modifiedOn");
    bad("PUT", path, "{\"side\":\"ERP\"}", "modifiedOn");
    bad("PUT", path, "{\"side\":\"ERP\",\"modifiedOn\":null,\"deltaLink\":\"x\"}", "deltaLink");
    bad("PUT", path, "{\"side\":\"CRM\",\"modifiedOn\":null,\"offset\":1}", "offset");
    bad("PUT", path, "[1]", "JSON object");
    bad("DELETE", path + "?side=MIDDLE", null, "side");
    assertEquals(404, api("GET", "/api/v1/mappings/NOPE/watermarks", null).statusCode());
    // The overlap is a mapping setting.
    ok("PATCH", "/api/v1/mappings/ACCOUNTS-IN", "{\"watermarkOverlapSeconds\":60}");
    assertEquals(60, ok("GET", path, null).getInteger("overlapSeconds"));
    bad("PATCH", "/api/v1/mappings/ACCOUNTS-IN", "{\"watermarkOverlapSeconds\":-1}", "watermarkOverlapSeconds");
    bad("PATCH", "/api/v1/mappings/ACCOUNTS-IN", "{\"massDeletionShare\":2}", "massDeletionShare");
    HttpResponse<String> release = api("POST", "/api/v1/mappings/ACCOUNTS-IN/deletions/release", null);
    assertEquals(409, release.statusCode(), "nothing is held: " + release.body());
    bad("POST", "/api/v1/mappings/ACCOUNTS-IN/deletions/release", "{\"count\":0}", "count");
  }

  @Test
  void recordIdsAreCheckedWhereTheyEnter() throws Exception {
    assertEquals(20, sync().getInteger("inserted"));
    String customer = db.queryString("SELECT erp_id FROM coupling WHERE mapping = 'ACCOUNTS-IN' ORDER BY id LIMIT 1");
    String account = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + customer + "'");
    // An injection attempt through "synchronize now": refused before it reaches an OData filter.
    bad("POST", "/api/v1/mappings/ACCOUNTS-IN/sync", "{\"records\":[\"" + account + "\",\"" + account
        + " or accountid ne null\"]}", "records[1]");
    bad("POST", "/api/v1/mappings/ACCOUNTS-IN/sync", "{\"records\":[42]}", "records[0]");
    assertEquals(0, db.queryLong("SELECT count(*) FROM job WHERE parameters ? 'records'"), "no job for them");
    // Manual couplings: a CRM id must be a GUID, an ERP key must exist.
    String other = "0f0e0d0c-0b0a-4909-8807-060504030201";
    bad("POST", "/api/v1/couplings", "{\"mapping\":\"ACCOUNTS-IN\",\"erpId\":\"C99999\",\"crmId\":\"" + other + "\"}",
        "erpId");
    bad("POST", "/api/v1/couplings", "{\"mapping\":\"ACCOUNTS-IN\",\"erpId\":\"" + customer + "\",\"crmId\":\""
        + other + ") or (accountid ne null\"}", "crmId");
    bad("POST", "/api/v1/couplings", "{\"mapping\":\"ACCOUNTS-IN\",\"erpId\":\"x' or No ne 'y\",\"crmId\":\""
        + other + "\"}", "erpId");
    assertEquals(20, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS-IN'"), "no coupling made");
    long before = db.queryLong("SELECT count(*) FROM coupling");
    assertEquals(204, api("DELETE", "/api/v1/couplings/" + db.queryLong("SELECT id FROM coupling WHERE erp_id = '"
        + customer + "'"), null).statusCode());
    JsonObject coupled = ok("POST", "/api/v1/couplings", "{\"mapping\":\"ACCOUNTS-IN\",\"erpId\":\"" + customer
        + "\",\"crmId\":\"" + account.toUpperCase() + "\"}");
    assertEquals(account.toLowerCase(), coupled.getString("crmId"));
    assertEquals(before, db.queryLong("SELECT count(*) FROM coupling"));
  }
}
