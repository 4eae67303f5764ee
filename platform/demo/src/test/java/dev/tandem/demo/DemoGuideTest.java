package dev.tandem.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.connection.SecretCipher;
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
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The demo's first start: it runs the setup guide against the simulators, then the full synchronization; once. */
class DemoGuideTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  @Test
  void theDemoSetsItselfUpThroughTheGuide(@TempDir Path work) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    http.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/seed"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":3,\"counts\":{\"Customer\":40}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "accounts", null, Map.of("test.demo.Accounts", PluginJars.accountsToCrm("test.demo")),
        work);
    Map<String, String> env = new HashMap<>();
    ErpSimulator.Options o = erp.get().options();
    env.put("TANDEM_ERP_PROFILE", "nav");
    env.put("TANDEM_ERP_URL", erp.get().serviceRoot());
    env.put("TANDEM_ERP_COMPANY", o.company());
    env.put("TANDEM_ERP_USER", o.user());
    env.put("TANDEM_ERP_ACCESS_KEY", o.accessKey());
    env.put("TANDEM_CRM_URL", crm.get().apiUrl());
    env.put("TANDEM_CRM_TOKEN_URL", crm.get().tokenUrl());
    env.put("TANDEM_CRM_CLIENT_ID", "tandem-sync");
    env.put("TANDEM_CRM_CLIENT_SECRET", "tandem-secret");
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemRuntime rt = TandemRuntime.start(TestRuntimes.config(db.settings(), plugins),
          new SecretCipher(Base64.getDecoder().decode(SecretCipher.generateKey())))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      try {
        DemoGuide guide = new DemoGuide("http://localhost:" + rt.httpPort(), TestRuntimes.TOKEN, System.out);
        assertTrue(guide.runIfNeeded(env));
        TestRuntimes.await("full synchronization ended", 120_000, () -> {
          try {
            JsonObject run = new JsonObject(http.send(HttpRequest.newBuilder(URI.create("http://localhost:"
                + rt.httpPort() + "/api/v1/full-sync")).header("Authorization", "Bearer " + TestRuntimes.TOKEN)
                .build(), HttpResponse.BodyHandlers.ofString()).body()).getJsonObject("run");
            return run != null && "SUCCEEDED".equals(run.getString("status"));
          } catch (Exception e) {
            return false;
          }
        });
        assertEquals(40, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS' AND crm_id IS NOT NULL"));
        assertFalse(guide.runIfNeeded(env), "a finished guide is not run again on the next start");
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
