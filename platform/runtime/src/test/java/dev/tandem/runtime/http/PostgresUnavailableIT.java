package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.DatabaseSettings;
import dev.tandem.runtime.store.SchemaMigrator;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL that cannot serve a request — no free connection in the node's pool, or not reachable at all — is an
 * outage the caller may retry: 503 with {@code Retry-After} and the JSON error shape, never a 500 that reads as a bug.
 */
class PostgresUnavailableIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpRequest get(TandemRuntime rt, String path) {
    return HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).timeout(java.time.Duration.ofSeconds(60)).build();
  }

  private static void assertUnavailable(HttpResponse<String> r) {
    assertEquals(503, r.statusCode(), r.body());
    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""), "Retry-After of " + r.body());
    JsonObject error = new JsonObject(r.body()).getJsonObject("error");
    assertEquals("unavailable", error.getString("code"), r.body());
    assertTrue(error.getString("message").startsWith("PostgreSQL is unavailable"), r.body());
  }

  @Test
  void aRequestThatWaitsOutThePoolForAConnectionIs503WithRetryAfter(@TempDir Path plugins) throws Exception {
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      DatabaseSettings s = db.settings();
      // One connection: the first request holds it (blocked on a lock the test takes), the second waits it out.
      DatabaseSettings one = new DatabaseSettings(s.host(), s.port(), s.database(), s.user(), s.password(),
          s.schema(), 1, s.sslMode(), s.sslRootCert());
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(one, plugins).withDatabase(one));
      try (Connection lock = DriverManager.getConnection(s.jdbcUrl(), s.user(), s.password())) {
        lock.setAutoCommit(false);
        try (Statement st = lock.createStatement()) {
          st.execute("LOCK TABLE " + s.schema() + ".record_error IN ACCESS EXCLUSIVE MODE");
        }
        CompletableFuture<HttpResponse<String>> holder = HTTP.sendAsync(get(rt, "/api/v1/errors"),
            HttpResponse.BodyHandlers.ofString());
        Thread.sleep(500);
        HttpResponse<String> waited = HTTP.send(get(rt, "/api/v1/errors"), HttpResponse.BodyHandlers.ofString());
        assertUnavailable(waited);

        lock.rollback();
        assertEquals(200, holder.get(30, TimeUnit.SECONDS).statusCode());
        assertEquals(200, HTTP.send(get(rt, "/api/v1/errors"), HttpResponse.BodyHandlers.ofString()).statusCode());
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  @Test
  void requestsWhilePostgresIsUnreachableAre503AndSucceedOnceItIsBack(@TempDir Path plugins) throws Exception {
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      ReadinessIT.Proxy proxy = new ReadinessIT.Proxy(db.settings().host(), db.settings().port());
      proxy.up(0);
      DatabaseSettings viaProxy = db.settings().withAddress("127.0.0.1", proxy.port);
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(viaProxy, plugins).withDatabase(viaProxy));
      try {
        assertEquals(200, HTTP.send(get(rt, "/api/v1/errors"), HttpResponse.BodyHandlers.ofString()).statusCode());
        proxy.down();
        assertUnavailable(HTTP.send(get(rt, "/api/v1/errors"), HttpResponse.BodyHandlers.ofString()));
        assertUnavailable(HTTP.send(get(rt, "/api/v1/jobs"),
            HttpResponse.BodyHandlers.ofString()));

        proxy.up(proxy.port);
        TestRuntimes.await("answers again", 15_000, () -> {
          try {
            return HTTP.send(get(rt, "/api/v1/errors"), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
          } catch (Exception e) {
            return false;
          }
        });
      } finally {
        TestRuntimes.stop(rt);
        proxy.vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }
}
