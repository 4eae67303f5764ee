package dev.tandem.runtime.store;

import java.util.Locale;

/** Where a job is in its life. */
public enum JobStatus {
  /** Waiting for its run time and a free dispatcher. */
  QUEUED,
  /** Claimed by a node that holds its lease. */
  RUNNING,
  /** Ran to its end; counts are final. */
  SUCCEEDED,
  /** Failed for good: a permanent error, or retries exhausted. */
  FAILED,
  /** Stopped by someone before it ran. */
  CANCELLED;

  /** @return the value stored in the {@code job.status} column */
  public String db() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @param value a {@code job.status} value
   * @return the status
   */
  public static JobStatus fromDb(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
