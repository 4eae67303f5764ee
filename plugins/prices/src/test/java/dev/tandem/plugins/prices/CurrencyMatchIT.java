package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Match-based coupling of CURRENCY on its code, creating what has no match: the CRM's EUR, USD and GBP are coupled
 * (in another letter case too), DKK and SEK are created; a synchronization afterwards creates nothing.
 */
class CurrencyMatchIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject());

  @Test
  void currenciesAreCoupledOnTheirCodeAndTheMissingOnesCreated() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":9,\"counts\":{}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":9,\"counts\":{}}");
    Map<String, String> before = isoToId();

    TandemExtension.ApiResponse r = tandem.api("POST", "/api/v1/mappings/CURRENCY/couple-by-match",
        new JsonObject().put("createIfNoMatch", true));
    assertEquals(202, r.status(), r.body());
    long id = r.json().getLong("jobId");
    JsonObject job = null;
    for (int i = 0; i < 600 && job == null; i++) {
      JsonObject j = tandem.api("GET", "/api/v1/jobs/" + id, null).json();
      if (List.of("SUCCEEDED", "FAILED").contains(j.getString("status"))) {
        job = j;
      }
      Thread.sleep(100);
    }
    assertEquals("SUCCEEDED", job == null ? null : job.getString("status"), String.valueOf(job));

    Map<String, String> after = isoToId();
    assertEquals(List.of("DKK", "EUR", "GBP", "SEK", "USD"), after.keySet().stream().sorted().toList());
    before.forEach((iso, crmId) -> assertEquals(crmId, after.get(iso), iso + " is coupled, not created"));
    Map<String, String> coupled = tandem.coupledCrmIds("CURRENCY");
    assertEquals(5, coupled.size(), coupled.toString());
    coupled.forEach((code, crmId) -> assertEquals(after.get(code), crmId, "coupling of " + code));

    JsonObject counts = tandem.syncSucceeded("CURRENCY");
    assertEquals(0, counts.getInteger("inserted") + counts.getInteger("failed"), counts.encode());
    assertEquals(after, isoToId());
  }

  private static Map<String, String> isoToId() throws Exception {
    Map<String, String> out = new HashMap<>();
    for (Map<String, Object> row : rows(crm.get().baseUrl(), "transactioncurrencies")) {
      assertEquals(null, out.put((String) row.get("isocurrencycode"), (String) row.get("transactioncurrencyid")),
          "one CRM currency per ISO code");
    }
    return out;
  }
}
