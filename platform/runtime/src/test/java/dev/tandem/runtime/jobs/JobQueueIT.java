package dev.tandem.runtime.jobs;

import static dev.tandem.runtime.TestRuntimes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tandem.api.Addresses;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobKind;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.SchemaMigrator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The job queue and dispatcher against a real PostgreSQL. */
class JobQueueIT {

  private static final JobSettings FAST = new JobSettings(16, 32, 50, 2_000, 10_000, 10, 100, 1_000, 0);

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

  private Job job(QueueNode n, long id) throws Exception {
    return n.await(n.queue.get(id)).orElseThrow();
  }

  @Test
  void thousandJobsTwoDispatchersEachRunsExactlyOnce() throws Exception {
    Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> byNode = new ConcurrentHashMap<>();
    QueueNode a = node();
    QueueNode b = node();
    for (QueueNode n : List.of(a, b)) {
      String name = n == a ? "node-a" : "node-b";
      // One job per mapping runs at a time: the thousand jobs are spread over 50 mappings.
      for (int k = 0; k < 50; k++) {
        n.consume(Addresses.sync("BULK" + k), m -> {
          JobRequest r = JobRequest.fromJson(m.body());
          runs.computeIfAbsent(r.jobId(), key -> new AtomicInteger()).incrementAndGet();
          byNode.computeIfAbsent(name, key -> new AtomicInteger()).incrementAndGet();
          m.reply(new JobOutcome(1, 0, 0, 0, 0, 0, 0, 0, "ran on " + name).toJson());
        });
      }
    }
    List<NewJob> jobs = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      jobs.add(NewJob.of(JobKind.SYNC, "BULK" + (i % 50)));
    }
    List<Long> ids = a.await(a.queue.enqueueAll(jobs, 3));
    assertEquals(1000, ids.size());
    a.dispatch("node-a", FAST);
    b.dispatch("node-b", FAST);

