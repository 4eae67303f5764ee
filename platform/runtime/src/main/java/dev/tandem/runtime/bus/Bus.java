package dev.tandem.runtime.bus;

import dev.tandem.api.BusFailure;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * The runtime's one way onto the event bus for request/reply: {@link #request} sends a {@link BusMessages} record
 * and reads its reply or a {@link BusError}; {@link #reply} answers a request with a result or a failure in the
 * one failure body. Addresses are {@link dev.tandem.api.Addresses}.
 */
public final class Bus {

  private Bus() {}

  /**
   * @param vertx the node's Vert.x
   * @param request the request
   * @param timeoutMs how long to wait for the reply
   * @param <R> the reply
   * @return the reply, or a failed future with a {@link BusError}
   */
  public static <R> Future<R> request(Vertx vertx, BusRequest<R> request, long timeoutMs) {
    return request(vertx, request, new DeliveryOptions().setSendTimeout(timeoutMs));
  }

  /**
   * @param vertx the node's Vert.x
   * @param request the request
   * @param options delivery options (the send timeout)
   * @param <R> the reply
   * @return the reply, or a failed future with a {@link BusError}
   */
  public static <R> Future<R> request(Vertx vertx, BusRequest<R> request, DeliveryOptions options) {
    return vertx.eventBus().<JsonObject>request(request.address(), request.toJson(), options).transform(ar ->
        ar.succeeded() ? Future.succeededFuture(request.reply(ar.result().body()))
            : Future.failedFuture(BusError.of(request.address(), ar.cause())));
  }

  /**
   * Answers a request: the result as its reply, or the failure that {@code classify} names for it, with the
   * failure's message in the one failure body ({@link BusError#fail}).
   *
   * @param msg the request
   * @param ar the result
   * @param classify the failure for an exception
   */
  public static void reply(Message<?> msg, AsyncResult<JsonObject> ar, Function<Throwable, BusFailure> classify) {
    if (ar.succeeded()) {
      msg.reply(ar.result());
    } else {
      BusError.fail(msg, classify.apply(ar.cause()), String.valueOf(ar.cause().getMessage()));
    }
  }
}
