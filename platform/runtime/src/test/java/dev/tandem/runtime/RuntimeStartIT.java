package dev.tandem.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.store.SchemaMigrator;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeStartIT {

  @Test
  void aFailedStartIsReportedPromptlyWithItsCause(@TempDir Path plugins) {
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      db.exec("INSERT INTO tandem_schema_history (installed_rank, version, description, type, script, checksum, "
          + "installed_by, execution_time, success) VALUES (99, '99', 'future', 'SQL', 'V99__future.sql', 0, 't', 1, true)");
      long t0 = System.nanoTime();
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> TestRuntimes.start(TestRuntimes.config(db.settings(), plugins)));
      assertTrue(e.getCause().getMessage().contains("migrated by a newer Tandem"), e.getCause().getMessage());
      assertTrue((System.nanoTime() - t0) / 1_000_000 < 20_000, "reported, not hung");
    }
  }
}
