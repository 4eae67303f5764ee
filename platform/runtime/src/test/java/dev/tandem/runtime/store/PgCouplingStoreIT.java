package dev.tandem.runtime.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PgCouplingStoreIT {

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;
  private PgCouplingStore store;

  @BeforeEach
  void setUp() {
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
    store = new PgCouplingStore(pool);
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
    db.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static OffsetDateTime t(int s) {
    return OffsetDateTime.of(2026, 11, 24, 12, 0, s, 0, ZoneOffset.UTC);
  }

  private void record(Direction flow, long job, Outcome... outcomes) throws Exception {
    await(pool.withTransaction(c -> store.record(c, "CUSTOMER", flow, job, 2, List.of(outcomes))));
  }

  @Test
  void insertsCreateCouplingsLoadedForAWholePageInOneQuery() throws Exception {
    List<Outcome> page = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      page.add(new Outcome("E" + i, "C" + i, t(1), t(2), "inserted", null));
    }
    await(pool.withTransaction(c -> store.record(c, "CUSTOMER", Direction.TO_CRM, 1, 2, page)));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 1000; i += 2) {
      ids.add("E" + i);
    }
    Map<String, Coupling> found = await(store.bySourceIds(pool, "CUSTOMER", Direction.TO_CRM, ids));
    assertEquals(250, found.size(), "E0, E2, ... E498 are coupled; E500 and up are not");
    Coupling c = found.get("E42");
    assertEquals("C42", c.crmId());
    assertEquals(t(1), c.erpModifiedOn());
    assertEquals("inserted", c.lastResultToCrm());
    assertTrue(c.coupled());
    Map<String, Coupling> byCrm = await(store.bySourceIds(pool, "CUSTOMER", Direction.FROM_CRM, List.of("C7", "X")));
    assertEquals("E7", byCrm.get("C7").erpId());
    assertEquals(1, byCrm.size());
  }

  @Test
  void aRecordWaitingForADependencyIsNeverSkipped() throws Exception {
    for (int job = 1; job <= 3; job++) {
      record(Direction.TO_CRM, job, new Outcome("E2", null, t(1), null, "failed",
          "[LOOKUP] ERP Customer E2: Salesperson_Code refers to JR, which is not coupled in mapping SALESPEOPLE"));
    }
    Coupling waiting = await(store.bySourceIds(pool, "CUSTOMER", Direction.TO_CRM, List.of("E2"))).get("E2");
    assertEquals(3, waiting.errorRepeats());
    assertFalse(waiting.skipped(), "retried first in every run until SALESPEOPLE couples JR");
    assertEquals(1, await(store.retryable("CUSTOMER", Direction.TO_CRM, 0, 10)).size());
  }

  @Test
  void theSameErrorTwiceMarksTheRecordSkippedAndSuccessClearsIt() throws Exception {
    String bad = "[WRITE] ERP Customer E1: the length of 'name' exceeded the maximum allowed length of '160'";
    record(Direction.TO_CRM, 1, new Outcome("E1", null, t(1), null, "failed", bad));
    Coupling pending = await(store.bySourceIds(pool, "CUSTOMER", Direction.TO_CRM, List.of("E1"))).get("E1");
    assertFalse(pending.coupled(), "no counterpart yet: pending");
    assertEquals(1, pending.errorRepeats());
    assertFalse(pending.skipped());
    assertEquals(1, await(store.retryable("CUSTOMER", Direction.TO_CRM, 0, 10)).size());

    record(Direction.TO_CRM, 2, new Outcome("E1", null, t(1), null, "failed", bad));
    Coupling skipped = await(store.bySourceIds(pool, "CUSTOMER", Direction.TO_CRM, List.of("E1"))).get("E1");
    assertEquals(2, skipped.errorRepeats());
    assertTrue(skipped.skipped());
    assertEquals(0, await(store.retryable("CUSTOMER", Direction.TO_CRM, 0, 10)).size(), "skipped: not retried");

    record(Direction.TO_CRM, 3, new Outcome("E1", "C1", t(5), t(6), "inserted", null));
    Coupling ok = await(store.bySourceIds(pool, "CUSTOMER", Direction.TO_CRM, List.of("E1"))).get("E1");
    assertEquals("C1", ok.crmId());
    assertEquals(0, ok.errorRepeats());
    assertFalse(ok.skipped());
    assertNull(ok.lastError());
    assertEquals(3L, ok.lastJobId());
    assertEquals(1, db.queryLong("SELECT count(*) FROM coupling"));
  }

  @Test
  void aDifferentErrorRestartsTheCount() throws Exception {
    record(Direction.FROM_CRM, 1, new Outcome(null, "C9", null, t(1), "failed", "first"));
    record(Direction.FROM_CRM, 2, new Outcome(null, "C9", null, t(1), "failed", "second"));
    Coupling c = await(store.bySourceIds(pool, "CUSTOMER", Direction.FROM_CRM, List.of("C9"))).get("C9");
    assertEquals(1, c.errorRepeats());
    assertFalse(c.skipped());
    assertEquals("second", c.lastError());
    assertEquals("failed", c.lastResultFromCrm());
  }

  @Test
  void manualCouplingIsOneToOneOnBothSides() throws Exception {
    Coupling c = await(store.couple("CUSTOMER", "10000", "aaaa"));
    assertTrue(c.coupled());
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> await(store.couple("CUSTOMER", "20000", "aaaa")));
    assertTrue(e.getCause() instanceof PgCouplingStore.CouplingConflictException);
    assertEquals("mapping CUSTOMER: ERP record 20000 or CRM record aaaa is coupled already: "
        + "ERP 10000 <-> CRM aaaa (coupling " + c.id() + ")", e.getCause().getMessage());
    // Another mapping may couple the same ids.
    await(store.couple("CONTACT", "20000", "aaaa"));
    assertEquals(1, await(store.uncouple("CUSTOMER", List.of(c.id()))));
    assertEquals(1, await(store.list("CONTACT", null, null, null, 0, 10)).size());
    assertEquals(0, await(store.list("CUSTOMER", null, null, null, 0, 10)).size());
  }
}
