package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.core.SimulatorExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The simulator's indexes ({@link ErpIndexedRead}: {@code SystemModifiedAt} filters and orderings, key-range counts)
 * only save CPU: every read answers what the scan and sort of every row answers — rows, order, next links, counts —
 * and charges the realistic cost model the same server time, page by page.
 */
class ErpIndexedReadTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void indexedReadsAnswerAndChargeWhatTheScanDoes() throws Exception {
    ErpSimulator sim = erp.get();
    send("POST", sim.baseUrl() + "/__admin/sim/seed", "{\"seed\":11,\"counts\":{\"Customer\":1500}}");
    List<Map<String, Object>> all = Json.objects(Json.object(get("Customer?$select=No,SystemModifiedAt&$orderby=No"))
        .get("value"));
    String seeded = (String) all.get(all.size() / 2).get("SystemModifiedAt");
    // Later changes in a key order unlike their stamp order, a few blocked, a few deleted.
    for (int i = 0; i < 60; i++) {
      String no = (String) all.get((i * 37) % all.size()).get("No");
      send("PATCH", sim.companyUrl() + "/Customer('" + no + "')",
          i % 5 == 0 ? "{\"Blocked\":\"All\"}" : "{\"Name\":\"Changed " + i + "\"}");
    }
    for (int i = 0; i < 5; i++) {
      send("DELETE", sim.companyUrl() + "/Customer('" + all.get(100 + i * 211).get("No") + "')", null);
    }
    List<Map<String, Object>> now = Json.objects(Json.object(get(
        "Customer?$select=No,SystemModifiedAt&$orderby=SystemModifiedAt")).get("value"));
    String recent = (String) now.get(now.size() - 30).get("SystemModifiedAt");
    String newest = (String) now.get(now.size() - 1).get("SystemModifiedAt");
    String lo = (String) all.get(200).get("No");
    String hi = (String) all.get(1200).get("No");
    String mid = (String) all.get(700).get("No");
    String gone = (String) all.get(100 + 211).get("No");

