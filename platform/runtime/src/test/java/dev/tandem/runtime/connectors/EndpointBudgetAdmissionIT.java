package dev.tandem.runtime.connectors;

import static dev.tandem.runtime.connectors.ConnectorTestSupport.admin;
import static dev.tandem.runtime.connectors.ConnectorTestSupport.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DataverseSettings;
import dev.tandem.sim.core.SimulatorExtension;
import dev.tandem.sim.crm.DataverseSimulator;
import io.vertx.core.Future;
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

/**
 * The budget on Dataverse's admission rule ({@link EndpointBudget.Limits#admitsUnderBudget()}): a request is admitted
 * while the window's charges are under the budget and charged when it ends, so a bulk load may have more in flight
 * than the budget holds, and only what may already have ended at the endpoint counts against a new start.
 */
class EndpointBudgetAdmissionIT {

  @RegisterExtension
  static SimulatorExtension<DataverseSimulator> crm = new SimulatorExtension<>(DataverseSimulator::new);

  private static final double SCALE = 0.25;
  private final List<Vertx> nodes = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    admin(crm.get().baseUrl(), "POST", "reset", null);
    admin(crm.get().baseUrl(), "DELETE", "faults", null);
    // 10,000 ms per 10 s, i.e. 2,500 ms per 2.5 s on this scale (as EndpointBudgetTest).
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

  private static EndpointBudget.Limits dataverseOnTheTestsScale() {
    EndpointBudget.Limits d = EndpointBudget.Limits.dataverse();
    assertTrue(d.admitsUnderBudget(), "Dataverse's limits follow its admission rule");
    return new EndpointBudget.Limits(52, d.requests(), 10_000, 10_000, d.remainingRequestsHeader(),
        d.remainingTimeHeader(), d.parallelismHintHeader(), true).scaled(SCALE);
  }

