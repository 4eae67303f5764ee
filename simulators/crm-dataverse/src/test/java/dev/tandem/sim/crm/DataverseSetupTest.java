package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The set-up actions as Dataverse performs them. Sources: the ImportSolution Action reference (its four
 * non-nullable parameters), associate with {@code $ref} (Web API), the "Cannot insert duplicate key" error
 * (0x80040237), and the missing-privilege error (0x80040220) for prvImportCustomizations and prvAssignRole.
 */
class DataverseSetupTest {

  private static DataverseSimulator sim;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    sim = new DataverseSimulator();
    sim.start();
  }

  @AfterAll
  static void stop() {
    sim.stop();
  }

  private static String token(String client, String secret) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(sim.tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + client
            + "&client_secret=" + secret + "&scope=" + java.net.URLEncoder.encode(sim.scope(),
                java.nio.charset.StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
    return (String) Json.object(r.body()).get("access_token");
  }

  private static HttpResponse<String> call(String token, String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/" + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> admin(String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/__admin" + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String importBody(UUID job) {
    return "{\"OverwriteUnmanagedCustomizations\":true,\"PublishWorkflows\":true,\"CustomizationFile\":\""
        + Base64.getEncoder().encodeToString("TandemIntegration:1.0.0.0".getBytes()) + "\",\"ImportJobId\":\""
        + job + "\"}";
  }

  @Test
  void freshOrganizationToImportedSolutionAndRoles() throws Exception {
    assertEquals(204, admin("/sim/setup/fresh", "{}").statusCode());
    assertEquals(200, admin("/sim/setup/admins", "{\"clientId\":\"customizer\",\"clientSecret\":\"c\","
        + "\"roles\":[\"System Customizer\"]}").statusCode());
    assertEquals(200, admin("/sim/setup/admins", "{\"clientId\":\"admin\",\"clientSecret\":\"a\","
        + "\"roles\":[\"System Administrator\"]}").statusCode());
    String integration = token("tandem-sync", "tandem-secret");
    String user = sim.integrationUserId();

    // A new integration user without roles may not touch data.
    HttpResponse<String> refused = call(integration, "GET", "accounts?$select=name", null);
    assertEquals(403, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("missing prvReadAccount privilege"), refused.body());
    // Nor import: prvImportCustomizations.
    HttpResponse<String> noImport = call(integration, "POST", "ImportSolution", importBody(UUID.randomUUID()));
    assertEquals(403, noImport.statusCode());
    assertTrue(noImport.body().contains("prvImportCustomizations"), noImport.body());
    // The solution's roles do not exist yet.
    String admin = token("admin", "a");
    assertEquals(List.of(), Json.objects(Json.object(call(admin, "GET",
        "roles?$filter=name%20eq%20'Integration%20User'", null).body()).get("value")));

    // A System Customizer may import; every non-nullable parameter is required.
    String customizer = token("customizer", "c");
    HttpResponse<String> missing = call(customizer, "POST", "ImportSolution", "{\"CustomizationFile\":\"AA==\"}");
    assertEquals(400, missing.statusCode());
    assertTrue(missing.body().contains("OverwriteUnmanagedCustomizations"), missing.body());
    UUID job = UUID.randomUUID();
    HttpResponse<String> imported = call(customizer, "POST", "ImportSolution", importBody(job));
    assertEquals(204, imported.statusCode(), imported.body());
    Map<String, Object> importJob = Json.object(call(admin, "GET", "importjobs(" + job + ")", null).body());
    assertEquals(100.0, ((Number) importJob.get("progress")).doubleValue());
    assertEquals("1.0.0.0", Json.objects(Json.object(call(admin, "GET",
        "solutions?$filter=uniquename%20eq%20'TandemIntegration'", null).body()).get("value")).get(0).get("version"));

    // One copy per business unit: the root's and a child's whose parent is the root's.
    List<Map<String, Object>> copies = Json.objects(Json.object(call(admin, "GET",
        "roles?$filter=name%20eq%20'Integration%20User'", null).body()).get("value"));
    assertEquals(2, copies.size());
    Map<String, Object> root = copies.stream().filter(r -> r.get("_parentroleid_value") == null).findFirst()
        .orElseThrow();
    assertEquals(sim.businessUnitId, root.get("_businessunitid_value"));

    // Associating needs prvAssignRole (the customizer lacks it); the administrator may; a duplicate is refused.
    String ref = "{\"@odata.id\":\"" + sim.apiUrl() + "/roles(" + root.get("roleid") + ")\"}";
    String path = "systemusers(" + user + ")/systemuserroles_association/$ref";
    assertEquals(403, call(customizer, "POST", path, ref).statusCode());
    assertEquals(204, call(admin, "POST", path, ref).statusCode());
    HttpResponse<String> duplicate = call(admin, "POST", path, ref);
    assertEquals(400, duplicate.statusCode());
    assertTrue(duplicate.body().contains("Cannot insert duplicate key"), duplicate.body());
    assertEquals(List.of("Integration User"), Json.objects(Json.object(call(admin, "GET",
        "systemusers(" + user + ")/systemuserroles_association", null).body()).get("value")).stream()
        .map(r -> r.get("name")).toList());
    // Holding a role, the integration user may read.
    assertEquals(200, call(integration, "GET", "accounts?$select=name", null).statusCode());
  }
}
