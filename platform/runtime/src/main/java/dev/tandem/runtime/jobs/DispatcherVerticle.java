package dev.tandem.runtime.jobs;

import dev.tandem.api.Addresses;
import dev.tandem.api.ErrorKind;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusError;
import dev.tandem.runtime.bus.BusMessages;
import dev.tandem.runtime.config.TandemConfig.JobSettings;
import dev.tandem.runtime.store.Job;
import dev.tandem.runtime.store.JobLease;
import dev.tandem.runtime.store.JobLeases;
import dev.tandem.runtime.store.JobStatus;
import dev.tandem.runtime.store.PgChannelListener;
import dev.tandem.runtime.store.PgJobQueue;
import dev.tandem.runtime.store.PgNodeRegistry;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
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
 * lease expired on a dead node back into the queue, after a grace period. Completions are written in batches (one
 * statement for all jobs that finished meanwhile), which is what lets the queue run thousands of short jobs a
 * second.
 *
 * <p>Each running job has a {@link JobLease} in {@link JobLeases}: a renewal PostgreSQL refuses (another node
 * took the job over, or the lease expired) or a job past its timeout revokes it, and the job's handler stops at its
 * next page. A timed-out job keeps its lease, renewed, until its handler has stopped (for at most
 * {@link #stopMs(JobSettings)} more), so it is never run twice at once. With a listen address the dispatcher
 * claims as soon as any node enqueues a job
 * (PostgreSQL NOTIFY from the enqueuing transaction); polling remains the fallback. It also keeps this node's
 * heartbeat in the node registry.
 */
public final class DispatcherVerticle extends VerticleBase {


  private static final System.Logger LOG = System.getLogger(DispatcherVerticle.class.getName());

  private final PgJobQueue queue;
  private final JobSettings settings;
  private final String nodeId;
  private final Function<String, String> explainMissing;
  private final JobMetrics metrics;
  private JobLeases leases = new JobLeases();
  private PgNodeRegistry nodes;
  private String version;
  private PgConnectOptions listenOptions;
  private String channel;
  private PgChannelListener subscriber;

  /** A job this node runs. */
  private static final class Running {
    final Job job;
    final JobLease lease;
    final long t0 = System.nanoTime();
    long timer = -1;
    boolean timedOut;
    boolean lost;

    Running(Job job, JobLease lease) {
      this.job = job;
      this.lease = lease;
    }
  }

  private final Map<Long, Running> inFlight = new HashMap<>();
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

  /**
   * How long a lease must have expired before another node may take its job: the margin in which a holder that
   * stopped renewing (it stops writing when its lease runs out by its own clock) finishes the write in flight.
   *
   * @param settings job settings
   * @return the grace in milliseconds
   */
  public static long graceMs(JobSettings settings) {
    return Math.max(100, settings.leaseMs() / 2);
  }

  /**
   * @param settings job settings
   * @return how long a timed-out job's handler has to stop before the dispatcher gives its lease up: the longer
   *     of the timeout and the lease
   */
  public static long stopMs(JobSettings settings) {
    return Math.max(settings.timeoutMs(), settings.leaseMs());
  }

  /**
   * @param settings job settings
   * @return how long a node may go without a heartbeat before it counts as dead: one lease
   */
  public static long deadAfterMs(JobSettings settings) {
    return settings.leaseMs();
  }

  /**
   * @param leases where this node's leases are published for the job handlers
   * @return this
   */
  public DispatcherVerticle leases(JobLeases leases) {
    this.leases = leases;
    return this;
  }

  /**
   * @param nodes the node registry this dispatcher keeps its node's heartbeat in
   * @param version this node's version
   * @return this
   */
  public DispatcherVerticle nodes(PgNodeRegistry nodes, String version) {
    this.nodes = nodes;
    this.version = version;
    return this;
  }

  /**
   * @param options how to connect to PostgreSQL for LISTEN
   * @param channel the schema's job channel ({@link PgNodeRegistry#jobChannel(String)})
   * @return this
   */
  public DispatcherVerticle listen(PgConnectOptions options, String channel) {
    this.listenOptions = options;
    this.channel = channel;
    return this;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(settings.pollIntervalMs(), id -> poll());
    vertx.setPeriodic(Math.max(100, settings.leaseMs() / 3), id -> {
      renewLeases();
      beat();
    });
    vertx.setPeriodic(Math.max(100, settings.leaseMs() / 2), id -> recover());
    vertx.eventBus().localConsumer(Addresses.DISPATCHER_WAKE, m -> poll());
    Future<Void> registered = nodes == null ? Future.succeededFuture()
        : nodes.register(nodeId, version).onSuccess(v -> beat())
            .recover(e -> {
              LOG.log(Level.WARNING, "registering node " + nodeId + " failed: " + e);
              return Future.succeededFuture();
            });
    Future<Void> listening = Future.succeededFuture();
    if (listenOptions != null) {
      // Reconnects for as long as the node runs; polling covers the gaps.
      subscriber = new PgChannelListener(vertx, listenOptions, channel, this::poll);
      listening = subscriber.connect().recover(e -> {
        LOG.log(Level.WARNING, "LISTEN on " + channel + " failed, polling only: " + e);
        return Future.succeededFuture();
      });
    }
    return Future.all(registered, listening).onComplete(ar -> {
      recover();
      poll();
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    // Handlers still running stop at their next page: this node no longer renews their leases.
    inFlight.values().forEach(r -> r.lease.revoke("node " + nodeId + " is stopping"));
    Future<?> closed = subscriber == null ? Future.succeededFuture() : subscriber.close();
    Future<Void> signedOff = nodes == null ? Future.succeededFuture()
        : nodes.stopped(nodeId).recover(e -> Future.succeededFuture());
    return Future.all(flush(), closed, signedOff);
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
    long sent = System.nanoTime();
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
      // The lease holds from when the claim was sent, by this node's clock: never longer than PostgreSQL's.
      jobs.forEach(j -> dispatch(j, sent + settings.leaseMs() * 1_000_000L));
      // A full batch means more may be due; a wake-up that came while claiming may have added some.
      if (jobs.size() == want || repoll) {
        poll();
      }
    });
  }

  private void dispatch(Job job, long validUntilNanos) {
    if (stopped) {
      // Claimed while stopping: the lease runs out and another node takes the job after the grace.
      return;
    }
    Running run = new Running(job, new JobLease(job.id(), job.leaseEpoch(), validUntilNanos));
    inFlight.put(job.id(), run);
    leases.put(run.lease);
    String address = job.kind().address(job.mapping());
    publish(job, "RUNNING", null);
    run.timer = vertx.setTimer(settings.timeoutMs(), t -> {
      run.timer = -1;
      run.timedOut = true;
      metrics.fenced(1);
      run.lease.revoke("it timed out after " + settings.timeoutMs() + " ms");
      LOG.log(Level.WARNING, "job " + job.id() + " timed out after " + settings.timeoutMs()
          + " ms; its lease is kept until its handler stops");
    });
    // The event bus gives up only after a further stop period: the handler was told to stop at the timeout, and
    // until it has, the job keeps its lease and does not run anywhere else.
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(settings.timeoutMs() + stopMs(settings));
    Bus.request(vertx, new BusMessages.Job(address, job.toRequest()), options).onComplete(ar -> {
      if (run.timer >= 0) {
        vertx.cancelTimer(run.timer);
      }
      leases.remove(run.lease);
      if (ar.succeeded()) {
        succeeded(run, ar.result());
      } else {
        failed(run, ar.cause(), address);
      }
    });
  }

  private Duration took(Running run) {
    return Duration.ofNanos(System.nanoTime() - run.t0);
  }

  private void succeeded(Running run, JobOutcome outcome) {
    metrics.finished(run.job.kind(), "succeeded", took(run));
    pendingCompletions.put(run.job.id(), outcome);
    flush();
  }

  private Future<Void> flush() {
    if (flushing || pendingCompletions.isEmpty()) {
      return Future.succeededFuture();
    }
    flushing = true;
    Map<Long, JobOutcome> batch = pendingCompletions;
    pendingCompletions = new LinkedHashMap<>();
    Map<Long, Long> epochs = new HashMap<>();
    batch.keySet().forEach(id -> {
      Running r = inFlight.get(id);
      if (r != null) {
        epochs.put(id, r.job.leaseEpoch());
      }
    });
    return queue.complete(nodeId, batch, epochs).onComplete(ar -> {
      flushing = false;
      if (ar.failed()) {
        // The leases stay ours until they expire; try again with the next batch.
        LOG.log(Level.WARNING, "recording " + batch.size() + " completed jobs failed, will retry: " + ar.cause());
        batch.forEach(pendingCompletions::putIfAbsent);
        vertx.setTimer(500, id -> flush());
        return;
      }
      java.util.Set<Long> done = new java.util.HashSet<>(ar.result());
      for (Long id : batch.keySet()) {
        Running r = inFlight.remove(id);
        if (r != null) {
          if (done.contains(id)) {
            publish(r.job, "SUCCEEDED", batch.get(id));
          } else {
            LOG.log(Level.WARNING, "job " + id + " finished, but its lease (epoch " + r.job.leaseEpoch()
                + ") was lost meanwhile: its completion is not recorded");
            publish(r.job, "LOST", null);
          }
        }
      }
      flush();
      poll();
    }).mapEmpty();
  }

  private void failed(Running run, Throwable cause, String address) {
    Job job = run.job;
    TandemException error;
    BusError be = BusError.of(address, cause);
    if (be.noConsumer()) {
      error = new TandemException(ErrorKind.PERMANENT, Stage.DISPATCH, "no verticle consumes " + address + ": "
          + explainMissing.apply(job.mapping()), null, cause);
    } else if (be.timedOut()) {
      error = new TandemException(ErrorKind.RETRIABLE, Stage.DISPATCH, "timed out after " + settings.timeoutMs()
          + " ms and its handler did not stop within another " + stopMs(settings) + " ms", null, cause);
    } else {
      error = JobFailure.decode(be.getCause());
      if (run.timedOut) {
        error = new TandemException(error.kind() == ErrorKind.PERMANENT ? ErrorKind.PERMANENT : ErrorKind.RETRIABLE,
            error.stage(), "timed out after " + settings.timeoutMs() + " ms: " + error.getMessage(),
            error.retryAfter(), cause);
      }
    }
    Duration took = took(run);
    queue.fail(nodeId, job.id(), job.leaseEpoch(), error, settings.retryBackoffMs(), settings.retryBackoffMaxMs())
        .onComplete(ar -> {
          inFlight.remove(job.id());
          if (ar.failed()) {
            LOG.log(Level.WARNING, "recording failure of job " + job.id() + " failed; its lease will expire: "
                + ar.cause());
          } else {
            String outcome = ar.result().map(s -> s == JobStatus.QUEUED ? "retried" : "failed").orElse("lost");
            metrics.finished(job.kind(), outcome, took);
            publish(job, ar.result().map(JobStatus::name).orElse("LOST"), null);
          }
          poll();
        });
  }

  private void renewLeases() {
    Map<Long, Long> epochs = new HashMap<>();
    inFlight.forEach((id, r) -> {
      if (!r.lost) {
        epochs.put(id, r.job.leaseEpoch());
      }
    });
    if (epochs.isEmpty()) {
      return;
    }
    long sent = System.nanoTime();
    queue.renew(nodeId, epochs, settings.leaseMs()).onSuccess(renewed -> {
      for (Long id : epochs.keySet()) {
        Running r = inFlight.get(id);
        if (r == null || r.job.leaseEpoch() != epochs.get(id)) {
          continue;
        }
        if (renewed.contains(id)) {
          r.lease.extend(sent + settings.leaseMs() * 1_000_000L);
        } else {
          // Expired, taken over by another node or ended elsewhere: the handler must stop writing at once.
          r.lost = true;
          metrics.fenced(1);
          r.lease.revoke("its lease (epoch " + r.job.leaseEpoch() + ") was lost: it expired or another node "
              + "took the job over");
          LOG.log(Level.WARNING, "node " + nodeId + " lost the lease of job " + id + "; its handler stops");
        }
      }
    }).onFailure(e -> LOG.log(Level.WARNING, "renewing leases of " + epochs.size() + " jobs failed: " + e));
  }

  private void beat() {
    if (nodes == null || stopped) {
      return;
    }
    nodes.beat(nodeId).compose(v -> nodes.alive(deadAfterMs(settings))).onSuccess(metrics::liveNodes)
        .onFailure(e -> LOG.log(Level.DEBUG, "heartbeat failed: " + e));
  }

  private void recover() {
    queue.recoverExpired(graceMs(settings)).onSuccess(ids -> {
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
    if (job.scheduleId() != null) {
      event.put("scheduleId", job.scheduleId());
    }
    if (outcome != null) {
      event.put("counts", outcome.toJson());
    }
    vertx.eventBus().publish(Addresses.JOB_EVENTS, event);
  }
}
