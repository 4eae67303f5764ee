package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Every metric the Grafana dashboard in docs/ queries is in /metrics of a node that synchronized. */
class GrafanaDashboardIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void everyMetricTheDashboardQueriesExists(@TempDir Path work) throws Exception {
    Path dashboard = Path.of("").toAbsolutePath().getParent().getParent().resolve("docs/grafana-dashboard.json");
    JsonObject dash = new JsonObject(Files.readString(dashboard));
    Set<String> used = new TreeSet<>();
    Pattern metric = Pattern.compile("\\b((?:tandem|jvm|process|vertx)_[a-z0-9_]+)");
    for (Object p : dash.getJsonArray("panels")) {
      for (Object t : ((JsonObject) p).getJsonArray("targets")) {
        Matcher m = metric.matcher(((JsonObject) t).getString("expr"));
        while (m.find()) {
          used.add(m.group(1));
        }
      }
    }
    assertTrue(used.size() >= 10, used.toString());
    assertEquals("datasource", dash.getJsonObject("templating").getJsonArray("list").getJsonObject(0).getString("type"));

    HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":1,\"counts\":{}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "dash", null, Map.of("test.hardening.Currencies", AdminServerHardeningIT.PLUGIN), work);
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins)
          .withConnections(TestRuntimes.connections(erp.get(), crm.get())));
      try {
        String base = "http://localhost:" + rt.httpPort();
        long job = new JsonObject(post(base + "/api/v1/mappings/CURRENCIES/sync")).getLong("jobId");
        TestRuntimes.await("sync ended", 60_000, () -> "succeeded".equals(
            db.queryString("SELECT status FROM job WHERE id = " + job)));
        post(base + "/api/v1/full-sync/start");
        TestRuntimes.await("full sync ended", 60_000, () -> !"running".equals(
            db.queryString("SELECT status FROM full_sync_run ORDER BY id DESC LIMIT 1")));
        System.gc(); // the GC pause timer registers with the first collection it sees
        Set<String> missing = new TreeSet<>();
        try {
          TestRuntimes.await("every dashboard metric exported", 20_000, () -> {
          String text = get(base + "/metrics");
          missing.clear();
          for (String name : used) {
            if (!Pattern.compile("(?m)^" + name + "[{ ]").matcher(text).find()) {
              missing.add(name);
            }
          }
          return missing.isEmpty();
          });
        } catch (AssertionError timedOut) {
          // reported below, naming the metrics
        }
        assertTrue(missing.isEmpty(), "metrics the dashboard uses but /metrics lacks: " + missing);
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  private static String post(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static String get(String url) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
