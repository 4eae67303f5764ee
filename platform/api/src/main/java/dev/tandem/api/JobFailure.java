package dev.tandem.api;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * How a job verticle reports that a whole job failed, and how the dispatcher reads it back. The failure code
 * tells the kind ({@link #RETRIABLE} or {@link #PERMANENT}); the message is JSON carrying the stage, the text
 * and the retry-after.
 */
public final class JobFailure {

  /** Failure code of a retriable job failure: the queue retries it with backoff ({@link BusFailure#RETRIABLE}). */
  public static final int RETRIABLE = 1;
  /** Failure code of a permanent job failure: the job fails at once ({@link BusFailure#PERMANENT}). */
  public static final int PERMANENT = 2;

  private JobFailure() {}

  /**
   * Fails a job request. A failure that is not a {@link TandemException} is classified: an I/O failure (an
   * {@link java.io.IOException}, a timeout, or a {@link io.vertx.core.VertxException} such as a closed connection)
   * is retriable; anything else is a bug (a NullPointerException in a plugin, say) and permanent, since running
   * the same code on the same data again fails the same way.
   *
   * @param request the event-bus message of the job
   * @param error the failure
   */
  public static void fail(Message<?> request, Throwable error) {
    fail(request, error, Stage.WRITE);
  }

  /**
   * Fails a job request, as {@link #fail(Message, Throwable)}.
   *
   * @param request the event-bus message of the job
   * @param error the failure
   * @param stage the stage of a failure that is not a {@link TandemException}
   */
  public static void fail(Message<?> request, Throwable error, Stage stage) {
    TandemException e = classify(error, stage);
    JsonObject body = new JsonObject()
        .put("kind", e.kind().name())
        .put("stage", e.stage().name())
        .put("message", e.getMessage())
        .put("retryAfterMs", e.retryAfter() == null ? null : e.retryAfter().toMillis());
    (e.kind() == ErrorKind.PERMANENT ? BusFailure.PERMANENT : BusFailure.RETRIABLE).fail(request, body.encode());
  }

  /**
   * @param error any failure
   * @param stage the stage of a failure that is not a {@link TandemException}
   * @return it as a {@link TandemException}: as it is, retriable for I/O, permanent for anything unexpected
   */
  public static TandemException classify(Throwable error, Stage stage) {
    if (error instanceof TandemException te) {
      return te;
    }
    Throwable cause = error;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof TandemException te) {
      return te;
    }
    if (cause instanceof java.io.IOException || cause instanceof java.util.concurrent.TimeoutException
        || cause instanceof io.vertx.core.VertxException) {
      return new TandemException(ErrorKind.RETRIABLE, stage, String.valueOf(cause.getMessage()), null, cause);
    }
    StackTraceElement[] at = cause.getStackTrace();
    return new TandemException(ErrorKind.PERMANENT, stage, "unexpected " + cause.getClass().getName()
        + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
        + (at.length == 0 ? "" : " at " + at[0]) + " (a bug: not retried)", null, cause);
  }

  /**
   * Reads a failed reply back into a {@link TandemException}. Event-bus timeouts and other failures that did
   * not come from {@link #fail} are retriable at stage DISPATCH; a missing consumer is permanent.
   *
   * @param failure what the event-bus request failed with
   * @return the failure
   */
  public static TandemException decode(Throwable failure) {
    if (failure instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      try {
        JsonObject body = new JsonObject(re.getMessage());
        Long retryMs = body.getLong("retryAfterMs");
        return new TandemException(
            BusFailure.PERMANENT.is(re) ? ErrorKind.PERMANENT : ErrorKind.RETRIABLE,
            Stage.valueOf(body.getString("stage", Stage.WRITE.name())),
            body.getString("message"),
            retryMs == null ? null : Duration.ofMillis(retryMs), null);
      } catch (DecodeException | IllegalArgumentException | NullPointerException notOurs) {
        return new TandemException(BusFailure.PERMANENT.is(re) ? ErrorKind.PERMANENT : ErrorKind.RETRIABLE,
            Stage.WRITE, re.getMessage(), null, re);
      }
    }
    if (failure instanceof ReplyException re && BusFailure.timedOut(re)) {
      return new TandemException(ErrorKind.RETRIABLE, Stage.DISPATCH,
          "no reply within the job timeout: " + re.getMessage(), null, re);
    }
    if (failure instanceof ReplyException re && BusFailure.noConsumer(re)) {
      return new TandemException(ErrorKind.PERMANENT, Stage.DISPATCH, re.getMessage(), null, re);
    }
    if (failure instanceof TandemException te) {
      return te;
    }
    return new TandemException(ErrorKind.RETRIABLE, Stage.DISPATCH, String.valueOf(failure), null, failure);
  }
}
