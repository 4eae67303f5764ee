package dev.tandem.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.TandemConfig.ScheduleSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TandemExtensionTest {

  @RegisterExtension
  static TandemExtension tandem = TandemExtension.withPlugins()
      .configure(c -> c.withSchedules(new ScheduleSettings(false, 1000, 0, 30_000)));

  @Test
  void startsANodeInItsOwnSchema() throws Exception {
    assertTrue(tandem.database().schema().startsWith("tk_"));
    TandemExtension.ApiResponse plugins = tandem.api("GET", "/api/v1/plugins", null);
    assertEquals(200, plugins.status());
    assertEquals(0, plugins.json().getJsonArray("plugins").size());
    assertEquals(200, tandem.api("GET", "/health/ready", null).status());
    assertEquals(0, tandem.installed().size());
  }
}
