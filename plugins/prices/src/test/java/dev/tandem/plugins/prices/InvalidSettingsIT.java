package dev.tandem.plugins.prices;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import dev.tandem.testkit.TandemExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A local currency that is no currency code fails the plugin at start, naming the setting; the node still runs. */
class InvalidSettingsIT {

  @RegisterExtension
  @Order(1)
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  @Order(2)
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);
  @RegisterExtension
  @Order(3)
  static TandemExtension tandem = TandemExtension.withPlugins(TandemExtension.pluginFiles("tandem.plugin.jar"))
      .againstSimulators(erp, crm).withPluginSettings("prices", new JsonObject().put("localCurrencyCode", "US Dollar")
          .put("legacyPricng", true));

  @Test
  void thePluginFailsNamingTheSetting() throws Exception {
    JsonObject plugin = tandem.api("GET", "/api/v1/plugins", null).json().getJsonArray("plugins").getJsonObject(0);
    assertEquals("prices", plugin.getString("id"));
    assertEquals("FAILED", plugin.getString("state"), plugin.encode());
    // Declared settings (PricesPlugin.settings()) are checked by the runtime before configure: a typo with the
    // nearest declared key, a bad value with its key and cause, all at once.
    assertEquals("its settings (plugins.prices) are invalid: unknown key 'plugins.prices.legacyPricng': did you mean "
        + "'plugins.prices.legacyPricing'?; plugins.prices.localCurrencyCode = 'US Dollar' is not an "
        + "ERP currency code (1 to 10 letters or digits, e.g. USD)", plugin.getString("reason"), plugin.encode());
    assertEquals(404, tandem.api("POST", "/api/v1/mappings/CURRENCY/sync", new JsonObject()).status());
  }
}
