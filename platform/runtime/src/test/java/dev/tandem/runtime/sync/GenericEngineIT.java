package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A plugin that declares mappings only: the runtime's generic engine runs its TO_CRM mapping end to end. */
class GenericEngineIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = """
      package test.declarative;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Declarative implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(
              MappingDefinition.builder("CURRENCIES")
                  .erp("Currency", "Code").crm("transactioncurrencies", "transactioncurrencyid")
                  .direction(Direction.TO_CRM)
                  .field("Code", "isocurrencycode", Direction.TO_CRM)
                  .field("Description", "currencyname", Direction.TO_CRM)
                  .field("Symbol", "currencysymbol", Direction.TO_CRM)
                  .field(FieldMapping.of(null, "exchangerate", Direction.TO_CRM).withConstant(1.0))
                  .field(FieldMapping.of(null, "currencyprecision", Direction.TO_CRM).withConstant(2))
                  .build());
        }
      }
      """;

  record Api(int status, String body) {
    io.vertx.core.json.JsonObject json() {
      return new io.vertx.core.json.JsonObject(body);
    }
  }

  private static Api api(TandemRuntime rt, String method, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    return new Api(r.statusCode(), r.body());
  }

  @Test
  void aScheduledJobRunsTheMappingWithTheGenericEngine(@TempDir Path work) throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":1,\"counts\":{}}")).build(), HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "declarative", null, Map.of("test.declarative.Declarative", PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      // No schedules: the mapping's own first scheduled run would race the filter set below (NOTIFY wakes it at once).
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(false, 1000, 0, 30_000)));
      try {
        // The mappings API: the effective mapping, a refused and an accepted change, a run on demand.
        io.vertx.core.json.JsonObject listed = api(rt, "GET", "/api/v1/mappings", null).json();
        io.vertx.core.json.JsonObject m = listed.getJsonArray("mappings").getJsonObject(0);
        assertEquals("CURRENCIES", m.getString("name"));
        assertEquals("TO_CRM", m.getJsonObject("effective").getString("direction"));
        assertEquals(5, m.getJsonObject("effective").getJsonArray("fields").size());
        Api bad = api(rt, "PATCH", "/api/v1/mappings/CURRENCIES", "{\"direction\":\"SIDEWAYS\"}");
        assertEquals(400, bad.status(), bad.body());
        assertTrue(bad.body().contains("direction 'SIDEWAYS' is not one of"), bad.body());
        assertEquals(400, api(rt, "PATCH", "/api/v1/mappings/CURRENCIES", "{\"disabledFields\":[\"Nope\"]}").status());
        Api filtered = api(rt, "PATCH", "/api/v1/mappings/CURRENCIES", "{\"erpFilter\":\"Code eq 'EUR'\"}");
        assertEquals(200, filtered.status(), filtered.body());
        assertEquals("Code eq 'EUR'", filtered.json().getJsonObject("effective").getString("erpFilter"));
        Api ran = api(rt, "POST", "/api/v1/mappings/CURRENCIES/sync", "{}");
        assertEquals(202, ran.status(), ran.body());
        long onDemand = ran.json().getLong("jobId");
        TestRuntimes.await("on-demand job ended", 30_000, () -> "succeeded".equals(
            db.queryString("SELECT status FROM job WHERE id = " + onDemand)));
        assertEquals(1, rt.queue().get(onDemand).toCompletionStage().toCompletableFuture().get().orElseThrow()
            .counts().inserted(), "only EUR passes the operator's filter");
        assertEquals(1, api(rt, "GET", "/api/v1/couplings?mapping=CURRENCIES", null).json()
            .getJsonArray("couplings").size());
        assertEquals(200, api(rt, "PATCH", "/api/v1/mappings/CURRENCIES", "{\"erpFilter\":null}").status());
        db.exec("DELETE FROM watermark");
        // The CRM throttles the job's first write once: the job waits the Retry-After, sends it again, and counts it.
        HttpResponse<String> fault = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl()
            + "/__admin/sim/faults")).POST(HttpRequest.BodyPublishers.ofString("{\"pathPattern\":\"\\\\$batch\","
            + "\"method\":\"POST\",\"kind\":\"STATUS\",\"status\":429,\"retryAfterSeconds\":1,\"nth\":1,"
            + "\"times\":1}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(2, fault.statusCode() / 100, fault.body());

        long id = rt.enqueue(NewJob.of(JobKind.SYNC, "CURRENCIES")).toCompletionStage().toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
        TestRuntimes.await("job ended", 30_000, () -> !List.of("queued", "running").contains(
            db.queryString("SELECT status FROM job WHERE id = " + id)));
        Job job = rt.queue().get(id).toCompletionStage().toCompletableFuture().get().orElseThrow();
        assertEquals(JobStatus.SUCCEEDED, job.status(), job.counts().message());
        assertEquals(4, job.counts().inserted(), job.counts().toString());
        assertEquals(4, job.counts().coupled());
        assertEquals(1, job.counts().unchanged(), "EUR is there already");
        assertTrue(job.counts().message().startsWith("CURRENCIES to CRM: 4 inserted"), job.counts().message());
        assertEquals(1, job.counts().throttled(), "the one 429 the CRM answered, counted with the job");
        assertEquals(1, api(rt, "GET", "/api/v1/jobs/" + id, null).json().getJsonObject("counts")
            .getLong("throttled"), "and shown with its counts");
        Map<String, Object> counts = Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl()
            + "/__admin/sim/counts")).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertEquals(5, counts.get("transactioncurrencies"));
        assertEquals(5, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CURRENCIES' AND crm_id IS NOT NULL"));
        // "Synchronize now" on a selected record: a drifted CRM value is put right though the ERP row did not change.
        String eurId = db.queryString("SELECT crm_id FROM coupling WHERE mapping = 'CURRENCIES' AND erp_id = 'EUR'");
        String token = (String) Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().tokenUrl()))
            .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
                "grant_type=client_credentials&client_id=tandem-sync&client_secret=tandem-secret&scope="
                    + java.net.URLEncoder.encode(crm.get().scope(), java.nio.charset.StandardCharsets.UTF_8))).build(),
            HttpResponse.BodyHandlers.ofString()).body()).get("access_token");
        HttpResponse<String> drift = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().apiUrl()
            + "/transactioncurrencies(" + eurId + ")")).header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json").method("PATCH", HttpRequest.BodyPublishers.ofString(
                "{\"currencyname\":\"Drifted\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, drift.statusCode(), drift.body());
        assertEquals(400, api(rt, "POST", "/api/v1/mappings/CURRENCIES/sync", "{\"records\":[]}").status());
        Api selected = api(rt, "POST", "/api/v1/mappings/CURRENCIES/sync", "{\"records\":[\"EUR\"]}");
        assertEquals(202, selected.status(), selected.body());
        long selectedJob = selected.json().getLong("jobId");
        TestRuntimes.await("selected job ended", 30_000, () -> "succeeded".equals(
            db.queryString("SELECT status FROM job WHERE id = " + selectedJob)));
        Job sel = rt.queue().get(selectedJob).toCompletionStage().toCompletableFuture().get().orElseThrow();
        assertEquals(1, sel.counts().modified(), sel.counts().toString());
        assertTrue(sel.counts().message().contains("1 selected records to CRM"), sel.counts().message());

        String scrape = rt.registry().scrape();
        assertTrue(scrape.contains("tandem_endpoint_requests_total{endpoint=\"CRM\",status=\"200\"}"));
        assertTrue(scrape.contains("tandem_sync_records_total{direction=\"TO_CRM\",mapping=\"CURRENCIES\",result=\"inserted\"} 5.0"),
            "inserted in two runs: 1 and 4");
        assertTrue(scrape.contains("tandem_sync_duration_seconds_bucket{mapping=\"CURRENCIES\""));
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
