package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/** Watermarks per mapping and side; written inside a page's transaction, so they double as checkpoints. */
public final class PgWatermarkStore {

  /** Which side a watermark belongs to. */
  public enum Side { ERP, CRM }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param side side
   * @return the highest modified-on processed, or null before the first run
   */
  public Future<OffsetDateTime> get(SqlClient client, String mapping, Side side) {
    return client.preparedQuery("SELECT modified_on FROM watermark WHERE mapping = $1 AND side = $2")
        .execute(Tuple.of(mapping, side.name()))
        .map(rows -> rows.rowCount() == 0 ? null : rows.iterator().next().getOffsetDateTime(0));
  }

  /**
   * Where a side's incremental read starts.
   *
   * @param modifiedOn the watermark, or null
   * @param floor no read starts before this (set by a full synchronization), or null
   * @param ownWritesUntil CRM side: rows the integration users last modified up to this stamp are Tandem's own
   *     full-synchronization writes; ERP side: rows stamped after {@code ownWritesFrom} up to it are; or null
   * @param ownWritesFrom ERP side: where the full synchronization's own writes begin (null: from the first row)
   */
  public record ReadStart(OffsetDateTime modifiedOn, OffsetDateTime floor, OffsetDateTime ownWritesUntil,
      OffsetDateTime ownWritesFrom) {}

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param side side
   * @return the side's watermark, floor and own-writes stamp (all null before the first run)
   */
  public Future<ReadStart> readStart(SqlClient client, String mapping, Side side) {
    return client.preparedQuery("SELECT modified_on, read_floor, own_writes_until, own_writes_from FROM watermark "
            + "WHERE mapping = $1 "
            + "AND side = $2").execute(Tuple.of(mapping, side.name()))
        .map(rows -> {
          if (rows.rowCount() == 0) {
            return new ReadStart(null, null, null, null);
          }
          io.vertx.sqlclient.Row r = rows.iterator().next();
          return new ReadStart(r.getOffsetDateTime(0), r.getOffsetDateTime(1), r.getOffsetDateTime(2),
              r.getOffsetDateTime(3));
        });
  }

