package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * The ERP key ranges of the incremental deletion check (table {@code erp_key_range}) and the coupled ERP keys per
 * range. Keys compare in the database's collation; a range the ERP orders differently is only read again more
 * often, since every deletion is confirmed by reading the key itself.
 */
public final class PgKeyRangeStore {

  /** Above every key: the highest code point (keys are compared in C.UTF-8 or C order, by code point). */
  private static final String TOP = "chr(1114111)";

  /**
   * A range of ERP keys and what the last check saw in it.
   *
   * @param no its number, in key order
   * @param lower first key (inclusive), or null from the first
   * @param upper end (exclusive), or null to the last
   * @param erpCount the ERP's count in it at the last check, or null
   * @param coupledCount the coupled count in it at the last check, or null
   * @param verifiedAt when its keys were last read and compared, or null
   */
  public record KeyRange(int no, String lower, String upper, Long erpCount, Long coupledCount,
      OffsetDateTime verifiedAt) {}

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @return its ranges in key order (empty before the first check)
   */
  public Future<List<KeyRange>> ranges(SqlClient client, String mapping) {
    return client.preparedQuery("SELECT range_no, lower_key, upper_key, erp_count, coupled_count, verified_at "
            + "FROM erp_key_range WHERE mapping = $1 ORDER BY range_no")
        .execute(Tuple.of(mapping)).map(rows -> {
          List<KeyRange> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new KeyRange(r.getInteger(0), r.getString(1), r.getString(2), r.getLong(3), r.getLong(4),
                r.getOffsetDateTime(5)));
          }
          return out;
        });
  }

  /**
   * Cuts the mapping's coupled ERP keys into ranges of about {@code rowsPerRange} couplings, from PostgreSQL alone.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param rowsPerRange couplings per range
   * @return the inner boundaries in key order (n boundaries make n + 1 ranges)
   */
  public Future<List<String>> boundaries(SqlClient client, String mapping, int rowsPerRange) {
    return client.preparedQuery("SELECT erp_id FROM (SELECT erp_id, row_number() OVER (ORDER BY erp_id) AS rn "
            + "FROM coupling WHERE mapping = $1 AND erp_id IS NOT NULL AND crm_id IS NOT NULL) k "
            + "WHERE rn > 1 AND rn % $2 = 1 ORDER BY erp_id")
        .execute(Tuple.of(mapping, rowsPerRange)).map(rows -> {
          List<String> out = new ArrayList<>();
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /**
   * Replaces a mapping's ranges (the counts of the new ones unknown).
   *
   * @param client transaction
   * @param mapping mapping
   * @param ranges the new ranges
   * @return nothing
   */
  public Future<Void> replace(SqlClient client, String mapping, List<KeyRange> ranges) {
    return client.preparedQuery("DELETE FROM erp_key_range WHERE mapping = $1").execute(Tuple.of(mapping))
        .compose(x -> save(client, mapping, ranges));
  }

  /**
   * Stores ranges' counts and verification times.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @param ranges ranges
   * @return nothing
   */
  public Future<Void> save(SqlClient client, String mapping, List<KeyRange> ranges) {
    if (ranges.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Tuple> batch = new ArrayList<>(ranges.size());
    ranges.forEach(r -> batch.add(Tuple.of(mapping, r.no(), r.lower(), r.upper(), r.erpCount(), r.coupledCount(),
        r.verifiedAt())));
    return client.preparedQuery("INSERT INTO erp_key_range (mapping, range_no, lower_key, upper_key, erp_count, "
            + "coupled_count, verified_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (mapping, range_no) DO "
            + "UPDATE SET lower_key = EXCLUDED.lower_key, upper_key = EXCLUDED.upper_key, "
            + "erp_count = EXCLUDED.erp_count, coupled_count = EXCLUDED.coupled_count, "
            + "verified_at = EXCLUDED.verified_at")
        .executeBatch(batch).mapEmpty();
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param ranges ranges
   * @return the coupled count within each range, in the ranges' order (one query: an index range count each)
   */
  public Future<List<Long>> coupledCounts(SqlClient client, String mapping, List<KeyRange> ranges) {
    String[] lowers = new String[ranges.size()];
    String[] uppers = new String[ranges.size()];
    for (int i = 0; i < ranges.size(); i++) {
      lowers[i] = ranges.get(i).lower();
      uppers[i] = ranges.get(i).upper();
    }
    // Open ends as the lowest and highest text there is, so each count is one range of the (mapping, erp_id) index.
    return client.preparedQuery("SELECT (SELECT count(*) FROM coupling c WHERE c.mapping = $1 "
            + "AND c.erp_id >= coalesce(b.lo, '') AND c.erp_id < coalesce(b.hi, " + TOP + ") "
            + "AND c.crm_id IS NOT NULL) FROM unnest($2::text[], $3::text[]) WITH ORDINALITY "
            + "AS b(lo, hi, i) ORDER BY b.i")
        .execute(Tuple.of(mapping, lowers, uppers)).map(rows -> {
          List<Long> out = new ArrayList<>(ranges.size());
          rows.forEach(r -> out.add(r.getLong(0)));
          return out;
        });
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param range a range
   * @return the ERP keys of the couplings (both sides set) within it: keys only, so a check of a range of 5,000
   *     moves no synced values (the few couplings whose key the ERP lacks are loaded whole afterwards)
   */
  public Future<List<String>> coupledKeysIn(SqlClient client, String mapping, KeyRange range) {
    return client.preparedQuery("SELECT erp_id FROM coupling WHERE mapping = $1 "
            + "AND erp_id >= coalesce($2::text, '') AND erp_id < coalesce($3::text, " + TOP + ") "
            + "AND crm_id IS NOT NULL")
        .execute(Tuple.of(mapping, range.lower(), range.upper())).map(rows -> {
          List<String> out = new ArrayList<>(rows.rowCount());
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /**
   * A page of couplings of every mapping in id order, for the key comparison of change tracking's restart (the
   * caller keeps its mapping's): a range of the primary key whatever PostgreSQL's statistics say. Filtering by
   * mapping in SQL let stale statistics right after a large full synchronization plan a sort of every coupling for
   * each page (seconds a page, a thousand pages).
   *
   * @param client pool or transaction
   * @param afterId the last id of the previous page, 0 first
   * @param limit page size
   * @return the page (fewer than {@code limit} rows: the last)
   */
  public Future<List<Coupling>> couplingsAfter(SqlClient client, long afterId, int limit) {
    return client.preparedQuery("SELECT " + Coupling.COLUMNS + " FROM coupling WHERE id > $1 ORDER BY id LIMIT $2")
        .execute(Tuple.of(afterId, limit)).map(rows -> {
          List<Coupling> out = new ArrayList<>(rows.rowCount());
          rows.forEach(r -> out.add(Coupling.from(r)));
          return out;
        });
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @return the ERP and coupled totals of the last check, {@code {erp, coupled}}, either null before one
   */
  public Future<Long[]> totals(SqlClient client, String mapping) {
    return client.preparedQuery("SELECT erp_total, coupled_total FROM watermark WHERE mapping = $1 AND side = 'ERP'")
        .execute(Tuple.of(mapping)).map(rows -> rows.rowCount() == 0 ? new Long[2]
            : new Long[] {rows.iterator().next().getLong(0), rows.iterator().next().getLong(1)});
  }

  /**
   * @param client pool or transaction
   * @param mapping mapping
   * @param erp the ERP's count
   * @param coupled the coupled count
   * @return nothing
   */
  public Future<Void> totals(SqlClient client, String mapping, long erp, long coupled) {
    return client.preparedQuery("INSERT INTO watermark (mapping, side, erp_total, coupled_total) VALUES ($1, 'ERP', "
            + "$2, $3) ON CONFLICT (mapping, side) DO UPDATE SET erp_total = EXCLUDED.erp_total, "
            + "coupled_total = EXCLUDED.coupled_total")
        .execute(Tuple.of(mapping, erp, coupled)).mapEmpty();
  }

  /**
   * Forgets a mapping's ranges and totals: the next check cuts and counts them anew.
   *
   * @param client pool or transaction
   * @param mapping mapping
   * @return nothing
   */
  public Future<Void> forget(SqlClient client, String mapping) {
    return client.preparedQuery("DELETE FROM erp_key_range WHERE mapping = $1").execute(Tuple.of(mapping))
        .compose(x -> client.preparedQuery("UPDATE watermark SET erp_total = NULL, coupled_total = NULL "
            + "WHERE mapping = $1 AND side = 'ERP'").execute(Tuple.of(mapping))).mapEmpty();
  }
}
