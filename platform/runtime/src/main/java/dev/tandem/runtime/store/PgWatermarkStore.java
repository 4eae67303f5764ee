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
}
