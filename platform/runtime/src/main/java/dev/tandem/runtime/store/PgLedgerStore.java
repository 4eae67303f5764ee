package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The ledger jobs' state: per job the last ledger entry number whose figures reached the CRM, and the couplings
 * whose CRM record has not had the figure yet (every coupling when the job starts, then each new one, noted by a
 * trigger on {@code coupling}).
 */
public final class PgLedgerStore {

  private final Pool pool;

  /** @param pool the pool */
  public PgLedgerStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * @param job a ledger job
   * @return the last entry number stored, or null when the job never ran
   */
  public Future<Long> position(String job) {
    return pool.preparedQuery("SELECT last_entry_no FROM ledger_position WHERE job = $1").execute(Tuple.of(job))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
  }

  /**
   * Starts following the ledger after {@code lastEntryNo} (the newest entry when the job first runs: its figures
   * are current already) and notes every coupling of the mapping as still to get its figure. The coupling table is
   * locked against writes meanwhile, so a coupling made concurrently is either noted here or by the trigger.
   *
   * @param job the job
   * @param mapping its mapping
   * @param lastEntryNo where to start
   * @return whether this call started it (false when another node did first)
   */
  public Future<Boolean> start(String job, String mapping, long lastEntryNo) {
    return pool.withTransaction(tx -> tx.query("LOCK TABLE coupling IN SHARE MODE").execute()
        .compose(v -> tx.preparedQuery("INSERT INTO ledger_position (job, mapping, last_entry_no, refreshed_at) "
            + "VALUES ($1, $2, $3, now()) ON CONFLICT (job) DO NOTHING").execute(Tuple.of(job, mapping, lastEntryNo)))
        .compose(ins -> ins.rowCount() == 0 ? Future.succeededFuture(false)
            : tx.preparedQuery("INSERT INTO ledger_pending_coupling (job, erp_id) SELECT $1, erp_id FROM coupling "
                + "WHERE mapping = $2 AND erp_id IS NOT NULL AND crm_id IS NOT NULL ON CONFLICT DO NOTHING")
                .execute(Tuple.of(job, mapping)).map(true)));
  }

  /** Notes every coupling of the mapping as still to get the job's figures; call with the coupling table locked. */
  private static Future<Void> noteAll(SqlClient tx, String job, String mapping) {
    return tx.preparedQuery("INSERT INTO ledger_pending_coupling (job, erp_id) SELECT $1, erp_id FROM coupling "
        + "WHERE mapping = $2 AND erp_id IS NOT NULL AND crm_id IS NOT NULL ON CONFLICT DO NOTHING")
        .execute(Tuple.of(job, mapping)).mapEmpty();
  }

