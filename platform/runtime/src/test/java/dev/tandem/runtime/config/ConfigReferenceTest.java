package dev.tandem.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** docs/operations.md's configuration reference is what ConfigDef declares; every key is declared completely. */
class ConfigReferenceTest {

  /** Regenerates every generated block of docs/operations.md (the runtime's and the bundled plugins'). */
  static final String REGENERATE = "mvn -o -B -pl platform/runtime,plugins/items,plugins/prices -am "
      + "-Dtest='ConfigReferenceTest,*SettingsTest' -Dsurefire.failIfNoSpecifiedTests=false -Dtandem.docs.update=true "
      + "test   (or print the table: java -cp platform/runtime/target/tandem-runtime.jar "
      + "dev.tandem.runtime.config.ConfigDef)";

  @Test
  void theOperationsGuideShowsTheTable() throws Exception {
    String problem = ReferenceDocs.check(ReferenceDocs.find("docs/operations.md"), "configuration",
        ConfigDef.markdown(), REGENERATE);
    assertNull(problem, problem);
  }

  @Test
  void everyKeyIsDeclaredOnceWithItsDocumentation() {
    Set<String> names = new HashSet<>();
    Set<String> envs = new HashSet<>();
    for (ConfigDef.Key k : ConfigDef.keys()) {
      assertTrue(names.add(k.name()), "declared twice: " + k.name());
      assertTrue(k.env() == null || envs.add(k.env()), "declared twice: " + k.env());
      assertTrue(k.env() == null || k.env().startsWith("TANDEM_"), k.env());
      assertFalse(k.setting().doc().isBlank(), "undocumented: " + k.name());
      assertFalse(k.setting().doc().contains("|"), "a | breaks the Markdown table: " + k.name());
      Object d = k.setting().defaultValue();
      if (d != null) {
        // A default must pass the key's own validation.
        assertEquals(d, k.setting().parse(d, k.name()), k.name());
      }
    }
    assertTrue(names.contains("jobs.maxAttempts") && envs.contains("TANDEM_DB_URL"));
  }
}
