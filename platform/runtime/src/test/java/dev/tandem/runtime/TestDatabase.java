package dev.tandem.runtime;

import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.testpg.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh schema in the real test PostgreSQL (chosen by {@link TestPostgres}: {@code TANDEM_TEST_DB_URL}, else
 * 127.0.0.1:5432, else the build's shared embedded PostgreSQL); dropped on close.
 */
public final class TestDatabase implements AutoCloseable {

  /** The test database URL. */
  public static final String URL = TestPostgres.url();

  private final DatabaseSettings settings;

  private TestDatabase(DatabaseSettings settings) {
    this.settings = settings;
  }

  /** @return the newest migration version shipped with this code, e.g. "4" */
  public static String latestMigration() {
    try (var files = java.nio.file.Files.list(java.nio.file.Path.of(
        TestDatabase.class.getResource("/db/tandem").toURI()))) {
      return String.valueOf(files.map(f -> f.getFileName().toString())
          .filter(n -> n.matches("V\\d+__.*\\.sql"))
          .mapToInt(n -> Integer.parseInt(n.substring(1, n.indexOf("__")))).max().orElseThrow());
    } catch (java.io.IOException | java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** @return a new, empty schema */
  public static TestDatabase fresh() {
    String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    return new TestDatabase(DatabaseSettings.parse(URL, schema, 8, "TANDEM_TEST_DB_URL"));
  }

  /** @return the settings (schema included) */
  public DatabaseSettings settings() {
    return settings;
  }

  /** @return the schema */
  public String schema() {
    return settings.schema();
  }

  /**
   * Runs SQL in the schema over JDBC (test set-up and checks only).
   *
   * @param sql statements
   */
  public void exec(String sql) {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param sql a query returning one number
   * @return the number
   */
  public long queryLong(String sql) {
    try (Connection c = connect(); Statement st = c.createStatement(); var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param sql a query returning one text value
   * @return the value
   */
  public String queryString(String sql) {
    try (Connection c = connect(); Statement st = c.createStatement(); var rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param sql a query returning text values in its first column
   * @return the values, nulls left out
   */
  public java.util.List<String> queryStrings(String sql) {
    try (Connection c = connect(); Statement st = c.createStatement(); var rs = st.executeQuery(sql)) {
      java.util.List<String> out = new java.util.ArrayList<>();
      while (rs.next()) {
        if (rs.getString(1) != null) {
          out.add(rs.getString(1));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private Connection connect() throws SQLException {
    Connection c = DriverManager.getConnection(settings.jdbcUrl(), settings.user(), settings.password());
    try (Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + settings.schema());
    }
    return c;
  }

  @Override
  public void close() {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + settings.schema() + " CASCADE");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
