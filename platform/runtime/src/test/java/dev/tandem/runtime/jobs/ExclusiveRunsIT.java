package dev.tandem.runtime.jobs;

import static dev.tandem.runtime.TestRuntimes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobKind;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.store.JobLease;
import dev.tandem.runtime.store.JobLeases;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgNodeRegistry;
import dev.tandem.runtime.store.SchemaMigrator;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The queue's guarantees with two dispatchers sharing one schema: one job writes a mapping and direction at a
 * time, a lost lease fences its holder out, a timed-out job is not run twice at once, and an enqueue wakes the
 * other node through NOTIFY.
 */
class ExclusiveRunsIT {

  private TestDatabase db;
  private final List<QueueNode> nodes = new ArrayList<>();

  @BeforeEach
  void schema() {
    db = TestDatabase.fresh();
    new SchemaMigrator(db.settings()).migrate();
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (QueueNode n : nodes) {
      n.close();
    }
    db.close();
  }

  private QueueNode node() {
    QueueNode n = new QueueNode(db.settings());
    nodes.add(n);
    return n;
  }

  private static JobSettings settings(long pollMs, long leaseMs, long timeoutMs, int maxAttempts) {
    return new JobSettings(8, 8, pollMs, leaseMs, timeoutMs, maxAttempts, 50, 200, 0);
  }

  /** A run of a job: which node, when it started and ended (nanoTime), and its direction. */
  record Span(String node, long job, String direction, long start, long end) {}

  private static void slowConsumer(QueueNode n, String name, String mapping, long ms, List<Span> spans) throws Exception {
    n.consume(Addresses.sync(mapping), m -> {
      JobRequest r = JobRequest.fromJson(m.body());
      long t0 = System.nanoTime();
      n.vertx.setTimer(ms, t -> {
        spans.add(new Span(name, r.jobId(), r.direction() == null ? null : r.direction().name(), t0, System.nanoTime()));
        m.reply(JobOutcome.EMPTY.withMessage("ran on " + name).toJson());
      });
    });
  }

  private static boolean overlap(Span a, Span b) {
    return a.start() < b.end() && b.start() < a.end();
  }

  @Test
  void twoSimultaneousSyncsOfOneMappingRunOneAfterTheOtherAcrossTwoNodes() throws Exception {
    List<Span> spans = new CopyOnWriteArrayList<>();
    QueueNode a = node();
    QueueNode b = node();
    slowConsumer(a, "node-a", "CUSTOMER", 400, spans);
    slowConsumer(b, "node-b", "CUSTOMER", 400, spans);
    a.dispatch("node-a", settings(20, 5_000, 30_000, 3));
    b.dispatch("node-b", settings(20, 5_000, 30_000, 3));
    // Two manual syncs and a bidirectional one (which holds both directions), all due at once.
    a.await(a.queue.enqueueAll(List.of(
        new NewJob(JobKind.SYNC, "CUSTOMER", Direction.FROM_CRM, null, 100, 0, null),
        new NewJob(JobKind.SYNC, "CUSTOMER", Direction.FROM_CRM, null, 100, 0, null),
        new NewJob(JobKind.SYNC, "CUSTOMER", Direction.BIDIRECTIONAL, null, 100, 0, null)), 3));
    await("three jobs succeeded", 20_000,
        () -> db.queryLong("SELECT count(*) FROM job WHERE status = 'succeeded'") == 3);
    assertEquals(3, spans.size(), "each ran once: " + spans);
    for (int i = 0; i < spans.size(); i++) {
      for (int j = i + 1; j < spans.size(); j++) {
        assertFalse(overlap(spans.get(i), spans.get(j)), "runs overlapped: " + spans.get(i) + " and " + spans.get(j));
      }
    }
    assertEquals(1, db.queryLong("SELECT count(DISTINCT attempts) FROM job"), "no retries were needed");
  }

