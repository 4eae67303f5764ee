package dev.tandem.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.runtime.store.PgBudgetSlots;
import dev.tandem.runtime.store.SchemaMigrator;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.Json;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ERP user's budget: one per node, shared by every client (job, verticle) of the node, its five concurrent
 * requests (Business Central's per-user limit) split over the nodes through PostgreSQL, like the CRM's. Against
 * the ERP simulator over HTTP and a real PostgreSQL: two nodes with two clients each, all reading at once, never
 * have more than five requests at the simulator.
 */
class ErpBudgetAcrossNodesIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp = new SimulatorExtension<>(ErpSimulator::new);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private TestDatabase db;
  private final List<Vertx> nodes = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    admin("POST", "reset", null);
    admin("POST", "seed", "{\"seed\":42,\"counts\":{\"SalespersonPurchaser\":0,\"Customer\":300}}");
    // Reads cost time (latency, per row and per FlowField), so requests overlap.
    admin("POST", "costs", "{\"profile\":\"realistic\",\"timeScale\":0.2}");
  }

  @AfterEach
  void tearDown() throws Exception {
    admin("POST", "costs", "{\"profile\":\"fast\"}");
    for (Vertx v : nodes) {
      v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    db.close();
  }

  private static String admin(String method, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(erp.get().baseUrl() + "/__admin/sim/" + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertTrue(r.statusCode() < 300, path + ": " + r.body());
    return r.body();
  }

  private record Node(Vertx vertx, List<ODataErpClient> clients, BudgetSlotKeeper keeper) {}

  private Node node(String id) throws Exception {
    Vertx v = Vertx.vertx();
    nodes.add(v);
    ErpSimulator.Options o = erp.get().options();
    ODataErpSettings s = ODataErpSettings.of(erp.get().serviceRoot(), o.company(), o.user(), o.accessKey())
        .withSizes(200, 100, 5);
    List<ODataErpClient> clients = List.of(new ODataErpClient(v, s, EndpointMetrics.NONE),
        new ODataErpClient(v, s, EndpointMetrics.NONE));
    assertSame(clients.get(0).budget(), clients.get(1).budget(), "one budget per ERP user and node");
    assertEquals(5, clients.get(0).budget().limits().concurrency());
    assertEquals(6000, clients.get(0).budget().limits().requests(), "BC's 6,000 requests per 5 minutes");
    Pool pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(v).build();
    BudgetSlotKeeper k = new BudgetSlotKeeper(v, new PgBudgetSlots(pool), id, List.of(clients.get(0).budget()), 250,
        10_000);
    k.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new Node(v, clients, k);
  }

  /** 12 first-page reads of Customer from each client, all at once, each on the client's node. */
  private static List<CompletableFuture<Page>> readAll(Node n) {
    List<CompletableFuture<Page>> out = new ArrayList<>();
    for (ODataErpClient c : n.clients()) {
      for (int i = 0; i < 12; i++) {
        CompletableFuture<Page> f = new CompletableFuture<>();
        n.vertx().runOnContext(x -> c.read("Customer", null, null, null).onComplete(ar -> {
          if (ar.succeeded()) {
            f.complete(ar.result());
          } else {
            f.completeExceptionally(ar.cause());
          }
        }));
        out.add(f);
      }
    }
    return out;
  }

  @Test
  void twoNodesWithTwoClientsEachNeverRunMoreThanTheUsersFiveRequestsAtOnce() throws Exception {
    Node a = node("erp-node-a");
    Node b = node("erp-node-b");
    EndpointBudget ba = a.clients().get(0).budget();
    EndpointBudget bb = b.clients().get(0).budget();
    long end = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < end && (ba.share() == 0 || bb.share() == 0)) {
      assertTrue(ba.share() + bb.share() <= 5, ba.share() + " + " + bb.share());
      Thread.sleep(20);
    }
    assertTrue(ba.share() > 0 && bb.share() > 0, "both nodes hold slots: " + ba.share() + ", " + bb.share());
    assertTrue(ba.share() + bb.share() <= 5, "together at most BC's five: " + ba.share() + " + " + bb.share());
    admin("POST", "stats/reset", null);
    List<CompletableFuture<Page>> all = new ArrayList<>(readAll(a));
    all.addAll(readAll(b));
    for (CompletableFuture<Page> f : all) {
      assertEquals(200, f.get(120, TimeUnit.SECONDS).rows().size());
    }
    Map<?, ?> stats = Json.decodeValue(admin("GET", "stats", null), Map.class);
    long peak = ((Number) stats.get("peakConcurrency")).longValue();
    assertTrue(peak <= 5, "the simulator saw " + peak + " requests of the user at once");
    assertTrue(peak >= 2, "both nodes' requests overlapped: " + peak);
    assertEquals(0, ba.throttledCount() + bb.throttledCount());
    Future.all(a.keeper().stop(), b.keeper().stop()).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }
}