    await("1000 jobs succeeded", 60_000,
        () -> db.queryLong("SELECT count(*) FROM job WHERE status = 'succeeded'") == 1000);
    assertEquals(1000, runs.size(), "every job ran");
    runs.forEach((id, count) -> assertEquals(1, count.get(), "job " + id + " ran " + count + " times"));
    assertTrue(byNode.get("node-a").get() > 0 && byNode.get("node-b").get() > 0,
        "both dispatchers took work: " + byNode);
    assertEquals(1000, db.queryLong("SELECT sum(inserted) FROM job"));
    assertEquals(1000, db.queryLong("SELECT count(*) FROM job WHERE attempts = 1 AND lease_owner IS NULL "
        + "AND finished_at IS NOT NULL AND message LIKE 'ran on node-%'"));
  }

  @Test
  void jobOfAVanishedWorkerIsClaimedAgainAndCompletes() throws Exception {
    QueueNode ghost = node();
    long id = ghost.await(ghost.queue.enqueue(NewJob.of(JobKind.SYNC, "ORPHAN"), 5));
    // A node claims it with a short lease and dies: nothing renews the lease.
    List<Job> claimed = ghost.await(ghost.queue.claim("ghost-node", 10, 300));
    assertEquals(1, claimed.size());
    assertEquals(JobStatus.RUNNING, job(ghost, id).status());

    QueueNode survivor = node();
    AtomicInteger attemptSeen = new AtomicInteger();
    survivor.consume(Addresses.sync("ORPHAN"), m -> {
      attemptSeen.set(JobRequest.fromJson(m.body()).attempt());
      m.reply(JobOutcome.EMPTY.withMessage("recovered").toJson());
    });
    survivor.dispatch("survivor", new JobSettings(4, 4, 50, 600, 10_000, 5, 100, 1_000, 0));

    await("orphaned job succeeded", 15_000, () -> "succeeded".equals(
        db.queryString("SELECT status FROM job WHERE id = " + id)));
    Job done = job(survivor, id);
    assertEquals(2, done.attempts(), "the dead node's attempt counts");
    assertEquals(2, attemptSeen.get());
    assertEquals("recovered", done.counts().message());
    assertTrue(survivor.registry.get("tandem.jobs.recovered").counter().count() >= 1);
  }

  @Test
  void leaseIsRenewedWhileAJobRunsLongerThanItsLease() throws Exception {
    QueueNode n = node();
    // Three leases long; the lease is long enough that a loaded machine's delayed renewal does not lose it.
    n.consume(Addresses.sync("SLOW"), m -> n.vertx.setTimer(4_500, t -> m.reply(JobOutcome.EMPTY.toJson())));
    long id = n.await(n.queue.enqueue(NewJob.of(JobKind.SYNC, "SLOW"), 5));
    n.dispatch("slow-node", new JobSettings(4, 4, 50, 1_500, 10_000, 5, 100, 1_000, 0));
    await("slow job succeeded", 20_000, () -> "succeeded".equals(
        db.queryString("SELECT status FROM job WHERE id = " + id)));
    assertEquals(1, job(n, id).attempts(), "renewed lease: never taken back while running");
  }

  @Test
  void failingJobIsRetriedWithBackoffAndEndsFailedWithItsMessage() throws Exception {
    QueueNode n = node();
    List<Long> attemptTimes = new ArrayList<>();
    n.consume(Addresses.sync("FLAKY"), m -> {
      synchronized (attemptTimes) {
        attemptTimes.add(System.currentTimeMillis());
      }
      JobFailure.fail(m, TandemException.retriable(Stage.WRITE, "CRM answered 503 Service Unavailable", null));
    });
    long id = n.await(n.queue.enqueue(new NewJob(JobKind.SYNC, "FLAKY", null, null, 100, 3, null), 10));
    n.dispatch("n1", new JobSettings(4, 4, 50, 5_000, 10_000, 10, 300, 10_000, 0));

    await("job failed for good", 15_000, () -> "failed".equals(
        db.queryString("SELECT status FROM job WHERE id = " + id)));
    Job failed = job(n, id);
    assertEquals(3, failed.attempts());
    assertEquals("failed after 3 attempts: [WRITE] CRM answered 503 Service Unavailable", failed.counts().message());
    assertEquals("WRITE", failed.errorStage());
    assertEquals(3, attemptTimes.size());
    long firstGap = attemptTimes.get(1) - attemptTimes.get(0);
    long secondGap = attemptTimes.get(2) - attemptTimes.get(1);
    assertTrue(firstGap >= 280, "first retry waited the backoff: " + firstGap);
    assertTrue(secondGap >= 580, "backoff doubles: " + secondGap);
  }

  @Test
  void retryAfterFromTheFailureIsHonoured() throws Exception {
    QueueNode n = node();
    AtomicInteger calls = new AtomicInteger();
    List<Long> times = new ArrayList<>();
    n.consume(Addresses.sync("THROTTLED"), m -> {
      times.add(System.currentTimeMillis());
      if (calls.incrementAndGet() == 1) {
        JobFailure.fail(m, TandemException.retriable(Stage.WRITE, "429", Duration.ofMillis(1_200)));
      } else {
        m.reply(JobOutcome.EMPTY.toJson());
      }
    });
    long id = n.await(n.queue.enqueue(NewJob.of(JobKind.SYNC, "THROTTLED"), 5));
    n.dispatch("n1", new JobSettings(4, 4, 50, 5_000, 10_000, 5, 10, 10, 0));
    await("throttled job succeeded", 10_000, () -> "succeeded".equals(
        db.queryString("SELECT status FROM job WHERE id = " + id)));
    assertTrue(times.get(1) - times.get(0) >= 1_150, "waited the retry-after: " + (times.get(1) - times.get(0)));
  }

  @Test
  void permanentFailureIsNotRetried() throws Exception {
    QueueNode n = node();
    n.consume(Addresses.sync("MISCONFIGURED"), m -> JobFailure.fail(m,
        TandemException.permanent(Stage.READ, "ERP rejected the web service access key (401)")));
    long id = n.await(n.queue.enqueue(NewJob.of(JobKind.SYNC, "MISCONFIGURED"), 10));
    n.dispatch("n1", FAST);
    await("job failed", 10_000, () -> "failed".equals(db.queryString("SELECT status FROM job WHERE id = " + id)));
    Job failed = job(n, id);
    assertEquals(1, failed.attempts());
    assertEquals("[READ] ERP rejected the web service access key (401)", failed.counts().message());
  }

  @Test
  void jobWithoutConsumerFailsNamingTheMissingPlugin() throws Exception {
    QueueNode n = node();
    long id = n.await(n.queue.enqueue(NewJob.of(JobKind.MATCH, "NOBODY"), 10));
    n.dispatch("n1", FAST);
    await("job failed", 10_000, () -> "failed".equals(db.queryString("SELECT status FROM job WHERE id = " + id)));
    Job failed = job(n, id);
    assertEquals(1, failed.attempts());
    assertEquals("[DISPATCH] no verticle consumes tandem.coupling.NOBODY: no installed plugin provides mapping NOBODY",
        failed.counts().message());
  }

  @Test
  void schedulesCreateOneJobAtATimeGoOnHoldWhenIdleAndWake() throws Exception {
    QueueNode n = node();
    n.await(n.schedules.ensure("CUSTOMER", 100, 0));
    n.await(n.schedules.ensure("IDLE", 100, 300));
    List<Long> first = n.await(n.schedules.tick(5));
    assertEquals(2, first.size());
    Thread.sleep(150);
    assertEquals(0, n.await(n.schedules.tick(5)).size(), "a pending run is not stacked");
    // Finish both runs without changes; IDLE's inactivity timeout then passes.
    n.await(n.queue.claim("n1", 10, 5_000));
    n.await(n.queue.complete("n1", Map.of(first.get(0), JobOutcome.EMPTY, first.get(1), JobOutcome.EMPTY)));
    Thread.sleep(350);
    List<Long> second = n.await(n.schedules.tick(5));
    assertEquals(1, second.size(), "only CUSTOMER runs; IDLE went on hold");
    assertEquals("on_hold", db.queryString("SELECT state FROM schedule WHERE mapping = 'IDLE'"));
    assertEquals("CUSTOMER", db.queryString("SELECT mapping FROM job WHERE id = " + second.get(0)));

    assertEquals(1, n.await(n.schedules.wake("IDLE")));
    assertEquals("active", db.queryString("SELECT state FROM schedule WHERE mapping = 'IDLE'"));
    List<Long> third = n.await(n.schedules.tick(5));
    assertEquals(1, third.size());
    assertEquals("IDLE", db.queryString("SELECT mapping FROM job WHERE id = " + third.get(0)));
  }

  @Test
  void aScheduleThatFallsDueDuringItsRunRunsAgainAsSoonAsTheRunEnds() throws Exception {
    QueueNode n = node();
    n.await(n.schedules.ensure("ORDERS", 1000, 0));
    List<Long> first = n.await(n.schedules.tick(5));
    assertEquals(1, first.size());
    n.await(n.queue.claim("n1", 10, 5_000));
    Thread.sleep(1100);
    assertEquals(0, n.await(n.schedules.tick(5)).size(), "the run is still going");
    n.await(n.queue.complete("n1", Map.of(first.get(0), JobOutcome.EMPTY)));
    // Due since before the run ended: the next tick runs it, not one an interval after the tick during the run.
    List<Long> next = n.await(n.schedules.tick(5));
    assertEquals(1, next.size(), "the schedule stayed due while its run went on");
    assertEquals(0, n.await(n.schedules.tick(5)).size(), "one job at a time: the new one is queued");
  }

  @Test
  void theEndOfAScheduledRunTicksAtOnceInsteadOfWaitingForTheNextTick() throws Exception {
    QueueNode n = node();
    AtomicInteger calls = new AtomicInteger();
    n.consume(Addresses.sync("ORDERS"), m -> {
      calls.incrementAndGet();
      // Longer than the interval: the schedule falls due while the run goes on.
      n.vertx.setTimer(300, t -> m.reply(new JobOutcome(1, 0, 0, 0, 0, 0, 0, 0, null).toJson()));
    });
    n.await(n.schedules.ensure("ORDERS", 100, 0));
    n.dispatch("n1", FAST);
    // Periodic ticks a minute apart: only the job-ended wake can start the second run within the test.
    n.await(n.vertx.deployVerticle(new SchedulerVerticle(n.schedules, n.queue, 60_000, true, 5, n.metrics, 0)));
    assertEquals(1, n.await(n.schedules.tick(5)).size());
    await("a second run right after the first", 5_000, () -> calls.get() >= 2);
  }

  @Test
  void aMappingInAFullSynchronizationGetsNoScheduledRunsUntilItsLineEnds() throws Exception {
    QueueNode n = node();
    n.await(n.schedules.ensure("CUSTOMER", 50, 0));
    n.await(n.schedules.ensure("CONTACT", 50, 0));
    db.exec("INSERT INTO full_sync_run (id, status) VALUES (1, 'running')");
    db.exec("INSERT INTO full_sync_line (run_id, mapping, position, direction, status) VALUES "
        + "(1, 'CUSTOMER', 0, 'TO_CRM', 'running'), (1, 'CONTACT', 1, 'TO_CRM', 'succeeded')");
    List<Long> during = n.await(n.schedules.tick(5));
    assertEquals(1, during.size(), "only CONTACT, whose line ended, runs");
    assertEquals("CONTACT", db.queryString("SELECT mapping FROM job WHERE id = " + during.get(0)));
    db.exec("UPDATE full_sync_line SET status = 'succeeded' WHERE mapping = 'CUSTOMER'");
    List<Long> after = n.await(n.schedules.tick(5));
    assertEquals(1, after.size(), "CUSTOMER's schedule stayed due and runs at once");
    assertEquals("CUSTOMER", db.queryString("SELECT mapping FROM job WHERE id = " + after.get(0)));
  }

  @Test
  void aRunThatChangedSomethingKeepsItsScheduleActive() throws Exception {
    QueueNode n = node();
    n.await(n.schedules.ensure("BUSY", 50, 400));
    for (int i = 0; i < 4; i++) {
      Thread.sleep(150);
      List<Long> ids = n.await(n.schedules.tick(5));
      assertEquals(1, ids.size(), "round " + i);
      n.await(n.queue.claim("n1", 10, 5_000));
      n.await(n.queue.complete("n1", Map.of(ids.get(0), new JobOutcome(0, 1, 0, 0, 0, 0, 0, 0, null))));
    }
    assertEquals("active", db.queryString("SELECT state FROM schedule WHERE mapping = 'BUSY'"));
  }

  @Test
  void onlyQueuedJobsCanBeCancelledAndEndedJobsArePurgedAfterTheRetention() throws Exception {
    QueueNode n = node();
    long queued = n.await(n.queue.enqueue(NewJob.of(JobKind.SYNC, "LATER"), 5));
    assertEquals(JobStatus.CANCELLED, n.await(n.queue.cancel(queued)).orElseThrow());
    assertEquals("cancelled before it ran", job(n, queued).counts().message());
    assertEquals(JobStatus.CANCELLED, n.await(n.queue.cancel(queued)).orElseThrow(), "idempotent");
    long running = n.await(n.queue.enqueue(NewJob.of(JobKind.SYNC, "NOW"), 5));
    n.await(n.queue.claim("n1", 10, 5_000));
    assertEquals(JobStatus.RUNNING, n.await(n.queue.cancel(running)).orElseThrow(), "a running job is left alone");
    assertTrue(n.await(n.queue.cancel(999_999)).isEmpty());

    db.exec("UPDATE job SET finished_at = now() - interval '8 days' WHERE id = " + queued);
    assertEquals(0, n.await(n.queue.purgeEnded(9L * 24 * 3_600_000, 100)), "younger than the retention");
    assertEquals(1, n.await(n.queue.purgeEnded(7L * 24 * 3_600_000, 100)));
    assertEquals(0, db.queryLong("SELECT count(*) FROM job WHERE id = " + queued));
    assertEquals(1, db.queryLong("SELECT count(*) FROM job WHERE id = " + running), "running jobs are kept");
  }
}
