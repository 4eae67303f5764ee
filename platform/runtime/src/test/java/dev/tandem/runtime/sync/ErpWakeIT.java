package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
class ErpWakeIT {

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

  private static final String LEDGER_PLUGIN = """
      package test.wake;

      import dev.tandem.api.*;
      import java.time.Duration;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Stock implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("CUSTOMERS")
              .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
              .field("No", "accountnumber", Direction.TO_CRM)
              .field("Name", "name", Direction.TO_CRM)
              .schedule(Duration.ofMillis(300))
              .build());
        }

        @Override
        public List<LedgerJobDefinition> ledgerJobs() {
          return List.of(new LedgerJobDefinition("BALANCE", "CUSTOMERS", "CustLedgerEntries", "Entry_No",
              "Customer_No", "Balance_LCY", "creditlimit", Duration.ofMillis(300)));
        }
      }
      """;

  @Test
  void aPostingWakesTheLedgerJobNotTheMapping(@TempDir Path work) throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/reset"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl() + "/__admin/sim/reset"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":1,\"counts\":{\"Customer\":5}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "stock", null, Map.of("test.wake.Stock", LEDGER_PLUGIN), work);
    Connections connections = TestRuntimes.connections(erp.get(), crm.get());
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins).withConnections(connections)
          .withSchedules(new ScheduleSettings(true, 100, 1_000, 200)));
      try {
        try {
          TestRuntimes.await("customers coupled and their balance pushed", 30_000,
              () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMERS'") == 5
                  && db.queryLong("SELECT count(*) FROM ledger_pending_coupling") == 0
                  && db.queryLong("SELECT count(*) FROM ledger_position WHERE job = 'BALANCE'") == 1);
        } catch (AssertionError e) {
          throw new AssertionError(e.getMessage() + "; jobs: " + db.queryString("SELECT string_agg(kind || ' ' "
              + "|| mapping || ' ' || status || ' ' || coalesce(message, ''), ' | ') FROM job"), e);
        }
        TestRuntimes.await("both schedules on hold", 30_000,
            () -> db.queryLong("SELECT count(*) FROM schedule WHERE mapping IN ('CUSTOMERS', 'BALANCE') "
                + "AND state = 'on_hold'") == 2);
        long customerJobs = db.queryLong("SELECT count(*) FROM job WHERE mapping = 'CUSTOMERS'");
        long balanceJobs = db.queryLong("SELECT count(*) FROM job WHERE mapping = 'BALANCE' AND kind = 'LEDGER'");
        String customerNo = db.queryString("SELECT erp_id FROM coupling WHERE mapping = 'CUSTOMERS' ORDER BY erp_id "
            + "LIMIT 1");
        String accountId = db.queryString("SELECT crm_id FROM coupling WHERE erp_id = '" + customerNo + "'");
        // An invoice is posted: Balance_LCY moves, the Customer's SystemModifiedAt does not.
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl()
            + "/__admin/sim/customer-entries")).POST(HttpRequest.BodyPublishers.ofString("{\"customerNo\":\""
            + customerNo + "\",\"amount\":4321}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, posted.statusCode(), posted.body());
        TestRuntimes.await("the ledger job woke and pushed the balance", 30_000, () -> {
          String body;
          try {
            body = HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl()
                + "/__admin/sim/rows/accounts?top=100")).build(), HttpResponse.BodyHandlers.ofString()).body();
          } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return dev.tandem.sim.core.Json.objects(dev.tandem.sim.core.Json.object(body).get("rows")).stream()
              .anyMatch(p -> accountId.equals(p.get("accountid")) && p.get("creditlimit") instanceof Number n
                  && n.intValue() == 4321);
        });
        assertTrue(db.queryLong("SELECT count(*) FROM job WHERE mapping = 'BALANCE'") > balanceJobs);
        assertEquals(customerJobs, db.queryLong("SELECT count(*) FROM job WHERE mapping = 'CUSTOMERS'"),
            "a posting does not modify the Customer: CUSTOMERS stays asleep");
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
