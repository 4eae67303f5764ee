package dev.tandem.runtime.store;

import dev.tandem.api.Direction;
import dev.tandem.api.JobKind;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;

/**
 * A row of the job queue / job log.
 *
 * @param id id
 * @param kind kind
 * @param mapping mapping name
 * @param direction direction asked for, or null
 * @param status status
 * @param priority lower runs first
 * @param parameters parameters
 * @param checkpoint checkpoint, or null
 * @param parentId parent job (waves), or null
 * @param scheduleId the schedule that created it, or null
 * @param attempts attempts so far
 * @param maxAttempts attempt limit
 * @param runAt when it is due
 * @param leaseOwner node holding it, or null
 * @param leaseUntil lease expiry, or null
 * @param createdAt enqueued at
 * @param startedAt first started at, or null
 * @param finishedAt ended at, or null
 * @param counts the counts
 * @param errorStage stage of the last failure, or null
 * @param leaseEpoch the epoch of the latest claim (each claim counts one up); fences out earlier holders
 */
public record Job(long id, JobKind kind, String mapping, Direction direction, JobStatus status, int priority,
    JsonObject parameters, JsonObject checkpoint, Long parentId, Long scheduleId, int attempts, int maxAttempts,
    OffsetDateTime runAt, String leaseOwner, OffsetDateTime leaseUntil, OffsetDateTime createdAt,
    OffsetDateTime startedAt, OffsetDateTime finishedAt, JobOutcome counts, String errorStage, long leaseEpoch) {

  static final String COLUMNS = "id, kind, mapping, direction, status, priority, parameters, checkpoint, parent_id, "
      + "schedule_id, attempts, max_attempts, run_at, lease_owner, lease_until, created_at, started_at, finished_at, "
      + "inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, message, error_stage, lease_epoch, throttled";

  static Job from(Row r) {
    String dir = r.getString("direction");
    return new Job(
        r.getLong("id"),
        JobKind.valueOf(r.getString("kind")),
        r.getString("mapping"),
        dir == null ? null : Direction.valueOf(dir),
        JobStatus.fromDb(r.getString("status")),
        r.getInteger("priority"),
        json(r.getValue("parameters")),
        json(r.getValue("checkpoint")),
        r.getLong("parent_id"),
        r.getLong("schedule_id"),
        r.getInteger("attempts"),
        r.getInteger("max_attempts"),
        r.getOffsetDateTime("run_at"),
        r.getString("lease_owner"),
        r.getOffsetDateTime("lease_until"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("started_at"),
        r.getOffsetDateTime("finished_at"),
        new JobOutcome(r.getLong("inserted"), r.getLong("modified"), r.getLong("deleted"), r.getLong("unchanged"),
            r.getLong("skipped"), r.getLong("failed"), r.getLong("coupled"), r.getLong("uncoupled"),
            r.getString("message"), r.getLong("throttled")),
        r.getString("error_stage"),
        r.getLong("lease_epoch"));
  }

  private static JsonObject json(Object v) {
    return v == null ? null : v instanceof JsonObject o ? o : new JsonObject(v.toString());
  }

  /** @return the request the dispatcher sends for this job */
  public JobRequest toRequest() {
    return new JobRequest(id, kind, mapping, direction, attempts, parameters, checkpoint);
  }

  /** @return the JSON the admin API shows */
  public JsonObject toJson() {
    JsonObject counts = counts().toJson();
    counts.remove("message");
    return new JsonObject()
        .put("id", id)
        .put("kind", kind.name())
        .put("mapping", mapping)
        .put("direction", direction == null ? null : direction.name())
        .put("status", status.name())
        .put("priority", priority)
        .put("parameters", parameters)
        .put("checkpoint", checkpoint)
        .put("parentId", parentId)
        .put("scheduleId", scheduleId)
        .put("attempts", attempts)
        .put("maxAttempts", maxAttempts)
        .put("runAt", str(runAt))
        .put("leaseOwner", leaseOwner)
        .put("leaseUntil", str(leaseUntil))
        .put("leaseEpoch", leaseEpoch)
        .put("createdAt", str(createdAt))
        .put("startedAt", str(startedAt))
        .put("finishedAt", str(finishedAt))
        .put("durationMs", startedAt != null && finishedAt != null
            ? java.time.Duration.between(startedAt, finishedAt).toMillis() : null)
        .put("counts", counts)
        .put("message", counts().message())
        .put("errorStage", errorStage);
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toInstant().toString();
  }
}