  @Test
  void theTwoDirectionsOfAMappingAndOtherMappingsStillRunSideBySide() throws Exception {
    List<Span> spans = new CopyOnWriteArrayList<>();
    QueueNode a = node();
    slowConsumer(a, "node-a", "CUSTOMER", 600, spans);
    slowConsumer(a, "node-a", "ITEM", 600, spans);
    a.dispatch("node-a", settings(20, 5_000, 30_000, 3));
    a.await(a.queue.enqueueAll(List.of(
        new NewJob(JobKind.SYNC, "CUSTOMER", Direction.TO_CRM, null, 100, 0, null),
        new NewJob(JobKind.SYNC, "CUSTOMER", Direction.FROM_CRM, null, 100, 0, null),
        new NewJob(JobKind.SYNC, "ITEM", null, null, 100, 0, null)), 3));
    await("three jobs succeeded", 20_000,
        () -> db.queryLong("SELECT count(*) FROM job WHERE status = 'succeeded'") == 3);
    Span toCrm = spans.stream().filter(s -> "TO_CRM".equals(s.direction())).findFirst().orElseThrow();
    Span fromCrm = spans.stream().filter(s -> "FROM_CRM".equals(s.direction())).findFirst().orElseThrow();
    Span item = spans.stream().filter(s -> s.direction() == null).findFirst().orElseThrow();
    assertTrue(overlap(toCrm, item), "another mapping is not held up: " + spans);
    assertTrue(overlap(toCrm, fromCrm), "the other direction of the same mapping is not held up: " + spans);
  }

  @Test
  void aTimedOutJobKeepsItsLeaseUntilItsHandlerStopsAndIsNeverRunTwiceAtOnce() throws Exception {
    QueueNode a = node();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    AtomicInteger runs = new AtomicInteger();
    JobLeases leases = new JobLeases();
    List<String> stopReasons = new CopyOnWriteArrayList<>();
    java.util.concurrent.CountDownLatch noticed = new java.util.concurrent.CountDownLatch(1);
    a.consume(Addresses.sync("SLOW"), m -> {
      JobRequest r = JobRequest.fromJson(m.body());
      JobLease lease = leases.of(r.jobId());
      runs.incrementAndGet();
      maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      // A handler that checks its lease between pages: it notices the timeout's revocation and stops.
      long[] timer = new long[1];
      timer[0] = a.vertx.setPeriodic(100, t -> {
        String lost = lease.lostReason();
        if (lost != null) {
          a.vertx.cancelTimer(timer[0]);
          noticed.countDown();
          // It takes a while to stop, as a page in flight would: longer than the timeout itself.
          a.vertx.setTimer(1_200, t2 -> {
            running.decrementAndGet();
            stopReasons.add(lost);
            JobFailure.fail(m, lease.check().cause());
          });
        }
      });
    });
    long id = a.await(a.queue.enqueue(NewJob.of(JobKind.SYNC, "SLOW"), 2));
    a.dispatch(new DispatcherVerticle(a.queue, settings(20, 2_000, 300, 2), "node-a", m -> "none", a.metrics)
        .leases(leases));
    // Past the timeout, while the handler is still stopping: the job is still running, on its first attempt.
    // Waiting for the handler to notice (rather than a fixed sleep) keeps this true on a loaded machine.
    assertTrue(noticed.await(15, java.util.concurrent.TimeUnit.SECONDS), "the handler noticed the timeout");
    assertEquals("running", db.queryString("SELECT status FROM job WHERE id = " + id));
    assertEquals(1, db.queryLong("SELECT attempts FROM job WHERE id = " + id), "not requeued while its lease is live");
    assertEquals(1, runs.get());
    await("both attempts ended", 15_000, () -> "failed".equals(db.queryString("SELECT status FROM job WHERE id = " + id)));
    assertEquals(1, maxRunning.get(), "never two runs at once");
    assertEquals(2, runs.get());
    assertTrue(stopReasons.get(0).contains("timed out after 300 ms"), stopReasons.toString());
    assertTrue(db.queryString("SELECT message FROM job WHERE id = " + id).contains("timed out after 300 ms"));
  }

