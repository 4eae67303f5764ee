package dev.tandem.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The acceptance suite every entity plugin passes, for one of its ERP-to-CRM or bidirectional mappings: a full
 * synchronization from empty, a second run that writes nothing, a conflicting change on both sides, a deleted
 * record, and invalid configuration. Extend it in a test that runs after {@code package} (failsafe) with the
 * system property {@code tandem.plugin.jar} pointing at the plugin jar; the suite starts both simulators, seeds
 * them with {@link #erpSeed()}, and runs a node with the plugin.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class MappingAcceptanceSuite {

  /** The ERP simulator. */
  @RegisterExtension
  @Order(1)
  protected static final SimulatorExtension<ErpSimulator> ERP = new SimulatorExtension<>(ErpSimulator::new);
  /** The CRM simulator. */
  @RegisterExtension
  @Order(2)
  protected static final SimulatorExtension<DataverseSimulator> CRM = new SimulatorExtension<>(DataverseSimulator::new);
  /** The node under test, with the plugin and both connections, schedules off (the suite runs jobs itself). */
  @RegisterExtension
  @Order(3)
  protected static final TandemExtension TANDEM = TandemExtension.withPlugins(Path.of(System.getProperty(
      "tandem.plugin.jar", "target/plugin.jar"))).configure(c -> {
        ErpSimulator.Options o = ERP.get().options();
        return c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000)).withConnections(new Connections(
            ODataErpSettings.of(ERP.get().serviceRoot(), o.company(), o.user(), o.accessKey()),
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

  /** Runs a mapping now and waits for its job; returns the job. */
  protected static JsonObject sync(String mapping) throws Exception {
    TandemExtension.ApiResponse r = TANDEM.api("POST", "/api/v1/mappings/" + mapping + "/sync", new JsonObject());
    assertEquals(202, r.status(), r.body());
    long id = r.json().getLong("jobId");
    for (int i = 0; i < 1200; i++) {
      JsonObject job = TANDEM.api("GET", "/api/v1/jobs/" + id, null).json();
      if (List.of("SUCCEEDED", "FAILED").contains(job.getString("status"))) {
        return job;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job " + id + " of " + mapping + " did not end");
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
            "grant_type=client_credentials&client_id=" + client + "&client_secret=pw-" + client)).build(),
        HttpResponse.BodyHandlers.ofString()).body()).get("access_token");
  }

  private void editBothSides(String erpValue, String crmValue) throws Exception {
    JsonObject c = coupling();
    String[] e = erpRecord();
    String auth = "Basic " + Base64.getEncoder().encodeToString((ERP.get().options().user() + ":"
        + ERP.get().options().accessKey()).getBytes());
    String url = ERP.get().companyUrl() + "/" + e[0] + "('" + c.getString("erpId").replace("'", "''") + "')";
    Map<String, Object> row = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .build(), HttpResponse.BodyHandlers.ofString()).body());
    HttpResponse<String> erp = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth)
        .header("If-Match", (String) row.get("@odata.etag")).header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(new JsonObject().put(e[2], erpValue).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, erp.statusCode(), erp.body());
    String[] r = crmRecord();
    HttpResponse<String> crm = HTTP.send(HttpRequest.newBuilder(URI.create(CRM.get().apiUrl() + "/" + r[0] + "("
            + c.getString("crmId") + ")")).header("Authorization", "Bearer " + crmToken("person"))
        .header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(new JsonObject().put(r[1], crmValue).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(204, crm.statusCode(), crm.body());
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
    for (String m : prerequisites()) {
      succeeded(m);
    }
    JsonObject counts = succeeded(mapping());
    assertTrue(counts.getInteger("inserted") > 0, counts.encode());
    assertEquals(counts.getInteger("inserted"), counts.getInteger("coupled"), counts.encode());
  }

  @Test
  @Order(2)
  void aSecondRunWritesNothing() throws Exception {
    JsonObject counts = succeeded(mapping());
    assertEquals(0, counts.getInteger("inserted") + counts.getInteger("modified"), counts.encode());
  }

  @Test
  @Order(3)
  void aConflictingChangeFollowsThePolicy() throws Exception {
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
  }

  @Test
  @Order(4)
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
  @Order(5)
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
