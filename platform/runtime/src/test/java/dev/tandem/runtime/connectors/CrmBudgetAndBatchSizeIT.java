package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Against the CRM simulator over HTTP: every verticle of a node shares one budget per application user, so the
 * node never runs more requests at once than the user may (the simulator throttles the next one); the
 * simulator's {@code x-ms-dop-hint} caps and seeds the concurrency; a batch that cannot finish inside the
 * client's timeout is split into halves, never sent whole again, and the next batches are sized to fit.
 */
class CrmBudgetAndBatchSizeIT {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private final List<Vertx> nodes = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    admin(crm.get().baseUrl(), "POST", "reset", null);
    admin(crm.get().baseUrl(), "DELETE", "faults", null);
  }

  @AfterEach
  void tearDown() throws Exception {
    crm.get().profile("fast", 1);
    admin(crm.get().baseUrl(), "POST", "limits", "{\"requests\":6000,\"executionMs\":1200000,\"concurrent\":52,"
        + "\"windowMs\":300000,\"dopHint\":52}");
    for (Vertx v : nodes) {
      v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private Vertx node() {
    Vertx v = Vertx.vertx();
    nodes.add(v);
    return v;
  }

  private static DataverseSettings settings(int concurrency, int initial, int batchSize, long timeoutMs) {
    return new DataverseSettings(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync", "tandem-secret",
        null, 5000, concurrency, initial, 6, batchSize, timeoutMs)
        .withLimits(EndpointBudget.Limits.dataverse());
  }

  /** Upserts by id (PATCH), so a request may be repeated without creating twice. */
  private static List<BatchOperation> upserts(int n) {
    List<BatchOperation> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ops.add(new BatchOperation("PATCH", "accounts(" + UUID.randomUUID() + ")", null,
          new JsonObject().put("name", "U" + i)));
    }
    return ops;
  }

  /** A verticle with a client of its own, on its own event loop, as the engine's sync verticles have. */
  private static final class Writer extends VerticleBase {
    private final DataverseSettings settings;
    private DataverseClient client;

    Writer(DataverseSettings settings) {
      this.settings = settings;
    }

    @Override
    public Future<?> start() {
      client = new DataverseClient(vertx, settings, EndpointMetrics.NONE);
      return Future.succeededFuture();
    }

    CompletableFuture<List<WriteResult>> write(List<BatchOperation> ops) {
      CompletableFuture<List<WriteResult>> f = new CompletableFuture<>();
      context.runOnContext(v -> client.batch(ops).onComplete(ar -> {
        if (ar.succeeded()) {
          f.complete(ar.result());
        } else {
          f.completeExceptionally(ar.cause());
        }
      }));
      return f;
    }
  }

  private static Writer deploy(Vertx v, DataverseSettings s) throws Exception {
    Writer w = new Writer(s);
    v.deployVerticle(w).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return w;
  }

  private static Map<?, ?> stats() throws Exception {
    return Json.decodeValue(admin(crm.get().baseUrl(), "GET", "stats", null), Map.class);
  }

  private static long accounts() throws Exception {
    return ((Number) Json.decodeValue(admin(crm.get().baseUrl(), "GET", "counts", null), Map.class)
        .get("accounts")).longValue();
  }

  @Test
  void twoVerticlesShareOneBudgetAndNeverRunMoreThanTheUsersConcurrencyAtTheSimulator() throws Exception {
    // The simulator refuses a fifth concurrent request of the user (0x80072326); the node may run four.
    admin(crm.get().baseUrl(), "POST", "limits", "{\"concurrent\":4}");
    crm.get().profile("realistic", 0.1);
    Vertx v = node();
    Writer a = deploy(v, settings(4, 4, 5, 30_000));
    Writer b = deploy(v, settings(4, 4, 5, 30_000));
    assertSame(a.client.budget(), b.client.budget(), "one budget per user and node");
    admin(crm.get().baseUrl(), "POST", "stats/reset", null);
    // 2 x 30 batches of 5 upserts, each ~25 ms of execution plus latency: far more than four at once if unpaced.
    CompletableFuture<List<WriteResult>> fa = a.write(upserts(150));
    CompletableFuture<List<WriteResult>> fb = b.write(upserts(150));
    assertTrue(fa.get(120, TimeUnit.SECONDS).stream().allMatch(WriteResult::ok));
    assertTrue(fb.get(120, TimeUnit.SECONDS).stream().allMatch(WriteResult::ok));
    long peak = ((Number) stats().get("peakConcurrency")).longValue();
    assertTrue(peak <= 4, "the simulator saw " + peak + " requests at once");
    assertEquals(0, a.client.budget().throttledCount(), "never over the concurrency limit");
    assertEquals(300, accounts());
  }

  @Test
  void theSimulatorsParallelismHintCapsTheNodeAndIsWhereItStarts() throws Exception {
    admin(crm.get().baseUrl(), "POST", "limits", "{\"dopHint\":3}");
    crm.get().profile("realistic", 0.1);
    Vertx v = node();
    Writer a = deploy(v, settings(52, 1, 5, 30_000));
    Writer b = deploy(v, settings(52, 1, 5, 30_000));
    EndpointBudget budget = a.client.budget();
    assertEquals(1, budget.concurrencyCap(), "one at first, as configured");
    assertTrue(a.write(upserts(1)).get(60, TimeUnit.SECONDS).get(0).ok());
    assertEquals(3, budget.parallelismHint());
    assertEquals(3, budget.concurrencyCap(), "the hint, not a climb from one");
    admin(crm.get().baseUrl(), "POST", "stats/reset", null);
    CompletableFuture<List<WriteResult>> fa = a.write(upserts(100));
    CompletableFuture<List<WriteResult>> fb = b.write(upserts(100));
    assertTrue(fa.get(120, TimeUnit.SECONDS).stream().allMatch(WriteResult::ok));
    assertTrue(fb.get(120, TimeUnit.SECONDS).stream().allMatch(WriteResult::ok));
    long peak = ((Number) stats().get("peakConcurrency")).longValue();
    assertTrue(peak <= 3, "the simulator saw " + peak + " requests at once against a hint of 3");
  }

  @Test
  void aBatchThatCannotFinishInsideTheClientTimeoutIsSplitNotSentWholeAgain() throws Exception {
    // 20 ms per upsert: 240 take 4.8 s against a client timeout of 4 s; 120 take 2.4 s. (A write of 240 is above
    // the size that is spread over several batches, so it goes as one.)
    crm.get().profile("realistic", 1);
    admin(crm.get().baseUrl(), "POST", "costs", "{\"latencyMs\":0,\"requestMs\":0,\"upsertMs\":20,"
        + "\"representationMs\":0}");
    Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
    Vertx v = node();
    DataverseClient c = new DataverseClient(v, settings(8, 8, 240, 4_000), counting(answers));
    List<WriteResult> first = on(v, () -> c.batch(upserts(240)));
    assertEquals(240, first.size());
    assertTrue(first.stream().allMatch(WriteResult::ok), first.toString());
    assertEquals(1, answers.get("io_error").get(), "the whole batch timed out once " + answers);
    assertEquals(2, answers.get("200").get(), "and went again as two halves, not whole: " + answers);
    assertEquals(240, accounts(), "every row once");
    int next = c.sizer().next();
    assertTrue(next < 120, "the next batches are sized to end within half the timeout: " + next);

    List<WriteResult> second = on(v, () -> c.batch(upserts(240)));
    assertTrue(second.stream().allMatch(WriteResult::ok), second.toString());
    assertEquals(1, answers.get("io_error").get(), "none of them timed out: " + answers);
    assertEquals(2 + (240 + next - 1) / next, answers.get("200").get(), answers.toString());
    assertEquals(480, accounts());
  }

  @Test
  void aSmallWriteIsSpreadOverBatchesSideBySide() throws Exception {
    // 40 ms per upsert, as Dataverse's realistic costs: 100 in one batch would take 4 s, run one after another.
    crm.get().profile("realistic", 1);
    admin(crm.get().baseUrl(), "POST", "costs", "{\"latencyMs\":0,\"requestMs\":0,\"upsertMs\":40,"
        + "\"representationMs\":0}");
    Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
    Vertx v = node();
    DataverseClient c = new DataverseClient(v, settings(52, 52, 1000, 120_000), counting(answers));
    long t0 = System.nanoTime();
    List<WriteResult> written = on(v, () -> c.batch(upserts(100)));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(written.stream().allMatch(WriteResult::ok), written.toString());
    assertEquals(100, accounts(), "every row once");
    assertEquals(10, answers.get("200").get(), "ten batches of 10: " + answers);
    assertTrue(seconds < 2.5, "side by side, not 4 s one after another: " + seconds + " s");

    answers.clear();
    on(v, () -> c.batch(upserts(201)));
    assertEquals(1, answers.get("200").get(), "a write over 200 keeps its batch whole: " + answers);
  }

  private static EndpointMetrics counting(Map<String, AtomicLong> answers) {
    return new EndpointMetrics() {
      @Override
      public void request(String endpoint, String status) {
        answers.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
      }

      @Override
      public void throttled(String endpoint) {}
    };
  }
}
