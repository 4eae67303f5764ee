package dev.tandem.testpg;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Chooses the PostgreSQL every Tandem test uses, once per JVM, in this order (the demo makes the same choice):
 *
 * <ol>
 *   <li>{@code TANDEM_TEST_DB_URL} (environment) or the system property {@code tandem.test.db.url};
 *   <li>a PostgreSQL answering on 127.0.0.1:5432 as user {@code postgres} without a password, database
 *       {@code test} (created if missing);
 *   <li>one embedded PostgreSQL for the whole Maven run, shared by every test JVM it forks
 *       ({@link SharedEmbeddedPostgres}).
 * </ol>
 *
 * <p>{@code TANDEM_TEST_DB=embedded} (or {@code -Dtandem.test.db=embedded}) skips the first two, to run the
 * suite the way a machine without a PostgreSQL does.
 */
public final class TestPostgres {

  /** The environment variable naming the test database. */
  public static final String ENV_URL = "TANDEM_TEST_DB_URL";
  /** The local server's URL, used when it answers. */
  public static final String LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/test";

  private static String url;
  private static String description;

  private TestPostgres() {}

  /**
   * @return the test database's URL ({@code postgresql://user[:password]@host:port/db}); starts the shared
   *     embedded PostgreSQL when neither a configured URL nor a local server is there
   */
  public static synchronized String url() {
    if (url == null) {
      choose();
    }
    return url;
  }

  /** @return where {@link #url()} points, for messages */
  public static synchronized String description() {
    url();
    return description;
  }

  private static void choose() {
    String configured = setting("tandem.test.db.url", ENV_URL);
    if (configured != null) {
      url = configured;
      description = ENV_URL;
      return;
    }
    if (!"embedded".equalsIgnoreCase(setting("tandem.test.db", "TANDEM_TEST_DB")) && localAnswers()) {
      url = LOCAL_URL;
      description = "the PostgreSQL on 127.0.0.1:5432, database test";
      return;
    }
    Path stateDir = buildRoot().resolve("target").resolve("test-postgres");
    url = SharedEmbeddedPostgres.acquire(stateDir);
    description = "the embedded PostgreSQL shared by this build (" + stateDir + ")";
  }

  private static String setting(String property, String env) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? null : v;
  }

  /** Connects to the local server's {@code postgres} database and creates {@code test} when it is missing. */
  private static boolean localAnswers() {
    Properties props = new Properties();
    props.setProperty("user", "postgres");
    props.setProperty("connectTimeout", "2");
    props.setProperty("loginTimeout", "3");
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", props);
        Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'test'")) {
        if (rs.next()) {
          return true;
        }
      }
      try {
        st.execute("CREATE DATABASE test");
      } catch (SQLException e) {
        if (!"42P04".equals(e.getSQLState())) { // another JVM created it at the same moment
          throw e;
        }
      }
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  /**
   * @return the build's root directory: {@code tandem.build.root}, else the highest directory above the working
   *     directory (a module's, under Surefire and Failsafe) that holds a {@code pom.xml}
   */
  static Path buildRoot() {
    String configured = System.getProperty("tandem.build.root");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    Path dir = Path.of("").toAbsolutePath();
    Path root = dir;
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml"))) {
        root = p;
      }
    }
    return root;
  }
}
