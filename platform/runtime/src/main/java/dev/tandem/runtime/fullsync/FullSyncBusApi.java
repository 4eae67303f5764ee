package dev.tandem.runtime.fullsync;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.runtime.store.PgFullSyncStore;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.lang.System.Logger.Level;
import java.util.function.Function;

/**
 * The coordinator's event-bus API: the review ({@link Addresses#FULL_SYNC_REVIEW}, {@code {counts}}), the progress
 * snapshot ({@link Addresses#FULL_SYNC_PROGRESS}) and start ({@link Addresses#FULL_SYNC_START}), each replied with
 * JSON or failed with a {@link BusFailure}: {@code CONFLICT} for a run already under way, {@code BAD_REQUEST} for a
 * refused start body, {@code INTERNAL} for anything else.
 */
final class FullSyncBusApi {

  private static final System.Logger LOG = System.getLogger(FullSyncCoordinatorVerticle.class.getName());

  private FullSyncBusApi() {}

  /**
   * @param vertx the coordinator's Vert.x (consumers on its context)
   * @param review the review, with endpoint counts or without
   * @param start starts a run from a start body
   * @return registered
   */
  static Future<Void> register(Vertx vertx, Function<Boolean, Future<JsonObject>> review,
      Function<JsonObject, Future<JsonObject>> start) {
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_REVIEW, msg -> review.apply(msg.body() == null
            || msg.body().getBoolean("counts", true)).onComplete(ar -> reply(msg, ar))).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_PROGRESS, msg -> review.apply(false)
            .onComplete(ar -> reply(msg, ar))).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_START, msg -> start.apply(msg.body() == null
            ? new JsonObject() : msg.body()).onComplete(ar -> reply(msg, ar))).completion()).mapEmpty();
  }

  private static void reply(Message<JsonObject> msg, AsyncResult<JsonObject> ar) {
    if (ar.succeeded()) {
      msg.reply(ar.result());
    } else if (ar.cause() instanceof PgFullSyncStore.AlreadyRunningException) {
      BusFailure.CONFLICT.fail(msg, ar.cause().getMessage());
    } else if (ar.cause() instanceof IllegalArgumentException) {
      BusFailure.BAD_REQUEST.fail(msg, ar.cause().getMessage());
    } else {
      LOG.log(Level.WARNING, "full synchronization request failed", ar.cause());
      BusFailure.INTERNAL.fail(msg, String.valueOf(ar.cause().getMessage()));
    }
  }
}
