package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.ErpNotificationSettings;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import dev.tandem.runtime.plugins.PluginJars;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Business Central online webhooks end to end: Tandem subscribes (the simulator's handshake reaches its
 * {@code /erp/notifications}), an ERP change wakes the mapping at once with no schedule and no polling, a deletion
 * makes the deletion check due though its interval is an hour away, a forged notification is refused, and a
 * notification that never arrives loses nothing: the next incremental run reads the change.
 */
class ErpNotificationsIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final String PLUGIN = """
      package test.hooks;

      import dev.tandem.api.*;
      import java.util.List;
      import org.pf4j.Extension;

      @Extension
      public class Customers implements EntityPlugin {
        @Override
        public List<MappingDefinition> mappings() {
          return List.of(MappingDefinition.builder("CUSTOMER")
              .erp("Customer", "No").crm("accounts", "accountid").direction(Direction.TO_CRM)
              .field("Name", "name", Direction.TO_CRM)
              .build());
        }
      }
      """;

  @Test
  void notificationsWakeTheMappingAndADroppedOneLosesNothing(@TempDir Path work) throws Exception {
    String admin = erp.get().baseUrl() + "/__admin/sim";
    send("POST", admin + "/reset", "", null);
    send("POST", admin + "/seed", "{\"seed\":2,\"counts\":{\"Customer\":20}}", null);
    send("POST", admin + "/webhooks", "{\"delayMs\":0}", null);
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "hooks", null, Map.of("test.hooks.Customers", PLUGIN), work);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Connections base = TestRuntimes.connections(erp.get(), crm.get());
    Connections connections = new Connections(base.erp(), base.crm(), new ErpNotificationSettings(
        "http://127.0.0.1:" + port + "/erp/notifications", 86_400_000, 500));
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig c = TestRuntimes.config(db.settings(), plugins);
      // No schedules on this node, and a deletion check due only once an hour: only notifications wake the mapping.
      TandemConfig config = new TandemConfig(c.database(), c.httpHost(), port, c.adminToken(), c.pluginsDir(),
          c.nodeId(), c.jobs(), new ScheduleSettings(false, 1000, 0, 30_000, 3_600_000), c.plugins(), connections,
          c.http());
      TandemRuntime rt = TestRuntimes.start(config);
      try {
        runSync(rt);
        TestRuntimes.await("the first run coupled the customers", 30_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMER' AND crm_id IS NOT NULL")
                >= 19);
        TestRuntimes.await("Tandem subscribed", 30_000,
            () -> db.queryLong("SELECT count(*) FROM erp_subscription WHERE mapping = 'CUSTOMER'") == 1);
        Map<String, Object> state = Json.object(send("GET", admin + "/webhooks", null, null).body());
        assertEquals(1, Json.objects(state.get("subscriptions")).size());
        assertTrue(((String) Json.objects(state.get("subscriptions")).get(0).get("resource")).endsWith("/customers"));

        String token = erpToken();
        List<Map<String, Object>> rows = Json.objects(Json.object(send("GET", erp.get().companyUrl()
            + "/Customer?$select=No&$filter=" + enc("Blocked eq ' '") + "&$top=4", null, token).body()).get("value"));
        long jobs = jobs(db);
        patch(rows.get(0).get("No"), "Pushed by a webhook", token);
        TestRuntimes.await("the notification ran the mapping and the change reached the CRM", 30_000,
            () -> crmHas("Pushed by a webhook"));
        assertTrue(db.queryLong("SELECT count(*) FROM job WHERE mapping = 'CUSTOMER' AND parameters ->> 'trigger' = "
            + "'erp-notification'") >= 1);
        TestRuntimes.await("that run ended", 30_000, () -> queued(db) == 0);

        // A forged notification: right subscription id, wrong clientState.
        String subscriptionId = db.queryString("SELECT subscription_id FROM erp_subscription");
        HttpResponse<String> forged = send("POST", "http://127.0.0.1:" + port + "/erp/notifications",
            Json.write(Map.of("value", List.of(Map.of("subscriptionId", subscriptionId, "clientState", "guess",
                "changeType", "updated", "resource", "x")))), null);
        assertEquals(401, forged.statusCode(), forged.body());
        HttpResponse<String> handshake = send("POST", "http://127.0.0.1:" + port
            + "/erp/notifications?validationToken=abc-123", "", null);
        assertEquals(200, handshake.statusCode());
        assertEquals("abc-123", handshake.body());

        // A deletion: the notification makes the deletion check due at once.
        send("DELETE", erp.get().companyUrl() + "/Customer('" + rows.get(1).get("No") + "')", null, token);
        TestRuntimes.await("the deletion was found by the woken run", 30_000,
            () -> db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'CUSTOMER' AND deleted_side = 'ERP'")
                == 1);

        // A paused schedule stays paused: an operator paused it, so a notification neither wakes it nor runs the
        // mapping; the change is read once it is woken (here: the next incremental run).
        TestRuntimes.await("runs ended", 30_000, () -> queued(db) == 0);
        db.exec("INSERT INTO schedule (mapping, kind, interval_ms, inactivity_timeout_ms) VALUES ('CUSTOMER', 'SYNC', "
            + "30000, 0) ON CONFLICT (mapping, kind) DO NOTHING");
        String api = "http://127.0.0.1:" + port + "/api/v1/schedules/CUSTOMER/";
        assertEquals(200, send("POST", api + "pause", "{\"reason\":\"ERP upgrade\"}", TestRuntimes.TOKEN)
            .statusCode());
        long whilePaused = jobs(db);
        patch(rows.get(3).get("No"), "Changed while paused", token);
        Thread.sleep(1500);
        assertEquals(whilePaused, jobs(db), "a notification runs nothing for a paused mapping");
        assertEquals("paused", db.queryString("SELECT state FROM schedule WHERE mapping = 'CUSTOMER'"));
        assertTrue(!crmHas("Changed while paused"));
        assertEquals(200, send("POST", api + "wake", null, TestRuntimes.TOKEN).statusCode());
        runSync(rt);
        TestRuntimes.await("the change made while paused is read after waking", 30_000,
            () -> crmHas("Changed while paused"));

        // A notification that never arrives: nothing runs, and the next incremental run still reads the change.
        TestRuntimes.await("runs ended", 30_000, () -> queued(db) == 0);
        send("POST", admin + "/webhooks", "{\"dropNext\":1}", null);
        long before = jobs(db);
        patch(rows.get(2).get("No"), "Notification lost", token);
        TestRuntimes.await("the simulator dropped the notification", 30_000, () -> {
          try {
            return ((Number) Json.object(send("GET", admin + "/webhooks", null, null).body()).get("dropped"))
                .longValue() == 1;
          } catch (Exception e) {
            return false;
          }
        });
        Thread.sleep(1000);
        assertEquals(before, jobs(db), "no notification, no run");
        assertTrue(!crmHas("Notification lost"));
        runSync(rt);
        TestRuntimes.await("the periodic incremental read caught it", 30_000, () -> crmHas("Notification lost"));
        assertTrue(jobs > 0);
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  private static long jobs(TestDatabase db) {
    return db.queryLong("SELECT count(*) FROM job WHERE mapping = 'CUSTOMER'");
  }

  private static long queued(TestDatabase db) {
    return db.queryLong("SELECT count(*) FROM job WHERE mapping = 'CUSTOMER' AND status IN ('queued', 'running')");
  }

  private static void runSync(TandemRuntime rt) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort()
            + "/api/v1/mappings/CUSTOMER/sync")).header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() < 300, r.body());
  }

  private static boolean crmHas(String name) {
    try {
      String url = crm.get().baseUrl() + "/__admin/sim/rows/accounts";
      return send("GET", url, null, null).body().contains(name);
    } catch (Exception e) {
      return false;
    }
  }

  private static void patch(Object no, String name, String token) throws Exception {
    HttpResponse<String> r = send("PATCH", erp.get().companyUrl() + "/Customer('" + no + "')",
        Json.write(Map.of("Name", name)), token);
    assertEquals(200, r.statusCode(), r.body());
  }

  private static String erpToken() throws Exception {
    ErpSimulator.Options o = erp.get().options();
    String form = "grant_type=client_credentials&client_id=" + enc(o.clientId()) + "&client_secret="
        + enc(o.clientSecret()) + "&scope=" + enc(ErpSimulator.scope());
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
        .build(), HttpResponse.BodyHandlers.ofString());
    return (String) Json.object(r.body()).get("access_token");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static HttpResponse<String> send(String method, String url, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json").header("Accept", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token).header("If-Match", "*");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
