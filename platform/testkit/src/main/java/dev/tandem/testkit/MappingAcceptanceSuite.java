package dev.tandem.testkit;

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
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The acceptance suite every entity plugin passes, for one of its ERP-to-CRM or bidirectional mappings: a full
 * synchronization from empty (and, for a bidirectional mapping, a record made in the CRM reaching the ERP), a
 * second run that writes nothing, a change that follows the direction (a conflicting change on both sides that
 * follows the conflict policy, for a bidirectional mapping), a run whose node is killed midway and that another
 * node resumes without duplicates, a deleted record, and invalid configuration. Tests that do not apply to the
 * mapping (its direction, or no CRM row to create given) are skipped, and say why. Extend it in a test that runs after {@code package} (failsafe) with the
 * system property {@code tandem.plugin.jar} pointing at the plugin jar; the suite starts both simulators, seeds
 * them with {@link #erpSeed()}, and runs a node with the plugin.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class MappingAcceptanceSuite {

  /** ERP rows per page while the suite runs. */
  protected static final int ERP_PAGE = 10;

  /** The ERP simulator. */
  @RegisterExtension
  @Order(1)
  protected static final SimulatorExtension<ErpSimulator> ERP = SimulatorExtension.perTestClass(c -> {
    OnErpProfile p = c.getAnnotation(OnErpProfile.class);
    return new ErpSimulator(ErpSimulator.Options.defaults().withProfile(p == null ? ErpSimulator.Profile.NAV
        : ErpSimulator.Profile.of(p.value())));
  });

  /**
   * Runs the suite against an ERP of that profile ({@code nav} without it), e.g. {@code @OnErpProfile("bc-online")}
   * for a mapping of pages only Business Central online publishes.
   */
  @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
  @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
  public @interface OnErpProfile {
    /** @return {@code nav} or {@code bc-online} */
    String value();
  }
  /** The CRM simulator. */
  @RegisterExtension
  @Order(2)
  protected static final SimulatorExtension<DataverseSimulator> CRM = new SimulatorExtension<>(DataverseSimulator::new);
  /** The node under test, with the plugin and both connections, schedules off (the suite runs jobs itself). */
  @RegisterExtension
  @Order(3)
  protected static final TandemExtension TANDEM = TandemExtension.withPlugins(Path.of(System.getProperty(
      "tandem.plugin.jar", "target/plugin.jar"))).configure(c -> {
        // Small ERP pages and short leases: the crash test kills a run between pages and another node resumes it
        // once the lease has expired.
        return c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
            .withJobs(new JobSettings(4, 4, 50, 2_000, 120_000, 5, 100, 1_000, 0))
            .withConnections(new Connections(
            TandemExtension.erpSettings(ERP.get()).withSizes(ERP_PAGE, 100, 5).withTimeouts(3, 30_000),
            DataverseSettings.of(CRM.get().apiUrl(), CRM.get().tokenUrl(), "tandem-sync", "tandem-secret", null)));
      });

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** @return the mapping under test, e.g. {@code CUSTOMER} */
  protected abstract String mapping();

  /** @return mappings to synchronize first, in order */
  protected abstract List<String> prerequisites();

  /** @return the ERP simulator's seed counts per service */
  protected abstract Map<String, Integer> erpSeed();

  /** @return the CRM simulator's seed counts per entity set */
  protected abstract Map<String, Integer> crmSeed();

  /** @return ERP service, key field and a bidirectional text field of the mapping: {service, key, field} */
  protected abstract String[] erpRecord();

  /** @return CRM entity set and the text column coupled with {@link #erpRecord()}'s field: {set, column} */
  protected abstract String[] crmRecord();

  /**
   * A row to create on the CRM side for the "from CRM, from empty" test of a bidirectional mapping: the columns
   * the CRM requires, in the mapping's CRM entity set. The default {@code null} skips that test.
   *
   * @return column values, or {@code null}
   */
  protected Map<String, Object> newCrmRow() {
    return null;
  }

  /**
   * Settings PATCHed to the mapping before the first test (e.g. {@code {"direction":"TO_CRM"}} to run the suite on
   * a bidirectional mapping as one-way). Empty by default.
   *
   * @return the overrides
   */
  protected JsonObject overrides() {
    return new JsonObject();
  }

  /**
   * @return the mapping's effective direction, as the admin API reports it
   * @throws Exception when the API cannot be reached
   */
  protected String direction() throws Exception {
    TandemExtension.ApiResponse r = TANDEM.api("GET", "/api/v1/mappings/" + mapping(), null);
    assertEquals(200, r.status(), r.body());
    return r.json().getJsonObject("effective").getString("direction");
  }

  private boolean bidirectional() throws Exception {
    return "BIDIRECTIONAL".equals(direction());
  }

  /** Runs a mapping now and waits for its job; returns the job. */
  protected static JsonObject sync(String mapping) throws Exception {
    return TANDEM.sync(mapping);
  }

  private static JsonObject succeeded(String mapping) throws Exception {
    JsonObject job = sync(mapping);
    assertEquals("SUCCEEDED", job.getString("status"), job.encode());
    return job.getJsonObject("counts");
  }

  private static String post(String url, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private JsonObject coupling() throws Exception {
    return TANDEM.api("GET", "/api/v1/couplings?mapping=" + mapping() + "&limit=1", null).json()
        .getJsonArray("couplings").getJsonObject(0);
  }

  private String crmToken(String client) throws Exception {
    return (String) Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=" + client + "&client_secret=pw-" + client + "&scope="
                + enc(CRM.get().scope()))).build(),
        HttpResponse.BodyHandlers.ofString()).body()).get("access_token");
  }

  private void editBothSides(String erpValue, String crmValue) throws Exception {
    JsonObject c = coupling();
    editErp(c, erpValue);
    String[] r = crmRecord();
    HttpResponse<String> crm = HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/" + r[0] + "("
            + c.getString("crmId") + ")")).header("Authorization", "Bearer " + crmToken("person"))
        .header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(new JsonObject().put(r[1], crmValue).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(204, crm.statusCode(), crm.body());
  }

  private String erpAuth() throws Exception {
    ErpSimulator.Options o = ERP.get().options();
    if (o.profile() == ErpSimulator.Profile.BC_ONLINE) {
      HttpResponse<String> t = HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().tokenUrl()))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + enc(o.clientId())
              + "&client_secret=" + enc(o.clientSecret()) + "&scope=" + enc(ErpSimulator.scope()))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, t.statusCode(), t.body());
      return "Bearer " + Json.object(t.body()).get("access_token");
    }
    return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes());
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  private void editErp(JsonObject c, String erpValue) throws Exception {
    String[] e = erpRecord();
    String auth = erpAuth();
    String url = ERP.get().companyUrl() + "/" + e[0] + "('" + c.getString("erpId").replace("'", "''") + "')";
    Map<String, Object> row = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .build(), HttpResponse.BodyHandlers.ofString()).body());
    HttpResponse<String> erp = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .header("If-Match", (String) row.get("@odata.etag")).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(new JsonObject().put(e[2], erpValue).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, erp.statusCode(), erp.body());
  }

  private Map<String, Object> crmRow(String id) throws Exception {
    String[] r = crmRecord();
    HttpResponse<String> got = HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/" + r[0] + "(" + id
        + ")")).header("Authorization", "Bearer " + crmToken("person")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, got.statusCode(), got.body());
    return Json.object(got.body());
  }

  private long crmCount() throws Exception {
    Object n = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().baseUrl() + "/__admin/sim/counts"))
        .build(), HttpResponse.BodyHandlers.ofString()).body()).get(crmRecord()[0]);
    return n == null ? 0 : ((Number) n).longValue();
  }

  private long couplings() throws Exception {
    long n = 0;
    String after = "";
    while (true) {
      JsonObject page = TANDEM.api("GET", "/api/v1/couplings?mapping=" + mapping() + "&limit=5000" + after, null)
          .json();
      n += page.getJsonArray("couplings").size();
      if (page.getJsonArray("couplings").size() < 5000) {
        return n;
      }
      after = "&after=" + page.getJsonArray("couplings").getJsonObject(4999).getLong("id");
    }
  }

  @Test
  @Order(1)
  void fullSynchronizationFromEmpty() throws Exception {
    post(ERP.get().baseUrl() + "/__admin/sim/seed", new JsonObject().put("seed", 5)
        .put("counts", new JsonObject(Map.copyOf(erpSeed()))).encode());
    post(CRM.get().baseUrl() + "/__admin/sim/seed", new JsonObject().put("seed", 5)
        .put("counts", new JsonObject(Map.copyOf(crmSeed()))).encode());
    post(CRM.get().baseUrl() + "/__admin/sim/clients", "{\"clientId\":\"person\",\"clientSecret\":\"pw-person\","
        + "\"userId\":\"" + Json.objects(Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().baseUrl()
            + "/__admin/sim/rows/systemusers")).build(), HttpResponse.BodyHandlers.ofString()).body()).get("rows"))
            .stream().filter(u -> Boolean.TRUE.equals(u.get("islicensed"))).findFirst().orElseThrow()
            .get("systemuserid") + "\"}");
    if (!overrides().isEmpty()) {
      TandemExtension.ApiResponse r = TANDEM.api("PATCH", "/api/v1/mappings/" + mapping(), overrides());
      assertEquals(200, r.status(), r.body());
    }
    for (String m : prerequisites()) {
      succeeded(m);
    }
    JsonObject counts = succeeded(mapping());
    assertTrue(counts.getInteger("inserted") > 0, counts.encode());
    assertEquals(counts.getInteger("inserted"), counts.getInteger("coupled"), counts.encode());
    assertEquals((long) counts.getInteger("coupled"), couplings(), "every inserted record is coupled once");
  }

  @Test
  @Order(2)
  void aSecondRunWritesNothing() throws Exception {
    JsonObject counts = succeeded(mapping());
    assertEquals(0, counts.getInteger("inserted") + counts.getInteger("modified"), counts.encode());
  }

  @Test
  @Order(3)
  void aRecordMadeInTheCrmReachesTheErp() throws Exception {
    Assumptions.assumeTrue(bidirectional() && newCrmRow() != null,
        "only for bidirectional mappings whose test names a CRM row to create (newCrmRow)");
    HttpResponse<String> made = HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/"
            + crmRecord()[0])).header("Authorization", "Bearer " + crmToken("person"))
        .header("Content-Type", "application/json").header("Prefer", "return=representation")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject(newCrmRow()).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, made.statusCode(), made.body());
    String crmId = new JsonObject(made.body()).getString(TANDEM.api("GET", "/api/v1/mappings/" + mapping(), null)
        .json().getString("crmKey"));
    JsonObject counts = succeeded(mapping());
    assertEquals(1, counts.getInteger("inserted"), counts.encode());
    JsonArray found = TANDEM.api("GET", "/api/v1/couplings?mapping=" + mapping() + "&crmId=" + crmId, null).json()
        .getJsonArray("couplings");
    assertEquals(1, found.size(), "the CRM record is coupled to the ERP record made from it");
    String[] e = erpRecord();
    HttpResponse<String> erp = HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().companyUrl() + "/" + e[0] + "('"
        + found.getJsonObject(0).getString("erpId").replace("'", "''") + "')")).header("Authorization", erpAuth())
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, erp.statusCode(), "the ERP record exists: " + erp.body());
    JsonObject again = succeeded(mapping());
    assertEquals(0, again.getInteger("inserted") + again.getInteger("modified"), "no ping-pong: " + again.encode());
  }

  @Test
  @Order(4)
  void aChangeFollowsTheDirectionAndAConflictThePolicy() throws Exception {
    if (!bidirectional()) {
      // One way: an ERP change reaches the CRM on the next run.
      JsonObject c = coupling();
      editErp(c, "Changed in the ERP");
      JsonObject counts = succeeded(mapping());
      assertEquals(1, counts.getInteger("modified"), counts.encode());
      assertEquals("Changed in the ERP", crmRow(c.getString("crmId")).get(crmRecord()[1]));
      return;
    }
    editBothSides("Changed in the ERP", "Changed in the CRM");
    JsonObject none = succeeded(mapping());
    assertTrue(none.getInteger("failed") > 0, "policy NONE fails the record: " + none.encode());
    assertTrue(TANDEM.api("GET", "/api/v1/errors?mapping=" + mapping(), null).body().contains("conflict"));
    assertEquals(200, TANDEM.api("PATCH", "/api/v1/mappings/" + mapping(), new JsonObject()
        .put("conflictPolicy", "ERP_WINS")).status());
    editBothSides("ERP wins", "CRM loses");
    JsonObject erpWins = succeeded(mapping());
    assertEquals(0, erpWins.getInteger("failed"), erpWins.encode());
    assertTrue(erpWins.getInteger("modified") >= 1, erpWins.encode());
    assertEquals("ERP wins", crmRow(coupling().getString("crmId")).get(crmRecord()[1]));
  }

  @Test
  @Order(5)
  void aRunKilledMidwayIsResumedByAnotherNodeWithoutDuplicates() throws Exception {
    long crmBefore = crmCount();
    long coupledBefore = couplings();
    // More ERP rows of the mapping's service: the same seed with a larger count adds rows after the existing ones.
    Map<String, Integer> grown = new java.util.HashMap<>(erpSeed());
    String service = erpRecord()[0];
    grown.put(service, Math.max(grown.getOrDefault(service, 0) * 2, grown.getOrDefault(service, 0) + 40));
    post(ERP.get().baseUrl() + "/__admin/sim/seed", new JsonObject().put("seed", 5)
        .put("counts", new JsonObject(Map.copyOf(grown))).encode());
    // Slow ERP pages, so the run is between pages when its node dies.
    post(ERP.get().baseUrl() + "/__admin/sim/faults", new JsonObject().put("pathPattern", "/" + service)
        .put("method", "GET").put("kind", "LATENCY").put("latencyMs", 250).put("rate", 1.0).encode());
    long job;
    try {
      TandemExtension.ApiResponse r = TANDEM.api("POST", "/api/v1/mappings/" + mapping() + "/sync", new JsonObject());
      assertEquals(202, r.status(), r.body());
      job = r.json().getLong("jobId");
      long deadline = System.currentTimeMillis() + 60_000;
      while (couplings() == coupledBefore && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      Assumptions.assumeTrue(couplings() > coupledBefore,
          "seeding " + service + " again added no rows this mapping synchronizes: nothing to interrupt");
      TANDEM.crash();
    } finally {
      HTTP.send(HttpRequest.newBuilder(URI.create(ERP.get().baseUrl() + "/__admin/sim/faults")).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
    }
    TANDEM.restart();
    JsonObject resumed = TANDEM.awaitJob(job);
    assertEquals("SUCCEEDED", resumed.getString("status"), resumed.encode());
    assertTrue(resumed.getInteger("attempts") >= 2, "resumed by a second attempt: " + resumed.encode());
    long added = couplings() - coupledBefore;
    assertTrue(added > 0, "new records were coupled");
    assertEquals(added, crmCount() - crmBefore, "each new CRM record is coupled: no duplicate from the crash");
    JsonObject again = succeeded(mapping());
    assertEquals(0, again.getInteger("inserted") + again.getInteger("modified"), again.encode());
  }

  @Test
  @Order(6)
  void aDeletedRecordFollowsTheDeletionPolicy() throws Exception {
    JsonObject c = coupling();
    assertEquals(200, TANDEM.api("PATCH", "/api/v1/mappings/" + mapping(), new JsonObject()
        .put("deletionPolicy", "REMOVE_COUPLING").put("syncOnlyCoupled", true)).status());
    HttpResponse<String> deleted = HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/"
        + crmRecord()[0] + "(" + c.getString("crmId") + ")")).header("Authorization", "Bearer " + crmToken("person"))
        .DELETE().build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(204, deleted.statusCode(), deleted.body());
    JsonObject counts = succeeded(mapping());
    assertEquals(1, counts.getInteger("uncoupled"), counts.encode());
  }

  @Test
  @Order(7)
  void invalidConfigurationIsRefusedOrFailsTheJobWithItsCause() throws Exception {
    TandemExtension.ApiResponse unknown = TANDEM.api("PATCH", "/api/v1/mappings/" + mapping(),
        new JsonObject().put("disabledFields", new io.vertx.core.json.JsonArray().add("NoSuchField")));
    assertEquals(400, unknown.status(), unknown.body());
    assertEquals(200, TANDEM.api("PATCH", "/api/v1/mappings/" + mapping(), new JsonObject()
        .put("erpFilter", "this is not a filter")).status());
    JsonObject job = sync(mapping());
    assertEquals("FAILED", job.getString("status"), job.encode());
    assertTrue(job.getString("message").contains("[READ]") && job.getString("message").contains("ERP answered 400"),
        job.getString("message"));
    assertEquals(200, TANDEM.api("PATCH", "/api/v1/mappings/" + mapping(), new JsonObject().putNull("erpFilter"))
        .status());
    assertEquals("SUCCEEDED", sync(mapping()).getString("status"));
  }
}