  private static List<BatchOperation> creates(int n, String prefix) {
    List<BatchOperation> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ops.add(new BatchOperation("POST", "accounts", null, new JsonObject().put("name", prefix + i)));
    }
    return ops;
  }

  private static double simulatorCharged() throws Exception {
    JsonObject users = new JsonObject(admin(crm.get().baseUrl(), "GET", "usage", null)).getJsonObject("users");
    double ms = 0;
    for (String u : users.fieldNames()) {
      ms += users.getJsonObject(u).getDouble("executionMs");
    }
    return ms;
  }

  private static long refusedBySimulator() throws Exception {
    JsonObject users = new JsonObject(admin(crm.get().baseUrl(), "GET", "usage", null)).getJsonObject("users");
    long refused = 0;
    for (String u : users.fieldNames()) {
      refused += users.getJsonObject(u).getLong("throttled");
    }
    return refused;
  }

  /**
   * 24 batches of 50 creates (about 314 ms of execution each on this scale, 7.5 s in all against 2.5 s per 2.5 s
   * window) written at once: the endpoint admits all of them into an empty window, and the node lets them go side by
   * side instead of about 7 per window; a second round then waits until the window is under the budget again, and
   * nothing is refused.
   */
  @Test
  void aBulkLoadPutsAsManyBatchesIntoTheWindowAsTheEndpointAdmitsWithoutA429() throws Exception {
    Vertx v = node();
    DataverseClient c = new DataverseClient(v, new DataverseSettings(crm.get().apiUrl(), crm.get().tokenUrl(),
        "tandem-sync", "tandem-secret", null, 5000, 52, 52, 6, 50, 30_000).withLimits(dataverseOnTheTestsScale()),
        EndpointMetrics.NONE);
    AtomicInteger peak = new AtomicInteger();
    long sampler = v.setPeriodic(5, t -> peak.accumulateAndGet(c.budget().inFlight(), Math::max));
    List<WriteResult> first = on(v, () -> c.batch(creates(1200, "A")));
    v.cancelTimer(sampler);
    assertTrue(first.stream().allMatch(WriteResult::ok));
    // Kept inside the budget (window plus everything in flight), one batch would run alone until its cost is known
    // and then about 7 at once; the endpoint admits all 24 into the empty window.
    assertTrue(peak.get() >= 12, "side by side as the endpoint admits them: at most " + peak.get() + " in flight");
    double charged = simulatorCharged();
    assertTrue(charged > 2500, "more than one budget went into the window, as the endpoint admits: " + charged);
    long t1 = System.nanoTime();
    List<WriteResult> second = on(v, () -> c.batch(creates(100, "B")));
    long secondMs = (System.nanoTime() - t1) / 1_000_000;
    assertTrue(second.stream().allMatch(WriteResult::ok));
    assertTrue(secondMs >= 1000, "the second round waited for the window to be under the budget: " + secondMs);
    assertEquals(0, c.budget().throttledCount(), "no 429 on the node");
    assertEquals(0, refusedBySimulator(), "none refused by the simulator");
    assertEquals("1300", String.valueOf(io.vertx.core.json.Json.decodeValue(admin(crm.get().baseUrl(), "GET",
        "counts", null), Map.class).get("accounts")));
  }

  /**
   * What is in flight counts against a new start only once it may have ended at the endpoint (run 3/4 of the quickest
   * of its kind lately): before that a new batch starts beside twenty whose cost is twice the budget; after it, it
   * waits although nothing more has been charged yet.
   */
  @Test
  void requestsInFlightCountOnceTheyMayHaveEndedAtTheEndpoint() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 60_000, null, null, null, true);
    EndpointBudget b = new EndpointBudget(v, "crm", "admission", limits, 52);
    Promise<Void> firstEnded = Promise.promise();
    v.runOnContext(x -> b.run("operations", 100, () -> later(v, 1000)).onComplete(ar -> firstEnded.complete()));
    firstEnded.future().toCompletionStage().toCompletableFuture().get();
    // About 10 ms per operation known (costliest and quickest), about 1,000 ms charged.
    AtomicInteger started = new AtomicInteger();
    v.runOnContext(x -> {
      for (int i = 0; i < 20; i++) {
        b.run("operations", 100, () -> {
          started.incrementAndGet();
          return later(v, 3000);
        });
      }
    });
    long until = System.currentTimeMillis() + 1000;
    while (started.get() < 20 && System.currentTimeMillis() < until) {
      Thread.sleep(10);
    }
    assertEquals(20, started.get(), "all twenty at once: 20,000 ms in flight, the window holds 1,000");
    AtomicInteger early = new AtomicInteger();
    v.runOnContext(x -> b.run("operations", 100, () -> {
      early.incrementAndGet();
      return later(v, 3000);
    }));
    Thread.sleep(100);
    assertEquals(1, early.get(), "none of them can have ended yet: another one starts");
    Thread.sleep(1000); // the twenty have run about 1,100 ms, more than 3/4 of the quickest (1,000 ms)
    AtomicInteger late = new AtomicInteger();
    v.runOnContext(x -> b.run("operations", 100, () -> {
      late.incrementAndGet();
      return later(v, 10);
    }));
    Thread.sleep(200);
    assertEquals(0, late.get(), "the twenty may have ended at the endpoint (20,000 ms): the next one waits");
    assertEquals(1000, b.executionInWindow(), 100, "though only the first is charged here yet");
  }

  /**
   * A remaining-time figure is the endpoint's when it charged that answer's request; a busy node reads answers late.
   * A figure that does not yet hold a charge this node stamped after that request can have started must not cut it:
   * only charges older than the longest request lately are compared.
   */
  @Test
  void aLateRemainingTimeDoesNotCutChargesNewerThanItsRequest() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 60_000, null,
        "x-ms-ratelimit-time-remaining-xrm-requests", null, true);
    EndpointBudget b = new EndpointBudget(v, "crm", "late-figure", limits, 52);
    Promise<Void> ended = Promise.promise();
    v.runOnContext(x -> b.run("operations", 100, () -> later(v, 1000)).onComplete(ar -> ended.complete()));
    ended.future().toCompletionStage().toCompletableFuture().get();
    // Read late: the figure of a request charged before this one ended says nothing was charged yet.
    b.observe(io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("x-ms-ratelimit-time-remaining-xrm-requests",
        "10000.00"));
    assertTrue(b.executionInWindow() >= 900, "the new charge stays: " + b.executionInWindow());
    // Once the charge is older than any request lately, the endpoint's figure wins (it measured less).
    Thread.sleep(1300);
    b.observe(io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("x-ms-ratelimit-time-remaining-xrm-requests",
        "9400.00"));
    assertEquals(600, b.executionInWindow(), 1, "cut to the endpoint's 600 ms");
  }

  /** The default limits for every other endpoint keep the window plus everything in flight under the budget. */
  @Test
  void limitsWithoutTheAdmissionRuleCountEverythingInFlight() throws Exception {
    Vertx v = node();
    EndpointBudget.Limits limits = new EndpointBudget.Limits(52, 6000, 10_000, 60_000, null, null);
    EndpointBudget b = new EndpointBudget(v, "crm", "conservative", limits, 52);
    Promise<Void> firstEnded = Promise.promise();
    v.runOnContext(x -> b.run("operations", 100, () -> later(v, 1000)).onComplete(ar -> firstEnded.complete()));
    firstEnded.future().toCompletionStage().toCompletableFuture().get();
    AtomicInteger started = new AtomicInteger();
    v.runOnContext(x -> {
      for (int i = 0; i < 20; i++) {
        b.run("operations", 100, () -> {
          started.incrementAndGet();
          return later(v, 3000);
        });
      }
    });
    Thread.sleep(500);
    // 1,000 charged + n x 1,000 in flight < 9,400 (the bulk share): 8.
    assertEquals(8, started.get(), "only what fits into the budget with the window");
  }

  private static Future<Void> later(Vertx v, long ms) {
    Promise<Void> p = Promise.promise();
    v.setTimer(ms, t -> p.complete());
    return p.future();
  }
}
