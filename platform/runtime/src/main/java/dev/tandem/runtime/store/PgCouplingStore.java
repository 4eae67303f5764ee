package dev.tandem.runtime.store;

import dev.tandem.api.Direction;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Couplings in PostgreSQL. Everything the engine needs per page is one statement: the couplings of a page's
 * rows are loaded with {@code = ANY(ids)}, and a page's outcomes are written with one {@code unnest} upsert per
 * direction, inside the page's transaction.
 */
public final class PgCouplingStore {

  /**
   * The result of one record in one direction, as the engine stores it. A null modified-on, synced values or
   * version keeps what the coupling has.
   */
  public record Outcome(String erpId, String crmId, OffsetDateTime erpModifiedOn, OffsetDateTime crmModifiedOn,
      String result, String error, JsonObject synced, String erpVersion, String crmVersion) {

    /** An outcome that keeps the coupling's recorded versions as they are. */
    public Outcome(String erpId, String crmId, OffsetDateTime erpModifiedOn, OffsetDateTime crmModifiedOn,
        String result, String error, JsonObject synced) {
      this(erpId, crmId, erpModifiedOn, crmModifiedOn, result, error, synced, null, null);
    }

    /** @return a copy recording these versions (null keeps the coupling's) */
    public Outcome withVersions(String erp, String crm) {
      return new Outcome(erpId, crmId, erpModifiedOn, crmModifiedOn, result, error, synced, erp, crm);
    }

    /** An outcome that keeps the coupling's recorded field values as they are. */
    public Outcome(String erpId, String crmId, OffsetDateTime erpModifiedOn, OffsetDateTime crmModifiedOn,
        String result, String error) {
      this(erpId, crmId, erpModifiedOn, crmModifiedOn, result, error, null);
    }
  }

