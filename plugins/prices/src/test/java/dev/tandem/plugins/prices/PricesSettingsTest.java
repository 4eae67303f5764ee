package dev.tandem.plugins.prices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Setting;
import dev.tandem.runtime.config.ReferenceDocs;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The prices plugin declares its settings; docs/operations.md shows them as declared. */
class PricesSettingsTest {

  @Test
  void theDeclaredSettingsCheckTheCurrencyCodeAndThePricingSwitch() {
    List<Setting> declared = new PricesPlugin().settings();
    assertTrue(Setting.problems(declared, new JsonObject().put("localCurrencyCode", " gbp ")
        .put("legacyPricing", false), "plugins.prices", null).isEmpty(), "case and spaces are the plugin's to fix");
    assertEquals(List.of(
        "unknown key 'plugins.prices.localCurency': did you mean 'plugins.prices.localCurrencyCode'?",
        "plugins.prices.legacyPricing must be true or false, got 'yes'"),
        Setting.problems(declared, new JsonObject().put("localCurency", "EUR").put("legacyPricing", "yes"),
            "plugins.prices", null));
    assertEquals(List.of("plugins.prices.localCurrencyCode = 'US Dollar' is not an ERP currency code (1 to 10 "
        + "letters or digits, e.g. USD)"), Setting.problems(declared, new JsonObject()
        .put("localCurrencyCode", "US Dollar"), "plugins.prices", null));
  }

  @Test
  void theOperationsGuideShowsThem() throws Exception {
    String problem = ReferenceDocs.check(ReferenceDocs.find("docs/operations.md"), "plugins.prices",
        Setting.markdown(new PricesPlugin().settings(), "plugins.prices"),
        "mvn -o -B -pl plugins/prices -am -Dtest=PricesSettingsTest -Dsurefire.failIfNoSpecifiedTests=false "
            + "-Dtandem.docs.update=true test");
    assertNull(problem, problem);
  }
}