  /**
   * @param job a ledger job
   * @param service one of the documents it follows
   * @return the last SystemModifiedAt whose rows' figures reached the CRM, or null when it never followed them
   */
  public Future<java.time.Instant> feedPosition(String job, String service) {
    return pool.preparedQuery("SELECT last_modified FROM ledger_feed_position WHERE job = $1 AND service = $2")
        .execute(Tuple.of(job, service))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getOffsetDateTime(0).toInstant());
  }

  /**
   * Starts following a document after {@code newest} (its figures are current already) and notes every coupling as
   * still to get its figures, so a feed added to a running job misses nothing before it.
   *
   * @param job the job (started: it has a position)
   * @param service the document's web service
   * @param mapping the job's mapping
   * @param newest where to start
   * @return done
   */
  public Future<Void> startFeed(String job, String service, String mapping, java.time.Instant newest) {
    return pool.withTransaction(tx -> tx.query("LOCK TABLE coupling IN SHARE MODE").execute()
        .compose(v -> tx.preparedQuery("INSERT INTO ledger_feed_position (job, service, last_modified) VALUES ($1, $2, "
            + "$3) ON CONFLICT (job, service) DO NOTHING").execute(Tuple.of(job, service,
                java.time.OffsetDateTime.ofInstant(newest, java.time.ZoneOffset.UTC))))
        .compose(ins -> ins.rowCount() == 0 ? Future.<Void>succeededFuture() : noteAll(tx, job, mapping)));
  }

  /**
   * Stores the last SystemModifiedAt of a document whose figures reached the CRM; it never moves back.
   *
   * @param tx the page's transaction
   * @param job the job
   * @param service the document's web service
   * @param modified the stamp
   * @return done
   */
  public Future<Void> advanceFeed(SqlClient tx, String job, String service, java.time.Instant modified) {
    return tx.preparedQuery("UPDATE ledger_feed_position SET last_modified = GREATEST(last_modified, $3), "
        + "updated_at = now() WHERE job = $1 AND service = $2").execute(Tuple.of(job, service,
            java.time.OffsetDateTime.ofInstant(modified, java.time.ZoneOffset.UTC))).mapEmpty();
  }

  /**
   * When the job's last refresh is older than {@code every}, notes every coupling as still to get its figures and
   * records the refresh, in one transaction (two nodes: one of them refreshes).
   *
   * @param job the job
   * @param mapping its mapping
   * @param every the refresh interval
   * @return whether a refresh was due (and is now noted)
   */
  public Future<Boolean> refreshIfDue(String job, String mapping, java.time.Duration every) {
    return pool.withTransaction(tx -> tx.query("LOCK TABLE coupling IN SHARE MODE").execute()
        .compose(v -> tx.preparedQuery("UPDATE ledger_position SET refreshed_at = now() WHERE job = $1 AND "
            + "(refreshed_at IS NULL OR refreshed_at < now() - make_interval(secs => $2))")
            .execute(Tuple.of(job, (double) every.toMillis() / 1000.0)))
        .compose(up -> up.rowCount() == 0 ? Future.succeededFuture(false)
            : noteAll(tx, job, mapping).map(true)));
  }

  /**
   * @param job the job
   * @param every the refresh interval
   * @return whether a refresh is due (the job never refreshed, or longer ago than {@code every})
   */
  public Future<Boolean> refreshDue(String job, java.time.Duration every) {
    return pool.preparedQuery("SELECT 1 FROM ledger_position WHERE job = $1 AND (refreshed_at IS NULL OR "
        + "refreshed_at < now() - make_interval(secs => $2))")
        .execute(Tuple.of(job, (double) every.toMillis() / 1000.0)).map(rows -> rows.size() > 0);
  }

  /**
   * @param job the job
   * @param after the ERP key the previous page ended with ("" for the first page)
   * @param limit the most to return
   * @return ERP keys of couplings still to get the figure, after {@code after} in key order
   */
  public Future<List<String>> pending(String job, String after, int limit) {
    return pool.preparedQuery("SELECT erp_id FROM ledger_pending_coupling WHERE job = $1 AND erp_id COLLATE \"C\" > $2 "
            + "ORDER BY erp_id COLLATE \"C\" LIMIT $3")
        .execute(Tuple.of(job, after, limit)).map(rows -> {
          List<String> out = new ArrayList<>(rows.rowCount());
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /**
   * @param tx the page's transaction
   * @param job the job
   * @param erpIds couplings whose CRM record got the figure
   * @return done
   */
  public Future<Void> pushed(SqlClient tx, String job, Collection<String> erpIds) {
    return tx.preparedQuery("DELETE FROM ledger_pending_coupling WHERE job = $1 AND erp_id = ANY($2::text[])")
        .execute(Tuple.tuple().addValue(job).addValue(erpIds.toArray(new String[0]))).mapEmpty();
  }

  /**
   * Stores the last entry number whose figures reached the CRM; it never moves back.
   *
   * @param tx the page's transaction
   * @param job the job
   * @param entryNo the page's last entry number
   * @return done
   */
  public Future<Void> advance(SqlClient tx, String job, long entryNo) {
    return tx.preparedQuery("UPDATE ledger_position SET last_entry_no = GREATEST(last_entry_no, $2), "
        + "updated_at = now() WHERE job = $1").execute(Tuple.of(job, entryNo)).mapEmpty();
  }

  /**
   * Sets the position (an operator replaying entries, or skipping a backlog on purpose).
   *
   * @param job the job
   * @param entryNo the new position
   * @return whether the job had one
   */
  public Future<Boolean> reposition(String job, long entryNo) {
    return pool.preparedQuery("UPDATE ledger_position SET last_entry_no = $2, updated_at = now() WHERE job = $1")
        .execute(Tuple.of(job, entryNo)).map(r -> r.rowCount() == 1);
  }

  /** @return every job's state: job, mapping, lastEntryNo, updatedAt, pendingCouplings */
  public Future<JsonArray> list() {
    return pool.query("SELECT p.job, p.mapping, p.last_entry_no, p.updated_at, "
        + "(SELECT count(*) FROM ledger_pending_coupling c WHERE c.job = p.job) AS pending "
        + "FROM ledger_position p ORDER BY p.job").execute().map(rows -> {
          JsonArray out = new JsonArray();
          for (Row r : rows) {
            out.add(new JsonObject().put("job", r.getString("job")).put("mapping", r.getString("mapping"))
                .put("lastEntryNo", r.getLong("last_entry_no"))
                .put("updatedAt", r.getOffsetDateTime("updated_at").toInstant().toString())
                .put("pendingCouplings", r.getLong("pending")));
          }
          return out;
        });
  }
}
