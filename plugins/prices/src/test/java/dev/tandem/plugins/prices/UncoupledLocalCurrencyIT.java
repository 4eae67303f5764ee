package dev.tandem.plugins.prices;

import static dev.tandem.testkit.SimulatorAdmin.http;
import static dev.tandem.testkit.SimulatorAdmin.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The local currency is CHF, which the ERP does not list as a currency, so CURRENCY never couples it: every price
 * group fails with the engine's message naming the missing coupling, and no price list is written.
 */
class UncoupledLocalCurrencyIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject().put("localCurrencyCode", "CHF"));

  @Test
  void priceListsNameTheUncoupledLocalCurrency() throws Exception {
    http("POST", erp.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":6,\"counts\":{}}");
    http("POST", crm.get().baseUrl() + "/__admin/sim/seed", "{\"seed\":6,\"counts\":{}}");
    tandem.syncSucceeded("CURRENCY");
    JsonObject counts = tandem.syncSucceeded("CUSTPRCGRP-PRICE");
    assertEquals(3, counts.getInteger("failed"), counts.encode());
    assertEquals(0, rows(crm.get().baseUrl(), "pricelevels").size());
    JsonObject error = tandem.api("GET", "/api/v1/errors?mapping=CUSTPRCGRP-PRICE&limit=1", null).json()
        .getJsonArray("errors").getJsonObject(0);
    assertEquals("LOOKUP", error.getString("stage"), error.encode());
    assertTrue(error.getString("message").matches("ERP CustomerPriceGroup [A-Z]+: the constant of transactioncurrencyid "
        + "refers to CHF, which is not coupled in mapping CURRENCY: couple or synchronize CURRENCY first.*"),
        error.encode());
  }
}
