package dev.tandem.runtime.jobs;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.store.JobStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The job queue's metrics ({@code tandem_jobs_*} in Prometheus). Counters are per node; the queued and running
 * gauges are read from PostgreSQL, so every node reports the cluster-wide figure.
 */
public final class JobMetrics {

  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<JobStatus, AtomicLong> depth = new EnumMap<>(JobStatus.class);
  private final AtomicLong liveNodes = new AtomicLong();

  /** @param registry where the meters go */
  public JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (JobStatus s : new JobStatus[] {JobStatus.QUEUED, JobStatus.RUNNING}) {
      AtomicLong v = new AtomicLong();
      depth.put(s, v);
      Gauge.builder("tandem.jobs." + s.db(), v, AtomicLong::get)
          .description("Jobs currently " + s.db() + " in the shared queue")
          .register(registry);
    }
    // The name the operations guide promises scrapers for the backlog; the same value as tandem_jobs_queued.
    Gauge.builder("tandem.job.queue.depth", depth.get(JobStatus.QUEUED), AtomicLong::get)
        .description("Jobs waiting in the shared queue (claimable now or later)")
        .register(registry);
    Gauge.builder("tandem.nodes.alive", liveNodes, AtomicLong::get)
        .description("Nodes sharing the queue whose heartbeat is current (read from PostgreSQL)")
        .register(registry);
  }

  /** @param n nodes alive, as the node registry says */
  public void liveNodes(long n) {
    liveNodes.set(n);
  }

  /** @param n job attempts this node stopped because their lease was lost or they timed out */
  public void fenced(int n) {
    counter("tandem.jobs.fenced", "Job attempts stopped on this node because their lease was lost or revoked", null,
        null).increment(n);
  }

  /**
   * @param kind job kind
   * @param n how many were enqueued
   */
  public void enqueued(JobKind kind, int n) {
    counter("tandem.jobs.enqueued", "Jobs enqueued by this node", "kind", kind.name()).increment(n);
  }

  /** @param n how many jobs this node claimed */
  public void claimed(int n) {
    counter("tandem.jobs.claimed", "Jobs claimed by this node", null, null).increment(n);
  }

  /**
   * @param kind job kind
   * @param outcome succeeded, failed or retried
   * @param took how long the attempt ran
   */
  public void finished(JobKind kind, String outcome, Duration took) {
    counters.computeIfAbsent("finished:" + kind + ":" + outcome, k -> Counter.builder("tandem.jobs.finished")
        .description("Job attempts finished on this node, by outcome")
        .tag("kind", kind.name()).tag("outcome", outcome).register(registry)).increment();
    timers.computeIfAbsent(kind.name(), k -> Timer.builder("tandem.jobs.duration")
        .description("How long job attempts ran on this node")
        .tag("kind", kind.name()).register(registry)).record(took);
  }

  /** @param n jobs whose expired lease this node recovered */
  public void recovered(int n) {
    counter("tandem.jobs.recovered", "Jobs put back in the queue after their lease expired", null, null).increment(n);
  }

  /**
   * @param counts current queued and running counts
   */
  public void depth(Map<JobStatus, Long> counts) {
    depth.forEach((s, v) -> v.set(counts.getOrDefault(s, 0L)));
  }

  private Counter counter(String name, String description, String tag, String value) {
    return counters.computeIfAbsent(name + ":" + value, k -> {
      Counter.Builder b = Counter.builder(name).description(description);
      if (tag != null) {
        b.tag(tag, value);
      }
      return b.register(registry);
    });
  }
}
