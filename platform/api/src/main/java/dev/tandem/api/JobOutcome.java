package dev.tandem.api;

import io.vertx.core.json.JsonObject;

/**
 * The reply to a {@link JobRequest} that ran to its end: the counts the job log keeps, and a message.
 * Records that failed individually are counted in {@link #failed()}; the job itself still succeeded.
 *
 * @param inserted rows created on the destination
 * @param modified rows updated on the destination
 * @param deleted rows deleted
 * @param unchanged rows with nothing to write
 * @param skipped rows left alone (skipped after repeated identical errors, or filtered)
 * @param failed rows that failed with a data error
 * @param coupled couplings created
 * @param uncoupled couplings removed
 * @param message a summary for people, or {@code null}
 * @param throttled requests of the job the ERP or the CRM answered with 429 (each was waited for and sent again):
 *     how much the endpoints' limits held the job back
 */
public record JobOutcome(long inserted, long modified, long deleted, long unchanged, long skipped, long failed,
    long coupled, long uncoupled, String message, long throttled) {

  /** The outcome of a job that touched nothing. */
  public static final JobOutcome EMPTY = new JobOutcome(0, 0, 0, 0, 0, 0, 0, 0, null);

  /**
   * An outcome without throttled requests (the form before {@code throttled}; plugins built against it keep
   * working).
   *
   * @param inserted rows created on the destination
   * @param modified rows updated on the destination
   * @param deleted rows deleted
   * @param unchanged rows with nothing to write
   * @param skipped rows left alone
   * @param failed rows that failed with a data error
   * @param coupled couplings created
   * @param uncoupled couplings removed
   * @param message a summary for people, or {@code null}
   */
  public JobOutcome(long inserted, long modified, long deleted, long unchanged, long skipped, long failed,
      long coupled, long uncoupled, String message) {
    this(inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, message, 0);
  }

  /** @return true when the job changed something on either side or in the couplings */
  public boolean changedAnything() {
    return inserted + modified + deleted + coupled + uncoupled > 0;
  }

  /**
   * @param text the summary
   * @return a copy with that message
   */
  public JobOutcome withMessage(String text) {
    return new JobOutcome(inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, text,
        throttled);
  }

  /**
   * @param n requests answered with 429 during the job
   * @return a copy with that count added
   */
  public JobOutcome withThrottled(long n) {
    return new JobOutcome(inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, message,
        throttled + n);
  }

  /**
   * @param other another outcome
   * @return the counts added up, keeping this message
   */
  public JobOutcome plus(JobOutcome other) {
    return new JobOutcome(inserted + other.inserted, modified + other.modified, deleted + other.deleted,
        unchanged + other.unchanged, skipped + other.skipped, failed + other.failed, coupled + other.coupled,
        uncoupled + other.uncoupled, message, throttled + other.throttled);
  }

  /** @return the event-bus reply body */
  public JsonObject toJson() {
    return new JsonObject()
        .put("inserted", inserted).put("modified", modified).put("deleted", deleted)
        .put("unchanged", unchanged).put("skipped", skipped).put("failed", failed)
        .put("coupled", coupled).put("uncoupled", uncoupled).put("throttled", throttled).put("message", message);
  }

  /**
   * @param json a reply body; missing counts are 0
   * @return the outcome
   */
  public static JobOutcome fromJson(JsonObject json) {
    if (json == null) {
      return EMPTY;
    }
    return new JobOutcome(json.getLong("inserted", 0L), json.getLong("modified", 0L),
        json.getLong("deleted", 0L), json.getLong("unchanged", 0L), json.getLong("skipped", 0L),
        json.getLong("failed", 0L), json.getLong("coupled", 0L), json.getLong("uncoupled", 0L),
        json.getString("message"), json.getLong("throttled", 0L));
  }
}
