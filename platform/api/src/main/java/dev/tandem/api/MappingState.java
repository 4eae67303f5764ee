package dev.tandem.api;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;

/**
 * What the runtime keeps for a task between jobs and attempts: the watermarks of its mapping (per side, the
 * highest modified-on synchronized, as {@code GET /api/v1/mappings/{name}/watermarks} shows them) and the job's
 * checkpoint (opaque to the runtime; a job that a crashed node left is resumed by another with it).
 */
public interface MappingState {

  /**
   * @param side {@link Direction#TO_CRM} for the ERP side's watermark (rows read from the ERP), {@link Direction#FROM_CRM}
   *     for the CRM side's
   * @return the watermark, or null when the side was never read
   */
  Future<OffsetDateTime> watermark(Direction side);

  /**
   * Moves a side's watermark forward (never back), fenced by the job's lease.
   *
   * @param side as for {@link #watermark(Direction)}
   * @param modifiedOn the highest modified-on now synchronized
   * @return done
   */
  Future<Void> advance(Direction side, OffsetDateTime modifiedOn);

  /**
   * @return the CRM change-tracking link this mapping's task saved ({@link CrmConnector#track}), or null
   */
  Future<String> deltaLink();

  /**
   * @param link the delta link to read changes from next time, fenced by the job's lease
   * @return done
   */
  Future<Void> saveDeltaLink(String link);

  /** @return the checkpoint an earlier attempt of this job saved, or null */
  JsonObject checkpoint();

  /**
   * @param checkpoint what a later attempt needs to resume
   * @return done; fails when the job's lease was lost
   */
  Future<Void> saveCheckpoint(JsonObject checkpoint);
}
