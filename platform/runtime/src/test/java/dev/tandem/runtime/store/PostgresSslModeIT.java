package dev.tandem.runtime.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.config.DatabaseSettings;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code sslmode} from the URL decides whether the connection is encrypted: with {@code require} a connection is
 * either encrypted (the server speaks TLS) or refused (it does not) — never silently in plain text, as it was when
 * the mode was ignored. Whichever test server is in use (with or without TLS), this holds.
 */
class PostgresSslModeIT {

  @Test
  void requireIsEncryptedOrRefusedAndDisableIsPlain() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      assertEquals(Boolean.FALSE, ssl(vertx, TestDatabase.URL + sep() + "sslmode=disable"));
      Boolean required;
      try {
        required = ssl(vertx, TestDatabase.URL + sep() + "sslmode=require");
      } catch (ExecutionException e) {
        String msg = String.valueOf(e.getCause().getMessage()).toLowerCase(java.util.Locale.ROOT);
        assertTrue(msg.contains("ssl") || msg.contains("tls"), "refused for another reason: " + e.getCause());
        return;
      }
      assertEquals(Boolean.TRUE, required, "sslmode=require connected in plain text");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static String sep() {
    return TestDatabase.URL.contains("?") ? "&" : "?";
  }

  private static Boolean ssl(Vertx vertx, String url) throws Exception {
    DatabaseSettings s = DatabaseSettings.parse(url, null, 1, "test");
    Pool pool = PgBuilder.pool().connectingTo(s.connectOptions()).using(vertx).build();
    try {
      return pool.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").execute()
          .map(rows -> rows.iterator().next().getBoolean(0))
          .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } finally {
      pool.close();
    }
  }
}