  /**
   * After a full synchronization of a side: its watermark moves to the mark (never back), and reads start no
   * earlier than it.
   *
   * @param client the coordinator's transaction
   * @param mapping mapping
   * @param side the side the full synchronization read
   * @param mark that side's newest modified-on when the full synchronization started
   * @return nothing
   */
  public Future<Void> afterFullSync(SqlClient client, String mapping, Side side, OffsetDateTime mark) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, modified_on, read_floor) VALUES ($1, $2, $3, $3) "
            + "ON CONFLICT (mapping, side) DO UPDATE SET modified_on = GREATEST(watermark.modified_on, "
            + "EXCLUDED.modified_on), read_floor = GREATEST(watermark.read_floor, EXCLUDED.read_floor), "
            + "updated_at = now()")
        .execute(Tuple.of(mapping, side.name(), mark)).mapEmpty();
  }

  /**
   * After a full synchronization ERP to CRM of a bidirectional mapping: the CRM-to-ERP runs read from the CRM's
   * newest modified-on when it started (changes made in the CRM during it included), and rows the integration
   * users last modified up to {@code ownUntil} are the full synchronization's own writes.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param from the CRM's newest modified-on when the full synchronization started
   * @param ownUntil the CRM's newest modified-on once it ended
   * @return nothing
   */
  public Future<Void> ownCrmWrites(SqlClient client, String mapping, OffsetDateTime from, OffsetDateTime ownUntil) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, modified_on, read_floor, own_writes_until) "
            + "VALUES ($1, 'CRM', $2, $2, $3) ON CONFLICT (mapping, side) DO UPDATE SET "
            + "modified_on = coalesce(watermark.modified_on, EXCLUDED.modified_on), "
            // A watermark from before the full synchronization stays, and so does its overlap: CRM changes from
            // before it that no run has read yet are still read.
            + "read_floor = CASE WHEN watermark.modified_on IS NULL THEN EXCLUDED.read_floor "
            + "ELSE watermark.read_floor END, "
            + "own_writes_until = EXCLUDED.own_writes_until, updated_at = now()")
        .execute(Tuple.of(mapping, from, ownUntil)).mapEmpty();
  }

  /**
   * After a full synchronization CRM to ERP of a bidirectional mapping: the ERP-to-CRM runs skip the rows stamped
   * after {@code from} up to {@code until} (the full synchronization's own writes; its last job synchronized the
   * people's changes among them). The ERP watermark stays where it was: changes before {@code from} are still read.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param from the ERP's newest stamp when the full synchronization started, or null (it had no rows)
   * @param until the newest stamp the last job compared with the couplings, less the overlap
   * @return nothing
   */
  public Future<Void> ownErpWrites(SqlClient client, String mapping, OffsetDateTime from, OffsetDateTime until) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, own_writes_from, own_writes_until) "
            + "VALUES ($1, 'ERP', $2, $3) ON CONFLICT (mapping, side) DO UPDATE SET "
            + "own_writes_from = EXCLUDED.own_writes_from, own_writes_until = EXCLUDED.own_writes_until, "
            + "updated_at = now()")
        .execute(Tuple.of(mapping, from, until)).mapEmpty();
  }

  /**
   * Moves a watermark forward (never back).
   *
   * @param client the page transaction
   * @param mapping mapping
   * @param side side
   * @param modifiedOn the new value
   * @return nothing
   */
  public Future<Void> advance(SqlClient client, String mapping, Side side, OffsetDateTime modifiedOn) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, modified_on) VALUES ($1, $2, $3) "
            + "ON CONFLICT (mapping, side) DO UPDATE SET modified_on = GREATEST(watermark.modified_on, "
            + "EXCLUDED.modified_on), updated_at = now()")
        .execute(Tuple.of(mapping, side.name(), modifiedOn)).mapEmpty();
  }

  /**
   * Claims the mapping's scan of every ERP key (deletion detection) when the last one is at least {@code everyMs}
   * old, noting the time; of runs that ask at once, one gets it.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param everyMs the least time between two scans; 0 scans every run
   * @return true when this run should scan
   */
  public Future<Boolean> claimKeyScan(SqlClient client, String mapping, long everyMs) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, keys_scanned_at) VALUES ($1, 'ERP', now()) "
            + "ON CONFLICT (mapping, side) DO UPDATE SET keys_scanned_at = now() "
            + "WHERE watermark.keys_scanned_at IS NULL "
            + "OR watermark.keys_scanned_at <= now() - $2 * interval '1 millisecond' RETURNING 1")
        .execute(Tuple.of(mapping, everyMs)).map(rows -> rows.rowCount() == 1);
  }

  /**
   * Makes a mapping's ERP deletion check due at once (an ERP notification reported a deletion, or many changes).
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @return nothing
   */
  public Future<Void> keyScanDue(SqlClient client, String mapping) {
    return client.preparedQuery("UPDATE watermark SET keys_scanned_at = NULL WHERE mapping = $1 AND side = 'ERP'")
        .execute(Tuple.of(mapping)).mapEmpty();
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @return the CRM change-tracking delta link kept for deletions, or null
   */
  public Future<String> deltaLink(SqlClient client, String mapping) {
    return client.preparedQuery("SELECT delta_link FROM watermark WHERE mapping = $1 AND side = 'CRM'")
        .execute(Tuple.of(mapping))
        .map(rows -> rows.rowCount() == 0 ? null : rows.iterator().next().getString(0));
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param link the delta link to follow next time
   * @return nothing
   */
  public Future<Void> deltaLink(SqlClient client, String mapping, String link) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, delta_link) VALUES ($1, 'CRM', $2) "
            + "ON CONFLICT (mapping, side) DO UPDATE SET delta_link = EXCLUDED.delta_link, updated_at = now()")
        .execute(Tuple.of(mapping, link)).mapEmpty();
  }

  /**
   * What a mapping has read up to, per side: {@code {side, modifiedOn, deltaLink, updatedAt, keysScannedAt,
   * deletionsHeld}}; a side never read is left out.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @return the sides, ERP first
   */
  public Future<io.vertx.core.json.JsonArray> list(SqlClient client, String mapping) {
    return client.preparedQuery("SELECT side, modified_on, delta_link, updated_at, keys_scanned_at, deletions_held, "
            + "deletions_released FROM watermark WHERE mapping = $1 ORDER BY side DESC")
        .execute(Tuple.of(mapping)).map(rows -> {
          io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
          for (io.vertx.sqlclient.Row r : rows) {
            out.add(new io.vertx.core.json.JsonObject().put("side", r.getString("side"))
                .put("modifiedOn", instant(r.getOffsetDateTime("modified_on")))
                .put("deltaLink", r.getString("delta_link"))
                .put("updatedAt", instant(r.getOffsetDateTime("updated_at")))
                .put("keysScannedAt", instant(r.getOffsetDateTime("keys_scanned_at")))
                .put("deletionsHeld", r.getString("deletions_held"))
                .put("deletionsReleased", r.getInteger("deletions_released")));
          }
          return out;
        });
  }

  private static String instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant().toString();
  }

  /**
   * Sets a side's watermark (and, for the CRM, its delta link) to given values, back or forward: an operator's
   * reset, as Kafka Connect lets offsets be altered.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param side side
   * @param modifiedOn the new watermark, or null to read everything again
   * @param setLink whether to set the delta link too
   * @param link the delta link (CRM only), or null to start change tracking over
   * @return nothing
   */
  public Future<Void> put(SqlClient client, String mapping, Side side, OffsetDateTime modifiedOn, boolean setLink,
      String link) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, modified_on, delta_link) VALUES ($1, $2, $3, $4) "
            + "ON CONFLICT (mapping, side) DO UPDATE SET modified_on = EXCLUDED.modified_on, "
            + "delta_link = CASE WHEN $5 THEN EXCLUDED.delta_link ELSE watermark.delta_link END, "
            + "keys_scanned_at = NULL, read_floor = NULL, own_writes_until = NULL, own_writes_from = NULL, updated_at = now()")
        .execute(Tuple.of(mapping, side.name(), modifiedOn, link, setLink)).mapEmpty();
  }

  /**
   * Forgets a mapping's watermarks and delta link: the next run reads every row again (each recognized as
   * unchanged from its coupling) and starts change tracking over, reconciling deletions by key.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param side one side, or null for both
   * @return how many sides were reset
   */
  public Future<Integer> reset(SqlClient client, String mapping, Side side) {
    return client.preparedQuery("DELETE FROM watermark WHERE mapping = $1 AND ($2::text IS NULL OR side = $2)")
        .execute(Tuple.of(mapping, side == null ? null : side.name())).map(io.vertx.sqlclient.SqlResult::rowCount);
  }

  /**
   * Holds a side's deletions: a mass deletion waits for an operator. The next key scan is due at once, so a
   * release finds the deletions again.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param side the side whose records were reported deleted
   * @param message why
   * @return nothing
   */
  public Future<Void> holdDeletions(SqlClient client, String mapping, Side side, String message) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, deletions_held) VALUES ($1, $2, $3) "
            + "ON CONFLICT (mapping, side) DO UPDATE SET deletions_held = EXCLUDED.deletions_held, "
            + "deletions_released = NULL, keys_scanned_at = NULL, updated_at = now()")
        .execute(Tuple.of(mapping, side.name(), message)).mapEmpty();
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param side side
   * @return how many deletions an operator released for the next run (0 when none)
   */
  public Future<Integer> releasedDeletions(SqlClient client, String mapping, Side side) {
    return client.preparedQuery("SELECT deletions_released FROM watermark WHERE mapping = $1 AND side = $2")
        .execute(Tuple.of(mapping, side.name())).map(rows -> rows.rowCount() == 0
            || rows.iterator().next().getInteger(0) == null ? 0 : rows.iterator().next().getInteger(0));
  }

  /**
   * Releases held deletions: the next run applies up to that many at once, then the guard is back.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param count how many deletions at most
   * @return the sides whose deletions were held and are now released
   */
  public Future<Integer> releaseDeletions(SqlClient client, String mapping, int count) {
    return client.preparedQuery("UPDATE watermark SET deletions_released = $2, keys_scanned_at = NULL, "
            + "updated_at = now() WHERE mapping = $1 AND deletions_held IS NOT NULL")
        .execute(Tuple.of(mapping, count)).map(io.vertx.sqlclient.SqlResult::rowCount);
  }

  /**
   * Clears a side's hold once its deletions went through.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param side side
   * @return nothing
   */
  public Future<Void> deletionsApplied(SqlClient client, String mapping, Side side) {
    return client.preparedQuery("UPDATE watermark SET deletions_held = NULL, deletions_released = NULL "
            + "WHERE mapping = $1 AND side = $2 AND (deletions_held IS NOT NULL OR deletions_released IS NOT NULL)")
        .execute(Tuple.of(mapping, side.name())).mapEmpty();
  }
}
