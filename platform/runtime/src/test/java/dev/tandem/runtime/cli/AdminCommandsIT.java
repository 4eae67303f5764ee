package dev.tandem.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.Main;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.http.AdminServerHardeningIT;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
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
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bin/tandem} subcommands against a running node (with simulators), their output and exit codes. */
class AdminCommandsIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  @TempDir
  static Path work;

  private static TestDatabase db;
  private static TandemRuntime rt;

  record Run(int exit, String out, String err) {}

  @BeforeAll
  static void start() throws Exception {
    HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":1,\"counts\":{}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "cli", null, Map.of("test.hardening.Currencies", AdminServerHardeningIT.PLUGIN), work);
    db = TestDatabase.fresh();
    rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins)
        .withConnections(TestRuntimes.connections(erp.get(), crm.get())));
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(rt);
    db.close();
  }

  static Run tandem(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    int at = args[0].equals("full-sync") ? 2 : 1; // the options belong to the leaf subcommand
    if (!all.contains("--url")) {
      all.addAll(at, List.of("--url", "http://localhost:" + rt.httpPort()));
    }
    if (!all.contains("--token")) {
      all.addAll(at, List.of("--token", TestRuntimes.TOKEN));
    }
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void statusMappingsJobsAndErrors() {
    Run status = tandem("status");
    assertEquals(0, status.exit(), status.err());
    assertTrue(status.out().contains("ready"), status.out());
    Run json = tandem("status", "--json");
    assertEquals(1, new JsonObject(json.out()).getInteger("plugins"), json.out());
    Run mappings = tandem("mappings");
    assertTrue(mappings.out().contains("CURRENCIES") && mappings.out().contains("TO_CRM"), mappings.out());
    Run sync = tandem("sync", "CURRENCIES", "--wait");
    assertEquals(0, sync.exit(), sync.out() + sync.err());
    assertTrue(sync.out().contains("SUCCEEDED"), sync.out());
    Run jobs = tandem("jobs", "--json", "--mapping", "CURRENCIES");
    // The listing holds the job just run (the mapping's schedule may have queued a newer one since).
    long syncJob = Long.parseLong(sync.out().trim().split("\\s+")[1]);
    assertEquals("SUCCEEDED", new JsonObject(jobs.out()).getJsonArray("jobs").stream().map(JsonObject.class::cast)
        .filter(j -> j.getLong("id") == syncJob).findFirst().orElseThrow().getString("status"), jobs.out());
    assertTrue(tandem("jobs").out().startsWith("ID"), "a table");
    Run errors = tandem("errors");
    assertEquals(0, errors.exit(), errors.err());
    Run retry = tandem("errors", "--retry", "--mapping", "CURRENCIES");
    assertEquals(0, retry.exit(), retry.err());
    assertTrue(retry.out().contains("records to retry"), retry.out());
  }

  @Test
  void exitCodesScriptsCanUse() throws Exception {
    Run unknown = tandem("sync", "NOPE");
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().contains("no installed plugin provides mapping NOPE"), unknown.err());
    Run noMatchFields = tandem("couple-by-match", "CURRENCIES");
    assertEquals(1, noMatchFields.exit());
    assertTrue(noMatchFields.err().contains("409"), noMatchFields.err());
    Run badToken = tandem("mappings", "--token", "wrong-token-0123456789");
    assertEquals(4, badToken.exit());
    assertTrue(badToken.err().contains("TANDEM_TOKEN"), badToken.err());
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Run unreachable = tandem("status", "--url", "http://127.0.0.1:" + closed);
    assertEquals(3, unreachable.exit());
    assertTrue(unreachable.err().contains("TANDEM_URL"), unreachable.err());
    assertEquals(2, Main.commandLine().setErr(new PrintWriter(new StringWriter())).execute("jobs", "--limit", "many"));
  }

  @Test
  void fullSyncStartAndWatchDrawsTheProgressUntilItEnds() throws Exception {
    Run watched = tandem("full-sync", "start", "--watch");
    assertTrue(watched.out().contains("] 100%"), watched.out());
    // the exit status is the run's outcome as the API reports it
    JsonObject run = new JsonObject(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        "http://localhost:" + rt.httpPort() + "/api/v1/full-sync?counts=false"))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).build(), HttpResponse.BodyHandlers.ofString())
        .body()).getJsonObject("run");
    String status = run.getString("status");
    assertTrue(status.equals("SUCCEEDED") || status.equals("FAILED"), run.encode());
    int expected = status.equals("SUCCEEDED") ? 0 : 1;
    assertEquals(expected, watched.exit(), watched.out() + watched.err());
    assertTrue(watched.out().contains("full synchronization " + status.toLowerCase(java.util.Locale.ROOT)),
        watched.out());
    Run again = tandem("full-sync", "watch");
    assertEquals(expected, again.exit(), again.out() + again.err());
  }

  @Test
  void theProgressBarSumsTheLines() {
    JsonObject p = new JsonObject("{\"run\":{\"status\":\"RUNNING\"},\"lines\":[{\"mapping\":\"CUSTOMER\","
        + "\"toCrm\":{\"status\":\"IN_PROCESS\",\"done\":250,\"estimated\":1000,\"ratePerSecond\":50.0},"
        + "\"fromCrm\":{\"status\":\"NOT_STARTED\"}},{\"mapping\":\"ITEM\",\"toCrm\":{\"status\":\"SUCCESS\","
        + "\"done\":1000,\"estimated\":1000}}]}");
    String bar = AdminCommands.FullSync.Watch.bar(p);
    assertTrue(bar.startsWith("[###################...........]  63%  1250/2000 rows  CUSTOMER 50.0/s"), bar);
  }

  @Test
  void completionScriptForBashAndZsh() {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    assertEquals(0, cl.execute("generate-completion"));
    assertTrue(out.toString().contains("complete -F"), out.toString().substring(0, 200));
    assertTrue(out.toString().contains("couple-by-match"));
  }
}
