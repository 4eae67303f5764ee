package dev.tandem.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.store.PgBudgetSlots;
import dev.tandem.runtime.store.SchemaMigrator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Nodes sharing one application user split its 52 concurrent requests through PostgreSQL, and survive a death. */
class BudgetSlotKeeperIT {

  private TestDatabase db;
  private final List<Vertx> nodes = new ArrayList<>();

  @BeforeEach
  void setUp() {
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Vertx v : nodes) {
      v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    db.close();
  }

  private record Node(EndpointBudget budget, BudgetSlotKeeper keeper) {}

  private Node node(String id) throws Exception {
    Vertx v = Vertx.vertx();
    nodes.add(v);
    Pool pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(v).build();
    EndpointBudget b = EndpointBudget.of(v, "https://org.example/api/data/v9.2", "tandem-sync",
        EndpointBudget.Limits.dataverse(), 52);
    // Heartbeats every 250 ms; requests last at most 1 s, so a lease lasts 2.5 s and a node stops starting
    // requests 1 s after its last renewal unless the next one got through.
    BudgetSlotKeeper k = new BudgetSlotKeeper(v, new PgBudgetSlots(pool), id, List.of(b), 250, 1000);
    assertEquals(0, b.share(), "no requests before the node holds slots");
    k.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new Node(b, k);
  }

  private static void within(long ms, BooleanSupplier ok, Runnable check) throws InterruptedException {
    long end = System.currentTimeMillis() + ms;
    while (System.currentTimeMillis() < end) {
      check.run();
      if (ok.getAsBoolean()) {
        return;
      }
      Thread.sleep(5);
    }
    check.run();
    assertTrue(ok.getAsBoolean(), "not reached within " + ms + " ms");
  }

  @Test
  void nodesSplitTheUsersConcurrencyNeverHoldingMoreThan52AndTakeOverADeadNodesPart() throws Exception {
    Node a = node("node-a");
    assertEquals(52, a.budget().share(), "alone, a node holds every slot");
    Node b = node("node-b");
    Node c = node("node-c");
    Runnable never = () -> assertTrue(a.budget().share() + b.budget().share() + c.budget().share() <= 52,
        "together " + a.budget().share() + " + " + b.budget().share() + " + " + c.budget().share());
    within(20_000, () -> a.budget().share() >= 16 && b.budget().share() >= 16 && c.budget().share() >= 16, never);
    // node-c dies without giving its slots back: its lease runs out and the others take them over.
    nodes.get(2).close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    nodes.remove(2);
    Runnable two = () -> assertTrue(a.budget().share() + b.budget().share() <= 52);
    within(20_000, () -> a.budget().share() == 26 && b.budget().share() == 26, two);
    // node-b stops and gives its slots back at once.
    b.keeper().stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    within(20_000, () -> a.budget().share() == 52, () -> { });
  }
}
