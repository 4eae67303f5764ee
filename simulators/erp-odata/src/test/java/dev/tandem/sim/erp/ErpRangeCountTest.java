package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code $count} with a {@code $filter} bounding the primary key (OData v4 system query options, as Business Central
 * answers them): the count within a key range, further conditions applied, is the number of rows a full read with
 * the same filter returns, however the range is written.
 */
class ErpRangeCountTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void aKeyRangeCountsWhatAReadOfTheRangeReturns() throws Exception {
    send(erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":5,\"counts\":{\"Customer\":300}}");
    List<Map<String, Object>> keys = Json.objects(Json.object(get("Customer?$select=No&$orderby=No")).get("value"));
    String lo = (String) keys.get(50).get("No");
    String hi = (String) keys.get(200).get("No");
    for (String filter : List.of("No ge '" + lo + "' and No lt '" + hi + "'",
        "(Blocked eq ' ') and No ge '" + lo + "' and No lt '" + hi + "'", "'" + lo + "' le No and No le '" + hi + "'",
        "No gt '" + lo + "'", "No lt '" + hi + "'", "No eq '" + lo + "'", "Name ne 'x'")) {
      String f = URLEncoder.encode(filter, StandardCharsets.UTF_8).replace("+", "%20");
      long counted = ((Number) Json.object(get("Customer?$count=true&$top=0&$filter=" + f)).get("@odata.count"))
          .longValue();
      long read = Json.objects(Json.object(get("Customer?$select=No&$filter=" + f)).get("value")).size();
      assertEquals(read, counted, filter);
    }
    assertEquals(150L, ((Number) Json.object(get("Customer?$count=true&$top=0&$filter=" + URLEncoder.encode(
        "No ge '" + lo + "' and No lt '" + hi + "'", StandardCharsets.UTF_8).replace("+", "%20")))
        .get("@odata.count")).longValue());
  }

  private static String get(String path) throws Exception {
    ErpSimulator.Options o = erp.get().options();
    String auth = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl() + "/" + path))
        .header("Authorization", auth).header("Prefer", "odata.maxpagesize=1000").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  private static void send(String url, String body) throws Exception {
    HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
