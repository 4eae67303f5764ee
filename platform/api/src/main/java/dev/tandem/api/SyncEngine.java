package dev.tandem.api;

import io.vertx.core.Future;

/**
 * The runtime's generic engine, offered to a {@link SyncTask} for the parts it does not do itself: the paged,
 * watermarked, coupled, fenced runs every mapping without a task of its own gets.
 */
public interface SyncEngine {

  /**
   * Runs the whole job as the generic engine runs it (incremental, selected records or full synchronization, in
   * the job's direction, deletions first).
   *
   * @return the job's outcome
   */
  Future<JobOutcome> run();

  /**
   * Runs the job in one direction only, as the generic engine runs it (deletions first).
   *
   * @param flow {@link Direction#TO_CRM} or {@link Direction#FROM_CRM}
   * @return what it did
   */
  Future<JobOutcome> run(Direction flow);
}
