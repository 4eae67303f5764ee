package dev.tandem.api;

import java.time.Duration;
import java.util.Objects;

/**
 * A failure with its {@link ErrorKind kind} and {@link Stage stage}, and, for retriable failures, how long to
 * wait before trying again.
 */
public class TandemException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;
  private final Stage stage;
  private final Duration retryAfter;

  /**
   * @param kind kind of failure
   * @param stage where it happened
   * @param message what happened, naming the record or setting concerned
   * @param retryAfter how long to wait, or {@code null}
   * @param cause the cause, or {@code null}
   */
  public TandemException(ErrorKind kind, Stage stage, String message, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
    this.stage = Objects.requireNonNull(stage, "stage");
    this.retryAfter = retryAfter;
  }

  /**
   * @param stage where
   * @param message what
   * @param retryAfter wait, or null
   * @return a retriable failure
   */
  public static TandemException retriable(Stage stage, String message, Duration retryAfter) {
    return new TandemException(ErrorKind.RETRIABLE, stage, message, retryAfter, null);
  }

  /**
   * @param stage where
   * @param message what
   * @return a permanent failure
   */
  public static TandemException permanent(Stage stage, String message) {
    return new TandemException(ErrorKind.PERMANENT, stage, message, null, null);
  }

  /**
   * @param stage where
   * @param message what, naming the record
   * @return a per-record data error
   */
  public static TandemException data(Stage stage, String message) {
    return new TandemException(ErrorKind.DATA, stage, message, null, null);
  }

  /** @return the kind */
  public ErrorKind kind() {
    return kind;
  }

  /** @return the stage */
  public Stage stage() {
    return stage;
  }

  /** @return how long to wait before retrying, or {@code null} for the queue's backoff */
  public Duration retryAfter() {
    return retryAfter;
  }
}
