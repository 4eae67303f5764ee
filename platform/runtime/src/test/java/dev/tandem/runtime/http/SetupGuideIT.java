package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.connection.SecretCipher;
import dev.tandem.runtime.plugins.PluginJars;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The setup guide end to end, through the HTTP API only: a node started without a connection, a fresh CRM (no
 * solution, an integration user without roles), to a finished full synchronization. A wrong key, a wrong company,
 * an unreachable endpoint and an administrator without the roles each fail their named check and change nothing;
 * the database holds no secret in clear text.
 */
class SetupGuideIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int CUSTOMERS = 120;
  private static final String ADMIN_SECRET = "admin-secret-4f1c9b";

  private static String sim(String base, String method, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/__admin/sim/" + path))
        .header("Content-Type", "application/json").method(method, body == null
            ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() / 100 == 2, path + ": " + r.body());
    return r.body();
  }

  private static HttpResponse<String> api(TandemRuntime rt, String method, String path, String body)
      throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject connection(String erpUrl, String company, String key) {
    ErpSimulator.Options o = erp.get().options();
    return new JsonObject()
        .put("erp", new JsonObject().put("profile", "nav").put("url", erpUrl).put("company", company)
            .put("user", o.user()).put("accessKey", key))
        .put("crm", new JsonObject().put("url", crm.get().apiUrl()).put("tokenUrl", crm.get().tokenUrl())
            .put("applicationUsers", new JsonArray().add(new JsonObject().put("clientId", "tandem-sync")
                .put("clientSecret", "tandem-secret"))));
  }

  private static void failsCheck(HttpResponse<String> r, String check) {
    assertEquals(422, r.statusCode(), r.body());
    JsonObject b = new JsonObject(r.body());
    assertTrue(b.getJsonObject("error").getString("message").startsWith("check " + check + " failed"), r.body());
    boolean named = false;
    for (Object o : b.getJsonArray("checks")) {
      JsonObject c = (JsonObject) o;
      if (c.getString("name").equals(check)) {
        named = true;
        assertFalse(c.getBoolean("ok"), r.body());
        assertTrue(c.getString("remedy") != null && !c.getString("remedy").isBlank(), "says what to do: " + r.body());
      }
    }
    assertTrue(named, r.body());
  }

  @Test
  void theGuideTakesAFreshOrganizationToAFinishedFullSynchronization(@TempDir Path work) throws Exception {
    String erpKey = erp.get().options().accessKey();
    sim(erp.get().baseUrl(), "POST", "seed", "{\"seed\":5,\"counts\":{\"Customer\":" + CUSTOMERS + "}}");
    sim(crm.get().baseUrl(), "POST", "setup/fresh", "{}");
    // The alternate keys' index job takes 3 s here (60 s by default): the guide waits for them to be Active.
    sim(crm.get().baseUrl(), "POST", "organization", "{\"keyIndexDelayMs\":3000}");
    sim(crm.get().baseUrl(), "POST", "setup/admins", "{\"clientId\":\"crm-admin\",\"clientSecret\":\""
        + ADMIN_SECRET + "\",\"roles\":[\"System Administrator\",\"System Customizer\"]}");
    sim(crm.get().baseUrl(), "POST", "setup/admins", "{\"clientId\":\"crm-customizer\",\"clientSecret\":\""
        + ADMIN_SECRET + "\",\"roles\":[\"System Customizer\"]}");
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    // Customers to accounts, addressed by the alternate key the solution creates (Active only after the import).
    PluginJars.jar(plugins, "accounts", null, Map.of("test.setup.Accounts", PluginJars.accountsToCrm("test.setup")
        .replace(".direction(Direction.TO_CRM)", ".direction(Direction.TO_CRM).crmAlternateKey(\"accountnumber\")")
        // A column this CRM does not have: the guide's finish names it (crm.columns) until the field is disabled.
        .replace(".field(\"No\", \"accountnumber\", Direction.TO_CRM)", ".field(\"No\", \"accountnumber\", "
            + "Direction.TO_CRM).field(\"Phone_No\", \"tandem_phonenumber\", Direction.TO_CRM)")),
        work);
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins)
          .withSchedules(new ScheduleSettings(true, 200, 0, 30_000));
      TandemRuntime rt = TandemRuntime.start(cfg, new SecretCipher(java.util.Base64.getDecoder()
          .decode(SecretCipher.generateKey()))).toCompletionStage().toCompletableFuture()
          .get(60, java.util.concurrent.TimeUnit.SECONDS);
      try {
        // Started without a connection: healthy, nothing scheduled, not connected.
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort()
            + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(0, db.queryLong("SELECT count(*) FROM schedule"));
        JsonObject before = new JsonObject(api(rt, "GET", "/api/v1/connection", null).body());
        assertFalse(before.getBoolean("connected"), before.encode());
        assertEquals("none", before.getJsonObject("source").getString("erp"));
        assertEquals(null, before.getValue("solution"), "no solution imported yet");
        assertEquals("not connected", new JsonObject(api(rt, "GET", "/api/v1/mappings", null).body())
            .getJsonArray("mappings").getJsonObject(0).getString("connection"));

        // Each wrong input fails its named check and stores nothing.
        String url = erp.get().serviceRoot();
        failsCheck(api(rt, "POST", "/api/v1/setup/connection", connection(url, erp.get().options().company(),
            "wrong-key").encode()), "erp.authenticated");
        failsCheck(api(rt, "POST", "/api/v1/setup/connection", connection(url, "No Such Company", erpKey).encode()),
            "erp.company");
        failsCheck(api(rt, "POST", "/api/v1/setup/connection", connection("http://127.0.0.1:1/BC/ODataV4",
            erp.get().options().company(), erpKey).encode()), "erp.reachable");
        assertEquals(0, db.queryLong("SELECT count(*) FROM connection_setting"), "nothing stored");
        assertEquals(0, db.queryLong("SELECT count(*) FROM connection_secret"), "nothing stored");

        // 1. Connection.
        HttpResponse<String> step1 = api(rt, "POST", "/api/v1/setup/connection",
            connection(url, erp.get().options().company(), erpKey).encode());
        assertEquals(200, step1.statusCode(), step1.body());
        assertEquals("solution", new JsonObject(step1.body()).getString("next"));
        JsonObject stored = new JsonObject(api(rt, "GET", "/api/v1/connection", null).body());
        assertTrue(stored.getJsonObject("erp").getJsonObject("accessKey").getBoolean("set"), stored.encode());
        assertFalse(stored.encode().contains(erpKey), "the key is never returned");
        assertFalse(stored.getBoolean("enabled"), "disabled until the guide finishes");
        assertEquals(0, db.queryLong("SELECT count(*) FROM schedule"), "nothing scheduled before the guide ends");

        // 2. The solution: an account without System Administrator is refused with the role's name.
        HttpResponse<String> wrongAdmin = api(rt, "POST", "/api/v1/setup/solution", new JsonObject().put("admin",
            new JsonObject().put("clientId", "crm-customizer").put("clientSecret", ADMIN_SECRET)).encode());
        failsCheck(wrongAdmin, "admin.roles");
        assertTrue(wrongAdmin.body().contains("System Administrator"), wrongAdmin.body());
        assertEquals("[]", new JsonObject(sim(crm.get().baseUrl(), "GET", "rows/solutions", null))
            .getJsonArray("rows").encode(), "nothing imported");
        HttpResponse<String> step2 = api(rt, "POST", "/api/v1/setup/solution", new JsonObject().put("admin",
            new JsonObject().put("clientId", "crm-admin").put("clientSecret", ADMIN_SECRET)).encode());
        assertEquals(200, step2.statusCode(), step2.body());
        JsonObject solution = new JsonObject(step2.body()).getJsonArray("steps").getJsonObject(1)
            .getJsonObject("result");
        assertEquals("1.0.0.0", solution.getString("version"), step2.body());
        assertEquals("ready", solution.getString("tables"), "change tracking and keys ready: " + step2.body());
        JsonObject window = new JsonObject(api(rt, "GET", "/api/v1/connection", null).body());
        assertEquals("TandemIntegration", window.getJsonObject("solution").getString("uniqueName"), window.encode());
        assertEquals("1.0.0.0", window.getJsonObject("solution").getString("version"), window.encode());

        // 3. The integration user gets its roles (the admin account is still in this node's memory); twice is once.
        HttpResponse<String> step3 = api(rt, "POST", "/api/v1/setup/integration-user", "{}");
        assertEquals(200, step3.statusCode(), step3.body());
        HttpResponse<String> again = api(rt, "POST", "/api/v1/setup/integration-user", "{}");
        assertEquals(200, again.statusCode(), again.body());
        assertEquals("[]", new JsonObject(again.body()).getJsonArray("steps").getJsonObject(2)
            .getJsonObject("result").getJsonArray("users").getJsonObject(0).getJsonArray("rolesAdded").encode(),
            "the second run adds nothing: " + again.body());

        // 4. What to synchronize: a choice the node cannot honour is refused by field.
        HttpResponse<String> unknown = api(rt, "POST", "/api/v1/setup/synchronize",
            "{\"mappings\":{\"NO-SUCH\":{\"enabled\":true}}}");
        assertEquals(400, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("mappings.NO-SUCH") && unknown.body().contains("ACCOUNTS"), unknown.body());
        HttpResponse<String> orders = api(rt, "POST", "/api/v1/setup/synchronize",
            "{\"salesOrders\":{\"enabled\":true,\"user\":\"orders\"}}");
        assertEquals(400, orders.statusCode(), orders.body());
        assertTrue(orders.body().contains("salesOrders.enabled"), orders.body());
        // 5. finish, starting the full synchronization.
        HttpResponse<String> step4 = api(rt, "POST", "/api/v1/setup/synchronize",
            "{\"mappings\":{\"ACCOUNTS\":{\"enabled\":true}}}");
        assertEquals(200, step4.statusCode(), step4.body());
        HttpResponse<String> unfit = api(rt, "POST", "/api/v1/setup/finish", "{\"startFullSync\":true}");
        failsCheck(unfit, "crm.columns");
        assertTrue(unfit.body().contains("Phone_No -> tandem_phonenumber"), unfit.body());
        assertFalse(new JsonObject(api(rt, "GET", "/api/v1/connection", null).body()).getBoolean("enabled"),
            "a failed finish leaves the connection disabled");
        HttpResponse<String> fixed = api(rt, "PATCH", "/api/v1/mappings/ACCOUNTS",
            "{\"disabledFields\":[\"tandem_phonenumber\"]}");
        assertEquals(200, fixed.statusCode(), fixed.body());
        HttpResponse<String> step5 = api(rt, "POST", "/api/v1/setup/finish", "{\"startFullSync\":true}");
        assertEquals(200, step5.statusCode(), step5.body());
        JsonObject finished = new JsonObject(step5.body());
        assertTrue(finished.getBoolean("finished"), step5.body());
        JsonObject result = finished.getJsonArray("steps").getJsonObject(4).getJsonObject("result");
        assertTrue(result.getJsonObject("review").encode().contains("ACCOUNTS"), "the review per mapping: "
            + step5.body());

        TestRuntimes.await("full synchronization ended", 120_000, () -> {
          try {
            JsonObject run = new JsonObject(api(rt, "GET", "/api/v1/full-sync", null).body()).getJsonObject("run");
            return run != null && !"RUNNING".equals(run.getString("status"));
          } catch (Exception e) {
            return false;
          }
        });
        JsonObject review = new JsonObject(api(rt, "GET", "/api/v1/full-sync", null).body());
        assertEquals("SUCCEEDED", review.getJsonObject("run").getString("status"), review.encode());
        assertEquals(CUSTOMERS, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'ACCOUNTS' "
            + "AND crm_id IS NOT NULL"));

        // The connection test now passes every check.
        JsonObject test = new JsonObject(api(rt, "POST", "/api/v1/connection/test", null).body());
        assertTrue(test.getBoolean("ok"), test.encodePrettily());

        // No secret in clear text anywhere in the database.
        StringBuilder dump = new StringBuilder();
        for (String table : db.queryStrings("SELECT table_name FROM information_schema.tables WHERE table_schema = '"
            + db.schema() + "'")) {
          db.queryStrings("SELECT t::text FROM \"" + db.schema() + "\".\"" + table + "\" t")
              .forEach(row -> dump.append(row).append('\n'));
        }
        for (String secret : List.of(erpKey, "tandem-secret", ADMIN_SECRET)) {
          assertFalse(dump.toString().contains(secret), "a secret is in the database in clear text");
        }
        assertTrue(dump.toString().contains("tandem-sync"), "the dump did read the connection");
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