  /** Coupling a record that is already coupled; the message names both existing couplings. */
  public static final class CouplingConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what is coupled already */
    public CouplingConflictException(String message) {
      super(message);
    }
  }

  private static final String RECORD = "INSERT INTO coupling AS c (mapping, %1$s, %2$s, erp_modified_on, "
      + "crm_modified_on, %3$s, last_error, error_repeats, skipped, last_job_id, synced, erp_version, crm_version) "
      + "SELECT $1, v.src, v.dst, v.erp_mod, v.crm_mod, v.result, v.error, "
      + "  CASE WHEN v.error IS NULL THEN 0 ELSE 1 END, "
      + "  CASE WHEN v.error IS NULL OR v.error LIKE '[LOOKUP]%%' THEN false ELSE 1 >= $3 END, $2, "
      + "  v.synced::jsonb, v.erp_ver, v.crm_ver "
      + "FROM unnest($4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[], "
      + "  $10::text[], $11::text[], $12::text[]) AS v(src, dst, erp_mod, crm_mod, result, error, synced, erp_ver, "
      + "  crm_ver) "
      + "ON CONFLICT (mapping, %1$s) DO UPDATE SET "
      + "  %2$s = COALESCE(EXCLUDED.%2$s, c.%2$s), "
      + "  synced = COALESCE(EXCLUDED.synced, c.synced), "
      + "  erp_modified_on = COALESCE(EXCLUDED.erp_modified_on, c.erp_modified_on), "
      + "  crm_modified_on = COALESCE(EXCLUDED.crm_modified_on, c.crm_modified_on), "
      + "  erp_version = COALESCE(EXCLUDED.erp_version, c.erp_version), "
      + "  crm_version = COALESCE(EXCLUDED.crm_version, c.crm_version), "
      + "  %3$s = EXCLUDED.%3$s, last_error = EXCLUDED.last_error, "
      + "  error_repeats = CASE WHEN EXCLUDED.last_error IS NULL THEN 0 "
      + "    WHEN EXCLUDED.last_error = c.last_error THEN c.error_repeats + 1 ELSE 1 END, "
      // A record waiting for a dependency's coupling is never skipped: it goes first in every run until the
      // reference is coupled, however many runs that takes (the reference system's auto-skip is too blunt here).
      + "  skipped = CASE WHEN EXCLUDED.last_error IS NULL OR EXCLUDED.last_error LIKE '[LOOKUP]%%' THEN false "
      + "    ELSE (CASE WHEN EXCLUDED.last_error = c.last_error THEN c.error_repeats + 1 ELSE 1 END) >= $3 END, "
      + "  last_job_id = EXCLUDED.last_job_id, updated_at = now()";

  private final Pool pool;

  /** @param pool the pool */
  public PgCouplingStore(Pool pool) {
    this.pool = pool;
  }

  /** @return the number of coupled pairs (both ids set) per mapping; a mapping without any is absent */
  public Future<Map<String, Long>> coupledCounts() {
    return pool.query("SELECT mapping, count(*) AS n FROM coupling "
        + "WHERE erp_id IS NOT NULL AND crm_id IS NOT NULL GROUP BY mapping").execute().map(rows -> {
          Map<String, Long> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString("mapping"), r.getLong("n")));
          return out;
        });
  }

  /**
   * Loads the couplings of many records of one side in one query.
   *
   * @param client the pool or a transaction's connection
   * @param mapping mapping
   * @param side which side the ids are of: {@link Direction#TO_CRM} means ERP ids (the source of TO_CRM)
   * @param ids record ids
   * @return couplings by that side's id (records without one are absent)
   */
  public Future<Map<String, Coupling>> bySourceIds(SqlClient client, String mapping, Direction side,
      Collection<String> ids) {
    String column = sourceColumn(side);
    if (ids.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return client.preparedQuery("SELECT " + Coupling.COLUMNS + " FROM coupling WHERE mapping = $1 AND "
            + column + " = ANY($2::text[])")
        .execute(Tuple.tuple().addValue(mapping).addValue(ids.toArray(new String[0])))
        .map(rows -> {
          Map<String, Coupling> out = new HashMap<>(rows.rowCount() * 2);
          for (Row r : rows) {
            Coupling c = Coupling.from(r);
            out.put(side == Direction.TO_CRM ? c.erpId() : c.crmId(), c);
          }
          return out;
        });
  }

  /**
   * Writes a page's outcomes for one direction in one statement: creates couplings for inserted counterparts,
   * records each side's modified-on, the result and the error; the same error {@code skipAfter} times in a row
   * marks the record skipped.
   *
   * @param client the page transaction's connection
   * @param mapping mapping
   * @param flow TO_CRM or FROM_CRM
   * @param jobId the job
   * @param skipAfter identical errors in a row before a record is skipped
   * @param outcomes the outcomes
   * @return how many rows were written
   */
  public Future<Integer> record(SqlClient client, String mapping, Direction flow, long jobId, int skipAfter,
      List<Outcome> outcomes) {
    if (outcomes.isEmpty()) {
      return Future.succeededFuture(0);
    }
    int n = outcomes.size();
    String[] src = new String[n];
    String[] dst = new String[n];
    OffsetDateTime[] erpMod = new OffsetDateTime[n];
    OffsetDateTime[] crmMod = new OffsetDateTime[n];
    String[] result = new String[n];
    String[] error = new String[n];
    String[] errorText = new String[n];
    String[] errorKind = new String[n];
    String[] errorStage = new String[n];
    String[] synced = new String[n];
    String[] erpVer = new String[n];
    String[] crmVer = new String[n];
    List<String> settled = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Outcome o = outcomes.get(i);
      src[i] = flow == Direction.TO_CRM ? o.erpId() : o.crmId();
      dst[i] = flow == Direction.TO_CRM ? o.crmId() : o.erpId();
      erpMod[i] = o.erpModifiedOn();
      crmMod[i] = o.crmModifiedOn();
      result[i] = o.result();
      error[i] = o.error();
      if (o.error() != null) {
        RecordFailure f = RecordFailure.decode(o.error());
        errorText[i] = f.message();
        errorKind[i] = f.kind().name();
        errorStage[i] = f.stage().name();
      }
      synced[i] = o.synced() == null ? null : o.synced().encode();
      erpVer[i] = o.erpVersion();
      crmVer[i] = o.crmVersion();
      if (dst[i] != null) {
        settled.add(src[i]);
      }
    }
    String sql = RECORD.formatted(sourceColumn(flow), flow == Direction.TO_CRM ? "crm_id" : "erp_id",
        flow == Direction.TO_CRM ? "last_result_to_crm" : "last_result_from_crm");
    String column = sourceColumn(flow);
    // The error log in the same statement: failures are logged — an error already open for that record with the
    // same message is brought up to date instead, so a record that keeps waiting for a dependency is one entry —
    // and earlier errors of records that went through now are resolved.
    String log = "WITH v AS (SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) "
        + "  AS v(src, dst, error, kind, stage)), "
        + "seen AS (UPDATE record_error e SET job_id = $1, occurred_at = now() FROM v WHERE v.error IS NOT NULL "
        + "  AND e.mapping = $2 AND e.resolved_at IS NULL AND e." + column + " = v.src AND e.message = v.error "
        + "  AND e.stage = v.stage RETURNING e." + column + " AS src), "
        + "logged AS (INSERT INTO record_error (job_id, mapping, direction, erp_id, crm_id, message, kind, stage) "
        + "  SELECT $1, $2, $3, " + (flow == Direction.TO_CRM ? "v.src, v.dst" : "v.dst, v.src")
        + "  , v.error, v.kind, v.stage FROM v WHERE v.error IS NOT NULL AND v.src NOT IN (SELECT src FROM seen) "
        + "  RETURNING id) "
        + "UPDATE record_error e SET resolved_at = now() FROM v WHERE v.error IS NULL AND e.mapping = $2 "
        + "AND e.resolved_at IS NULL AND e." + column + " = v.src";
    return client.preparedQuery(sql)
        .execute(Tuple.tuple().addValue(mapping).addValue(jobId).addValue(skipAfter).addValue(src).addValue(dst)
            .addValue(erpMod).addValue(crmMod).addValue(result).addValue(error).addValue(synced).addValue(erpVer)
            .addValue(crmVer))
        .compose(rows -> client.preparedQuery(log).execute(Tuple.tuple().addValue(jobId).addValue(mapping)
                .addValue(flow.name()).addValue(src).addValue(dst).addValue(errorText).addValue(errorKind)
                .addValue(errorStage))
            .compose(x -> endCreates(client, mapping, flow, settled))
            .map(x -> rows.rowCount()));
  }

  /**
   * Records, before the request goes out, that the counterparts of these source records are about to be created:
   * committed on its own, so that a lost answer or a crash leaves it behind for the next attempt. An intent
   * already recorded keeps its time (the earliest attempt bounds the reconciling read).
   *
   * @param mapping mapping
   * @param flow the direction of the create (FROM_CRM: ERP records are created for CRM ids)
   * @param jobId the job
   * @param sourceIds the source records
   * @return nothing
   */
  public Future<Void> beginCreates(String mapping, Direction flow, long jobId, Collection<String> sourceIds) {
    if (sourceIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery("INSERT INTO pending_create (mapping, direction, source_id, job_id) "
            + "SELECT $1, $2, s, $3 FROM unnest($4::text[]) AS s ON CONFLICT DO NOTHING")
        .execute(Tuple.tuple().addValue(mapping).addValue(flow.name()).addValue(jobId)
            .addValue(sourceIds.toArray(new String[0])))
        .mapEmpty();
  }

  /**
   * @param client the pool or a transaction's connection
   * @param mapping mapping
   * @param flow the direction of the create
   * @param sourceIds source records
   * @return when each of them has a create of unknown outcome, the time of its first attempt, by source id
   */
  public Future<Map<String, OffsetDateTime>> pendingCreates(SqlClient client, String mapping, Direction flow,
      Collection<String> sourceIds) {
    if (sourceIds.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return client.preparedQuery("SELECT source_id, attempted_at FROM pending_create WHERE mapping = $1 "
            + "AND direction = $2 AND source_id = ANY($3::text[])")
        .execute(Tuple.tuple().addValue(mapping).addValue(flow.name()).addValue(sourceIds.toArray(new String[0])))
        .map(rows -> {
          Map<String, OffsetDateTime> out = new HashMap<>();
          rows.forEach(r -> out.put(r.getString(0), r.getOffsetDateTime(1)));
          return out;
        });
  }

  /**
   * @param mapping mapping
   * @param flow the direction of the create
   * @param limit at most this many
   * @return source records with a create of unknown outcome, oldest first
   */
  public Future<List<String>> pendingSources(String mapping, Direction flow, int limit) {
    return pool.preparedQuery("SELECT source_id FROM pending_create WHERE mapping = $1 AND direction = $2 "
            + "ORDER BY attempted_at, source_id LIMIT $3")
        .execute(Tuple.of(mapping, flow.name(), limit))
        .map(rows -> {
          List<String> out = new ArrayList<>(rows.rowCount());
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /**
   * Forgets intents whose outcome is known: the counterpart is coupled (in the coupling's transaction) or the
   * endpoint refused the create.
   *
   * @param client the pool or a transaction's connection
   * @param mapping mapping
   * @param flow the direction of the create
   * @param sourceIds source records
   * @return nothing
   */
  public Future<Void> endCreates(SqlClient client, String mapping, Direction flow, Collection<String> sourceIds) {
    if (sourceIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return client.preparedQuery("DELETE FROM pending_create WHERE mapping = $1 AND direction = $2 "
            + "AND source_id = ANY($3::text[])")
        .execute(Tuple.tuple().addValue(mapping).addValue(flow.name()).addValue(sourceIds.toArray(new String[0])))
        .mapEmpty();
  }

  /**
   * Prepares a coupling whose record was deleted on one side to be created again by the next run in the other
   * direction: the deleted side is treated as never synchronized and the record as failed, so it goes first.
   *
   * @param id the coupling
   * @param deletedOnCrm true when the CRM record is gone (restored by ERP-to-CRM, with the same id); false when the
   *     ERP record is gone (restored by CRM-to-ERP, as a new record)
   * @return nothing
   */
  public Future<Void> prepareRestore(long id, boolean deletedOnCrm) {
    String sql = deletedOnCrm
        ? "UPDATE coupling SET erp_modified_on = NULL, crm_modified_on = NULL, erp_version = NULL, crm_version = NULL, "
            + "last_result_to_crm = 'failed', "
            + "skipped = false, error_repeats = 0, deleted_side = NULL, updated_at = now() WHERE id = $1"
        : "UPDATE coupling SET erp_id = NULL, erp_modified_on = NULL, crm_modified_on = NULL, erp_version = NULL, "
            + "crm_version = NULL, "
            + "last_result_from_crm = 'failed', skipped = false, error_repeats = 0, deleted_side = NULL, "
            + "updated_at = now() WHERE id = $1";
    return pool.preparedQuery(sql).execute(Tuple.of(id)).mapEmpty();
  }

  /**
   * Logs a deletion the policy leaves alone, once: the coupling keeps the message, and the error log gets it
   * when it is new.
   *
   * @param c the coupling
   * @param jobId the job
   * @param direction the direction the deletion concerns (TO_CRM: the ERP record is gone)
   * @param message what happened and what to do
   * @return whether the deletion was new to the coupling (false when an earlier run noted it already: a range the
   *     ERP deletion check reads again finds it again)
   */
  public Future<Boolean> noteDeletion(Coupling c, long jobId, Direction direction, String message) {
    // The coupling also remembers which side is gone: change tracking reports a CRM deletion once, and the policy
    // in force later (or a retry) must still find it.
    return pool.preparedQuery("WITH u AS (UPDATE coupling SET last_error = $2, deleted_side = $8, updated_at = now() "
            + "WHERE id = $1 AND (last_error IS DISTINCT FROM $2 OR deleted_side IS DISTINCT FROM $8) RETURNING id), "
            + "e AS (INSERT INTO record_error (job_id, mapping, direction, erp_id, crm_id, message, kind, stage) "
            + "SELECT $3, $4, $5, $6, $7, $2, 'DATA', 'READ' FROM u WHERE NOT EXISTS (SELECT 1 FROM record_error e "
            + "  WHERE e.mapping = $4 AND e.resolved_at IS NULL AND e.message = $2)) "
            + "SELECT count(*) FROM u")
        .execute(Tuple.tuple().addValue(c.id()).addValue(message).addValue(jobId).addValue(c.mapping())
            .addValue(direction.name()).addValue(c.erpId()).addValue(c.crmId())
            .addValue(direction == Direction.FROM_CRM ? "CRM" : "ERP"))
        .map(rows -> rows.iterator().next().getLong(0) > 0);
  }

  /**
   * Couplings whose record on one side was found deleted and not acted on yet (see {@link #noteDeletion}).
   *
   * @param mapping mapping
   * @param crmSide true for CRM deletions, false for ERP ones
   * @param limit at most this many
   * @return the couplings, oldest first
   */
  public Future<List<Coupling>> deletionsPending(String mapping, boolean crmSide, int limit) {
    return pool.preparedQuery("SELECT " + Coupling.COLUMNS + " FROM coupling WHERE mapping = $1 AND deleted_side = $2 "
            + "ORDER BY id LIMIT $3").execute(Tuple.of(mapping, crmSide ? "CRM" : "ERP", limit))
        .map(PgCouplingStore::couplings);
  }

  /**
   * Forgets remembered deletions whose record turned out to exist (restored on its side).
   *
   * @param ids coupling ids
   * @return nothing
   */
  public Future<Void> deletionsWithdrawn(Collection<Long> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery("UPDATE coupling SET deleted_side = NULL, last_error = NULL, updated_at = now() "
            + "WHERE id = ANY($1::bigint[])").execute(Tuple.of(ids.toArray(new Long[0]))).mapEmpty();
  }

  /**
   * @param mapping mapping
   * @return how many of its couplings have both sides
   */
  public Future<Long> countCoupled(String mapping) {
    // The total the coupling triggers keep (V84), not a count(*) of every coupling. First the mapping's deltas are
    // folded into one row (one statement: deleted and re-inserted together; a concurrent fold skips the rows this
    // one took), then summed in a statement of its own, which sees every fold committed before it.
    return pool.preparedQuery("WITH d AS (DELETE FROM coupled_total_delta WHERE mapping = $1 RETURNING n) "
            + "INSERT INTO coupled_total_delta (mapping, n) SELECT $1, sum(n) FROM d HAVING count(*) > 0")
        .execute(Tuple.of(mapping))
        .compose(v -> pool.preparedQuery("SELECT coalesce(sum(n), 0) FROM coupled_total_delta WHERE mapping = $1")
            .execute(Tuple.of(mapping)))
        .map(rows -> rows.iterator().next().getLong(0));
  }

  /**
   * The couplings with both sides counted in the table (what {@link #countCoupled} keeps without counting).
   *
   * @param mapping mapping
   * @return how many of its couplings have both sides, counted
   */
  public Future<Long> countCoupledByScan(String mapping) {
    return pool.preparedQuery("SELECT count(*) FROM coupling WHERE mapping = $1 AND erp_id IS NOT NULL "
            + "AND crm_id IS NOT NULL").execute(Tuple.of(mapping)).map(rows -> rows.iterator().next().getLong(0));
  }

  /**
   * Skips a record by hand (the error list's Skip): every run leaves it alone until it is retried.
   *
   * @param couplingId the record's coupling
   * @return how many were skipped (0 when the coupling is gone)
   */
  public Future<Integer> skip(long couplingId) {
    return pool.preparedQuery("UPDATE coupling SET skipped = true, updated_at = now() WHERE id = $1")
        .execute(Tuple.of(couplingId)).map(RowSet::rowCount);
  }

  /**
   * Makes records retried first on the next run: not skipped, no repeat count, last result failed.
   *
   * @param mapping the mapping
   * @param couplingIds the couplings, or null for every failed, skipped or conflicting one of the mapping
   * @return how many were reset
   */
  public Future<Integer> retry(String mapping, List<Long> couplingIds) {
    return pool.preparedQuery("UPDATE coupling SET skipped = false, error_repeats = 0, "
            + "last_result_to_crm = CASE WHEN last_result_to_crm IN ('failed', 'conflict') THEN 'failed' "
            + "  ELSE last_result_to_crm END, "
            + "last_result_from_crm = CASE WHEN last_result_from_crm IN ('failed', 'conflict') THEN 'failed' "
            + "  ELSE last_result_from_crm END, updated_at = now() "
            + "WHERE mapping = $1 AND ($2::bigint[] IS NULL OR id = ANY($2)) AND (skipped OR deleted_side IS NOT NULL "
            + "  OR last_result_to_crm IN ('failed', 'conflict') OR last_result_from_crm IN ('failed', 'conflict'))")
        .execute(Tuple.tuple().addValue(mapping).addValue(couplingIds == null ? null : couplingIds.toArray(new Long[0])))
        .map(RowSet::rowCount);
  }

  /**
   * Couples two records by hand.
   *
   * @param mapping mapping
   * @param erpId ERP key
   * @param crmId CRM key
   * @return the coupling
   * @throws CouplingConflictException (as the failure) when either record is coupled already
   */
  public Future<Coupling> couple(String mapping, String erpId, String crmId) {
    return pool.preparedQuery("INSERT INTO coupling (mapping, erp_id, crm_id) VALUES ($1, $2, $3) RETURNING "
            + Coupling.COLUMNS)
        .execute(Tuple.of(mapping, erpId, crmId))
        .map(rows -> Coupling.from(rows.iterator().next()))
        .recover(e -> {
          if (e instanceof PgException pg && "23505".equals(pg.getSqlState())) {
            return pool.preparedQuery("SELECT " + Coupling.COLUMNS + " FROM coupling WHERE mapping = $1 AND "
                    + "(erp_id = $2 OR crm_id = $3)").execute(Tuple.of(mapping, erpId, crmId))
                .compose(rows -> {
                  List<String> taken = new ArrayList<>();
                  for (Row r : rows) {
                    Coupling c = Coupling.from(r);
                    taken.add("ERP " + c.erpId() + " <-> CRM " + c.crmId() + " (coupling " + c.id() + ")");
                  }
                  return Future.failedFuture(new CouplingConflictException("mapping " + mapping + ": ERP record "
                      + erpId + " or CRM record " + crmId + " is coupled already: " + String.join("; ", taken)));
                });
          }
          return Future.failedFuture(e);
        });
  }

  /**
   * Couples many record pairs in one statement, leaving out pairs of which either side is coupled already (by a
   * concurrent manual coupling, say): one-to-one holds on both sides whatever happens in between.
   *
   * @param client the pool or a transaction's connection
   * @param mapping mapping
   * @param jobId the job that couples them
   * @param erpIds ERP keys
   * @param crmIds CRM ids, same order
   * @return the ERP keys that were coupled
   */
  public Future<java.util.Set<String>> coupleMany(SqlClient client, String mapping, long jobId, List<String> erpIds,
      List<String> crmIds) {
    if (erpIds.isEmpty()) {
      return Future.succeededFuture(java.util.Set.of());
    }
    return client.preparedQuery("INSERT INTO coupling (mapping, erp_id, crm_id, last_job_id) "
            + "SELECT $1, v.erp, v.crm, $2 FROM unnest($3::text[], $4::text[]) AS v(erp, crm) "
            + "ON CONFLICT DO NOTHING RETURNING erp_id")
        .execute(Tuple.tuple().addValue(mapping).addValue(jobId).addValue(erpIds.toArray(new String[0]))
            .addValue(crmIds.toArray(new String[0])))
        .map(rows -> {
          java.util.Set<String> out = new java.util.HashSet<>(rows.rowCount() * 2);
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /**
   * Removes up to {@code limit} couplings of a mapping; called until it returns less than the limit, so a whole
   * mapping is uncoupled in bounded statements.
   *
   * @param mapping mapping
   * @param limit at most this many
   * @return how many were removed
   */
  public Future<Integer> uncoupleSome(String mapping, int limit) {
    return pool.preparedQuery("DELETE FROM coupling WHERE id IN (SELECT id FROM coupling WHERE mapping = $1 "
            + "ORDER BY id LIMIT $2)").execute(Tuple.of(mapping, limit)).map(RowSet::rowCount);
  }

  /**
   * @param mapping mapping
   * @param ids coupling ids
   * @return how many were removed
   */
  public Future<Integer> uncouple(String mapping, Collection<Long> ids) {
    return pool.preparedQuery("DELETE FROM coupling WHERE mapping = $1 AND id = ANY($2::bigint[])")
        .execute(Tuple.tuple().addValue(mapping).addValue(ids.toArray(new Long[0]))).map(RowSet::rowCount);
  }

  /**
   * @param id a coupling
   * @return 1 when it was removed, 0 when it did not exist
   */
  public Future<Integer> remove(long id) {
    return pool.preparedQuery("DELETE FROM coupling WHERE id = $1").execute(Tuple.of(id)).map(RowSet::rowCount);
  }

  /**
   * The records of a direction that failed and are not skipped, to be retried first; keyset paged.
   *
   * @param mapping mapping
   * @param flow TO_CRM or FROM_CRM
   * @param afterId only coupling ids above this
   * @param limit page size
   * @return the couplings
   */
  public Future<List<Coupling>> retryable(String mapping, Direction flow, long afterId, int limit) {
    String column = flow == Direction.TO_CRM ? "last_result_to_crm" : "last_result_from_crm";
    return pool.preparedQuery("SELECT " + Coupling.COLUMNS + " FROM coupling WHERE mapping = $1 AND NOT skipped "
            + "AND " + column + " = 'failed' AND id > $2 ORDER BY id LIMIT $3")
        .execute(Tuple.of(mapping, afterId, limit)).map(PgCouplingStore::couplings);
  }

  /**
   * Lists couplings for the admin API, keyset paged.
   *
   * @param mapping only this mapping, or null
   * @param erpId only this ERP id, or null
   * @param crmId only this CRM id, or null
   * @param skipped only skipped (true) or not skipped (false) ones, or null
   * @param afterId only ids above this
   * @param limit page size
   * @return the couplings
   */
  public Future<List<Coupling>> list(String mapping, String erpId, String crmId, Boolean skipped, long afterId,
      int limit) {
    return pool.preparedQuery("SELECT " + Coupling.COLUMNS + " FROM coupling WHERE ($1::text IS NULL OR mapping = $1) "
            + "AND ($2::text IS NULL OR erp_id = $2) AND ($3::text IS NULL OR crm_id = $3) "
            + "AND ($4::boolean IS NULL OR skipped = $4) AND id > $5 ORDER BY id LIMIT $6")
        .execute(Tuple.of(mapping, erpId, crmId, skipped, afterId, limit)).map(PgCouplingStore::couplings);
  }

  private static String sourceColumn(Direction side) {
    if (side == Direction.BIDIRECTIONAL) {
      throw new IllegalArgumentException("a side or flow is TO_CRM (ERP ids) or FROM_CRM (CRM ids)");
    }
    return side == Direction.TO_CRM ? "erp_id" : "crm_id";
  }

  private static List<Coupling> couplings(RowSet<Row> rows) {
    List<Coupling> out = new ArrayList<>(rows.rowCount());
    rows.forEach(r -> out.add(Coupling.from(r)));
    return out;
  }
}
