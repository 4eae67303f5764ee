package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.Main;
import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.cli.ConnectionCommands;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.connection.SecretCipher;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection window: validation naming the field, secrets never returned, the Enabled switch refusing new jobs,
 * a second node following a change without restart, the {@code tandem connection test} command, and key rotation.
 */
class ConnectionApiIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> api(TandemRuntime rt, String method, String path, String body)
      throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + rt.httpPort() + path))
        .header("Authorization", "Bearer " + TestRuntimes.TOKEN).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject connection() {
    ErpSimulator.Options o = erp.get().options();
    return new JsonObject()
        .put("erp", new JsonObject().put("profile", "nav").put("url", erp.get().serviceRoot())
            .put("company", o.company()).put("user", o.user()).put("accessKey", o.accessKey()))
        .put("crm", new JsonObject().put("url", crm.get().apiUrl()).put("tokenUrl", crm.get().tokenUrl())
            .put("applicationUsers", new JsonArray().add(new JsonObject().put("clientId", "tandem-sync")
                .put("clientSecret", "tandem-secret"))));
  }

  private static SecretCipher cipher() {
    return new SecretCipher(Base64.getDecoder().decode(SecretCipher.generateKey()));
  }

  private static TandemRuntime start(TandemConfig cfg, SecretCipher c) throws Exception {
    return TandemRuntime.start(cfg, c).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void storedOnOneNodeFollowedByAnotherDisabledRefusesJobsAndTheKeyRotates(@TempDir Path work) throws Exception {
    SecretCipher key = cipher();
    try (TestDatabase db = TestDatabase.fresh()) {
      TandemConfig cfg = TestRuntimes.config(db.settings(), Files.createDirectories(work.resolve("plugins")));
      TandemRuntime one = start(cfg.withNodeId("one"), key);
      TandemRuntime two = start(cfg.withNodeId("two"), key);
      try {
        // Bad fields are named.
        JsonObject bad = connection();
        bad.getJsonObject("erp").put("profile", "sap").remove("accessKey");
        HttpResponse<String> refused = api(one, "PUT", "/api/v1/connection", bad.encode());
        assertEquals(400, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("erp.profile: unknown profile 'sap'"), refused.body());
        JsonObject badUrl = connection();
        badUrl.getJsonObject("crm").put("url", "not a url");
        badUrl.getJsonObject("crm").getJsonArray("applicationUsers").getJsonObject(0).remove("clientSecret");
        HttpResponse<String> refused2 = api(one, "PUT", "/api/v1/connection", badUrl.encode());
        assertEquals(400, refused2.statusCode(), refused2.body());
        assertTrue(refused2.body().contains("crm.url"), refused2.body());
        assertTrue(refused2.body().contains("crm.applicationUsers[0].clientSecret: missing"), refused2.body());

        HttpResponse<String> put = api(one, "PUT", "/api/v1/connection", connection().encode());
        assertEquals(200, put.statusCode(), put.body());
        assertFalse(put.body().contains("tandem-secret"), "secrets are never returned: " + put.body());
        assertFalse(put.body().contains(erp.get().options().accessKey()), put.body());
        // The other node follows without a restart.
        TestRuntimes.await("node two connected", 30_000, () -> two.connection().current().connected());
        JsonObject seen = new JsonObject(api(two, "GET", "/api/v1/connection", null).body());
        assertTrue(seen.getJsonObject("erp").getJsonObject("accessKey").getBoolean("set"), seen.encode());
        assertEquals("stored", seen.getJsonObject("source").getString("crm"));

        // The CLI's connection test against it.
        StringWriter out = new StringWriter();
        int exit = Main.commandLine().setOut(new PrintWriter(out)).execute("connection", "test", "--url",
            "http://localhost:" + one.httpPort(), "--token", TestRuntimes.TOKEN);
        assertTrue(out.toString().contains("erp.company"), out.toString());
        assertTrue(out.toString().contains("crm.whoAmI"), out.toString());
        // The default organization has not imported the solution: the test names it and exits 1.
        assertTrue(out.toString().contains("crm.solution"), out.toString());
        assertEquals(1, exit, out.toString());

        // Disabled: new jobs are refused with the reason, on every node.
        HttpResponse<String> off = api(one, "PATCH", "/api/v1/connection",
            "{\"enabled\":false,\"disabledReason\":\"ERP upgrade tonight\"}");
        assertEquals(200, off.statusCode(), off.body());
        TestRuntimes.await("node two disabled", 30_000, () -> !two.connection().current().enabled());
        try {
          two.enqueue(dev.tandem.runtime.store.NewJob.of(dev.tandem.api.JobKind.SYNC, "ANY"))
              .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
          throw new AssertionError("a job was accepted while the connection is disabled");
        } catch (java.util.concurrent.ExecutionException e) {
          assertTrue(e.getCause().getMessage().contains("ERP upgrade tonight"), e.getCause().getMessage());
        }
      } finally {
        TestRuntimes.stop(two);
        TestRuntimes.stop(one);
      }

      // Rotation without downtime: a node started with the new key and the old one as previous opens the secrets
      // before, during and after the re-sealing; a node with only the new key can open them once re-sealed.
      String nextKey = SecretCipher.generateKey();
      SecretCipher next = new SecretCipher(java.util.Base64.getDecoder().decode(nextKey));
      SecretCipher onlyNew = new SecretCipher(java.util.Base64.getDecoder().decode(nextKey));
      TandemRuntime early = start(cfg.withNodeId("early"), onlyNew);
      try {
        assertFalse(early.connection().current().connected(), "the new key alone does not open the old secrets");
        assertTrue(early.connection().current().disabledReason().contains(SecretCipher.ENV_PREVIOUS_KEY),
            early.connection().current().disabledReason());
      } finally {
        TestRuntimes.stop(early);
      }
      TandemRuntime three = start(cfg.withNodeId("three"), next.withPrevious(key));
      try {
        assertEquals(erp.get().options().accessKey(), three.connection().current().connections().erp().accessKey());
        assertEquals(2, ConnectionCommands.RotateKey.rotate(db.settings(), key, next));
        assertEquals(0, db.queryLong("SELECT count(*) FROM connection_secret WHERE key_id <> '" + next.keyId()
            + "'"));
        // A change after the re-sealing: the node reloads every secret, now sealed with the new key.
        HttpResponse<String> renamed = api(three, "PATCH", "/api/v1/connection", "{\"enabled\":true}");
        assertEquals(200, renamed.statusCode(), renamed.body());
        assertTrue(three.connection().current().connected(), three.connection().current().toString());
        assertEquals(0, ConnectionCommands.RotateKey.rotate(db.settings(), key, next), "a second run has nothing left");
      } finally {
        TestRuntimes.stop(three);
      }
      TandemRuntime four = start(cfg.withNodeId("four"), new SecretCipher(java.util.Base64.getDecoder()
          .decode(nextKey)));
      try {
        assertEquals(erp.get().options().accessKey(), four.connection().current().connections().erp().accessKey());
      } finally {
        TestRuntimes.stop(four);
      }
    }
  }
}