    assertTrue(sim.store().read(() -> sim.store().table("Customer").wellFormed(ErpIndexedRead.MODIFIED)),
        "every stamp in the index's format, so the indexed reads start at their bound");
    sim.protection().costs(ErpCosts.realistic(1));
    try {
      for (String query : List.of(
          "$filter=" + enc("SystemModifiedAt gt " + recent) + "&$orderby=SystemModifiedAt",
          "$filter=" + enc("SystemModifiedAt gt " + seeded) + "&$orderby=SystemModifiedAt",
          "$filter=" + enc("SystemModifiedAt ge " + recent) + "&$orderby=SystemModifiedAt%20desc",
          "$filter=" + enc("SystemModifiedAt gt " + newest) + "&$orderby=SystemModifiedAt",
          "$filter=" + enc("(Blocked eq ' ') and SystemModifiedAt gt " + seeded) + "&$orderby=SystemModifiedAt",
          "$filter=" + enc("SystemModifiedAt gt " + seeded + " and (SystemModifiedAt le " + recent
              + " or SystemModifiedAt gt " + newest + ")") + "&$orderby=SystemModifiedAt",
          "$filter=" + enc(recent + " lt SystemModifiedAt") + "&$orderby=SystemModifiedAt&$top=7",
          "$orderby=SystemModifiedAt&$select=No",
          "$orderby=SystemModifiedAt%20desc&$top=1&$select=SystemModifiedAt",
          "$filter=" + enc("SystemModifiedAt gt " + recent),
          "$filter=" + enc("SystemModifiedAt gt " + seeded) + "&$select=No,SystemModifiedAt",
          "$top=1&$select=No&$filter=" + enc("SystemModifiedAt gt " + newest),
          "$count=true&$top=0&$filter=" + enc("No ge '" + lo + "' and No lt '" + hi + "'"),
          "$count=true&$top=0&$filter=" + enc("(Blocked eq ' ') and No ge '" + lo + "' and No lt '" + hi + "'"),
          "$count=true&$top=0&$filter=" + enc("(Blocked eq 'All') and No gt '" + lo + "'"),
          "$count=true&$top=0&$filter=" + enc("'" + lo + "' le No and No le '" + hi + "' and No ne '" + hi + "'"),
          "$count=true&$top=0&$filter=" + enc("No eq '" + lo + "' and No ge '" + lo + "'"),
          "$count=true&$top=0&$filter=" + enc("No lt '" + lo + "' and No gt '" + hi + "'"),
          "$count=true&$top=0&$filter=" + enc("Blocked eq ' '"),
          // Key-range reads (the deletion check's range read and its confirming read by key): a range seek.
          "$select=No&$orderby=No&$filter=" + enc("No ge '" + lo + "' and No lt '" + hi + "'"),
          "$select=No&$filter=" + enc("(Blocked eq ' ') and (No ge '" + lo + "' and No lt '" + hi + "')"),
          "$filter=" + enc("No gt '" + hi + "'") + "&$top=7",
          "$select=No&$filter=" + enc("'" + lo + "' le No and No le '" + hi + "' and No ne '" + hi + "'"),
          "$select=No&$filter=" + enc("(No eq '" + mid + "' or No eq '" + lo + "' or No eq '" + gone
              + "' or No eq '" + hi + "' or No eq '" + lo + "')"),
          "$select=No&$filter=" + enc("No ge '" + lo + "' and (No lt '" + mid + "' or No ge '" + hi + "')"),
          "$select=No&$filter=" + enc("(No le '" + lo + "' or No gt '" + mid + "') and (Blocked eq 'All')"),
          "$select=No&$filter=" + enc("No lt '" + lo + "' and No gt '" + hi + "'"),
          "$select=No&$filter=" + enc("No eq '" + lo.toLowerCase(java.util.Locale.ROOT) + "' or No eq '" + hi + "'"),
          "$select=No&$filter=" + enc("No eq '" + lo + "' and SystemModifiedAt gt " + seeded),
          "$select=No&$orderby=No%20desc&$filter=" + enc("No ge '" + lo + "' and No lt '" + hi + "'"))) {
        List<String> indexed = pages(sim, query, true);
        List<String> scanned = pages(sim, query, false);
        assertEquals(scanned, indexed, query);
      }
    } finally {
      sim.protection().costs(ErpCosts.fast());
    }
  }

  /** Every page of a read, each as its body and the server time charged for it. */
  private static List<String> pages(ErpSimulator sim, String query, boolean indexes) {
    sim.useIndexes = indexes;
    try {
      List<String> out = new ArrayList<>();
      String url = "/v2.0/ODataV4/Company('" + sim.options().company() + "')/Customer?" + query;
      while (url != null) {
        ErpCosts.Meter m = ErpCosts.Meter.start();
        SimResponse r;
        try {
          r = sim.list(ErpServices.ALL.get("Customer"), SimRequest.of("GET", url,
              Map.of("Prefer", "odata.maxpagesize=40"), null));
        } finally {
          ErpCosts.Meter.stop();
        }
        assertEquals(200, r.status(), r.bodyText());
        assertTrue(m.ms() > 0, "the realistic model charges every read");
        out.add(r.bodyText() + " charged " + m.ms());
        Object next = Json.object(r.bodyText()).get("@odata.nextLink");
        url = next == null ? null : ((String) next).substring(sim.baseUrl().length());
      }
      return out;
    } finally {
      sim.useIndexes = true;
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String auth() {
    ErpSimulator.Options o = erp.get().options();
    return "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
        .getBytes(StandardCharsets.UTF_8));
  }

  private static String get(String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().companyUrl() + "/" + path))
        .header("Authorization", auth()).header("Prefer", "odata.maxpagesize=5000").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  private static void send(String method, String url, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Authorization", auth())
        .header("If-Match", "*").header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() < 300, method + " " + url + ": " + r.statusCode() + " " + r.body());
  }
}
