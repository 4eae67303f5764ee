package dev.tandem.demo;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The demo sets its connection up the way a user does: through the setup guide of its own admin API, on first start
 * (connection, solution with the CRM simulator's administrator, integration user, every mapping, item availability
 * on), then the full synchronization in dependency order — instead of every schedule racing its dependencies.
 */
final class DemoGuide {

  /** The connection settings the launcher gives the demo; taken out of the node's configuration. */
  static final List<String> SETTINGS = List.of("TANDEM_ERP_PROFILE", "TANDEM_ERP_URL", "TANDEM_ERP_COMPANY",
      "TANDEM_ERP_TENANT", "TANDEM_ERP_TOKEN_URL", "TANDEM_ERP_CLIENT_ID", "TANDEM_ERP_CLIENT_SECRET",
      "TANDEM_ERP_USER", "TANDEM_ERP_ACCESS_KEY", "TANDEM_CRM_URL", "TANDEM_CRM_TOKEN_URL", "TANDEM_CRM_CLIENT_ID",
      "TANDEM_CRM_CLIENT_SECRET");
  static final String ADMIN_ID = "demo-crm-admin";
  static final String ADMIN_SECRET = "demo-crm-admin-secret";

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final String token;
  private final PrintStream out;

  DemoGuide(String base, String token, PrintStream out) {
    this.base = base;
    this.token = token;
    this.out = out;
  }

  private HttpResponse<String> send(String method, String url, String body, boolean auth) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(15))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (auth) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject step(String path, JsonObject body) throws Exception {
    HttpResponse<String> r = send("POST", base + "/api/v1/setup/" + path, body.encode(), true);
    if (r.statusCode() != 200) {
      throw new IllegalStateException("setup step " + path + " failed (" + r.statusCode() + "): " + r.body());
    }
    out.println("tandem demo: setup step " + path + " done");
    return new JsonObject(r.body());
  }

  /**
   * Runs the guide unless it is finished already.
   *
   * @param env the launcher's environment (the simulators' addresses and credentials)
   * @return whether it ran
   * @throws Exception when a step fails (its message names the check)
   */
  boolean runIfNeeded(Map<String, String> env) throws Exception {
    JsonObject guide = new JsonObject(send("GET", base + "/api/v1/setup", null, true).body());
    if (guide.getBoolean("finished", false)) {
      return false;
    }
    // The CRM simulator's administrator account, for the solution and integration-user steps.
    String crmApi = env.get("TANDEM_CRM_URL");
    String crmBase = crmApi.substring(0, crmApi.indexOf("/api/data"));
    HttpResponse<String> admin = send("POST", crmBase + "/__admin/sim/setup/admins", new JsonObject()
        .put("clientId", ADMIN_ID).put("clientSecret", ADMIN_SECRET)
        .put("roles", new JsonArray().add("System Administrator").add("System Customizer")).encode(), false);
    if (admin.statusCode() != 200) {
      throw new IllegalStateException("the CRM simulator did not create the administrator account: " + admin.body());
    }
    boolean online = "bc-online".equals(env.get("TANDEM_ERP_PROFILE"));
    JsonObject erp = new JsonObject().put("profile", online ? "bc-online" : "nav").put("url", env.get("TANDEM_ERP_URL"))
        .put("company", env.get("TANDEM_ERP_COMPANY"));
    if (online) {
      erp.put("tenant", env.get("TANDEM_ERP_TENANT")).put("tokenUrl", env.get("TANDEM_ERP_TOKEN_URL"))
          .put("clientId", env.get("TANDEM_ERP_CLIENT_ID")).put("clientSecret", env.get("TANDEM_ERP_CLIENT_SECRET"));
    } else {
      erp.put("user", env.get("TANDEM_ERP_USER")).put("accessKey", env.get("TANDEM_ERP_ACCESS_KEY"));
    }
    step("connection", new JsonObject().put("erp", erp).put("crm", new JsonObject().put("url", crmApi)
        .put("tokenUrl", env.get("TANDEM_CRM_TOKEN_URL")).put("applicationUsers", new JsonArray().add(new JsonObject()
            .put("clientId", env.get("TANDEM_CRM_CLIENT_ID")).put("clientSecret", env.get("TANDEM_CRM_CLIENT_SECRET"))))));
    JsonObject adminAccount = new JsonObject().put("clientId", ADMIN_ID).put("clientSecret", ADMIN_SECRET);
    step("solution", new JsonObject().put("admin", adminAccount));
    step("integration-user", new JsonObject().put("admin", adminAccount));
    JsonObject mappings = new JsonObject();
    new JsonObject(send("GET", base + "/api/v1/mappings", null, true).body()).getJsonArray("mappings")
        .forEach(m -> mappings.put(((JsonObject) m).getString("name"), new JsonObject().put("enabled", true)));
    JsonObject sync = new JsonObject().put("mappings", mappings);
    // Item availability on: on NAV the ERP simulator's web-service user answers it too; online every request goes
    // with the application's token.
    sync.put("availability", online ? new JsonObject().put("enabled", true) : new JsonObject().put("enabled", true)
        .put("user", env.get("TANDEM_ERP_USER")).put("accessKey", env.get("TANDEM_ERP_ACCESS_KEY")));
    step("synchronize", sync);
    step("finish", new JsonObject().put("startFullSync", true));
    out.println("tandem demo: the full synchronization runs in dependency order (GET /api/v1/full-sync)");
    return true;
  }
}
