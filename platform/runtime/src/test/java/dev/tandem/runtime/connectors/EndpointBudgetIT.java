package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The node-wide budget per endpoint and user, against the CRM simulator's realistic cost model. */
class EndpointBudgetIT {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  // Windows of 2.5 s: short enough for a quick test, long enough that an event loop stalled for a few hundred ms on
  // a loaded machine does not make the node's view of the window lag Dataverse's (at 0.1 it did, now and then).
  private static final double SCALE = 0.25;
  private final List<Vertx> nodes = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    admin(crm.get().baseUrl(), "POST", "reset", null);
    admin(crm.get().baseUrl(), "DELETE", "faults", null);
    // A small execution budget, so a short test runs into it: 10,000 ms per 10 s, that is 2,500 ms per 2.5 s on this
    // scale (the ratio of Dataverse's 1,200,000 ms per 300 s would be 10,000 ms per 2.5 s).
    admin(crm.get().baseUrl(), "POST", "limits", "{\"requests\":6000,\"executionMs\":10000,\"concurrent\":52,"
        + "\"windowMs\":10000}");
    crm.get().profile("realistic", SCALE);
  }

  @AfterEach
  void tearDown() throws Exception {
    crm.get().profile("fast", 1);
    for (Vertx v : nodes) {
      v.close().toCompletionStage().toCompletableFuture().get();
    }
  }

  private Vertx node() {
    Vertx v = Vertx.vertx();
    nodes.add(v);
    return v;
  }

  private static DataverseSettings settings(EndpointBudget.Limits limits) {
    return new DataverseSettings(crm.get().apiUrl(), crm.get().tokenUrl(), "tandem-sync", "tandem-secret",
        null, 5000, 8, 8, 6, 50, 30_000).withLimits(limits);
  }

  private static EndpointBudget.Limits scaledQuarter() {
    EndpointBudget.Limits d = EndpointBudget.Limits.dataverse();
    return new EndpointBudget.Limits(8, d.requests(), 10_000, 10_000, d.remainingRequestsHeader(),
        d.remainingTimeHeader()).scaled(SCALE);
  }

  private static List<BatchOperation> creates(int n) {
    List<BatchOperation> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ops.add(new BatchOperation("POST", "accounts", null, new JsonObject().put("name", "A" + i)));
    }
    return ops;
  }

  @Test
  void everyClientOfANodeSharesOneBudgetPerUser() {
    Vertx a = node();
    Vertx b = node();
    DataverseClient c1 = new DataverseClient(a, settings(scaledQuarter()), EndpointMetrics.NONE);
    DataverseClient c2 = new DataverseClient(a, settings(scaledQuarter()), EndpointMetrics.NONE);
    DataverseClient other = new DataverseClient(b, settings(scaledQuarter()), EndpointMetrics.NONE);
    assertSame(c1.budget(), c2.budget());
    assertNotSame(c1.budget(), other.budget(), "another node has a budget of its own");
  }

  @Test
  void bulkWritesPaceThemselvesInsideTheExecutionBudgetInsteadOfBeingThrottled() throws Exception {
    Vertx v = node();
    // Two clients (two verticles) writing at once: 30 batches of 50 creates, 314 ms of execution each on this
    // scale, 9.4 s in all against 2.5 s per 2.5 s window; 8 in flight at most.
    DataverseClient c1 = new DataverseClient(v, settings(scaledQuarter()), EndpointMetrics.NONE);
    DataverseClient c2 = new DataverseClient(v, settings(scaledQuarter()), EndpointMetrics.NONE);
    long t0 = System.nanoTime();
    var both = on(v, () -> Future.all(c1.batch(creates(750)), c2.batch(creates(750))));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    List<WriteResult> r1 = both.resultAt(0);
    List<WriteResult> r2 = both.resultAt(1);
    assertTrue(r1.stream().allMatch(WriteResult::ok) && r2.stream().allMatch(WriteResult::ok));
    // One 429 may come from what the node cannot see (the event loop late under load); a client without the budget
    // (the next test) is throttled far more.
    assertTrue(c1.budget().throttledCount() <= 1, "throttled " + c1.budget().throttledCount() + " times of 30");
    assertTrue(ms >= 2000, "waited for the window to slide: " + ms + " ms");
    assertEquals("1500", String.valueOf(io.vertx.core.json.Json.decodeValue(admin(crm.get().baseUrl(), "GET",
        "counts", null), Map.class).get("accounts")));
  }

  /**
   * Dataverse admits a request while the window is under budget and charges it when it ends: a node must count what
   * it has in flight before it ends. Until one request has ended its cost is unknown, so one runs at a time; then
   * each request in flight counts as the costliest lately, so a window's budget is never promised twice.
   */
  @Test
  void requestsInFlightCountAsTheCostliestLatelyWithOneAtATimeUntilOneHasEnded() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 60_000, null, null);
    EndpointBudget b = new EndpointBudget(v, "crm", "slow-start", limits, 52);
    io.vertx.core.Promise<Void> first = io.vertx.core.Promise.promise();
    java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
    v.runOnContext(x -> {
      b.run(() -> {
        started.incrementAndGet();
        return first.future();
      });
      for (int i = 0; i < 5; i++) {
        b.run(() -> {
          started.incrementAndGet();
          io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
          v.setTimer(2000, t -> p.complete());
          return p.future();
        });
      }
    });
    Thread.sleep(300);
    assertEquals(1, started.get(), "one at a time while no request has ended");
    // The first ends after about 300 ms: the others each count as that much; 10,000 ms x 0.97 leaves room for all.
    v.runOnContext(x -> first.complete());
    long until = System.currentTimeMillis() + 5000;
    while (started.get() < 6 && System.currentTimeMillis() < until) {
      Thread.sleep(20);
    }
    assertEquals(6, started.get(), "all five start once the first has ended and its cost is known");
    assertTrue(b.inFlight() >= 4, "side by side: " + b.inFlight());
  }

  /**
   * A batch of 1000 operations costs ten times a batch of 100: once one has ended, a batch in flight counts at the
   * cost per operation times its operations, not at the costliest request's cost (which held the availability job's
   * batches of 100 to a handful at once after a run of batches of 1000).
   */
  @Test
  void aBatchInFlightCountsByItsOperationsAtTheCostliestPerOperationLately() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 60_000, null, null);
    EndpointBudget b = new EndpointBudget(v, "crm", "per-operation", limits, 52);
    Promise<Void> bigEnded = Promise.promise();
    v.runOnContext(x -> b.run("operations", 1000, () -> later(v, 1000)).onComplete(ar -> bigEnded.complete()));
    bigEnded.future().toCompletionStage().toCompletableFuture().get();
    // About 1 ms an operation is known now; 1,000 ms are charged. Thirty batches of 100 are about 100 ms each.
    AtomicInteger started = new AtomicInteger();
    v.runOnContext(x -> {
      for (int i = 0; i < 30; i++) {
        b.run("operations", 100, () -> {
          started.incrementAndGet();
          return later(v, 3000);
        });
      }
    });
    long until = System.currentTimeMillis() + 2000;
    while (started.get() < 30 && System.currentTimeMillis() < until) {
      Thread.sleep(20);
    }
    assertEquals(30, started.get(), "all thirty side by side (counted at the costliest request, 8 would start)");
    // A request of another kind (a read) has no cost yet: it starts, one at a time of its kind.
    AtomicInteger reads = new AtomicInteger();
    v.runOnContext(x -> {
      for (int i = 0; i < 3; i++) {
        b.run(() -> {
          reads.incrementAndGet();
          return later(v, 500);
        });
      }
    });
    Thread.sleep(200);
    assertEquals(1, reads.get(), "one read at a time until one has ended");
  }

  /**
   * A bulk request leaves the last share of the execution budget to single requests: once batches have used the
   * window up to that point, a read still starts at once while the next batch waits.
   */
  @Test
  void batchesLeaveRoomInTheWindowForSingleRequests() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 60_000, null, null);
    EndpointBudget b = new EndpointBudget(v, "crm", "reserve", limits, 52);
    Promise<Void> firstEnded = Promise.promise();
    v.runOnContext(x -> b.run("operations", 1000, () -> later(v, 2000)).onComplete(ar -> firstEnded.complete()));
    firstEnded.future().toCompletionStage().toCompletableFuture().get();
    // About 2,000 ms are charged and 2 ms an operation is known: a batch of 3,700 is taken for 7,400 ms more, 9,400
    // in all — the bulk share (10,000 x (0.97 - 0.03)) is used up; without the reserve (9,700) it would start.
    AtomicInteger batch = new AtomicInteger();
    AtomicInteger read = new AtomicInteger();
    v.runOnContext(x -> {
      b.run("operations", 3700, () -> {
        batch.incrementAndGet();
        return later(v, 10);
      });
      b.run(() -> {
        read.incrementAndGet();
        return later(v, 10);
      });
    });
    Thread.sleep(300);
    assertEquals(0, batch.get(), "the batch waits for the window");
    assertEquals(1, read.get(), "the read does not wait behind it: the reserve is its room");
  }

  @Test
  void withoutTheExecutionBudgetTheSameWorkIsThrottled() throws Exception {
    Vertx v = node();
    DataverseClient c = new DataverseClient(v, settings(EndpointBudget.Limits.concurrency(8)), EndpointMetrics.NONE);
    List<WriteResult> r = on(v, () -> c.batch(creates(1500)));
    assertTrue(r.stream().allMatch(WriteResult::ok));
    assertTrue(c.budget().throttledCount() > 0, "the simulator throttles a client that ignores the budget");
  }

  /**
   * The endpoint stamps a charge when it answers, this node a little later when the answer has arrived: near the end
   * of the window the endpoint has let a charge out that this node still holds, and its remaining-time header says
   * less is spent. That difference must come off the oldest entry (the one about to leave): taken off the newest,
   * the oldest leaves a second time moments later and the node counts less than the endpoint — and overshoots.
   */
  @Test
  void aChargeTheEndpointHasLetOutOfItsWindowComesOffTheOldestEntryNotTheNewest() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 4000, null,
        "x-ms-ratelimit-time-remaining-xrm-requests");
    EndpointBudget b = new EndpointBudget(v, "crm", "stamps", limits, 52);
    long t0 = System.currentTimeMillis();
    Promise<Void> firstEnded = Promise.promise();
    Promise<Void> secondEnded = Promise.promise();
    v.runOnContext(x -> b.run(() -> later(v, 500)).onComplete(ar -> firstEnded.complete()));
    firstEnded.future().toCompletionStage().toCompletableFuture().get();
    Thread.sleep(Math.max(0, t0 + 1500 - System.currentTimeMillis()));
    v.runOnContext(x -> b.run(() -> later(v, 500)).onComplete(ar -> secondEnded.complete()));
    secondEnded.future().toCompletionStage().toCompletableFuture().get();
    double second = b.executionInWindow();
    assertTrue(second >= 950, "both charges held: " + second);
    // At about 4.2 s the endpoint has let the first charge out (stamped when it answered) and holds the second only;
    // this node still holds both (its first leaves at about 4.5 s).
    Thread.sleep(Math.max(0, t0 + 4200 - System.currentTimeMillis()));
    b.observe(MultiMap.caseInsensitiveMultiMap().add("x-ms-ratelimit-time-remaining-xrm-requests",
        String.valueOf(10_000 - 500)));
    // After the first has left this node's window too, the second is still charged: about 500 ms, not 0.
    Thread.sleep(Math.max(0, t0 + 4900 - System.currentTimeMillis()));
    double left = b.executionInWindow();
    assertTrue(left >= 400, "the second charge is still in the window: " + left + " ms counted");
  }

  private static Future<Void> later(Vertx v, long ms) {
    Promise<Void> p = Promise.promise();
    v.setTimer(ms, t -> p.complete());
    return p.future();
  }

  @Test
  void theEndpointsRemainingTimeShowsWhatOtherNodesSpent() {
    EndpointBudget b = new EndpointBudget(node(), "crm", "app", EndpointBudget.Limits.dataverse(), 8);
    b.observe(MultiMap.caseInsensitiveMultiMap().add("x-ms-ratelimit-time-remaining-xrm-requests", "1,150,000.00")
        .add("x-ms-ratelimit-burst-remaining-xrm-requests", "5990"));
    assertEquals(50_000, b.executionInWindow(), 0.001);
    assertTrue(b.load() >= 50_000.0 / 1_200_000);
  }

  @Test
  void aRetryAfterHoldsBackEveryRequestOfTheNodeAndNoMoreThanTheShareRunAtOnce() throws Exception {
    Vertx v = node();
    EndpointBudget b = EndpointBudget.of(v, "https://org.example", "app", EndpointBudget.Limits.dataverse(), 52);
    b.share(3);
    b.throttled(400);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    long t0 = System.nanoTime();
    List<Future<Long>> calls = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      calls.add(b.run(() -> {
        peak.accumulateAndGet(running.incrementAndGet(), Math::max);
        Promise<Long> p = Promise.promise();
        v.setTimer(20, id -> {
          running.decrementAndGet();
          p.complete((System.nanoTime() - t0) / 1_000_000);
        });
        return p.future();
      }));
    }
    on(v, () -> Future.all(calls));
    for (Future<Long> f : calls) {
      assertTrue(f.result() >= 400, "held back by the Retry-After: " + f.result());
    }
    assertEquals(3, peak.get(), "this node's share of the concurrency");
  }
}