  @Test
  void aHolderWhoseLeaseExpiredIsFencedAtItsNextPageCommitAndTheJobRunsOnceMoreElsewhere() throws Exception {
    db.exec("CREATE TABLE page (job bigint, node text, epoch bigint, at timestamptz DEFAULT clock_timestamp())");
    QueueNode a = node();
    QueueNode b = node();
    JobLeases leasesA = new JobLeases();
    JobLeases leasesB = new JobLeases();
    AtomicReference<Throwable> stoppedA = new AtomicReference<>();
    AtomicInteger runsB = new AtomicInteger();
    pageWriter(a, "node-a", leasesA, 40, stoppedA, null);
    pageWriter(b, "node-b", leasesB, 5, null, runsB);
    // Node a runs one job at a time: while its stopped handler has not answered, it claims nothing.
    long id = a.await(a.queue.enqueue(NewJob.of(JobKind.SYNC, "PAGED"), 5));
    a.dispatch(new DispatcherVerticle(a.queue, new JobSettings(1, 1, 20, 1_500, 60_000, 5, 50, 200, 0), "node-a",
        m -> "none", a.metrics).leases(leasesA));
    await("node a committed pages", 10_000, () -> db.queryLong("SELECT count(*) FROM page WHERE node = 'node-a'") >= 3);
    // Node a stalls (a long pause, a partition from PostgreSQL): its lease runs out, and the grace after it too.
    db.exec("UPDATE job SET lease_until = now() - interval '10 seconds' WHERE id = " + id);
    b.dispatch(new DispatcherVerticle(b.queue, settings(20, 1_500, 60_000, 5), "node-b", m -> "none", b.metrics)
        .leases(leasesB));
    await("the job ran once more on node b", 15_000,
        () -> "succeeded".equals(db.queryString("SELECT status FROM job WHERE id = " + id)));
    await("node a stopped", 5_000, () -> stoppedA.get() != null);
    assertTrue(stoppedA.get() instanceof JobLease.FencedException, String.valueOf(stoppedA.get()));
    assertEquals(1, runsB.get());
    assertEquals(2, db.queryLong("SELECT attempts FROM job WHERE id = " + id));
    assertEquals("node-b", db.queryString("SELECT message FROM job WHERE id = " + id));
    // Every page node a committed came before node b's first: nothing of a's after the takeover.
    assertEquals(0, db.queryLong("SELECT count(*) FROM page pa WHERE pa.node = 'node-a' AND pa.at >= "
        + "(SELECT min(at) FROM page WHERE node = 'node-b')"));
    assertEquals(1, db.queryLong("SELECT count(DISTINCT epoch) FROM page WHERE node = 'node-a'"));
    assertEquals(5, db.queryLong("SELECT count(*) FROM page WHERE node = 'node-b'"));
  }

  /** A handler writing a page every 100 ms, each in a transaction verified against its lease. */
  private static void pageWriter(QueueNode n, String name, JobLeases leases, int pages, AtomicReference<Throwable> stopped,
      AtomicInteger runs) throws Exception {
    n.consume(Addresses.sync("PAGED"), m -> {
      if (runs != null) {
        runs.incrementAndGet();
      }
      JobLease lease = leases.of(JobRequest.fromJson(m.body()).jobId());
      page(n, name, lease, pages, m, stopped);
    });
  }

