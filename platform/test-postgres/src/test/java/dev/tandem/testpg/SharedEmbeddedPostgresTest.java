package dev.tandem.testpg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared embedded PostgreSQL: started once for an owner, reused while it lives, gone with it. The owner here
 * is a stand-in process for a Maven run, so the test can end it.
 */
class SharedEmbeddedPostgresTest {

  @TempDir
  Path stateDir;

  @Test
  void oneServerPerOwnerReusedWhileItLivesAndRemovedWhenItEnds() throws Exception {
    Process owner = new ProcessBuilder("sleep", "300").start();
    try {
      String url = SharedEmbeddedPostgres.acquire(stateDir, owner.pid());
      Path state = stateDir.resolve(owner.pid() + ".properties");
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(state)) {
        p.load(in);
      }
      long serverPid = Long.parseLong(p.getProperty("pid"));
      Path data = Path.of(p.getProperty("data"));
      assertTrue(Files.isDirectory(data));
      assertEquals(1, selectOne(url));

      // a second JVM of the same run (here: a second call) finds the same server
      assertEquals(url, SharedEmbeddedPostgres.acquire(stateDir, owner.pid()));
      Properties again = new Properties();
      try (InputStream in = Files.newInputStream(state)) {
        again.load(in);
      }
      assertEquals(p.getProperty("pid"), again.getProperty("pid"));

      owner.destroy();
      owner.waitFor();
      long deadline = System.currentTimeMillis() + 30_000;
      while (ProcessHandle.of(serverPid).map(ProcessHandle::isAlive).orElse(false)
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertFalse(ProcessHandle.of(serverPid).map(ProcessHandle::isAlive).orElse(false),
          "the server outlived its run");
      assertFalse(Files.exists(state), "state file left behind");
      assertFalse(Files.exists(data), "data directory left behind");
    } finally {
      owner.destroyForcibly();
    }
  }

  private static int selectOne(String url) throws Exception {
    String hostAndDb = url.substring(url.indexOf('@') + 1);
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + hostAndDb, "postgres", "");
        Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
