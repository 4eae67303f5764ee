package dev.tandem.runtime.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tandem.api.Direction;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.store.PgCouplingStore.Outcome;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The coupled total a mapping keeps (V84) instead of counting its couplings stays the count of couplings with both
 * sides through two nodes writing at once, a transaction rolled back and retried, pending rows completed, manual
 * couplings, uncoupling, a restore that clears a side, and reads (which fold the deltas) racing the writes.
 */
class PgCoupledTotalIT {

  private TestDatabase db;
  private Vertx vertx;
  private Pool nodeA;
  private Pool nodeB;

  @BeforeEach
  void setUp() {
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    vertx = Vertx.vertx();
    nodeA = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    nodeB = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
    db.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static final OffsetDateTime T = OffsetDateTime.of(2026, 12, 3, 12, 0, 0, 0, ZoneOffset.UTC);

  /** A page of outcomes ERP to CRM: keys from..to, every {@code pendingEvery}th without its CRM record yet. */
  private static List<Outcome> page(String prefix, int from, int to, int pendingEvery) {
    List<Outcome> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      boolean pending = pendingEvery > 0 && i % pendingEvery == 0;
      out.add(new Outcome(prefix + i, pending ? null : "C" + prefix + i, T, pending ? null : T,
          pending ? "failed" : "inserted", pending ? "CRM refused" : null));
    }
    return out;
  }

  private void assertTotal(PgCouplingStore store, String mapping) throws Exception {
    assertEquals(await(store.countCoupledByScan(mapping)), await(store.countCoupled(mapping)), mapping);
  }

  @Test
  void theKeptTotalIsTheCountThroughConcurrentNodesRetriesAndEveryKindOfChange() throws Exception {
    PgCouplingStore a = new PgCouplingStore(nodeA);
    PgCouplingStore b = new PgCouplingStore(nodeB);
    // Two nodes record pages of the same mapping at once (distinct key ranges, as two key-range jobs do), and a
    // second mapping alongside; both read the total while they write.
    List<Future<?>> writes = new ArrayList<>();
    for (int p = 0; p < 8; p++) {
      int from = p * 250;
      writes.add(nodeA.withTransaction(c -> a.record(c, "CUSTOMER", Direction.TO_CRM, 1, 3,
          page("A", from, from + 250, 7))));
      writes.add(nodeB.withTransaction(c -> b.record(c, "CUSTOMER", Direction.TO_CRM, 2, 3,
          page("B", from, from + 250, 11))));
      writes.add(nodeB.withTransaction(c -> b.record(c, "VENDOR", Direction.TO_CRM, 2, 3, page("V", from, from + 10,
          0))));
      writes.add(a.countCoupled("CUSTOMER"));
      writes.add(b.countCoupled("CUSTOMER"));
    }
    await(Future.all(writes));
    assertTotal(a, "CUSTOMER");
    assertTotal(b, "VENDOR");
    long before = await(a.countCoupled("CUSTOMER"));

    // A page whose transaction fails after its couplings were written (the node lost its lease, say) leaves the
    // total as it was; the retry on the other node counts once.
    assertThrows(Exception.class, () -> await(nodeA.withTransaction(c -> a.record(c, "CUSTOMER", Direction.TO_CRM,
        3, 3, page("R", 0, 300, 0)).compose(v -> Future.failedFuture(new IllegalStateException("lease lost"))))));
    assertEquals(before, await(b.countCoupled("CUSTOMER")));
    await(nodeB.withTransaction(c -> b.record(c, "CUSTOMER", Direction.TO_CRM, 4, 3, page("R", 0, 300, 0))));
    await(nodeB.withTransaction(c -> b.record(c, "CUSTOMER", Direction.TO_CRM, 4, 3, page("R", 0, 300, 0))));
    assertEquals(before + 300, await(a.countCoupled("CUSTOMER")));

    // The pending rows get their CRM record (an update that sets a side), on both nodes at once.
    await(Future.all(
        nodeA.withTransaction(c -> a.record(c, "CUSTOMER", Direction.TO_CRM, 5, 3, page("A", 0, 2000, 0))),
        nodeB.withTransaction(c -> b.record(c, "CUSTOMER", Direction.TO_CRM, 5, 3, page("B", 0, 2000, 0)))));
    assertTotal(a, "CUSTOMER");
    assertEquals(4300L, await(a.countCoupled("CUSTOMER")));

    // A manual coupling, a restore that clears the ERP side, and uncoupling part of a mapping.
    Coupling manual = await(a.couple("CUSTOMER", "M1", "CM1"));
    assertTotal(b, "CUSTOMER");
    await(b.prepareRestore(manual.id(), false));
    assertTotal(a, "CUSTOMER");
    await(Future.all(a.uncoupleSome("CUSTOMER", 500), b.countCoupled("CUSTOMER"), a.countCoupled("CUSTOMER")));
    assertTotal(b, "CUSTOMER");
    while (await(b.uncoupleSome("VENDOR", 7)) == 7) {
      assertTotal(a, "VENDOR");
    }
    assertEquals(0L, await(a.countCoupled("VENDOR")));
    assertTotal(a, "CUSTOMER");
  }
}
