package dev.tandem.runtime.connectors;

/**
 * Sizes write batches to the endpoint's execution time: it learns how long one operation of a batch takes (from
 * the batches' durations once they started, waits for the budget left out) and plans batches that end within
 * half the client's timeout, up to the configured size. A batch that timed out raises the estimate to at least
 * the timeout per operation it carried, so the next ones are smaller at once. Thread-confined like the client
 * that owns it.
 */
public final class BatchSizer {

  /** Share of the client timeout a batch is planned to take. */
  static final double TARGET = 0.5;

  private final int max;
  private final long timeoutMs;
  private double msPerOp;

  /**
   * @param max the configured batch size (the endpoint's limit or the operator's choice)
   * @param timeoutMs the client's request timeout
   */
  public BatchSizer(int max, long timeoutMs) {
    this.max = Math.max(1, max);
    this.timeoutMs = timeoutMs;
  }

  /** @return operations the next batch should carry */
  public int next() {
    if (msPerOp <= 0 || timeoutMs <= 0) {
      return max;
    }
    return (int) Math.max(1, Math.min(max, Math.floor(timeoutMs * TARGET / msPerOp)));
  }

  /**
   * A batch answered.
   *
   * @param ops operations it carried
   * @param ms how long it took from its start
   */
  public void answered(int ops, long ms) {
    if (ops < 1) {
      return;
    }
    double per = ms / (double) ops;
    msPerOp = msPerOp == 0 ? per : msPerOp * 0.7 + per * 0.3;
  }

  /**
   * A batch did not answer within the timeout.
   *
   * @param ops operations it carried
   */
  public void timedOut(int ops) {
    msPerOp = Math.max(msPerOp, timeoutMs / (double) Math.max(1, ops));
  }

  /** @return the current estimate of one operation's time, ms (0 before the first answer) */
  public double msPerOp() {
    return msPerOp;
  }
}
