package dev.tandem.api;

import io.vertx.core.Future;

/**
 * The synchronization of one mapping, as a plugin may write it itself (a sales order with its lines). The runtime
 * runs a task for each of the mapping's sync jobs, on the verticle that serves the mapping, with the same job
 * leasing and fencing, error model, tolerance and metrics as the generic engine: declare it with
 * {@link EntityPlugin#syncTask(MappingDefinition)}.
 *
 * <p>Like Kafka Connect's {@code SourceTask}, every method has a default: the generic engine's behaviour
 * ({@link TaskContext#engine()}), so a task overrides only what differs. The runtime's own engine is this class
 * with nothing overridden. One instance serves one job at a time; the runtime creates one per verticle.
 */
public abstract class SyncTask {

  /** For subclasses. */
  protected SyncTask() {}

  /**
   * Called once before the task's first job, on the verticle's context.
   *
   * @param context the first job's context (the connectors stay the same for every job)
   * @return done
   */
  public Future<Void> start(TaskContext context) {
    return Future.succeededFuture();
  }

  /**
   * Runs one job. By default: a full synchronization or a run on selected records goes to the generic engine;
   * otherwise ERP to CRM ({@link #toCrm}) then CRM to ERP ({@link #fromCrm}), as far as the job's direction
   * ({@link TaskContext#direction()}) asks.
   *
   * @param context the job and what the runtime offers for it
   * @return the counts; a failed future fails the job (a {@link TandemException} of kind RETRIABLE is retried,
   *     anything else is permanent, with its stage)
   */
  public Future<JobOutcome> run(TaskContext context) {
    JobRequest job = context.job();
    if (job.kind() == JobKind.FULL_SYNC || job.parameters().containsKey("records")) {
      return context.engine().run();
    }
    Direction d = context.direction();
    Future<JobOutcome> to = d == Direction.FROM_CRM ? Future.succeededFuture(JobOutcome.EMPTY) : toCrm(context);
    return to.compose(a -> (d == Direction.TO_CRM || context.cancelled() ? Future.succeededFuture(JobOutcome.EMPTY)
        : fromCrm(context)).map(a::plus));
  }

  /**
   * ERP to CRM. By default the generic engine's run in that direction.
   *
   * @param context the job
   * @return what it did
   */
  public Future<JobOutcome> toCrm(TaskContext context) {
    return context.engine().run(Direction.TO_CRM);
  }

  /**
   * CRM to ERP. By default the generic engine's run in that direction.
   *
   * @param context the job
   * @return what it did
   */
  public Future<JobOutcome> fromCrm(TaskContext context) {
    return context.engine().run(Direction.FROM_CRM);
  }

  /**
   * Called when the verticle stops (the plugin is stopped, the node shuts down).
   *
   * @return done
   */
  public Future<Void> stop() {
    return Future.succeededFuture();
  }
}
