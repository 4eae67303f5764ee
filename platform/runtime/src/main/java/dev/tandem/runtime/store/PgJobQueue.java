package dev.tandem.runtime.store;

import dev.tandem.api.JobOutcome;
import dev.tandem.api.TandemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The job queue in PostgreSQL. Claims use {@code FOR UPDATE SKIP LOCKED}, so any number of nodes share one
 * queue without blocking each other; a claim holds a lease that the claiming node renews while the job runs,
 * and a job whose lease expired (its node died) is put back in the queue by {@link #recoverExpired()}.
 * Every method is one SQL statement, batched over many jobs where the caller has many.
 */
public final class PgJobQueue {

  private static final String CLAIM = "UPDATE job j SET status = 'running', lease_owner = $1, "
      + "lease_until = now() + $2 * interval '1 millisecond', attempts = j.attempts + 1, "
      + "started_at = COALESCE(j.started_at, now()) "
      + "FROM (SELECT id FROM job WHERE status = 'queued' AND run_at <= now() "
      + "      ORDER BY priority, run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due "
      + "WHERE j.id = due.id RETURNING " + prefixed("j.");

  private static final String COMPLETE = "WITH v AS (SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], "
      + "$5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) "
      + "  AS v(id, inserted, modified, deleted, unchanged, skipped, failed, coupled, uncoupled, message)), "
      + "done AS (UPDATE job j SET status = 'succeeded', finished_at = now(), lease_owner = NULL, lease_until = NULL, "
      + "  inserted = v.inserted, modified = v.modified, deleted = v.deleted, unchanged = v.unchanged, "
      + "  skipped = v.skipped, failed = v.failed, coupled = v.coupled, uncoupled = v.uncoupled, "
      + "  message = v.message, error_stage = NULL "
      + "  FROM v WHERE j.id = v.id AND j.lease_owner = $1 AND j.status = 'running' "
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
      + "WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING status";

  private static final String RENEW = "UPDATE job SET lease_until = now() + $3 * interval '1 millisecond' "
      + "WHERE id = ANY($2::bigint[]) AND lease_owner = $1 AND status = 'running' RETURNING id";

  private static final String RECOVER = "UPDATE job SET "
      + "status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, "
      + "finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END, "
      + "run_at = now(), error_stage = 'DISPATCH', "
      + "message = 'lease of node ' || lease_owner || ' expired at ' || lease_until || ' (node stopped or lost)' "
      + "  || CASE WHEN attempts < max_attempts THEN '; requeued' ELSE '; attempts exhausted' END, "
      + "lease_owner = NULL, lease_until = NULL "
      + "WHERE status = 'running' AND lease_until < now() RETURNING id";

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
   * Claims due jobs for a node.
   *
   * @param node the claiming node's id
   * @param limit at most this many
   * @param leaseMs how long the claim holds without renewal
   * @return the claimed jobs, now {@link JobStatus#RUNNING}, their attempt counted
   */
  public Future<List<Job>> claim(String node, int limit, long leaseMs) {
    return pool.preparedQuery(CLAIM).execute(Tuple.of(node, leaseMs, limit)).map(PgJobQueue::jobs);
  }

  /**
   * Extends the leases of the jobs a node is running.
   *
   * @param node the node
   * @param ids the jobs it runs
   * @param leaseMs new lease length from now
   * @return how many leases were extended (fewer when a lease was lost)
   */
  public Future<Integer> renew(String node, Collection<Long> ids, long leaseMs) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return pool.preparedQuery(RENEW).execute(Tuple.tuple().addValue(node).addValue(ids.toArray(new Long[0])).addValue(leaseMs))
        .map(RowSet::rowCount);
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
    int n = outcomes.size();
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
      i++;
    }
    // Tuple.of(Object, Object...) would spread an array argument: add arrays one by one.
    Tuple t = Tuple.tuple().addValue(node).addValue(ids);
    for (Long[] c : counts) {
      t.addValue(c);
    }
    t.addValue(messages);
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
    boolean retriable = error.kind() != dev.tandem.api.ErrorKind.PERMANENT;
    Long retryAfter = error.retryAfter() == null ? null : error.retryAfter().toMillis();
    return pool.preparedQuery(FAIL)
        .execute(Tuple.of(id, node, retriable, retryAfter, backoffMs, backoffMaxMs, error.stage().name(),
            "[" + error.stage() + "] " + error.getMessage()))
        .map(rows -> rows.rowCount() == 0 ? Optional.<JobStatus>empty()
            : Optional.of(JobStatus.fromDb(rows.iterator().next().getString(0))));
  }

  /**
   * Puts jobs whose lease expired back in the queue (or fails them when their attempts are used up).
   *
   * @return the ids recovered
   */
  public Future<List<Long>> recoverExpired() {
    return pool.query(RECOVER).execute().map(rows -> {
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

  private static List<Job> jobs(RowSet<Row> rows) {
    List<Job> out = new ArrayList<>(rows.rowCount());
    rows.forEach(r -> out.add(Job.from(r)));
    return out;
  }
}
