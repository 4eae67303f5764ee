package dev.tandem.runtime.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.crm.DataverseMetadata;
import dev.tandem.sim.crm.DataverseSimulator;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/**
 * Tandem's solution file is a real solution zip, and importing it into a fresh organization gives the tables the
 * state the simulator's {@code tandem-solution} organization (the one every other test starts from) has: the same
 * change tracking, the same added columns (which the simulator refuses before the import) and the same alternate
 * keys.
 */
class TandemSolutionIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final List<String> TABLES = List.of("account", "contact", "systemuser", "transactioncurrency",
      "uomschedule", "uom", "product", "pricelevel", "productpricelevel", "salesorder", "salesorderdetail", "team");

  private static HttpResponse<String> send(String url, String token, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theSolutionZipHoldsTheThreeRootFiles() throws Exception {
    List<String> names = new ArrayList<>();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(TandemSolution.zip()))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        names.add(e.getName());
      }
    }
    assertEquals(List.of("[Content_Types].xml", "solution.xml", "customizations.xml"), names);
    assertEquals(java.util.Arrays.toString(TandemSolution.zip()), java.util.Arrays.toString(TandemSolution.zip()),
        "the same bytes every time");
  }

  @Test
  void importingItGivesAFreshOrganizationTheTablesTandemNeeds() throws Exception {
    DataverseSimulator fresh = new DataverseSimulator();
    DataverseSimulator prepared = new DataverseSimulator();
    fresh.start();
    prepared.start();
    try {
      assertEquals(204, send(fresh.baseUrl() + "/__admin/sim/setup/fresh", null, "{}").statusCode());
      assertEquals(200, send(fresh.baseUrl() + "/__admin/sim/setup/admins", null, "{\"clientId\":\"adm\","
          + "\"clientSecret\":\"s\",\"roles\":[\"System Administrator\"]}").statusCode());
      HttpResponse<String> t = HTTP.send(HttpRequest.newBuilder(URI.create(fresh.tokenUrl()))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=adm&client_secret=s"
              + "&scope=" + java.net.URLEncoder.encode(
                  dev.tandem.runtime.connectors.crm.DataverseClient.defaultScope(fresh.apiUrl()),
                  java.nio.charset.StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, t.statusCode(), t.body());
      String token = new io.vertx.core.json.JsonObject(t.body()).getString("access_token");
      HttpResponse<String> imported = send(fresh.apiUrl() + "/ImportSolution", token, new io.vertx.core.json
          .JsonObject().put("OverwriteUnmanagedCustomizations", true).put("PublishWorkflows", true)
          .put("ImportJobId", UUID.randomUUID().toString())
          .put("CustomizationFile", Base64.getEncoder().encodeToString(TandemSolution.zip())).encode());
      assertEquals(204, imported.statusCode(), imported.body());
      DataverseMetadata a = fresh.metadata();
      DataverseMetadata b = prepared.metadata();
      for (String table : TABLES) {
        assertEquals(b.changeTrackingEnabled(table), a.changeTrackingEnabled(table), "change tracking of " + table);
        assertEquals(b.keys(table).stream().map(k -> k.schemaName() + k.attributes()).toList(),
            a.keys(table).stream().map(k -> k.schemaName() + k.attributes()).toList(), "keys of " + table);
        assertEquals(b.addedColumns(table), a.addedColumns(table), "columns added to " + table);
      }
      assertTrue(a.changeTrackingEnabled("account"));
      assertTrue(a.hasColumn("account", "tandem_overdueamounts"));
      assertTrue(a.hasColumn("salesorder", "tandem_erpstatus"));
    } finally {
      fresh.stop();
      prepared.stop();
    }
  }
}
