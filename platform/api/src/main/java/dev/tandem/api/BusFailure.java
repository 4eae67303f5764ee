package dev.tandem.api;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * The failure codes of every event-bus reply in Tandem, in one place. A consumer fails a request with
 * {@link #fail(Message, String)}; a sender reads the failure back with {@link #of(Throwable)}. Job addresses
 * ({@link Addresses#sync}, {@link Addresses#coupling}, {@link Addresses#ledger}) fail only with {@link #RETRIABLE}
 * or {@link #PERMANENT} and a JSON message ({@link JobFailure}); the request/reply addresses of the admin API
 * (availability, full synchronization, option listings, ERP notifications) fail with the other codes and a plain
 * text message, which the admin API shows under the HTTP status of the same number.
 */
public enum BusFailure {
  /** A job failed and may succeed when tried again (the queue retries it with backoff). */
  RETRIABLE(1),
  /** A job failed for good (configuration, authentication, a bug). */
  PERMANENT(2),
  /** The request was refused as it was (HTTP 400). */
  BAD_REQUEST(400),
  /** What the request names does not exist or is not coupled (HTTP 404). */
  NOT_FOUND(404),
  /** The state of other things forbids it now, e.g. a full synchronization is already running (HTTP 409). */
  CONFLICT(409),
  /** The consumer failed unexpectedly (HTTP 500). */
  INTERNAL(500),
  /** An endpoint or store the consumer needs cannot be reached now (HTTP 503). */
  UNAVAILABLE(503);

  private final int code;

  BusFailure(int code) {
    this.code = code;
  }

  /** @return the failure code on the event bus (for the request/reply codes also the HTTP status) */
  public int code() {
    return code;
  }

  /**
   * Fails a request with this code.
   *
   * @param request the request
   * @param message what went wrong (JSON for the job codes, see {@link JobFailure})
   */
  public void fail(Message<?> request, String message) {
    request.fail(code, message);
  }

  /**
   * @param code a failure code
   * @return the failure with that code; an unknown code is {@link #INTERNAL}
   */
  public static BusFailure ofCode(int code) {
    for (BusFailure f : values()) {
      if (f.code == code) {
        return f;
      }
    }
    return INTERNAL;
  }

  /**
   * @param replyError what a request failed with
   * @return the code its consumer failed it with; {@link #INTERNAL} for anything else (no consumer, a timeout)
   */
  public static BusFailure of(Throwable replyError) {
    return replyError instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
        ? ofCode(re.failureCode()) : INTERNAL;
  }

  /**
   * @param replyError what a request failed with
   * @return whether its consumer failed it with this code
   */
  public boolean is(Throwable replyError) {
    return replyError instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
        && re.failureCode() == code;
  }

  /**
   * @param replyError what a request failed with
   * @return whether no consumer is registered at the address (on this node, for a local consumer)
   */
  public static boolean noConsumer(Throwable replyError) {
    return replyError instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS;
  }

  /**
   * @param replyError what a request failed with
   * @return whether no reply came within the send timeout
   */
  public static boolean timedOut(Throwable replyError) {
    return replyError instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT;
  }
}
