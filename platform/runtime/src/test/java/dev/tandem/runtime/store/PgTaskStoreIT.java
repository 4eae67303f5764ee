package dev.tandem.runtime.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Coupled;
import dev.tandem.api.CouplingWriter;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpKey;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.RecordError;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A sync task's store: composite keys, lines under their header, fencing. */
class PgTaskStoreIT {

  private static final List<String> HEAD = List.of("Document_Type", "No");
  private static final List<String> LINE = List.of("Document_Type", "Document_No", "Line_No");

  private TestDatabase db;
  private Vertx vertx;
  private Pool pool;

  @BeforeEach
  void setUp() {
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(db.settings().connectOptions()).using(vertx).build();
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
    db.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private PgTaskStore store(JobLease lease) {
    return new PgTaskStore(pool, "ORDERS", 1, lease, m -> m.equals("LINES") ? LINE : HEAD, Map.of("LINES", "ORDERS"));
  }

  private static ErpKey head(String no) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("Document_Type", "Order");
    m.put("No", no);
    return ErpKey.of(m);
  }

  private static ErpKey line(String no, long lineNo) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("Document_Type", "Order");
    m.put("Document_No", no);
    m.put("Line_No", lineNo);
    return ErpKey.of(m);
  }

  @Test
  void linesAreCoupledUnderTheirHeaderAndGoWithIt() throws Exception {
    CouplingWriter c = store(JobLease.NONE).couplings();
    String no = "O'NEIL & CO #7";
    await(c.couple(List.of(Coupled.of("ORDERS", head(no), "AAAAAAAA-0000-0000-0000-000000000001"))));
    await(c.couple(List.of(new Coupled("LINES", line(no, 1), "b1", null, null, head(no)),
        new Coupled("LINES", line(no, 2), "b2", null, null, head(no)))));
    await(c.couple(List.of(new Coupled("LINES", line(no, 2), "b2", null, null, head(no)))));
    List<Coupled> lines = await(c.children("LINES", head(no)));
    assertEquals(List.of(line(no, 1), line(no, 2)), lines.stream().map(Coupled::erpKey).toList(),
        "coupling a pair again changes nothing");
    assertEquals(head(no), lines.get(0).parentErpKey());
    assertEquals(head(no), await(c.erpKeyOf("ORDERS", "aaaaaaaa-0000-0000-0000-000000000001")).orElseThrow(),
        "the composite key reads back from its segment; CRM ids in any case");
    assertEquals("Document_Type='Order',No='O''NEIL & CO #7'",
        db.queryString("SELECT erp_id FROM coupling WHERE mapping = 'ORDERS'"));
    assertEquals(1, await(c.uncouple("ORDERS", List.of(head(no)))));
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling WHERE mapping = 'LINES'"), "the lines go with it");
  }

  @Test
  void theLinesOfManyHeadersComeInOneLookup() throws Exception {
    CouplingWriter c = store(JobLease.NONE).couplings();
    await(c.couple(List.of(Coupled.of("ORDERS", head("1"), "h1"), Coupled.of("ORDERS", head("2"), "h2"),
        Coupled.of("ORDERS", head("3"), "h3"))));
    await(c.couple(List.of(new Coupled("LINES", line("1", 20000), "l12", null, null, head("1")),
        new Coupled("LINES", line("1", 10000), "l11", null, null, head("1")),
        new Coupled("LINES", line("2", 10000), "l21", null, null, head("2")),
        new Coupled("LINES", line("3", 10000), "l31", null, null, head("3")))));
    Map<ErpKey, List<Coupled>> byHeader = await(c.children("LINES", List.of(head("2"), head("1"), head("9"))));
    assertEquals(List.of(head("2"), head("1"), head("9")), List.copyOf(byHeader.keySet()),
        "every header asked for, in the order asked; header 3 was not asked for");
    assertEquals(List.of(line("1", 10000), line("1", 20000)),
        byHeader.get(head("1")).stream().map(Coupled::erpKey).toList(), "in ERP key order");
    assertEquals(List.of("l21"), byHeader.get(head("2")).stream().map(Coupled::crmId).toList());
    assertEquals(List.of(), byHeader.get(head("9")), "a header without couplings has no lines");
    assertEquals(Map.of(), await(c.children("LINES", List.<ErpKey>of())));
    assertThrows(ExecutionException.class, () -> await(c.children("ORDERS", List.of(head("1")))),
        "ORDERS is no one's lines");
  }

  @Test
  void aRecordCoupledTwiceIsADataError() throws Exception {
    CouplingWriter c = store(JobLease.NONE).couplings();
    await(c.couple(List.of(Coupled.of("ORDERS", head("1"), "c1"))));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> await(c.couple(List.of(Coupled.of("ORDERS", head("2"), "c1")))));
    TandemException t = assertInstanceOf(TandemException.class, e.getCause());
    assertEquals(ErrorKind.DATA, t.kind());
    assertEquals(Stage.COMMIT, t.stage());
  }

  @Test
  void aLostLeaseFencesEveryWrite() throws Exception {
    JobLease lease = new JobLease(1, 1, System.nanoTime() + 60_000_000_000L);
    lease.revoke("taken over by another node");
    PgTaskStore s = store(lease);
    assertThrows(ExecutionException.class, () -> await(s.couplings().couple(List.of(Coupled.of("ORDERS", head("1"),
        "c1")))));
    assertThrows(ExecutionException.class, () -> await(s.state(null).advance(Direction.FROM_CRM,
        java.time.OffsetDateTime.now())));
    assertEquals(0, db.queryLong("SELECT count(*) FROM coupling"));
  }

  @Test
  void recordErrorsKeepKindAndStageAndResolve() throws Exception {
    var errors = store(JobLease.NONE).errors();
    await(errors.report(List.of(new RecordError(Direction.FROM_CRM, head("1"), "C1", ErrorKind.DATA, Stage.WRITE,
        "the ERP refused it"))));
    List<RecordError> open = await(errors.open(10));
    assertEquals(1, open.size());
    assertEquals(head("1"), open.get(0).erpKey());
    assertEquals("c1", open.get(0).crmId());
    assertEquals(Stage.WRITE, open.get(0).stage());
    await(errors.resolve(null, "C1"));
    assertTrue(await(errors.open(10)).isEmpty());
  }

  @Test
  void watermarksMoveForwardOnlyAndCheckpointsAreKept() throws Exception {
    var state = store(JobLease.NONE).state(null);
    java.time.OffsetDateTime t = java.time.OffsetDateTime.parse("2026-12-03T10:00:00Z");
    await(state.advance(Direction.FROM_CRM, t));
    await(state.advance(Direction.FROM_CRM, t.minusHours(1)));
    assertEquals(t.toInstant(), await(state.watermark(Direction.FROM_CRM)).toInstant());
    await(state.saveDeltaLink("https://crm/api/data/v9.2/salesorderdetails?$deltatoken=1"));
    assertEquals("https://crm/api/data/v9.2/salesorderdetails?$deltatoken=1", await(state.deltaLink()));
  }
}
