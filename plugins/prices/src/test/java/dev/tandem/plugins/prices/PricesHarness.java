package dev.tandem.plugins.prices;

import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** What the prices plugin's end-to-end tests share: calls to the simulators' admin APIs and to Tandem's API. */
final class PricesHarness {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private PricesHarness() {}

  /** @return the plugin jars named by the system properties (the prices jar first) */
  static Path[] jars(String... properties) {
    return Arrays.stream(properties).map(p -> {
      String v = System.getProperty(p);
      if (v == null) {
        throw new IllegalStateException("system property " + p + " is not set: run the test through mvn verify");
      }
      return Path.of(v);
    }).toArray(Path[]::new);
  }

  /** @return a runtime configuration against the simulators, schedules off, with the prices plugin's settings */
  static TandemConfig against(TandemConfig c, SimulatorExtension<ErpSimulator> erp,
      SimulatorExtension<DataverseSimulator> crm, JsonObject pricesSettings) {
    TandemConfig base = c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000))
        .withConnections(TandemExtension.connections(erp.get(), crm.get()));
    return new TandemConfig(base.database(), base.httpHost(), base.httpPort(), base.adminToken(), base.pluginsDir(),
        base.nodeId(), base.jobs(), base.schedules(), new JsonObject().put("prices", pricesSettings),
        base.connections());
  }

  static String http(String method, String url, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type",
        "application/json").method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) {
      throw new AssertionError(method + " " + url + " gave " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  static List<Map<String, Object>> rows(String base, String set) throws Exception {
    return Json.objects(Json.object(http("GET", base + "/__admin/sim/rows/" + set + "?top=5000", null)).get("rows"));
  }

  /** Runs a sync of the mapping now and waits for the job; it must succeed. */
  static JsonObject sync(TandemExtension tandem, String mapping) throws Exception {
    TandemExtension.ApiResponse started = tandem.api("POST", "/api/v1/mappings/" + mapping + "/sync", new JsonObject());
    if (started.status() >= 300) {
      throw new AssertionError("sync of " + mapping + ": " + started.status() + " " + started.body());
    }
    long id = started.json().getLong("jobId");
    for (int i = 0; i < 600; i++) {
      JsonObject job = tandem.api("GET", "/api/v1/jobs/" + id, null).json();
      if (List.of("SUCCEEDED", "FAILED").contains(job.getString("status"))) {
        if (!"SUCCEEDED".equals(job.getString("status"))) {
          throw new AssertionError(job.encode());
        }
        return job.getJsonObject("counts");
      }
      Thread.sleep(100);
    }
    throw new AssertionError("job of " + mapping + " did not end");
  }

  /** @return the CRM id of each coupled record of a mapping, by ERP key */
  static Map<String, String> couplings(TandemExtension tandem, String mapping) throws Exception {
    JsonObject page = tandem.api("GET", "/api/v1/couplings?mapping=" + mapping + "&limit=1000", null).json();
    Map<String, String> out = new java.util.HashMap<>();
    page.getJsonArray("couplings").forEach(o -> {
      JsonObject c = (JsonObject) o;
      if ("COUPLED".equals(c.getString("state"))) {
        out.put(c.getString("erpId"), c.getString("crmId"));
      }
    });
    return out;
  }
}
