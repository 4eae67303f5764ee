package dev.tandem.runtime.store;

import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

/**
 * A node's hold on one running job: the lease epoch its claim was given, and how long the node may still write by
 * its own clock. The dispatcher renews it; the job's handler asks {@link #check()} before it writes to an endpoint
 * and {@link #verify(SqlConnection)} inside every page transaction. A holder whose lease was lost, expired or
 * revoked (job timeout) stops: its next page is neither written nor committed.
 */
public final class JobLease {

  /** A lease that never fences: for runs started outside the dispatcher (tests, tools). */
  public static final JobLease NONE = new JobLease(0, 0, Long.MAX_VALUE / 4);

  private static final String VERIFY = "SELECT 1 FROM job WHERE id = $1 AND lease_epoch = $2 AND status = 'running' "
      + "AND lease_until > now() FOR SHARE";

  private final long jobId;
  private final long epoch;
  private volatile long validUntilNanos;
  private volatile String lost;

  /**
   * @param jobId the job
   * @param epoch the epoch of its claim
   * @param validUntilNanos until when (by {@link System#nanoTime()}) the holder may write
   */
  public JobLease(long jobId, long epoch, long validUntilNanos) {
    this.jobId = jobId;
    this.epoch = epoch;
    this.validUntilNanos = validUntilNanos;
  }

  /** @return the job */
  public long jobId() {
    return jobId;
  }

  /** @return the claim's epoch */
  public long epoch() {
    return epoch;
  }

  /**
   * Extends the local validity after a renewal that PostgreSQL accepted.
   *
   * @param untilNanos the new end, measured from when the renewal was sent
   */
  public void extend(long untilNanos) {
    if (untilNanos > validUntilNanos) {
      validUntilNanos = untilNanos;
    }
  }

  /**
   * Takes the lease away from the handler: it stops before its next write.
   *
   * @param reason why (lease lost, job timed out)
   */
  public void revoke(String reason) {
    if (lost == null) {
      lost = reason;
    }
  }

  /** @return why the lease no longer holds, or null while it does */
  public String lostReason() {
    if (this == NONE) {
      return null;
    }
    if (lost != null) {
      return lost;
    }
    return System.nanoTime() - validUntilNanos > 0 ? "its lease was not renewed in time (PostgreSQL unreachable "
        + "or the node too slow)" : null;
  }

  /** @return succeeds while the holder may write; otherwise fails with a fencing error */
  public Future<Void> check() {
    String reason = lostReason();
    return reason == null ? Future.succeededFuture() : Future.failedFuture(fenced(reason));
  }

  /**
   * Within a page's transaction: succeeds when the job is still running under this lease, and holds the job's
   * row so that no other node can claim it before the page commits; fails with a fencing error otherwise, which
   * rolls the page back.
   *
   * @param tx the page's transaction
   * @return done
   */
  public Future<Void> verify(SqlConnection tx) {
    if (this == NONE) {
      return Future.succeededFuture();
    }
    return check().compose(v -> tx.preparedQuery(VERIFY).execute(Tuple.of(jobId, epoch)))
        .compose(rows -> rows.rowCount() == 1 ? Future.<Void>succeededFuture()
            : Future.failedFuture(fenced("its lease (epoch " + epoch + ") was lost to another claim or expired")));
  }

  private TandemException fenced(String reason) {
    return new FencedException(jobId, reason);
  }

  /** A write refused because the writer no longer holds the job's lease. */
  public static final class FencedException extends TandemException {
    private static final long serialVersionUID = 1L;

    FencedException(long jobId, String reason) {
      super(dev.tandem.api.ErrorKind.RETRIABLE, Stage.COMMIT, "job " + jobId + " stopped: " + reason
          + "; nothing more is written under this attempt", null, null);
    }
  }
}
