package dev.tandem.runtime.bus;

import dev.tandem.api.BusFailure;
import dev.tandem.api.JobFailure;
import dev.tandem.api.Stage;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * Why an event-bus request failed, read one way whatever answered it: a consumer's {@link BusFailure} with its
 * message (the JSON body {@code {"message", "stage", "retryAfterMs"}} the runtime's consumers and
 * {@link JobFailure} write, or the plain text a plugin's {@link BusFailure#fail} writes), no consumer at the
 * address, or no reply in time. The admin API turns it into an HTTP answer with {@link #httpStatus()}.
 */
public final class BusError extends RuntimeException {

  /** How the request failed on the bus itself, as opposed to a consumer's answer. */
  public enum Delivery {
    /** A consumer answered with a failure. */
    ANSWERED,
    /** No consumer is registered at the address. */
    NO_CONSUMER,
    /** No reply came within the send timeout. */
    TIMED_OUT,
    /** Anything else (the Vert.x instance closing, a failure before sending). */
    OTHER
  }

  private final String address;
  private final Delivery delivery;
  private final BusFailure failure;
  private final Stage stage;
  private final Duration retryAfter;

  private BusError(String address, Delivery delivery, BusFailure failure, Stage stage, String message,
      Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.address = address;
    this.delivery = delivery;
    this.failure = failure;
    this.stage = stage;
    this.retryAfter = retryAfter;
  }

  /**
   * @param address the address the request went to
   * @param replyError what the request failed with
   * @return it read back; a {@code BusError} is returned as it is
   */
  public static BusError of(String address, Throwable replyError) {
    if (replyError instanceof BusError be) {
      return be;
    }
    if (replyError instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        return new BusError(address, Delivery.NO_CONSUMER, BusFailure.INTERNAL, null, re.getMessage(), null, re);
      }
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return new BusError(address, Delivery.TIMED_OUT, BusFailure.INTERNAL, null, re.getMessage(), null, re);
      }
      BusFailure failure = BusFailure.ofCode(re.failureCode());
      String text = re.getMessage();
      if (text != null && text.startsWith("{")) {
        try {
          JsonObject body = new JsonObject(text);
          Long retryMs = body.getLong("retryAfterMs");
          String stage = body.getString("stage");
          return new BusError(address, Delivery.ANSWERED, failure, stage == null ? null : Stage.valueOf(stage),
              body.getString("message"), retryMs == null ? null : Duration.ofMillis(retryMs), re);
        } catch (DecodeException | IllegalArgumentException | ClassCastException notJson) {
          // a plugin's plain text that happens to start with a brace: taken as it is
        }
      }
      return new BusError(address, Delivery.ANSWERED, failure, null, text, null, re);
    }
    return new BusError(address, Delivery.OTHER, BusFailure.INTERNAL, null, String.valueOf(replyError.getMessage()),
        null, replyError);
  }

  /**
   * Fails a request with a failure and a message, in the one body every runtime consumer writes.
   *
   * @param request the request
   * @param failure the failure
   * @param message what went wrong
   */
  public static void fail(io.vertx.core.eventbus.Message<?> request, BusFailure failure, String message) {
    request.fail(failure.code(), new JsonObject().put("message", message).encode());
  }

  /** @return the address the request went to */
  public String address() {
    return address;
  }

  /** @return whether a consumer answered, none was there, or none answered in time */
  public Delivery delivery() {
    return delivery;
  }

  /** @return the consumer's failure; {@link BusFailure#INTERNAL} when no consumer answered */
  public BusFailure failure() {
    return failure;
  }

  /** @return whether no consumer is registered at the address */
  public boolean noConsumer() {
    return delivery == Delivery.NO_CONSUMER;
  }

  /** @return whether no reply came in time */
  public boolean timedOut() {
    return delivery == Delivery.TIMED_OUT;
  }

  /**
   * @param f a failure
   * @return whether a consumer answered with it
   */
  public boolean is(BusFailure f) {
    return delivery == Delivery.ANSWERED && failure == f;
  }

  /** @return the stage a job failure named, or {@code null} */
  public Stage stage() {
    return stage;
  }

  /** @return the retry-after a job failure gave, or {@code null} */
  public Duration retryAfter() {
    return retryAfter;
  }

  /**
   * @return the HTTP status the admin API answers with: the failure's own for the request/reply failures, 503 for a
   *     retriable job failure, no consumer or no reply, 500 for a permanent one
   */
  public int httpStatus() {
    if (delivery != Delivery.ANSWERED) {
      return 503;
    }
    return switch (failure) {
      case BAD_REQUEST -> 400;
      case NOT_FOUND -> 404;
      case CONFLICT -> 409;
      case RETRIABLE, UNAVAILABLE -> 503;
      case PERMANENT, INTERNAL -> 500;
    };
  }

  /** @return the admin API's error code for {@link #httpStatus()} */
  public String apiCode() {
    return switch (httpStatus()) {
      case 400 -> "bad_request";
      case 404 -> "not_found";
      case 409 -> "conflict";
      case 503 -> "unavailable";
      default -> "internal_error";
    };
  }
}
