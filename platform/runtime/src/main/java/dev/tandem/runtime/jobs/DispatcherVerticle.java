package dev.tandem.runtime.jobs;

import dev.tandem.api.Addresses;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.PgJobQueue;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One per node. Claims due jobs (up to the node's free slots) and sends each over the event bus to the verticle
 * that owns its mapping; records the reply. While jobs run it renews their leases, and it sweeps jobs whose
 * lease expired on a dead node back into the queue. Completions are written in batches (one statement for all
 * jobs that finished meanwhile), which is what lets the queue run thousands of short jobs a second.
 */
public final class DispatcherVerticle extends VerticleBase {

  /** Local address that makes the dispatcher look for jobs now (sent after an enqueue on this node). */
  public static final String WAKE = "tandem.internal.dispatcher.wake";
  /** Where job life-cycle events are published. */
  public static final String EVENTS = Addresses.EVENTS_PREFIX + "jobs";

  private static final System.Logger LOG = System.getLogger(DispatcherVerticle.class.getName());

  private final PgJobQueue queue;
  private final JobSettings settings;
  private final String nodeId;
  private final Function<String, String> explainMissing;
  private final JobMetrics metrics;

  private final Map<Long, Job> inFlight = new HashMap<>();
  private final Map<Long, Long> startedNanos = new HashMap<>();
  private Map<Long, JobOutcome> pendingCompletions = new LinkedHashMap<>();
  private boolean claiming;
  private boolean repoll;
  private boolean flushing;
  private boolean stopped;

  /**
   * @param queue the queue
   * @param settings job settings
   * @param nodeId this node's id, written into leases
   * @param explainMissing given a mapping with no consumer, says why (which plugin is missing or failed)
   * @param metrics job metrics
   */
  public DispatcherVerticle(PgJobQueue queue, JobSettings settings, String nodeId,
      Function<String, String> explainMissing, JobMetrics metrics) {
    this.queue = queue;
    this.settings = settings;
    this.nodeId = nodeId;
    this.explainMissing = explainMissing;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(settings.pollIntervalMs(), id -> poll());
    vertx.setPeriodic(Math.max(100, settings.leaseMs() / 3), id -> renewLeases());
    vertx.setPeriodic(Math.max(100, settings.leaseMs() / 2), id -> recover());
    vertx.eventBus().localConsumer(WAKE, m -> poll());
    recover();
    poll();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    return flush();
  }

  /** @return jobs this dispatcher is running now */
  public int inFlight() {
    return inFlight.size();
  }

  private void poll() {
    if (stopped) {
      return;
    }
    if (claiming) {
      repoll = true;
      return;
    }
    int free = settings.maxConcurrent() - inFlight.size();
    if (free <= 0) {
      return;
    }
    int want = Math.min(free, settings.claimBatch());
    claiming = true;
    repoll = false;
    queue.claim(nodeId, want, settings.leaseMs()).onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        LOG.log(Level.WARNING, "claiming jobs failed (PostgreSQL unreachable?): " + ar.cause());
        return;
      }
      List<Job> jobs = ar.result();
      if (!jobs.isEmpty()) {
        metrics.claimed(jobs.size());
      }
      jobs.forEach(this::dispatch);
      // A full batch means more may be due; a wake-up that came while claiming may have added some.
      if (jobs.size() == want || repoll) {
        poll();
      }
    });
  }

  private void dispatch(Job job) {
    inFlight.put(job.id(), job);
    startedNanos.put(job.id(), System.nanoTime());
    String address = job.kind().address(job.mapping());
    publish(job, "RUNNING", null);
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(settings.timeoutMs());
    vertx.eventBus().<JsonObject>request(address, job.toRequest().toJson(), options).onComplete(ar -> {
      if (ar.succeeded()) {
        succeeded(job, JobOutcome.fromJson(ar.result().body()));
      } else {
        failed(job, ar.cause(), address);
      }
    });
  }

  private Duration took(Job job) {
    Long t0 = startedNanos.remove(job.id());
    return Duration.ofNanos(t0 == null ? 0 : System.nanoTime() - t0);
  }

  private void succeeded(Job job, JobOutcome outcome) {
    metrics.finished(job.kind(), "succeeded", took(job));
    pendingCompletions.put(job.id(), outcome);
    flush();
  }

  private Future<Void> flush() {
    if (flushing || pendingCompletions.isEmpty()) {
      return Future.succeededFuture();
    }
    flushing = true;
    Map<Long, JobOutcome> batch = pendingCompletions;
    pendingCompletions = new LinkedHashMap<>();
    return queue.complete(nodeId, batch).onComplete(ar -> {
      flushing = false;
      if (ar.failed()) {
        // The leases stay ours until they expire; try again with the next batch.
        LOG.log(Level.WARNING, "recording " + batch.size() + " completed jobs failed, will retry: " + ar.cause());
        batch.forEach(pendingCompletions::putIfAbsent);
        vertx.setTimer(500, id -> flush());
        return;
      }
      for (Long id : batch.keySet()) {
        Job job = inFlight.remove(id);
        if (job != null) {
          publish(job, "SUCCEEDED", batch.get(id));
        }
      }
      flush();
      poll();
    }).mapEmpty();
  }

  private void failed(Job job, Throwable cause, String address) {
    TandemException error;
    if (cause instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
      error = new TandemException(ErrorKind.PERMANENT, Stage.DISPATCH, "no verticle consumes " + address + ": "
          + explainMissing.apply(job.mapping()), null, cause);
    } else {
      error = JobFailure.decode(cause);
    }
    Duration took = took(job);
    queue.fail(nodeId, job.id(), error, settings.retryBackoffMs(), settings.retryBackoffMaxMs()).onComplete(ar -> {
      inFlight.remove(job.id());
      if (ar.failed()) {
        LOG.log(Level.WARNING, "recording failure of job " + job.id() + " failed; its lease will expire: " + ar.cause());
      } else {
        String outcome = ar.result().map(s -> s == JobStatus.QUEUED ? "retried" : "failed").orElse("lost");
        metrics.finished(job.kind(), outcome, took);
        publish(job, ar.result().map(JobStatus::name).orElse("LOST"), null);
      }
      poll();
    });
  }

  private void renewLeases() {
    if (inFlight.isEmpty()) {
      return;
    }
    List<Long> ids = List.copyOf(inFlight.keySet());
    queue.renew(nodeId, ids, settings.leaseMs()).onFailure(e ->
        LOG.log(Level.WARNING, "renewing leases of " + ids.size() + " jobs failed: " + e));
  }

  private void recover() {
    queue.recoverExpired().onSuccess(ids -> {
      if (!ids.isEmpty()) {
        metrics.recovered(ids.size());
        LOG.log(Level.INFO, "requeued " + ids.size() + " jobs whose lease expired: " + ids);
        poll();
      }
    }).onFailure(e -> LOG.log(Level.DEBUG, "lease sweep failed: " + e));
  }

  private void publish(Job job, String status, JobOutcome outcome) {
    JsonObject event = new JsonObject().put("id", job.id()).put("kind", job.kind().name())
        .put("mapping", job.mapping()).put("status", status).put("node", nodeId);
    if (outcome != null) {
      event.put("counts", outcome.toJson());
    }
    vertx.eventBus().publish(EVENTS, event);
  }
}