  private static void page(QueueNode n, String name, JobLease lease, int left, Message<JsonObject> m,
      AtomicReference<Throwable> stopped) {
    if (left == 0) {
      m.reply(JobOutcome.EMPTY.withMessage(name).toJson());
      return;
    }
    n.vertx.setTimer(100, t -> n.pool.withTransaction(tx -> lease.verify(tx)
            .compose(v -> tx.preparedQuery("INSERT INTO page (job, node, epoch) VALUES ($1, $2, $3)")
                .execute(Tuple.of(lease.jobId(), name, lease.epoch()))))
        .onSuccess(v -> page(n, name, lease, left - 1, m, stopped))
        .onFailure(e -> {
          if (stopped != null) {
            stopped.set(e);
          }
          // A slow goodbye: the node's only slot stays taken, so the job is taken over by the other node.
          n.vertx.setTimer(3_000, t2 -> JobFailure.fail(m, e));
        }));
  }

  @Test
  void anEnqueueOnOneNodeIsClaimedByAnotherThroughNotifyWellUnderThePollInterval() throws Exception {
    QueueNode a = node();
    QueueNode b = node();
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    long[] enqueuedAt = new long[1];
    b.consume(Addresses.sync("WAKE"), m -> {
      latencies.add((System.nanoTime() - enqueuedAt[0]) / 1_000_000);
      m.reply(JobOutcome.EMPTY.toJson());
    });
    // Node b polls once a minute: only the NOTIFY of the enqueue can explain a quick claim.
    b.dispatch(new DispatcherVerticle(b.queue, settings(60_000, 5_000, 30_000, 3), "node-b", m -> "none", b.metrics)
        .listen(db.settings().connectOptions(), PgNodeRegistry.jobChannel(db.schema())));
    Thread.sleep(500);
    for (int i = 0; i < 5; i++) {
      enqueuedAt[0] = System.nanoTime();
      a.await(a.queue.enqueue(NewJob.of(JobKind.SYNC, "WAKE"), 3));
      int expected = i + 1;
      await("job " + expected + " claimed by node b", 5_000, () -> latencies.size() == expected);
      Thread.sleep(100);
    }
    long worst = Collections.max(latencies);
    assertTrue(worst < 1_000, "claimed within " + latencies + " ms of the enqueue");
    await("all five succeeded", 5_000, () -> db.queryLong("SELECT count(*) FROM job WHERE status = 'succeeded'") == 5);
  }

  @Test
  void aStaleEpochCannotCompleteRenewOrFailTheJob() throws Exception {
    QueueNode a = node();
    long id = a.await(a.queue.enqueue(NewJob.of(JobKind.SYNC, "E"), 5));
    long first = a.await(a.queue.claim("n", 1, 5_000)).get(0).leaseEpoch();
    db.exec("UPDATE job SET status = 'queued', lease_owner = NULL WHERE id = " + id);
    long second = a.await(a.queue.claim("n", 1, 5_000)).get(0).leaseEpoch();
    assertEquals(first + 1, second);
    // The same node under the earlier epoch (an attempt that should have stopped) is refused everywhere.
    assertTrue(a.await(a.queue.renew("n", java.util.Map.of(id, first), 5_000)).isEmpty());
    assertTrue(a.await(a.queue.complete("n", java.util.Map.of(id, JobOutcome.EMPTY), java.util.Map.of(id, first))).isEmpty());
    assertTrue(a.await(a.queue.fail("n", id, first, dev.tandem.api.TandemException.permanent(
        dev.tandem.api.Stage.WRITE, "x"), 10, 10)).isEmpty());
    Throwable fenced = a.await(a.pool.withTransaction(tx -> new JobLease(id, first, Long.MAX_VALUE / 4).verify(tx))
        .<Throwable>map(v -> null).otherwise(e -> e));
    assertNotNull(fenced);
    assertTrue(fenced instanceof JobLease.FencedException, fenced.toString());
    assertEquals(java.util.Set.of(id), a.await(a.queue.renew("n", java.util.Map.of(id, second), 5_000)));
    assertEquals(List.of(id), a.await(a.queue.complete("n", java.util.Map.of(id, JobOutcome.EMPTY),
        java.util.Map.of(id, second))));
  }
}
