package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** An on-hold schedule wakes when its mapping's ERP side changes. */
class ErpWakeTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = """
      package test.wake;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Units implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("UNITS")
              .erp("UnitOfMeasure", "Code").crm("uomschedules", "uomscheduleid").direction(Direction.TO_CRM)
              .field("Code", "name", Direction.TO_CRM)
              .field("Description", "baseuomname", Direction.TO_CRM)
              .schedule(java.time.Duration.ofMillis(300))
              .build());
        }
      }
      """;

  @Test
  void anErpChangeWakesTheOnHoldSchedule(@TempDir Path work) throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":1,\"counts\":{}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "units", null, Map.of("test.wake.Units", PLUGIN), work);
    ErpSimulator.Options o = erp.get().options();
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      // Runs every 300 ms; on hold after 1 s without changes; looks for ERP changes every 200 ms.
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(true, 100, 1_000, 200)));
      try {
        TestRuntimes.await("first run inserted the units", 20_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'UNITS'") == 5);
        TestRuntimes.await("schedule on hold", 20_000,
            () -> "on_hold".equals(db.queryString("SELECT state FROM schedule WHERE mapping = 'UNITS'")));
        long jobsBefore = db.queryLong("SELECT count(*) FROM job WHERE mapping = 'UNITS'");
        Thread.sleep(800);
        assertEquals(jobsBefore, db.queryLong("SELECT count(*) FROM job WHERE mapping = 'UNITS'"), "asleep");

        String auth = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey()).getBytes());
        HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl()
            + "/UnitOfMeasure")).header("Authorization", auth).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"Code\":\"PALLET\",\"Description\":\"Pallet\"}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(201, created.statusCode(), created.body());
        TestRuntimes.await("woken and synchronized", 20_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'UNITS'") == 6);
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
