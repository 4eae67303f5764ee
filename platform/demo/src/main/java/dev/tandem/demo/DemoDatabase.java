package dev.tandem.demo;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Finds a database for the demo, in this order: {@code TANDEM_DB_URL}; a PostgreSQL answering on
 * 127.0.0.1:5432 (database {@code tandem_demo}, created if missing); an embedded PostgreSQL kept in the demo's
 * data directory. Production ({@code tandem run}) never falls back: it needs {@code TANDEM_DB_URL}.
 */
final class DemoDatabase implements AutoCloseable {

  private final String url;
  private final String description;
  private final EmbeddedPostgres embedded;

  private DemoDatabase(String url, String description, EmbeddedPostgres embedded) {
    this.url = url;
    this.description = description;
    this.embedded = embedded;
  }

  static DemoDatabase resolve(String envUrl, Path dataDir) throws IOException {
    if (envUrl != null && !envUrl.isBlank()) {
      return new DemoDatabase(envUrl, "TANDEM_DB_URL", null);
    }
    Properties props = new Properties();
    props.setProperty("user", "postgres");
    props.setProperty("connectTimeout", "2");
    props.setProperty("loginTimeout", "3");
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", props);
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'tandem_demo'")) {
        if (!rs.next()) {
          st.execute("CREATE DATABASE tandem_demo");
        }
      }
      return new DemoDatabase("postgresql://postgres@127.0.0.1:5432/tandem_demo",
          "the PostgreSQL on 127.0.0.1:5432, database tandem_demo", null);
    } catch (SQLException local) {
      System.err.println("No PostgreSQL usable on 127.0.0.1:5432 (" + local.getMessage()
          + "); starting an embedded one");
      return embedded(dataDir);
    }
  }

  /** Starts (or restarts, keeping its data) the embedded PostgreSQL in {@code dataDir/postgres}. */
  static DemoDatabase embedded(Path dataDir) throws IOException {
    Path dir = dataDir.resolve("postgres");
    Files.createDirectories(dir);
    EmbeddedPostgres pg = EmbeddedPostgres.builder()
        .setDataDirectory(dir)
        .setCleanDataDirectory(false)
        .start();
    return new DemoDatabase("postgresql://postgres@127.0.0.1:" + pg.getPort() + "/postgres",
        "an embedded PostgreSQL (data in " + dir.toAbsolutePath() + ")", pg);
  }

  String url() {
    return url;
  }

  String description() {
    return description;
  }

  @Override
  public void close() throws IOException {
    if (embedded != null) {
      embedded.close();
    }
  }
}
