package dev.tandem.runtime.plugins;

import static dev.tandem.runtime.TestRuntimes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.store.NewJob;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real plugin jars built in the test: two good ones (a jar and a zip), one whose plugin class is missing, one
 * whose mapping depends on a mapping no plugin provides. The good ones run; the API lists all four.
 */
class PluginLoadingIT {

  @TempDir
  static Path work;

  private static TestDatabase db;
  private static TandemRuntime rt;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Path plugins = Files.createDirectories(work.resolve("plugins"));
    PluginJars.jar(plugins, "good-a", null,
        Map.of("test.gooda.GoodA", PluginJars.entityPlugin("test.gooda", "GoodA", "GOOD_A", null)), work);
    PluginJars.zip(plugins, "good-b",
        Map.of("test.goodb.GoodB", PluginJars.entityPlugin("test.goodb", "GoodB", "GOOD_B", "GOOD_A")), work);
    PluginJars.jar(plugins, "missing-class", "test.missing.NoSuchPlugin",
        Map.of("test.missing.Present", PluginJars.entityPlugin("test.missing", "Present", "MISSING_M", null)), work);
    PluginJars.jar(plugins, "bad-dep", null,
        Map.of("test.baddep.BadDep", PluginJars.entityPlugin("test.baddep", "BadDep", "ORPHAN_M", "NOT_INSTALLED")),
        work);
    db = TestDatabase.fresh();
    rt = TestRuntimes.start(TestRuntimes.config(db.settings(), plugins));
  }

  @AfterAll
  static void stop() throws Exception {
    TestRuntimes.stop(rt);
    db.close();
  }

  private static JsonObject get(String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  @Test
  void apiListsAllFourWithStateAndReason() throws Exception {
    JsonArray list = get("/api/v1/plugins").getJsonArray("plugins");
    Map<String, JsonObject> byId = new HashMap<>();
    list.forEach(o -> byId.put(((JsonObject) o).getString("id"), (JsonObject) o));
    assertEquals(4, byId.size(), list.encodePrettily());

    JsonObject a = byId.get("good-a");
    assertEquals("STARTED", a.getString("state"));
    assertNull(a.getString("reason"));
    assertEquals("1.0.0", a.getString("version"));
    assertEquals("GOOD_A", a.getJsonArray("mappings").getJsonObject(0).getString("name"));
    assertEquals("ENABLED", a.getJsonArray("mappings").getJsonObject(0).getString("state"));

    JsonObject b = byId.get("good-b");
    assertEquals("STARTED", b.getString("state"), b.encode());
    assertEquals("GOOD_A", b.getJsonArray("mappings").getJsonObject(0).getJsonArray("dependencies")
        .getJsonObject(0).getString("mapping"));

    JsonObject missing = byId.get("missing-class");
    assertEquals("FAILED", missing.getString("state"));
    assertTrue(missing.getString("reason").contains("test.missing.NoSuchPlugin"), missing.encode());

    JsonObject bad = byId.get("bad-dep");
    assertEquals("FAILED", bad.getString("state"));
    assertEquals("mapping ORPHAN_M depends on mapping NOT_INSTALLED, which no installed plugin provides: "
        + "install the plugin that provides NOT_INSTALLED", bad.getString("reason"));
    assertEquals("DISABLED", bad.getJsonArray("mappings").getJsonObject(0).getString("state"));
  }

  @Test
  void goodPluginsServeTheirJobsAndTheOthersFailWithAReason() throws Exception {
    long a = done(rt.enqueue(NewJob.of(JobKind.SYNC, "GOOD_A")));
    long b = done(rt.enqueue(NewJob.of(JobKind.SYNC, "GOOD_B")));
    long orphan = done(rt.enqueue(NewJob.of(JobKind.SYNC, "ORPHAN_M")));
    for (long id : new long[] {a, b, orphan}) {
      await("job " + id + " ended", 15_000, () -> {
        try {
          String s = get("/api/v1/jobs/" + id).getString("status");
          return s.equals("SUCCEEDED") || s.equals("FAILED");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
    }
    JsonObject ja = get("/api/v1/jobs/" + a);
    assertEquals("SUCCEEDED", ja.getString("status"));
    assertEquals("served by good-a", ja.getString("message"));
    assertEquals(2, ja.getJsonObject("counts").getInteger("inserted"));
    assertEquals(5, ja.getJsonObject("counts").getInteger("unchanged"));
    assertEquals("served by good-b", get("/api/v1/jobs/" + b).getString("message"));
    JsonObject jo = get("/api/v1/jobs/" + orphan);
    assertEquals("FAILED", jo.getString("status"));
    assertTrue(jo.getString("message").contains("no verticle consumes tandem.sync.ORPHAN_M: plugin bad-dep, "
        + "which provides mapping ORPHAN_M, failed: mapping ORPHAN_M depends on mapping NOT_INSTALLED"),
        jo.getString("message"));
    // Plugin metrics reach the runtime's registry with the plugin tag.
    assertTrue(rt.registry().scrape().contains("tandem_plugin_jobs_served_total{mapping=\"GOOD_A\",plugin=\"good-a\"}"));
  }

  @Test
  void schedulesAreCreatedOnlyForMappingsThatHaveAVerticle() throws Exception {
    JsonArray schedules = get("/api/v1/schedules").getJsonArray("schedules");
    assertEquals(2, schedules.size(), schedules.encode());
    assertEquals("GOOD_A", schedules.getJsonObject(0).getString("mapping"));
    assertEquals("GOOD_B", schedules.getJsonObject(1).getString("mapping"));
  }

  private static <T> T done(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
