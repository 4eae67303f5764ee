package dev.tandem.runtime.sync;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.runtime.store.PgJobQueue;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import java.time.OffsetDateTime;

/**
 * Where a full synchronization job has got to: the last source key committed (both directions read in key order;
 * the highest source modified-on of that page is kept beside it), and the counts so far. It is saved in the job's checkpoint inside each
 * page's transaction, together with that page's couplings, so an attempt that follows a crash resumes after the
 * last committed page and its counts carry on from there. Each save is also published on {@link Addresses#FULL_SYNC_EVENTS} ({@code {jobId, mapping, direction, done, counts, lastKey, at}}) for live
 * progress.
 */
public final class FullSyncCheckpoint {


  private final Vertx vertx;
  private final long jobId;
  private final String mapping;
  private final Direction direction;
  private final String lastKey;
  private final OffsetDateTime highest;
  private final JobOutcome base;

  /**
   * @param vertx for publishing progress
   * @param jobId the job
   * @param mapping the mapping
   * @param direction TO_CRM or FROM_CRM
   * @param checkpoint the job's checkpoint from an earlier attempt, or null
   */
  public FullSyncCheckpoint(Vertx vertx, long jobId, String mapping, Direction direction, JsonObject checkpoint) {
    this.vertx = vertx;
    this.jobId = jobId;
    this.mapping = mapping;
    this.direction = direction;
    this.lastKey = checkpoint == null ? null : checkpoint.getString("lastKey");
    String h = checkpoint == null ? null : checkpoint.getString("highest");
    this.highest = h == null ? null : OffsetDateTime.parse(h);
    this.base = checkpoint == null || checkpoint.getJsonObject("counts") == null ? JobOutcome.EMPTY
        : JobOutcome.fromJson(checkpoint.getJsonObject("counts"));
  }

  /** @return the last source key (ERP or CRM) an earlier attempt committed, or null */
  String lastKey() {
    return lastKey;
  }

  /** @return the highest CRM modified-on an earlier attempt committed, or null */
  OffsetDateTime highest() {
    return highest;
  }

  /** @return the counts of earlier attempts */
  JobOutcome base() {
    return base;
  }

  /** @return how many records a count covers */
  public static long done(JobOutcome o) {
    return o.inserted() + o.modified() + o.unchanged() + o.skipped() + o.failed();
  }

  /**
   * Saves the place in the page's transaction and announces it.
   *
   * @param tx the page's transaction
   * @param key the page's last source key, or null
   * @param pageHighest the page's highest modified-on, or null
   * @param runCounts this attempt's counts so far
   * @return done
   */
  Future<Void> save(SqlConnection tx, String key, OffsetDateTime pageHighest, JobOutcome runCounts) {
    JobOutcome total = base.plus(runCounts);
    JsonObject cp = new JsonObject().put("lastKey", key)
        .put("highest", pageHighest == null ? null : pageHighest.toString())
        .put("counts", total.toJson()).put("done", done(total));
    return PgJobQueue.checkpoint(tx, jobId, cp).onSuccess(v -> vertx.eventBus().publish(Addresses.FULL_SYNC_EVENTS,
        new JsonObject().put("jobId", jobId)
            .put("mapping", mapping).put("direction", direction.name()).put("done", done(total))
            .put("counts", total.toJson()).put("lastKey", key).put("at", System.currentTimeMillis())));
  }
}
