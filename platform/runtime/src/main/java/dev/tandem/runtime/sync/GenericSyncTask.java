package dev.tandem.runtime.sync;

import dev.tandem.api.JobOutcome;
import dev.tandem.api.SyncTask;
import dev.tandem.api.TaskContext;
import io.vertx.core.Future;

/**
 * The runtime's generic engine as a {@link SyncTask}: the whole job goes to the engine (incremental runs in both
 * directions with deletions, merges, selected records, full synchronization), exactly as for every mapping whose
 * plugin declares no task.
 */
public final class GenericSyncTask extends SyncTask {

  @Override
  public Future<JobOutcome> run(TaskContext context) {
    return context.engine().run();
  }
}
