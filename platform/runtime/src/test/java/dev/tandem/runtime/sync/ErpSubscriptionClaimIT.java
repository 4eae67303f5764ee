package dev.tandem.runtime.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.ErpNotificationSettings;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes checking their Business Central webhook subscriptions at the same moment make one subscription per
 * mapping, not two: each node (its own Vert.x, its own pool, the same PostgreSQL schema) runs the subscription check
 * for three mappings at once against the ERP simulator on bc-online, whose handshake reaches a notification endpoint
 * that answers slowly (so both nodes' checks overlap); BC then lists one subscription per API page and Tandem stores
 * the same one. A renewal due on both nodes at once is made once too.
 */
class ErpSubscriptionClaimIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));
  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static final List<MappingDefinition> MAPPINGS = List.of(
      MappingDefinition.builder("CUSTOMER").erp("Customer", "No").crm("accounts", "accountid")
          .direction(Direction.TO_CRM).field("Name", "name", Direction.TO_CRM).build(),
      MappingDefinition.builder("ITEM").erp("Item", "No").crm("products", "productid")
          .direction(Direction.TO_CRM).field("Description", "name", Direction.TO_CRM).build(),
      MappingDefinition.builder("CURRENCY").erp("Currency", "Code").crm("transactioncurrencies",
          "transactioncurrencyid").direction(Direction.TO_CRM).field("Code", "isocurrencycode", Direction.TO_CRM)
          .build());

  @Test
  void twoNodesAtOnceMakeOneSubscriptionPerMappingAndRenewItOnce() throws Exception {
    String admin = erp.get().baseUrl() + "/__admin/sim";
    send("POST", admin + "/reset", "");
    List<Vertx> nodes = new ArrayList<>();
    AtomicInteger handshakes = new AtomicInteger();
    try (TestDatabase db = TestDatabase.fresh()) {
      new SchemaMigrator(db.settings()).migrate();
      Vertx endpoint = Vertx.vertx();
      nodes.add(endpoint);
      // The notification URL (a load balancer before the nodes): answers BC's handshake after 300 ms.
      HttpServer server = endpoint.createHttpServer().requestHandler(req -> {
        handshakes.incrementAndGet();
        String token = req.getParam("validationToken");
        endpoint.setTimer(300, t -> req.response().setStatusCode(200).putHeader("Content-Type", "text/plain")
            .end(token == null ? "" : token));
      });
      int port = server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
          .actualPort();
      Connections base = TestRuntimes.connections(erp.get(), crm.get());
      // Renewed once it expires within a day; never checked on its own timer during the test.
      Connections connections = new Connections(base.erp(), base.crm(), new ErpNotificationSettings(
          "http://127.0.0.1:" + port + "/erp/notifications", 86_400_000, 3_600_000));
      List<ErpNotificationsVerticle> verticles = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Vertx v = Vertx.vertx();
        nodes.add(v);
        Pool pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(v).build();
        ErpNotificationsVerticle n = new ErpNotificationsVerticle(pool, connections, () -> MAPPINGS,
            job -> Future.succeededFuture(0L), EndpointMetrics.NONE);
        v.deployVerticle(n).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        verticles.add(n);
      }
      race(nodes, verticles);
      List<Map<String, Object>> subs = Json.objects(Json.object(send("GET", admin + "/webhooks", null).body())
          .get("subscriptions"));
      assertEquals(3, subs.size(), "one BC subscription per mapping: " + subs);
      assertEquals(3, db.queryLong("SELECT count(*) FROM erp_subscription"));
      assertEquals(3, db.queryLong("SELECT count(DISTINCT resource) FROM erp_subscription"));
      for (Map<String, Object> s : subs) {
        assertEquals(1, db.queryLong("SELECT count(*) FROM erp_subscription WHERE subscription_id = '"
            + s.get("subscriptionId") + "'"), "BC's subscription is the stored one: " + s);
      }
      assertEquals(3, handshakes.get(), "one handshake per subscription created");
      assertEquals(0, db.queryLong("SELECT count(*) FROM erp_subscription_claim"), "claims released");

      // Both nodes find every subscription due for renewal at once: each is renewed (one handshake) once.
      db.exec("UPDATE erp_subscription SET expires_at = now() + interval '1 hour'");
      race(nodes, verticles);
      assertEquals(6, handshakes.get(), "one renewal per subscription");
      assertEquals(3, Json.objects(Json.object(send("GET", admin + "/webhooks", null).body()).get("subscriptions"))
          .size());
      assertEquals(0, db.queryLong("SELECT count(*) FROM erp_subscription WHERE expires_at < now() + interval '2 days'"));
    } finally {
      for (Vertx v : nodes) {
        v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Both nodes' checks started in the same instant, each on its own event loop; then each node checks again until
   * its check finds every subscription in place (a node that lost a claim, or whose own timer was checking, says
   * not yet).
   */
  private static void race(List<Vertx> nodes, List<ErpNotificationsVerticle> verticles) throws Exception {
    List<CompletableFuture<Boolean>> first = new ArrayList<>();
    for (int i = 0; i < verticles.size(); i++) {
      first.add(check(nodes.get(i + 1), verticles.get(i)));
    }
    for (CompletableFuture<Boolean> f : first) {
      f.get(60, TimeUnit.SECONDS);
    }
    for (int i = 0; i < verticles.size(); i++) {
      long end = System.currentTimeMillis() + 30_000;
      while (!check(nodes.get(i + 1), verticles.get(i)).get(60, TimeUnit.SECONDS)) {
        assertTrue(System.currentTimeMillis() < end, "node " + i + " never found its subscriptions in place");
        Thread.sleep(100);
      }
    }
  }

  private static CompletableFuture<Boolean> check(Vertx node, ErpNotificationsVerticle n) {
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    node.runOnContext(x -> n.maintain().onComplete(ar -> {
      if (ar.succeeded()) {
        f.complete(ar.result());
      } else {
        f.completeExceptionally(ar.cause());
      }
    }));
    return f;
  }

  private static HttpResponse<String> send(String method, String url, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).method(method, body == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
  }
}
