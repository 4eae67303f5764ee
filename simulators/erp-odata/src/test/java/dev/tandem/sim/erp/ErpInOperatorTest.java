package dev.tandem.sim.erp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.ODataQueryException;
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
 * The OData {@code in} operator: Business Central online answers {@code $filter=No in ('A','B')} ("In a list of
 * values", Microsoft Learn, "Using filter expressions in OData URIs"; generally available since 2024 release wave 1)
 * with the rows the {@code or} of one {@code eq} per value answers, at that {@code or}'s cost; NAV 2017 does not
 * know the operator (a 400).
 */
class ErpInOperatorTest {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> online =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> nav = new SimulatorExtension<>(ErpSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void inAnswersWhatTheOrOfEqualsAnswersAndCostsTheSame() throws Exception {
    ErpSimulator sim = online.get();
    seed(sim);
    List<String> nos = new ArrayList<>();
    for (Map<String, Object> row : Json.objects(Json.object(read(sim, "$select=No&$top=300").bodyText())
        .get("value"))) {
      nos.add((String) row.get("No"));
    }
    List<String> some = List.of(nos.get(3), nos.get(150), nos.get(17), "NO-SUCH-ITEM", nos.get(299));
    StringBuilder in = new StringBuilder("No in (");
    StringBuilder or = new StringBuilder();
    for (String no : some) {
      in.append(in.charAt(in.length() - 1) == '(' ? "" : ",").append('\'').append(no).append('\'');
      or.append(or.length() == 0 ? "" : " or ").append("No eq '").append(no).append('\'');
    }
    in.append(')');
    sim.protection().costs(ErpCosts.realistic(1));
    try {
      String select = "&$select=No,Description,Inventory";
      ErpCosts.Meter m = ErpCosts.Meter.start();
      SimResponse byIn;
      try {
        byIn = read(sim, "$filter=" + enc(in.toString()) + select);
      } finally {
        ErpCosts.Meter.stop();
      }
      double inCost = m.ms();
      m = ErpCosts.Meter.start();
      SimResponse byOr;
      try {
        byOr = read(sim, "$filter=" + enc(or.toString()) + select);
      } finally {
        ErpCosts.Meter.stop();
      }
      assertEquals(200, byIn.status(), byIn.bodyText());
      assertEquals(byOr.bodyText(), byIn.bodyText(), "the same rows in the same order");
      assertEquals(4, Json.objects(Json.object(byIn.bodyText()).get("value")).size());
      assertEquals(m.ms(), inCost, "the request and the rows it returns, FlowField included");
      assertTrue(inCost >= 10 + 4 * (0.5 + 2), "realistic: 10 ms a request, 2.5 ms a row with Inventory: " + inCost);
    } finally {
      sim.protection().costs(ErpCosts.fast());
    }
    // Reads by key are looked up, not scanned (simulator CPU only): the same pages and the same charge as the scan.
    String lower = nos.get(5).toLowerCase(java.util.Locale.ROOT);
    for (String query : List.of("$filter=" + enc(in.toString()), "$filter=" + enc(or.toString()),
        "$filter=" + enc("No in ('" + lower + "','" + nos.get(6) + "','" + nos.get(6) + "')"),
        "$filter=" + enc(in.toString()) + "&$top=2", "$filter=" + enc("No eq '" + nos.get(7) + "'"))) {
      sim.protection().costs(ErpCosts.realistic(1));
      try {
        List<String> pages = new ArrayList<>();
        for (boolean indexes : new boolean[] {true, false}) {
          sim.useIndexes = indexes;
          ErpCosts.Meter m2 = ErpCosts.Meter.start();
          try {
            pages.add(read(sim, query + "&$select=No,Inventory").bodyText() + " charged " + m2.ms());
          } finally {
            ErpCosts.Meter.stop();
          }
        }
        assertEquals(pages.get(1), pages.get(0), query);
      } finally {
        sim.useIndexes = true;
        sim.protection().costs(ErpCosts.fast());
      }
    }
    assertThrows(ODataQueryException.class, () -> read(sim, "$filter=" + enc("No in ()")));
    assertThrows(ODataQueryException.class, () -> read(sim, "$filter=" + enc("No in ('A' 'B')")));
    ODataQueryException across = assertThrows(ODataQueryException.class,
        () -> read(sim, "$filter=" + enc("No in ('A') or Description eq 'B'")));
    assertTrue(across.getMessage().contains("'OR' operator is not supported on distinct fields"), across.getMessage());
  }

  @Test
  void navDoesNotKnowTheOperator() throws Exception {
    ErpSimulator sim = nav.get();
    seed(sim);
    ErpSimulator.Options o = sim.options();
    String basic = "Basic " + Base64.getEncoder().encodeToString((o.user() + ":" + o.accessKey())
        .getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(sim.companyUrl() + "/Item?$filter="
        + enc("No in ('A','B')"))).header("Authorization", basic).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, r.statusCode(), r.body());
    HttpResponse<String> eq = HTTP.send(HttpRequest.newBuilder(URI.create(sim.companyUrl() + "/Item?$filter="
        + enc("No eq 'A' or No eq 'B'"))).header("Authorization", basic).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, eq.statusCode(), eq.body());
  }

  private static void seed(ErpSimulator sim) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(sim.baseUrl() + "/__admin/sim/seed"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"seed\":5,\"counts\":{\"Item\":400}}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() < 300, r.body());
  }

  private static SimResponse read(ErpSimulator sim, String query) {
    return sim.list(ErpServices.ALL.get("Item"), SimRequest.of("GET", "/v2.0/tandem-tenant/Production/ODataV4/Company('"
        + sim.options().company() + "')/Item?" + query, Map.of("Prefer", "odata.maxpagesize=1000"), null));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
