package dev.tandem.runtime.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TestDatabase;
import org.junit.jupiter.api.Test;

class SchemaMigratorIT {

  @Test
  void migratesAFreshSchemaAndIsIdempotent() {
    try (TestDatabase db = TestDatabase.fresh()) {
      String v = new SchemaMigrator(db.settings()).migrate();
      assertEquals(TestDatabase.latestMigration(), v);
      assertEquals(0, db.queryLong("SELECT count(*) FROM job"));
      assertEquals(TestDatabase.latestMigration(), new SchemaMigrator(db.settings()).migrate());
    }
  }

  @Test
  void refusesADatabaseMigratedByANewerTandem() {
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      db.exec("INSERT INTO tandem_schema_history (installed_rank, version, description, type, script, checksum, "
          + "installed_by, execution_time, success) VALUES (99, '99', 'from the future', 'SQL', "
          + "'V99__from_the_future.sql', 0, 'test', 1, true)");
      SchemaMigrator.SchemaTooNewException e = assertThrows(SchemaMigrator.SchemaTooNewException.class,
          () -> new SchemaMigrator(db.settings()).migrate());
      assertTrue(e.getMessage().contains("is at version 99 but this Tandem knows versions up to "
          + TestDatabase.latestMigration()), e.getMessage());
    }
  }
}
