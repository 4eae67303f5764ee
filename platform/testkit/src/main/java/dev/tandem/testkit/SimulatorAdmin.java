package dev.tandem.testkit;

import dev.tandem.sim.core.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

/**
 * A plugin test's calls to a simulator's admin API ({@code /__admin/sim/...}: seed, rows, faults, clock), so plugin
 * tests share one client instead of each writing its own.
 */
public final class SimulatorAdmin {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private SimulatorAdmin() {}

  /**
   * Sends a JSON request that must succeed.
   *
   * @param method HTTP method
   * @param url the whole URL, e.g. {@code erp.get().baseUrl() + "/__admin/sim/seed"}
   * @param body a JSON body, or null
   * @return the response body
   * @throws Exception on I/O failure, or an AssertionError for a status of 300 or more
   */
  public static String http(String method, String url, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type",
        "application/json").method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() >= 300) {
      throw new AssertionError(method + " " + url + " gave " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  /**
   * @param baseUrl a simulator's base URL
   * @param entitySet an entity set (CRM) or service (ERP)
   * @return its rows as the simulator stores them (up to 10,000)
   * @throws Exception on I/O failure
   */
  public static List<Map<String, Object>> rows(String baseUrl, String entitySet) throws Exception {
    return Json.objects(Json.object(http("GET", baseUrl + "/__admin/sim/rows/" + entitySet + "?top=10000", null))
        .get("rows"));
  }
}
