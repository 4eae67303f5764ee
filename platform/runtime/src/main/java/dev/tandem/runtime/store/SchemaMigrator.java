package dev.tandem.runtime.store;

import dev.tandem.runtime.config.DatabaseSettings;
import java.util.Arrays;
import java.util.Comparator;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies Tandem's versioned schema migrations (Flyway, {@code classpath:db/tandem}) at start, and refuses a
 * database that a newer Tandem has already migrated: running old code on a newer schema could corrupt state.
 * Blocking (JDBC): call it off the event loop.
 */
public final class SchemaMigrator {

  /** Where the migrations live; plugin-specific, so a plugin's own migrations cannot shadow them. */
  public static final String LOCATION = "classpath:db/tandem";

  private final DatabaseSettings db;

  /** @param db the database */
  public SchemaMigrator(DatabaseSettings db) {
    this.db = db;
  }

  /**
   * Migrates the schema to the newest version this code knows.
   *
   * @return the schema version afterwards
   * @throws SchemaTooNewException when the database is ahead of this code
   */
  public String migrate() {
    Flyway flyway = Flyway.configure(SchemaMigrator.class.getClassLoader())
        .dataSource(db.jdbcUrl(), db.user(), db.password())
        .schemas(db.schema())
        .defaultSchema(db.schema())
        .locations(LOCATION)
        .table("tandem_schema_history")
        // Flyway ignores "future" migrations by default; we check for them ourselves to refuse clearly.
        .ignoreMigrationPatterns("*:future")
        .load();
    MigrationInfo[] all = flyway.info().all();
    MigrationVersion known = Arrays.stream(all)
        .filter(i -> i.getPhysicalLocation() != null && !i.getPhysicalLocation().isEmpty())
        .map(MigrationInfo::getVersion)
        .max(Comparator.naturalOrder())
        .orElse(MigrationVersion.EMPTY);
    MigrationInfo[] applied = flyway.info().applied();
    MigrationVersion current = Arrays.stream(applied)
        .map(MigrationInfo::getVersion)
        .filter(v -> v != null)
        .max(Comparator.naturalOrder())
        .orElse(MigrationVersion.EMPTY);
    if (current.isNewerThan(known.getVersion())) {
      throw new SchemaTooNewException("the database schema " + db.schema() + " is at version " + current
          + " but this Tandem knows versions up to " + known
          + ": it was migrated by a newer Tandem. Run that version, or restore a backup taken before the upgrade.");
    }
    MigrateResult result = flyway.migrate();
    return result.targetSchemaVersion != null ? result.targetSchemaVersion : current.getVersion();
  }

  /** The database was migrated by a newer version of Tandem. */
  public static final class SchemaTooNewException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message names the versions */
    public SchemaTooNewException(String message) {
      super(message);
    }
  }
}
