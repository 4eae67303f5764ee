package dev.tandem.plugins.items;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Setting;
import dev.tandem.runtime.config.ReferenceDocs;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The items plugin declares its settings; docs/operations.md shows them as declared. */
class ItemsSettingsTest {

  @Test
  void theDeclaredSettingsAcceptTheAvailabilityUserAndNameATypo() {
    List<Setting> declared = new ItemsPlugin().settings();
    assertTrue(Setting.problems(declared, new JsonObject().put("availability", new JsonObject()
        .put("user", "AVAIL").put("accessKey", "k")), "plugins.items", null).isEmpty());
    assertEquals(List.of("unknown key 'plugins.items.availability.accesKey': did you mean "
        + "'plugins.items.availability.accessKey'?"), Setting.problems(declared, new JsonObject()
        .put("availability", new JsonObject().put("user", "AVAIL").put("accesKey", "k")), "plugins.items", null));
  }

  @Test
  void theOperationsGuideShowsThem() throws Exception {
    String problem = ReferenceDocs.check(ReferenceDocs.find("docs/operations.md"), "plugins.items",
        Setting.markdown(new ItemsPlugin().settings(), "plugins.items"),
        "mvn -o -B -pl plugins/items -am -Dtest=ItemsSettingsTest -Dsurefire.failIfNoSpecifiedTests=false "
            + "-Dtandem.docs.update=true test");
    assertNull(problem, problem);
  }
}
