package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpSettings;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.erp.ErpSimulator;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The engine's verticles each build their ERP client, as the generic engine does; on one node they share one budget
 * per endpoint user (requests of both count against one limit), one token and one connection pool, which outlives
 * the verticle that opened it.
 */
class SharedEndpointClientsIT {

  @RegisterExtension
  static SimulatorExtension<ErpSimulator> erp =
      new SimulatorExtension<>(() -> new ErpSimulator(ErpSimulator.Options.bcOnline()));

  private static final long WINDOW_MS = 1_500;
  private Vertx vertx;

  /** A verticle with its own client, built on its own context as the engine's verticles build theirs. */
  private static final class ClientVerticle extends VerticleBase {
    private final ODataErpSettings settings;
    private ODataErpClient client;

    ClientVerticle(ODataErpSettings settings) {
      this.settings = settings;
    }

    @Override
    public Future<?> start() {
      client = new ODataErpClient(vertx, settings, EndpointMetrics.NONE);
      return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
      client.close();
      return Future.succeededFuture();
    }

    /** Runs calls on this verticle's context and waits for them. */
    <T> T on(Function<ODataErpClient, Future<T>> call) throws Exception {
      CompletableFuture<T> f = new CompletableFuture<>();
      context.runOnContext(v -> call.apply(client).onComplete(ar -> {
        if (ar.succeeded()) {
          f.complete(ar.result());
        } else {
          f.completeExceptionally(ar.cause());
        }
      }));
      return f.get(60, TimeUnit.SECONDS);
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    admin(erp.get().baseUrl(), "POST", "reset", null);
    admin(erp.get().baseUrl(), "POST", "stats/reset", null);
    admin(erp.get().baseUrl(), "POST", "clients", "{\"tokenLifetimeSeconds\":3599}");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  /** Four requests per window for the user: fewer than the two verticles send together. */
  private static ODataErpSettings settings() {
    ErpSimulator.Options o = erp.get().options();
    EndpointBudget.Limits bc = EndpointBudget.Limits.businessCentral();
    return ODataErpSettings.online(erp.get().serviceRoot(), o.company(),
            new ODataErpSettings.OAuth(erp.get().tokenUrl(), o.clientId(), o.clientSecret(), null))
        .withLimits(new EndpointBudget.Limits(bc.concurrency(), 4, 0, WINDOW_MS, bc.remainingRequestsHeader(),
            bc.remainingTimeHeader()));
  }

  private ClientVerticle deploy() throws Exception {
    ClientVerticle v = new ClientVerticle(settings());
    vertx.deployVerticle(v).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return v;
  }

  private static long tokenRequests() throws Exception {
    Map<?, ?> routes = (Map<?, ?>) Json.object(admin(erp.get().baseUrl(), "GET", "stats", null)).get("byRoute");
    Object n = routes.get("POST token");
    return n == null ? 0 : ((Number) n).longValue();
  }

  private static Future<?> reads(ODataErpClient c, int n) {
    List<Future<?>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(c.read("Customer", null, List.of("No"), null));
    }
    return Future.all(all);
  }

  @Test
  void twoVerticlesShareOneBudgetOneTokenAndOnePool() throws Exception {
    ClientVerticle a = deploy();
    ClientVerticle b = deploy();
    assertSame(a.client.budget(), b.client.budget(), "one budget per endpoint user and node");

    // Each verticle sends the user's whole window (4 requests) at once: together they are twice the limit, so
    // half of them wait for the window to slide. With a budget each, all eight would start at once.
    a.on(c -> reads(c, 1));
    b.on(c -> reads(c, 1));
    Thread.sleep(WINDOW_MS + 100); // the two warm-up reads have left the window
    long t0 = System.nanoTime();
    CompletableFuture<Object> fromA = CompletableFuture.supplyAsync(() -> call(a, 4));
    CompletableFuture<Object> fromB = CompletableFuture.supplyAsync(() -> call(b, 4));
    CompletableFuture.allOf(fromA, fromB).get(60, TimeUnit.SECONDS);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= WINDOW_MS - 200, "8 requests against 4 per " + WINDOW_MS + " ms took only " + ms + " ms");
    assertEquals(0, a.client.budget().throttledCount(), "the budget kept both under the limit");

    assertEquals(1, tokenRequests(), "the second verticle's client used the first one's token");

    // The verticle that opened the connection pool goes; the other's client keeps working on it.
    vertx.undeploy(a.deploymentID()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    b.on(c -> reads(c, 1));
  }

  private static Object call(ClientVerticle v, int n) {
    try {
      return v.on(c -> reads(c, n));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
