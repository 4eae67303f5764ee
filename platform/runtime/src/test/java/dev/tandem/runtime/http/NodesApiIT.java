package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Addresses;
import dev.tandem.api.JobOutcome;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.plugins.PluginJars;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on one schema: both listed with heartbeats; a node that stopped is listed so; a node that died is
 * listed dead and its job is taken over after its lease. And the mapping settings' store errors: MERGE is
 * accepted, a value the database refuses is a 400 naming the field, not an outage.
 */
class NodesApiIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> call(TandemRuntime rt, String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject node(TandemRuntime rt, String id) throws Exception {
    HttpResponse<String> r = call(rt, "GET", "/api/v1/nodes", null);
    assertEquals(200, r.statusCode(), r.body());
    JsonArray nodes = new JsonObject(r.body()).getJsonArray("nodes");
    for (int i = 0; i < nodes.size(); i++) {
      if (id.equals(nodes.getJsonObject(i).getString("id"))) {
        return nodes.getJsonObject(i);
      }
    }
    return null;
  }

  private static void serve(TandemRuntime rt, String name) throws Exception {
    rt.vertx().eventBus().<JsonObject>consumer(Addresses.sync("GHOSTED"),
            m -> m.reply(JobOutcome.EMPTY.withMessage("taken over by " + name).toJson()))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void nodesAreListedWithHeartbeatsAndADeadNodesJobIsTakenOverAfterItsLease(@TempDir Path plugins) throws Exception {
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), plugins)
          .withJobs(new JobSettings(4, 4, 50, 3_000, 30_000, 5, 100, 1_000, 0));
      TandemRuntime a = TestRuntimes.start(cfg.withNodeId("node-a"));
      TandemRuntime b = TestRuntimes.start(cfg.withNodeId("node-b"));
      try {
        serve(a, "node-a");
        serve(b, "node-b");
        // A third node died while it ran a job: it holds the job's lease and beats no more.
        db.exec("INSERT INTO node (id, version, started_at, last_seen) VALUES ('ghost', '0.0.1', now(), now())");
        long job = db.queryLong("INSERT INTO job (kind, mapping, status, lease_owner, lease_until, lease_epoch, "
            + "attempts, started_at) VALUES ('SYNC', 'GHOSTED', 'running', 'ghost', now() + interval '1 second', 1, 1, "
            + "now()) RETURNING id");
        TestRuntimes.await("node b's heartbeat", 5_000, () -> {
          try {
            JsonObject nb = node(a, "node-b");
            return nb != null && "alive".equals(nb.getString("state"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        for (String id : new String[] {"node-a", "node-b"}) {
          JsonObject n = node(b, id);
          assertEquals("alive", n.getString("state"), n.encode());
          assertNotNull(n.getString("version"));
          Instant seen = Instant.parse(n.getString("lastSeen"));
          assertTrue(seen.isAfter(Instant.now().minusSeconds(5)), n.encode());
          assertTrue(!Instant.parse(n.getString("startedAt")).isAfter(seen), n.encode());
        }
        TestRuntimes.await("the dead node's job taken over", 15_000,
            () -> "succeeded".equals(db.queryString("SELECT status FROM job WHERE id = " + job)));
        assertTrue(db.queryLong("SELECT attempts FROM job WHERE id = " + job) >= 2, "the dead node's attempt counts");
        assertTrue(db.queryString("SELECT message FROM job WHERE id = " + job).startsWith("taken over by node-"));
        // Its heartbeat is one lease old by now or soon: listed as dead (the takeover itself went by the job's lease).
        TestRuntimes.await("the ghost listed as dead", 10_000, () -> {
          try {
            return "dead".equals(node(a, "ghost").getString("state"));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        JsonObject ghost = node(a, "ghost");
        assertEquals(0, ghost.getInteger("jobsRunning"));
        assertTrue(a.registry().get("tandem.nodes.alive").gauge().value() >= 2);

        TestRuntimes.stop(b);
        b = null;
        JsonObject stopped = node(a, "node-b");
        assertEquals("stopped", stopped.getString("state"), stopped.encode());
        assertNotNull(stopped.getString("stoppedAt"));
      } finally {
        TestRuntimes.stop(b);
        TestRuntimes.stop(a);
      }
    }
  }

  @Test
  void conflictPolicyMergeIsStoredAndARefusedValueIsABadRequestNamingTheField(@TempDir Path work) throws Exception {
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "customers", null,
        Map.of("test.nodes.Customers", PluginJars.entityPlugin("test.nodes", "Customers", "CUSTOMER", null)), work);
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemRuntime rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins));
      try {
        HttpResponse<String> merge = call(rt, "PATCH", "/api/v1/mappings/CUSTOMER", "{\"conflictPolicy\":\"MERGE\"}");
        assertEquals(200, merge.statusCode(), merge.body());
        assertEquals("MERGE", new JsonObject(merge.body()).getJsonObject("overrides").getString("conflictPolicy"),
            merge.body());
        assertEquals("MERGE", db.queryString("SELECT conflict_policy FROM mapping_settings WHERE mapping = 'CUSTOMER'"));
        // A value PostgreSQL refuses (a NUL character in text): bad input, not "PostgreSQL is unavailable".
        HttpResponse<String> bad = call(rt, "PATCH", "/api/v1/mappings/CUSTOMER",
            "{\"crmFilter\":\"name eq 'a\\u0000b'\"}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(!bad.body().contains("unavailable"), bad.body());

        // Whatever a store refuses by constraint is mapped centrally: a check is a 400 naming the request field,
        // a unique violation a 409.
        io.vertx.sqlclient.Pool pool = io.vertx.pgclient.PgBuilder.pool().connectingTo(db.settings().connectOptions())
            .using(rt.vertx()).build();
        AdminHttpServer server = new AdminHttpServer(rt.vertx(), pool, rt.queue(), rt.schedules(), rt.plugins(),
            rt.registry(), TestRuntimes.TOKEN);
        io.vertx.ext.web.Router router = server.router();
        router.get("/api/v1/test/check").order(-1).handler(ctx -> pool.query("INSERT INTO mapping_settings "
            + "(mapping, skip_after_repeats) VALUES ('X', 0)").execute().onFailure(ctx::fail));
        router.get("/api/v1/test/unique").order(-1).handler(ctx -> pool.query("INSERT INTO mapping_settings "
            + "(mapping) VALUES ('CUSTOMER')").execute().onFailure(ctx::fail));
        io.vertx.core.http.HttpServer http = rt.vertx().createHttpServer().requestHandler(router).listen(0)
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
          HttpResponse<String> check = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:"
              + http.actualPort() + "/api/v1/test/check")).build(), HttpResponse.BodyHandlers.ofString());
          assertEquals(400, check.statusCode(), check.body());
          JsonObject error = new JsonObject(check.body()).getJsonObject("error");
          assertEquals("invalid", error.getString("code"), check.body());
          assertTrue(error.getString("message").startsWith("skipAfterRepeats:"), check.body());
          HttpResponse<String> unique = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:"
              + http.actualPort() + "/api/v1/test/unique")).build(), HttpResponse.BodyHandlers.ofString());
          assertEquals(409, unique.statusCode(), unique.body());
          assertEquals("conflict", new JsonObject(unique.body()).getJsonObject("error").getString("code"));
          assertTrue(unique.body().contains("mapping:"), unique.body());
        } finally {
          http.close();
          pool.close();
        }
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }
}
