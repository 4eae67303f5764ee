package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Full synchronization runs and their lines in PostgreSQL, and the progress of their jobs. */
public final class PgFullSyncStore {

  /** A second start while a run is going. */
  public static final class AlreadyRunningException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    AlreadyRunningException(String message) {
      super(message);
    }
  }

  /**
   * A line of a run as stored.
   *
   * @param mapping mapping
   * @param direction TO_CRM, FROM_CRM or null (nothing to do)
   * @param dependencies the mappings of the run it waits for
   * @param status waiting, running, succeeded, partial (ended with failed records), failed, held, skipped
   * @param reason why it is held, skipped or failed
   * @param estimated rows expected
   * @param startedAt when its jobs were enqueued
   * @param finishedAt when it ended
   * @param sourceMark the source side's newest modified-on when it started, where its watermark moves, or null
   */
  public record Line(String mapping, String direction, List<String> dependencies, String status, String reason,
      Long estimated, OffsetDateTime startedAt, OffsetDateTime finishedAt, OffsetDateTime sourceMark) {

    /** A line not started yet. */
    public Line(String mapping, String direction, List<String> dependencies, String status, String reason,
        Long estimated, OffsetDateTime startedAt, OffsetDateTime finishedAt) {
      this(mapping, direction, dependencies, status, reason, estimated, startedAt, finishedAt, null);
    }
  }

  /**
   * A run as stored.
   *
   * @param id id
   * @param status running, succeeded, failed, cancelled
   * @param parts key ranges a large ERP-to-CRM line is cut into
   * @param splitAtRows a line with at least this many rows is large
   * @param startedAt start
   * @param finishedAt end, or null
   * @param message what happened, when it ended
   */
  public record Run(long id, String status, int parts, long splitAtRows, OffsetDateTime startedAt,
      OffsetDateTime finishedAt, String message) {
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("status", status.toUpperCase(java.util.Locale.ROOT))
          .put("parts", parts).put("splitAtRows", splitAtRows).put("startedAt", startedAt.toInstant().toString())
          .put("finishedAt", finishedAt == null ? null : finishedAt.toInstant().toString()).put("message", message);
    }
  }

  /**
   * What a line's jobs have done.
   *
   * @param jobs how many jobs
   * @param succeeded how many ended well
   * @param failed how many ended failed or cancelled
   * @param done records handled (checkpoints of running jobs included)
   * @param counts the summed counts of ended jobs and the checkpoints of running ones
   * @param firstError the message of a failed job, or null
   */
  public record Progress(int jobs, int succeeded, int failed, long done, JsonObject counts, String firstError,
      int tracking) {}

  private final Pool pool;

  /** @param pool PostgreSQL */
  public PgFullSyncStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * Creates a run with its lines, refusing when one is running.
   *
   * @param parts key ranges per large line
   * @param splitAtRows lines with at least this many rows are cut into ranges
   * @param lines the lines, in review order
   * @return the run's id
   */
  public Future<Long> create(int parts, long splitAtRows, List<Line> lines) {
    return pool.withTransaction(tx -> tx.preparedQuery("INSERT INTO full_sync_run (parts, split_at_rows) "
            + "VALUES ($1, $2) RETURNING id")
        .execute(Tuple.of(parts, splitAtRows)).compose(rows -> {
          long id = rows.iterator().next().getLong(0);
          List<Tuple> batch = new ArrayList<>();
          for (Line l : lines) {
            batch.add(Tuple.of(id, l.mapping(), batch.size(), l.direction(), l.dependencies().toArray(new String[0]),
                l.status(), l.reason(), l.estimated()));
          }
          return tx.preparedQuery("INSERT INTO full_sync_line (run_id, mapping, position, direction, dependencies, "
              + "status, reason, estimated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)").executeBatch(batch).map(x -> id);
        })).recover(e -> e instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.failedFuture(new AlreadyRunningException("a full synchronization is running already; "
                + "wait for it to end (GET /api/v1/full-sync)"))
            : Future.failedFuture(e));
  }

  /** @return the newest run, if any */
  public Future<Optional<Run>> latest() {
    return pool.query("SELECT * FROM full_sync_run ORDER BY id DESC LIMIT 1").execute()
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(run(rows.iterator().next())));
  }

  /**
   * Locks the running run, if any, for one coordinator: the others skip it.
   *
   * @param tx the coordinator's transaction
   * @return the run
   */
  public Future<Optional<Run>> lockRunning(SqlConnection tx) {
    return tx.query("SELECT * FROM full_sync_run WHERE status = 'running' FOR UPDATE SKIP LOCKED").execute()
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(run(rows.iterator().next())));
  }

  /**
   * @param client pool or transaction
   * @param runId the run
   * @return its lines, in review order
   */
  public Future<List<Line>> lines(SqlClient client, long runId) {
    return client.preparedQuery("SELECT * FROM full_sync_line WHERE run_id = $1 ORDER BY position").execute(Tuple.of(runId))
        .map(rows -> {
          List<Line> out = new ArrayList<>();
          for (Row r : rows) {
            String[] deps = r.getArrayOfStrings("dependencies");
            out.add(new Line(r.getString("mapping"), r.getString("direction"), deps == null ? List.of() : List.of(deps),
                r.getString("status"), r.getString("reason"), r.getLong("estimated"),
                r.getOffsetDateTime("started_at"), r.getOffsetDateTime("finished_at"),
                r.getOffsetDateTime("source_mark")));
          }
          return out;
        });
  }

  /**
   * @param client pool or transaction
   * @param runId the run
   * @return per mapping, what its jobs have done: one query for the whole run
   */
  public Future<Map<String, Progress>> progress(SqlClient client, long runId) {
    return client.preparedQuery("SELECT mapping, count(*) AS jobs, "
            + "count(*) FILTER (WHERE status = 'succeeded') AS ok, "
            + "count(*) FILTER (WHERE status IN ('failed', 'cancelled')) AS bad, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') "
            + "  THEN inserted + modified + unchanged + skipped + failed "
            + "  ELSE coalesce((checkpoint ->> 'done')::bigint, 0) END), 0) AS done, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') THEN inserted "
            + "  ELSE coalesce((checkpoint -> 'counts' ->> 'inserted')::bigint, 0) END), 0) AS inserted, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') THEN modified "
            + "  ELSE coalesce((checkpoint -> 'counts' ->> 'modified')::bigint, 0) END), 0) AS modified, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') THEN unchanged "
            + "  ELSE coalesce((checkpoint -> 'counts' ->> 'unchanged')::bigint, 0) END), 0) AS unchanged, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') THEN skipped "
            + "  ELSE coalesce((checkpoint -> 'counts' ->> 'skipped')::bigint, 0) END), 0) AS skipped, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') THEN failed "
            + "  ELSE coalesce((checkpoint -> 'counts' ->> 'failed')::bigint, 0) END), 0) AS failed, "
            + "coalesce(sum(CASE WHEN status IN ('succeeded', 'failed') THEN coupled "
            + "  ELSE coalesce((checkpoint -> 'counts' ->> 'coupled')::bigint, 0) END), 0) AS coupled, "
            + "min(message) FILTER (WHERE status IN ('failed', 'cancelled')) AS first_error, "
            + "count(*) FILTER (WHERE parameters ? 'track') AS tracking "
            + "FROM job WHERE kind = 'FULL_SYNC' AND (parameters ->> 'fullSyncRun')::bigint = $1 GROUP BY mapping")
        .execute(Tuple.of(runId)).map(rows -> {
          Map<String, Progress> out = new HashMap<>();
          for (Row r : rows) {
            JsonObject counts = new JsonObject();
            for (String c : new String[] {"inserted", "modified", "unchanged", "skipped", "failed", "coupled"}) {
              counts.put(c, r.getLong(c));
            }
            out.put(r.getString("mapping"), new Progress(r.getInteger("jobs"), r.getInteger("ok"), r.getInteger("bad"),
                r.getLong("done"), counts, r.getString("first_error"), r.getInteger("tracking")));
          }
          return out;
        });
  }

  /**
   * Updates a line.
   *
   * @param tx the coordinator's transaction
   * @param runId run
   * @param mapping line
   * @param status new status
   * @param reason why, or null
   * @param estimated rows expected, or null to keep
   * @return done
   */
  public Future<Void> setLine(SqlClient tx, long runId, String mapping, String status, String reason, Long estimated) {
    return tx.preparedQuery("UPDATE full_sync_line SET status = $3, reason = $4, estimated = coalesce($5, estimated), "
            + "started_at = CASE WHEN $3 = 'running' THEN now() ELSE started_at END, "
            + "finished_at = CASE WHEN $3 IN ('succeeded', 'partial', 'failed', 'held', 'skipped') THEN now() "
            + "ELSE NULL END "
            + "WHERE run_id = $1 AND mapping = $2")
        .execute(Tuple.of(runId, mapping, status, reason, estimated)).mapEmpty();
  }

  /**
   * Notes the source side's newest modified-on as a line starts.
   *
   * @param tx the coordinator's transaction
   * @param runId run
   * @param mapping line
   * @param mark the endpoint's newest modified-on, or null
   * @return done
   */
  public Future<Void> markOther(SqlClient tx, long runId, String mapping, OffsetDateTime mark) {
    return tx.preparedQuery("UPDATE full_sync_line SET other_mark = $3 WHERE run_id = $1 AND mapping = $2")
        .execute(Tuple.of(runId, mapping, mark)).mapEmpty();
  }

  /** @return the other side's newest modified-on when the line started, or null */
  public Future<OffsetDateTime> otherMark(SqlClient tx, long runId, String mapping) {
    return tx.preparedQuery("SELECT other_mark FROM full_sync_line WHERE run_id = $1 AND mapping = $2")
        .execute(Tuple.of(runId, mapping))
        .map(rows -> rows.rowCount() == 0 ? null : rows.iterator().next().getOffsetDateTime(0));
  }

  public Future<Void> markLine(SqlClient tx, long runId, String mapping, OffsetDateTime mark) {
    return tx.preparedQuery("UPDATE full_sync_line SET source_mark = $3 WHERE run_id = $1 AND mapping = $2")
        .execute(Tuple.of(runId, mapping, mark)).mapEmpty();
  }

  /**
   * Ends a run.
   *
   * @param tx the coordinator's transaction
   * @param runId run
   * @param status succeeded or failed
   * @param message summary
   * @return done
   */
  public Future<Void> finish(SqlClient tx, long runId, String status, String message) {
    return tx.preparedQuery("UPDATE full_sync_run SET status = $2, message = $3, finished_at = now() WHERE id = $1")
        .execute(Tuple.of(runId, status, message)).mapEmpty();
  }

  private static Run run(Row r) {
    return new Run(r.getLong("id"), r.getString("status"), r.getInteger("parts"), r.getLong("split_at_rows"),
        r.getOffsetDateTime("started_at"),
        r.getOffsetDateTime("finished_at"), r.getString("message"));
  }
}
