package dev.tandem.runtime.store;

import dev.tandem.api.JobOutcome;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The job queue in PostgreSQL. Claims use {@code FOR UPDATE SKIP LOCKED}, so any number of nodes share one
 * queue; at most one job writes a mapping and direction at a time. A claim holds a lease with a new epoch that
 * the claiming node renews while the job runs and names in every page commit ({@link JobLease}), and a job whose
 * lease expired (its node died or lost PostgreSQL) is put back in the queue by {@link #recoverExpired(long)}
 * after a grace period.
 * Every method is one SQL statement, batched over many jobs where the caller has many.
 */
public final class PgJobQueue {

  /**
   * Claims serialize on one advisory lock per schema (held until the claim commits), so that two nodes cannot
   * both see a mapping free and both take a job of it; the claim itself is one statement.
   */
  private static final String CLAIM_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.job_claim'))";

  /** Two jobs' directions overlap; a job without a direction (the mapping's own) or a bidirectional one holds both. */
  private static final String OVERLAP = "(r.direction IS NULL OR q.direction IS NULL OR r.direction = 'BIDIRECTIONAL' "
      + "OR q.direction = 'BIDIRECTIONAL' OR r.direction = q.direction)";

  /** The parts of one full synchronization line cover disjoint key ranges: they may run side by side. */
  private static final String GROUP = "CASE WHEN q.kind = 'FULL_SYNC' AND q.parameters ->> 'fullSyncRun' IS NOT NULL "
      + "THEN 'run:' || (q.parameters ->> 'fullSyncRun') ELSE 'job:' || q.id END";

  /**
   * A due job whose mapping (and direction) no running job writes; among the candidates, per mapping, only the
   * first one (or the parts of the first one's full-synchronization run). A job stays 'running' until it ended
   * or its lease was recovered, so an expired but unrecovered lease still keeps its mapping.
   */
  private static final String CLAIM = "WITH cand AS (SELECT q.id, q.mapping, q.priority, q.run_at, " + GROUP + " AS grp "
      + "  FROM job q WHERE q.status = 'queued' AND q.run_at <= now() "
      + "  AND NOT EXISTS (SELECT 1 FROM job r WHERE r.status = 'running' AND r.mapping = q.mapping AND " + OVERLAP
      + "    AND NOT (r.kind = 'FULL_SYNC' AND q.kind = 'FULL_SYNC' AND r.parameters ->> 'fullSyncRun' IS NOT NULL "
      + "    AND r.parameters ->> 'fullSyncRun' = q.parameters ->> 'fullSyncRun')) "
      + "  ORDER BY q.priority, q.run_at, q.id LIMIT $4 FOR UPDATE OF q SKIP LOCKED), "
      + "ranked AS (SELECT id, grp, priority, run_at, "
      + "  first_value(grp) OVER (PARTITION BY mapping ORDER BY priority, run_at, id) AS first_grp FROM cand), "
      + "pick AS (SELECT id FROM ranked WHERE grp = first_grp ORDER BY priority, run_at, id LIMIT $3) "
      + "UPDATE job j SET status = 'running', lease_owner = $1, "
      + "lease_until = now() + $2 * interval '1 millisecond', lease_epoch = j.lease_epoch + 1, "
      + "attempts = j.attempts + 1, started_at = COALESCE(j.started_at, now()) "
      + "FROM pick WHERE j.id = pick.id RETURNING " + prefixed("j.");

  private static final String COMPLETE = "WITH v AS (SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], "
      + "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[]) "
      + "  AS v(id, inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, message, epoch)), "
      + "done AS (UPDATE job j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_until = NULL, "
      + "  inserted = v.inserted, modified = v.modified, deleted = v.deleted, unchanged = v.unchanged, "
      + "  skipped = v.skipped, failed = v.failed, coupled = v.coupled, uncoupled = v.uncoupled, "
      + "  message = v.message, error_stage = NULL "
      + "  FROM v WHERE j.id = v.id AND j.lease_owner = $1 AND j.status = 'running' "
      + "  AND (v.epoch IS NULL OR j.lease_epoch = v.epoch) "
      + "  RETURNING j.id, j.schedule_id, (v.inserted + v.modified + v.deleted + v.coupled + v.uncoupled) > 0 AS changed), "
      + "act AS (UPDATE schedule s SET last_activity_at = now() FROM done "
      + "  WHERE s.id = done.schedule_id AND done.changed RETURNING s.id) "
      + "SELECT id FROM done";

  private static final String FAIL = "UPDATE job SET "
      + "status = CASE WHEN $3 AND attempts < max_attempts THEN 'queued' ELSE 'failed' END, "
      + "run_at = CASE WHEN $3 AND attempts < max_attempts "
      + "  THEN now() + COALESCE($4, LEAST($5 * (2 ^ (attempts - 1)), $6)) * interval '1 millisecond' ELSE run_at END, "
      + "finished_at = CASE WHEN $3 AND attempts < max_attempts THEN NULL ELSE now() END, "
      + "lease_owner = NULL, lease_until = NULL, error_stage = $7, "
      + "message = CASE WHEN $3 AND attempts < max_attempts "
      + "  THEN 'attempt ' || attempts || ' of ' || max_attempts || ' failed, will retry: ' || $8 "
      + "  WHEN $3 THEN 'failed after ' || attempts || ' attempts: ' || $8 ELSE $8 END "
      + "WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND ($9::bigint IS NULL OR lease_epoch = $9) "
      + "RETURNING status";

  /** A lease that already expired is not renewed: it is lost, and its holder must stop. */
  private static final String RENEW = "UPDATE job j SET lease_until = now() + $3 * interval '1 millisecond' "
      + "FROM unnest($2::bigint[], $4::bigint[]) AS v(id, epoch) "
      + "WHERE j.id = v.id AND j.lease_epoch = v.epoch AND j.lease_owner = $1 AND j.status = 'running' "
      + "AND j.lease_until > now() RETURNING j.id";

  private static final String RECOVER = "UPDATE job SET "
      + "status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, "
      + "finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END, "
      + "run_at = now(), error_stage = 'DISPATCH', "
      + "message = 'lease of node ' || lease_owner || ' expired at ' || lease_until || ' (node stopped or lost)' "
      + "  || CASE WHEN attempts < max_attempts THEN '; requeued' ELSE '; attempts exhausted' END, "
      + "lease_owner = NULL, lease_until = NULL "
      + "WHERE status = 'running' AND lease_until < now() - $1 * interval '1 millisecond' RETURNING id";

  private final Pool pool;

  /** @param pool the PostgreSQL pool; its connections have the Tandem schema on the search path */
  public PgJobQueue(Pool pool) {
    this.pool = pool;
  }

  private static String prefixed(String prefix) {
    return prefix + Job.COLUMNS.replace(", ", ", " + prefix);
  }

  /**
   * @param job the job
   * @param defaultMaxAttempts used when the job names no limit
   * @return the new job's id
   */
  public Future<Long> enqueue(NewJob job, int defaultMaxAttempts) {
    return enqueueAll(List.of(job), defaultMaxAttempts).map(ids -> ids.get(0));
  }

  /**
   * Enqueues many jobs in one statement.
   *
   * @param jobs the jobs
   * @param defaultMaxAttempts used for jobs naming no limit
   * @return their ids, in order
   */
  public Future<List<Long>> enqueueAll(List<NewJob> jobs, int defaultMaxAttempts) {
    int n = jobs.size();
    String[] kinds = new String[n];
    String[] mappings = new String[n];
    String[] directions = new String[n];
    String[] params = new String[n];
    Integer[] priorities = new Integer[n];
    Integer[] attempts = new Integer[n];
    Long[] parents = new Long[n];
    for (int i = 0; i < n; i++) {
      NewJob j = jobs.get(i);
      kinds[i] = j.kind().name();
      mappings[i] = j.mapping();
      directions[i] = j.direction() == null ? null : j.direction().name();
      params[i] = j.parameters().encode();
      priorities[i] = j.priority();
      attempts[i] = j.maxAttempts() > 0 ? j.maxAttempts() : defaultMaxAttempts;
      parents[i] = j.parentId();
    }
    // WITH ORDINALITY keeps the ids in the order of the jobs given.
    String sql = "INSERT INTO job (kind, mapping, direction, parameters, priority, max_attempts, parent_id) "
        + "SELECT kind, mapping, direction, parameters::jsonb, priority, max_attempts, parent_id "
        + "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[]) "
        + "WITH ORDINALITY AS t(kind, mapping, direction, parameters, priority, max_attempts, parent_id, ord) "
        + "ORDER BY ord RETURNING id";
    return pool.preparedQuery(sql)
        .execute(Tuple.tuple().addValue(kinds).addValue(mappings).addValue(directions).addValue(params)
            .addValue(priorities).addValue(attempts).addValue(parents))
        .map(rows -> {
          List<Long> ids = new ArrayList<>(n);
          rows.forEach(r -> ids.add(r.getLong(0)));
          return ids;
        });
  }

  /**
   * Claims due jobs for a node: never a job of a mapping and direction that a running job writes (the parts of
   * one full-synchronization line excepted), and at most one per mapping per claim. Each claim gives the job's
   * lease a new epoch ({@link Job#leaseEpoch()}), which fences out any earlier holder.
   *
   * @param node the claiming node's id
   * @param limit at most this many
   * @param leaseMs how long the claim holds without renewal
   * @return the claimed jobs, now {@link JobStatus#RUNNING}, their attempt counted
   */
  public Future<List<Job>> claim(String node, int limit, long leaseMs) {
    return pool.withTransaction(tx -> tx.query(CLAIM_LOCK).execute()
        .compose(v -> tx.preparedQuery(CLAIM).execute(Tuple.of(node, leaseMs, limit, Math.max(limit * 4, 64)))))
        .map(PgJobQueue::jobs);
  }

  /**
   * Extends the leases of the jobs a node is running, as long as they have not expired.
   *
   * @param node the node
   * @param epochs the jobs it runs, with the epoch of its claim
   * @param leaseMs new lease length from now
   * @return the jobs whose lease was extended; the others' leases are lost
   */
  public Future<java.util.Set<Long>> renew(String node, Map<Long, Long> epochs, long leaseMs) {
    if (epochs.isEmpty()) {
      return Future.succeededFuture(java.util.Set.of());
    }
    Long[] ids = new Long[epochs.size()];
    Long[] eps = new Long[epochs.size()];
    int i = 0;
    for (Map.Entry<Long, Long> e : epochs.entrySet()) {
      ids[i] = e.getKey();
      eps[i++] = e.getValue();
    }
    return pool.preparedQuery(RENEW).execute(Tuple.tuple().addValue(node).addValue(ids).addValue(leaseMs).addValue(eps))
        .map(rows -> {
          java.util.Set<Long> renewed = new java.util.HashSet<>();
          rows.forEach(r -> renewed.add(r.getLong(0)));
          return renewed;
        });
  }

  /**
   * Marks jobs succeeded with their counts, in one statement; a schedule whose job changed something is
   * marked active. Jobs whose lease the node lost meanwhile are left alone.
   *
   * @param node the node that ran them
   * @param outcomes job id to outcome
   * @return the ids actually completed
   */
  public Future<List<Long>> complete(String node, Map<Long, JobOutcome> outcomes) {
    return complete(node, outcomes, Map.of());
  }

  /**
   * As {@link #complete(String, Map)}, each job only if its lease still has the given epoch.
   *
   * @param node the node that ran them
   * @param outcomes job id to outcome
   * @param epochs job id to the epoch of the node's claim (jobs missing here are checked by owner only)
   * @return the ids actually completed
   */
  public Future<List<Long>> complete(String node, Map<Long, JobOutcome> outcomes, Map<Long, Long> epochs) {
    int n = outcomes.size();
    Long[] eps = new Long[n];
    Long[] ids = new Long[n];
    Long[][] counts = new Long[8][n];
    String[] messages = new String[n];
    int i = 0;
    for (Map.Entry<Long, JobOutcome> e : outcomes.entrySet()) {
      JobOutcome o = e.getValue();
      ids[i] = e.getKey();
      counts[0][i] = o.inserted();
      counts[1][i] = o.modified();
      counts[2][i] = o.deleted();
      counts[3][i] = o.unchanged();
      counts[4][i] = o.skipped();
      counts[5][i] = o.failed();
      counts[6][i] = o.coupled();
      counts[7][i] = o.uncoupled();
      messages[i] = o.message();
      eps[i] = epochs.get(e.getKey());
      i++;
    }
    // Tuple.of(Object, Object...) would spread an array argument: add arrays one by one.
    Tuple t = Tuple.tuple().addValue(node).addValue(ids);
    for (Long[] c : counts) {
      t.addValue(c);
    }
    t.addValue(messages).addValue(eps);
    return pool.preparedQuery(COMPLETE).execute(t).map(rows -> {
      List<Long> done = new ArrayList<>(rows.rowCount());
      rows.forEach(r -> done.add(r.getLong(0)));
      return done;
    });
  }

  /**
   * Records a failed attempt: a retriable failure with attempts left goes back to the queue after a backoff
   * that doubles per attempt (or the failure's retry-after); otherwise the job fails for good.
   *
   * @param node the node that ran it
   * @param id the job
   * @param error the failure
   * @param backoffMs first retry delay
   * @param backoffMaxMs ceiling of the delay
   * @return the job's status afterwards, empty when the node no longer held it
   */
  public Future<Optional<JobStatus>> fail(String node, long id, TandemException error, long backoffMs,
      long backoffMaxMs) {
    return fail(node, id, null, error, backoffMs, backoffMaxMs);
  }

  /**
   * As {@link #fail(String, long, TandemException, long, long)}, only if the lease still has the given epoch.
   *
   * @param node the node that ran it
   * @param id the job
   * @param epoch the epoch of the node's claim, or null to check by owner only
   * @param error the failure
   * @param backoffMs first retry delay
   * @param backoffMaxMs ceiling of the delay
   * @return the job's status afterwards, empty when the node no longer held it
   */
  public Future<Optional<JobStatus>> fail(String node, long id, Long epoch, TandemException error, long backoffMs,
      long backoffMaxMs) {
    boolean retriable = error.kind() != dev.tandem.api.ErrorKind.PERMANENT;
    Long retryAfter = error.retryAfter() == null ? null : error.retryAfter().toMillis();
    return pool.preparedQuery(FAIL)
        .execute(Tuple.of(id, node, retriable, retryAfter, backoffMs, backoffMaxMs, error.stage().name(),
            "[" + error.stage() + "] " + error.getMessage()).addValue(epoch))
        .map(rows -> rows.rowCount() == 0 ? Optional.<JobStatus>empty()
            : Optional.of(JobStatus.fromDb(rows.iterator().next().getString(0))));
  }

  /**
   * Puts jobs whose lease expired at least {@code graceMs} ago back in the queue (or fails them when their
   * attempts are used up). The grace is the margin between the moment a holder stops writing (its lease ran out
   * by its own clock) and the moment another node may start.
   *
   * @param graceMs how long a lease must have been expired
   * @return the ids recovered
   */
  public Future<List<Long>> recoverExpired(long graceMs) {
    return pool.preparedQuery(RECOVER).execute(Tuple.of(graceMs)).map(rows -> {
      List<Long> ids = new ArrayList<>();
      rows.forEach(r -> ids.add(r.getLong(0)));
      return ids;
    });
  }

  /**
   * @param id a job id
   * @return the job, if it exists
   */
  public Future<Optional<Job>> get(long id) {
    return pool.preparedQuery("SELECT " + Job.COLUMNS + " FROM job WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> rows.rowCount() == 0 ? Optional.empty() : Optional.of(Job.from(rows.iterator().next())));
  }

  /**
   * Lists jobs newest first, with keyset paging.
   *
   * @param status only this status, or null
   * @param mapping only this mapping, or null
   * @param kind only this kind, or null
   * @param beforeId only ids below this, or null
   * @param limit at most this many
   * @return the jobs
   */
  public Future<List<Job>> list(JobStatus status, String mapping, String kind, Long beforeId, int limit) {
    String sql = "SELECT " + Job.COLUMNS + " FROM job WHERE ($1::text IS NULL OR status = $1) "
        + "AND ($2::text IS NULL OR mapping = $2) AND ($3::text IS NULL OR kind = $3) "
        + "AND ($4::bigint IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(status == null ? null : status.db(), mapping, kind, beforeId, limit))
        .map(PgJobQueue::jobs);
  }

  /** @return the number of jobs per status, for every status present */
  public Future<Map<JobStatus, Long>> countByStatus() {
    return pool.query("SELECT status, count(*) FROM job WHERE status IN ('queued', 'running') GROUP BY status")
        .execute().map(rows -> {
          Map<JobStatus, Long> m = new HashMap<>();
          rows.forEach(r -> m.put(JobStatus.fromDb(r.getString(0)), r.getLong(1)));
          return m;
        });
  }

  /**
   * Cancels a job that has not started yet.
   *
   * @param id the job
   * @return the job's status afterwards: CANCELLED, or the status that prevented it (empty when absent)
   */
  public Future<Optional<JobStatus>> cancel(long id) {
    return pool.preparedQuery("WITH c AS (UPDATE job SET status = 'cancelled', finished_at = now(), "
            + "message = 'cancelled before it ran' WHERE id = $1 AND status = 'queued' RETURNING status) "
            + "SELECT status FROM c UNION ALL SELECT status FROM job WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM c)")
        .execute(Tuple.of(id))
        .map(rows -> rows.rowCount() == 0 ? Optional.<JobStatus>empty()
            : Optional.of(JobStatus.fromDb(rows.iterator().next().getString(0))));
  }

  /**
   * Deletes ended jobs (succeeded, failed, cancelled) that finished before the cutoff: the job log's retention.
   * Jobs still referenced as a parent are kept until their children go.
   *
   * @param olderThanMs age in milliseconds
   * @param limit at most this many per call, so a large backlog is removed in bounded steps
   * @return how many were deleted
   */
  public Future<Integer> purgeEnded(long olderThanMs, int limit) {
    // A job's per-record results go with it.
    return pool.preparedQuery("WITH d AS (DELETE FROM job WHERE id IN (SELECT id FROM job j WHERE status IN "
            + "('succeeded', 'failed', 'cancelled') AND finished_at < now() - $1 * interval '1 millisecond' "
            + "AND NOT EXISTS (SELECT 1 FROM job c WHERE c.parent_id = j.id) LIMIT $2) RETURNING id), "
            + "r AS (DELETE FROM job_record WHERE job_id IN (SELECT id FROM d)) SELECT count(*) FROM d")
        .execute(Tuple.of(olderThanMs, limit)).map(rows -> rows.iterator().next().getLong(0).intValue());
  }

  /**
   * Stores a checkpoint for a running job, so a later attempt resumes from it.
   *
   * @param node the node running it
   * @param id the job
   * @param checkpoint opaque to the queue
   * @return whether the node still held the job
   */
  public Future<Boolean> checkpoint(String node, long id, JsonObject checkpoint) {
    return pool.preparedQuery("UPDATE job SET checkpoint = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'")
        .execute(Tuple.of(id, node, checkpoint)).map(rows -> rows.rowCount() == 1);
  }

  /**
   * Stores a job's checkpoint inside a page's transaction (the lease was verified in that transaction).
   *
   * @param tx the page's transaction
   * @param id the job
   * @param checkpoint opaque to the queue
   * @return done
   */
  public static Future<Void> checkpoint(SqlConnection tx, long id, JsonObject checkpoint) {
    return tx.preparedQuery("UPDATE job SET checkpoint = $2 WHERE id = $1").execute(Tuple.of(id, checkpoint))
        .mapEmpty();
  }

  /**
   * What an event stream follows: the jobs created after a given id and the given jobs (those that were queued or
   * running), oldest first. Both by primary key.
   *
   * @param afterId jobs with a larger id
   * @param ids and these
   * @param limit at most this many
   * @return the jobs
   */
  public Future<List<Job>> changes(long afterId, java.util.Collection<Long> ids, int limit) {
    return pool.preparedQuery("SELECT " + Job.COLUMNS + " FROM job WHERE id > $1 OR id = ANY($2) ORDER BY id LIMIT $3")
        .execute(Tuple.of(afterId, ids.toArray(new Long[0]), limit)).map(PgJobQueue::jobs);
  }

  /**
   * @param limit at most this many
   * @return the largest job id (0 without jobs) and the ids of the queued and running jobs, newest first
   */
  public Future<java.util.Map.Entry<Long, List<Long>>> openJobs(int limit) {
    return pool.preparedQuery("SELECT (SELECT coalesce(max(id), 0) FROM job) AS max_id, array(SELECT id FROM job "
        + "WHERE status IN ('queued', 'running') ORDER BY id DESC LIMIT $1) AS open").execute(Tuple.of(limit))
        .map(rows -> {
          Row r = rows.iterator().next();
          return java.util.Map.entry(r.getLong("max_id"), java.util.Arrays.asList(r.getArrayOfLongs("open")));
        });
  }

  private static List<Job> jobs(RowSet<Row> rows) {
    List<Job> out = new ArrayList<>(rows.rowCount());
    rows.forEach(r -> out.add(Job.from(r)));
    return out;
  }
}
