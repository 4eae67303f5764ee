package dev.tandem.runtime.fullsync;

import dev.tandem.api.Addresses;
import dev.tandem.api.BusFailure;
import dev.tandem.runtime.bus.Bus;
import dev.tandem.runtime.bus.BusMessages.FullSyncReview;
import dev.tandem.runtime.bus.BusMessages.FullSyncStart;
import dev.tandem.runtime.store.PgErrors;
import dev.tandem.runtime.store.PgFullSyncStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
        vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_REVIEW, msg -> review.apply(
            FullSyncReview.from(msg.body()).counts()).onComplete(ar -> Bus.reply(msg, ar, FullSyncBusApi::failure)))
            .completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_PROGRESS, msg -> review.apply(false)
            .onComplete(ar -> Bus.reply(msg, ar, FullSyncBusApi::failure))).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.FULL_SYNC_START, msg -> start.apply(
            FullSyncStart.from(msg.body()).options()).onComplete(ar -> Bus.reply(msg, ar, FullSyncBusApi::failure)))
            .completion()).mapEmpty();
  }

  private static BusFailure failure(Throwable e) {
    if (e instanceof PgFullSyncStore.AlreadyRunningException) {
      return BusFailure.CONFLICT;
    }
    if (e instanceof IllegalArgumentException) {
      return BusFailure.BAD_REQUEST;
    }
    if (PgErrors.unavailable(e)) {
      // PostgreSQL out of connections or out of reach: the caller may ask again in a moment (503, not 500).
      return BusFailure.UNAVAILABLE;
    }
    LOG.log(Level.WARNING, "full synchronization request failed", e);
    return BusFailure.INTERNAL;
  }
}
