package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    return importBody(job, SolutionFiles.tandem());
  }

  private static String importBody(UUID job, String file) {
    return "{\"OverwriteUnmanagedCustomizations\":true,\"PublishWorkflows\":true,\"CustomizationFile\":\""
        + file + "\",\"ImportJobId\":\"" + job + "\"}";
  }

  /**
   * The solution file is a zip with solution.xml, customizations.xml and [Content_Types].xml at its root; anything
   * else is refused with the SDK's ImportCustomizationsBadZipFileError (0x80048060), malformed XML with
   * ImportInvalidXmlError (0x8004802c), a manifest without its required elements with ImportXsdValidationError
   * (0x8004801a), and a refused file changes nothing. The customizations are what the import applies: change
   * tracking on its tables, its alternate keys (Pending first), its roles.
   */
  @Test
  void theSolutionFileIsAZipWhoseCustomizationsTheImportApplies() throws Exception {
    assertEquals(204, admin("/sim/setup/fresh", "{}").statusCode());
    assertEquals(200, admin("/sim/setup/admins", "{\"clientId\":\"admin2\",\"clientSecret\":\"a\","
        + "\"roles\":[\"System Administrator\"]}").statusCode());
    String admin = token("admin2", "a");
    String notZip = Base64.getEncoder().encodeToString("TandemIntegration:1.0.0.0".getBytes());
    Map<String, String> noTypes = SolutionFiles.files(SolutionFiles.manifest("TandemIntegration", "1.0.0.0"),
        SolutionFiles.customizations());
    noTypes.remove("[Content_Types].xml");
    for (String file : List.of(notZip, SolutionFiles.base64(noTypes))) {
      HttpResponse<String> r = call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID(), file));
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(r.body().contains("0x80048060") && r.body().contains("solution.xml, customizations.xml, and "
          + "[Content_Types].xml"), r.body());
    }
    HttpResponse<String> malformed = call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID(),
        SolutionFiles.base64(SolutionFiles.files("<ImportExportXml><SolutionManifest>", SolutionFiles.customizations()))));
    assertEquals(400, malformed.statusCode());
    assertTrue(malformed.body().contains("0x8004802c"), malformed.body());
    HttpResponse<String> noVersion = call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID(),
        SolutionFiles.base64(SolutionFiles.files(SolutionFiles.manifest("TandemIntegration", "one"),
            SolutionFiles.customizations()))));
    assertEquals(400, noVersion.statusCode());
    assertTrue(noVersion.body().contains("0x8004801a") && noVersion.body().contains("Version"), noVersion.body());
    HttpResponse<String> unknownTable = call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID(),
        SolutionFiles.base64(SolutionFiles.files(SolutionFiles.manifest("TandemIntegration", "1.0.0.0"),
            SolutionFiles.customizations().replace("\"product\"", "\"nosuchtable\"")))));
    assertEquals(400, unknownTable.statusCode());
    assertTrue(unknownTable.body().contains("nosuchtable"), unknownTable.body());
    // Nothing of the refused files was applied.
    assertEquals(List.of(), Json.objects(Json.object(call(admin, "GET", "solutions?$select=uniquename", null).body())
        .get("value")).stream().filter(x -> "TandemIntegration".equals(x.get("uniquename"))).toList());
    assertFalse(sim.metadata().changeTrackingEnabled("account"));
    // A column the solution adds does not exist before it is imported: written or read, it is refused.
    HttpResponse<String> early = call(admin, "POST", "accounts", "{\"name\":\"Early\",\"tandem_balance\":5}");
    assertEquals(400, early.statusCode(), early.body());
    assertTrue(early.body().contains("0x80060888") && early.body().contains("tandem_balance"), early.body());
    assertEquals(400, call(admin, "GET", "accounts?$select=tandem_balance", null).statusCode());
    HttpResponse<String> unmodelled = call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID(),
        SolutionFiles.base64(SolutionFiles.files(SolutionFiles.manifest("TandemIntegration", "1.0.0.0"),
            SolutionFiles.customizations().replace("<LogicalName>tandem_balance<", "<LogicalName>tandem_x<")))));
    assertEquals(400, unmodelled.statusCode());
    assertTrue(unmodelled.body().contains("tandem_x"), unmodelled.body());

    assertEquals(204, call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID())).statusCode());
    assertEquals(List.of("tandem_balance"), sim.metadata().addedColumns("account"));
    HttpResponse<String> later = call(admin, "POST", "accounts", "{\"name\":\"Later\",\"tandem_balance\":5}");
    assertEquals(204, later.statusCode(), later.body());
    assertEquals(400, call(admin, "POST", "accounts", "{\"name\":\"X\",\"tandem_totalsales\":5}").statusCode(),
        "only the columns this solution declares");
    assertTrue(sim.metadata().changeTrackingEnabled("account"));
    assertTrue(sim.metadata().changeTrackingEnabled("product"));
    assertFalse(sim.metadata().changeTrackingEnabled("contact"), "only the tables the customizations name");
    assertEquals(List.of("tandem_accountnumber"), sim.metadata().keys("account").stream()
        .map(DataverseMetadata.Key::schemaName).toList());
    assertEquals(List.of(), sim.metadata().keys("product"));
    assertEquals(2, Json.objects(Json.object(call(admin, "GET", "roles?$filter=name%20eq%20'Integration%20"
        + "Administrator'", null).body()).get("value")).size());
    // A re-import (an upgrade) keeps the key it created.
    assertEquals(204, call(admin, "POST", "ImportSolution", importBody(UUID.randomUUID(), SolutionFiles.base64(
        SolutionFiles.files(SolutionFiles.manifest("TandemIntegration", "1.1.0.0"), SolutionFiles.customizations()))))
        .statusCode());
    assertEquals(1, sim.metadata().keys("account").size());
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
