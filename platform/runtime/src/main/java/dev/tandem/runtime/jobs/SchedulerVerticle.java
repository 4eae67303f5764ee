package dev.tandem.runtime.jobs;

import dev.tandem.api.JobKind;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.PgScheduleStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.lang.System.Logger.Level;

/**
 * Turns due schedules into jobs, refreshes the queue-depth gauges, and applies the job log's retention. Safe on every node at once: due
 * schedules are locked with SKIP LOCKED and at most one job per schedule is pending.
 */
public final class SchedulerVerticle extends VerticleBase {

  private static final System.Logger LOG = System.getLogger(SchedulerVerticle.class.getName());

  private final PgScheduleStore schedules;
  private final PgJobQueue queue;
  private final long tickMs;
  private final boolean enabled;
  private final int maxAttempts;
  private final JobMetrics metrics;
  private final long retentionMs;
  private boolean tickSoon;

  /**
   * @param schedules schedule store
   * @param queue job queue (for depth gauges)
   * @param tickMs tick interval
   * @param enabled whether to create jobs from schedules
   * @param maxAttempts attempts for created jobs
   * @param metrics metrics
   * @param retentionMs ended jobs older than this are purged from the log (0 never)
   */
  public SchedulerVerticle(PgScheduleStore schedules, PgJobQueue queue, long tickMs, boolean enabled,
      int maxAttempts, JobMetrics metrics, long retentionMs) {
    this.schedules = schedules;
    this.queue = queue;
    this.tickMs = tickMs;
    this.enabled = enabled;
    this.maxAttempts = maxAttempts;
    this.metrics = metrics;
    this.retentionMs = retentionMs;
  }

  @Override
  public Future<?> start() {
    if (enabled) {
      vertx.setPeriodic(tickMs, id -> tick());
      // A scheduled run that ended may have left its schedule due (it fell due during the run): tick now rather
      // than up to a tick later. Ticks coalesce, and the statement is safe to run on every node at once.
      vertx.eventBus().<io.vertx.core.json.JsonObject>localConsumer(dev.tandem.api.Addresses.JOB_EVENTS, m -> {
        String status = m.body().getString("status");
        if (m.body().containsKey("scheduleId") && ("SUCCEEDED".equals(status) || "FAILED".equals(status))
            && !tickSoon) {
          tickSoon = true;
          vertx.setTimer(1, t -> {
            tickSoon = false;
            tick();
          });
        }
      });
    }
    vertx.setPeriodic(5000, id -> queue.countByStatus().onSuccess(metrics::depth));
    queue.countByStatus().onSuccess(metrics::depth);
    if (retentionMs > 0) {
      vertx.setPeriodic(1000, 60_000, id -> purge());
    }
    return Future.succeededFuture();
  }

  private void purge() {
    queue.purgeEnded(retentionMs, 10_000).onSuccess(n -> {
      if (n > 0) {
        LOG.log(Level.INFO, "job log retention: deleted " + n + " ended jobs");
        // More may be left: carry on at once, in bounded steps.
        if (n == 10_000) {
          vertx.runOnContext(v -> purge());
        }
      }
    }).onFailure(e -> LOG.log(Level.DEBUG, "job log retention failed: " + e));
  }

  private void tick() {
    schedules.tick(maxAttempts).onSuccess(ids -> {
      if (!ids.isEmpty()) {
        metrics.enqueued(JobKind.SYNC, ids.size());
        vertx.eventBus().send(dev.tandem.api.Addresses.DISPATCHER_WAKE, null);
      }
    }).onFailure(e -> LOG.log(Level.DEBUG, "schedule tick failed: " + e));
  }
}
