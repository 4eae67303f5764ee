package dev.tandem.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.store.SchemaMigrator;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's last resort: an embedded PostgreSQL that keeps its data between runs. */
class DemoDatabaseTest {

  @Test
  void embeddedPostgresStartsMigratesAndKeepsItsData(@TempDir Path dir) throws Exception {
    String latest;
    try (DemoDatabase db = DemoDatabase.embedded(dir)) {
      DatabaseSettings s = DatabaseSettings.parse(db.url(), "demo", 2, "test");
      String applied = new SchemaMigrator(s).migrate();
      assertTrue(Integer.parseInt(applied) > 0, applied);
      latest = applied;
      try (Connection c = DriverManager.getConnection(s.jdbcUrl(), s.user(), s.password());
          Statement st = c.createStatement()) {
        st.execute("INSERT INTO demo.job (kind, mapping) VALUES ('SYNC', 'KEPT')");
      }
    }
    try (DemoDatabase again = DemoDatabase.embedded(dir)) {
      DatabaseSettings s = DatabaseSettings.parse(again.url(), "demo", 2, "test");
      assertEquals(latest, new SchemaMigrator(s).migrate(), "the kept schema is at the newest version already");
      try (Connection c = DriverManager.getConnection(s.jdbcUrl(), s.user(), s.password());
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT mapping FROM demo.job")) {
        assertTrue(rs.next());
        assertEquals("KEPT", rs.getString(1));
      }
      assertTrue(again.description().contains("embedded"));
    }
  }
}
