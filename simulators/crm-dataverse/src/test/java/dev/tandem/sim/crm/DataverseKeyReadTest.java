package dev.tandem.sim.crm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A read filtered on the primary key alone ({@code accountid eq a or accountid eq b}: how Tandem reads a page's
 * counterparts) is answered by key lookups instead of a scan of every row ({@link DataverseQueries#byKeys}): every
 * page — rows, order, next links — is the scan's.
 */
class DataverseKeyReadTest {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void keyLookupsAnswerWhatTheScanDoes() throws Exception {
    DataverseSimulator sim = crm.get();
    StringBuilder rows = new StringBuilder("{\"rows\":[");
    for (int i = 0; i < 300; i++) {
      rows.append(i == 0 ? "" : ",").append("{\"name\":\"Account ").append(i).append("\"}");
    }
    HttpResponse<String> seeded = raw("POST", sim.baseUrl() + "/__admin/sim/rows/accounts", rows + "]}", null);
    assertEquals(200, seeded.statusCode(), seeded.body());
    List<Object> ids = new ArrayList<>((List<?>) Json.object(seeded.body()).get("ids"));
    String a = (String) ids.get(17);
    String b = (String) ids.get(250);
    String c = (String) ids.get(3);
    String d = (String) ids.get(120);
    String absent = UUID.randomUUID().toString();
    List<String> filters = List.of(
        "accountid eq " + a,
        "accountid eq " + a + " or accountid eq " + b + " or accountid eq " + c + " or accountid eq " + d,
        "(accountid eq " + b + " or accountid eq " + absent + ") or (accountid eq " + a + " or accountid eq " + b + ")",
        "accountid eq " + c.toUpperCase(Locale.ROOT) + " or accountid eq " + d,
        "accountid eq " + absent,
        "accountid eq " + a + " or name eq 'Account 5'",
        "accountid eq " + a + " and name eq 'Account 17'",
        "accountid eq '" + b + "' or accountid eq " + c);
    String token = token(sim);
    for (String f : filters) {
      for (String select : List.of("", "&$select=accountid,name")) {
        String query = "accounts?$filter=" + URLEncoder.encode(f, StandardCharsets.UTF_8).replace("+", "%20") + select;
        List<String> indexed = pages(sim, query, token, true);
        List<String> scanned = pages(sim, query, token, false);
        assertEquals(scanned, indexed, f);
      }
    }
    assertTrue(pages(sim, "accounts?$filter=" + URLEncoder.encode("accountid eq " + a + " or accountid eq " + b
        + " or accountid eq " + c, StandardCharsets.UTF_8).replace("+", "%20"), token, true).size() == 2,
        "three rows at two a page: a next link, then the last row");
  }

  /** Every page of a read at two rows a page, each as its body. */
  private static List<String> pages(DataverseSimulator sim, String query, String token, boolean indexes)
      throws Exception {
    sim.useIndexes = indexes;
    try {
      List<String> out = new ArrayList<>();
      String url = sim.apiUrl() + "/" + query;
      while (url != null) {
        HttpResponse<String> r = raw("GET", url, null, token);
        assertEquals(200, r.statusCode(), r.body());
        out.add(r.body());
        Map<String, Object> body = Json.object(r.body());
        url = (String) body.get("@odata.nextLink");
      }
      return out;
    } finally {
      sim.useIndexes = true;
    }
  }

  private static String token(DataverseSimulator sim) throws Exception {
    HttpResponse<String> r = raw("POST", sim.tokenUrl(), "grant_type=client_credentials&client_id=tandem-sync"
        + "&client_secret=tandem-secret&scope=" + URLEncoder.encode(sim.scope(), StandardCharsets.UTF_8), null);
    assertEquals(200, r.statusCode(), r.body());
    return (String) Json.object(r.body()).get("access_token");
  }

  private static HttpResponse<String> raw(String method, String url, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token).header("Prefer", "odata.maxpagesize=2");
    } else {
      b.header("Content-Type", url.contains("/oauth2/") ? "application/x-www-form-urlencoded" : "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
