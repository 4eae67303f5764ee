package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Business logic on a table's writes (plug-ins, workflows): it writes as SYSTEM after the client's write, so the
 * row's modifier, modifiedon and version move; a synchronous step shows in the client's answer, an asynchronous
 * one does not; writes by SYSTEM itself (seeding) trigger nothing.
 */
class DataverseServerLogicTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static String token;

  @BeforeEach
  void reset() throws Exception {
    admin("POST", "reset", "");
    token = (String) Json.object(HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().tokenUrl()))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
            "grant_type=client_credentials&client_id=tandem-sync&client_secret=tandem-secret&scope="
                + URLEncoder.encode(crm.get().scope(), StandardCharsets.UTF_8))).build(),
        HttpResponse.BodyHandlers.ofString()).body()).get("access_token");
  }

  private static HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().baseUrl() + "/__admin/sim/" + path))
        .header("Content-Type", "application/json").method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> create(String name) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(crm.get().apiUrl() + "/accounts"))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .header("Prefer", "return=representation")
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Map<String, Object> stored(String id) throws Exception {
    return Json.objects(Json.object(admin("GET", "rows/accounts?top=100", null).body()).get("rows")).stream()
        .filter(a -> id.equals(a.get("accountid"))).findFirst().orElseThrow();
  }

  @Test
  void aSynchronousStepShowsInTheAnswerAndAnAsynchronousOneOnlyAfterIt() throws Exception {
    assertEquals(204, admin("POST", "server-logic", "{\"entitySet\":\"accounts\",\"on\":[\"create\"],"
        + "\"set\":{\"description\":\"sync step\"}}").statusCode());
    HttpResponse<String> sync = create("A");
    assertEquals(201, sync.statusCode(), sync.body());
    Map<String, Object> answered = Json.object(sync.body());
    assertEquals("sync step", answered.get("description"));
    assertEquals(DataverseAdmin.systemUserId(), answered.get("_modifiedby_value"), "the step wrote last, as SYSTEM");
    assertEquals(sync.headers().firstValue("ETag").orElse(""), DataverseSimulator.etag(stored(
        (String) answered.get("accountid"))), "the answer's version is the stored one");

    admin("DELETE", "server-logic", null);
    assertEquals(204, admin("POST", "server-logic", "{\"entitySet\":\"accounts\",\"mode\":\"async\","
        + "\"set\":{\"description\":\"async step\"}}").statusCode());
    HttpResponse<String> async = create("B");
    Map<String, Object> own = Json.object(async.body());
    assertNull(own.get("description"), "the answer is the client's own write");
    assertTrue(!DataverseAdmin.systemUserId().equals(own.get("_modifiedby_value")));
    Map<String, Object> row = stored((String) own.get("accountid"));
    assertEquals("async step", row.get("description"));
    assertEquals(DataverseAdmin.systemUserId(), row.get("_modifiedby_value"));
    assertTrue(((Number) row.get("versionnumber")).longValue() > ((Number) own.get("versionnumber")).longValue(),
        "a newer version than the client's");
  }

  @Test
  void seededRowsTriggerNothingAndBadStepsAreRefused() throws Exception {
    admin("POST", "server-logic", "{\"entitySet\":\"accounts\",\"set\":{\"description\":\"x\"}}");
    admin("POST", "rows/accounts", "{\"rows\":[{\"name\":\"Seeded\"}]}");
    Map<String, Object> seeded = Json.objects(Json.object(admin("GET", "rows/accounts?top=10", null).body())
        .get("rows")).get(0);
    assertNull(seeded.get("description"), "SYSTEM's own writes run no step");
    assertEquals(400, admin("POST", "server-logic", "{\"entitySet\":\"nothing\",\"set\":{\"a\":1}}").statusCode());
    assertEquals(400, admin("POST", "server-logic", "{\"entitySet\":\"accounts\",\"set\":{}}").statusCode());
    assertEquals(400, admin("POST", "server-logic", "{\"entitySet\":\"accounts\",\"on\":[\"delete\"],"
        + "\"set\":{\"a\":1}}").statusCode());
  }
}
