package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * Recurring jobs per mapping. Each tick turns due schedules into jobs in one statement; a schedule whose runs
 * changed nothing for its inactivity timeout goes on hold instead ("sleeps", as the reference system's job queue
 * entries do), and {@link #wake(String)} makes it active and due at once.
 */
public final class PgScheduleStore {

  // A mapping whose full synchronization is waiting or running gets no scheduled runs meanwhile: the full run
  // covers them, and they would only read the same rows twice. Its schedule stays due and runs once the line ends.
  private static final String TICK = "WITH due AS (SELECT id FROM schedule WHERE state = 'active' AND next_run_at <= now() "
      + "  AND NOT EXISTS (SELECT 1 FROM full_sync_line l JOIN full_sync_run r ON r.id = l.run_id "
      + "    WHERE r.status = 'running' AND l.mapping = schedule.mapping AND l.status IN ('waiting', 'running')) "
      // The connection's Enabled switch off stops every schedule, on every node.
      + "  AND NOT EXISTS (SELECT 1 FROM connection_setting c WHERE NOT c.enabled) "
      // A schedule whose run is still queued or going stays due rather than moving on by an interval it did not
      // use: a change that came in during the run is picked up by the next tick after the run ends, not an interval
      // later (a sales order submitted while a run writes others reaches the ERP that much sooner).
      + "  AND NOT EXISTS (SELECT 1 FROM job j WHERE j.schedule_id = schedule.id AND j.status IN ('queued', 'running')) "
      + "  ORDER BY next_run_at FOR UPDATE SKIP LOCKED), "
      + "upd AS (UPDATE schedule s SET "
      + "  state = CASE WHEN s.inactivity_timeout_ms > 0 "
      + "    AND s.last_activity_at + s.inactivity_timeout_ms * interval '1 millisecond' < now() THEN 'on_hold' ELSE 'active' END, "
      + "  held_at = CASE WHEN s.inactivity_timeout_ms > 0 "
      + "    AND s.last_activity_at + s.inactivity_timeout_ms * interval '1 millisecond' < now() THEN now() ELSE NULL END, "
      + "  next_run_at = now() + s.interval_ms * interval '1 millisecond' "
      + "  FROM due WHERE s.id = due.id RETURNING s.id, s.mapping, s.kind, s.direction, s.state) "
      + "INSERT INTO job (kind, mapping, direction, schedule_id, max_attempts) "
      + "SELECT kind, mapping, direction, id, $1 FROM upd WHERE state = 'active' "
      + "ON CONFLICT (schedule_id) WHERE status IN ('queued', 'running') DO NOTHING RETURNING id";

  private final Pool pool;

  /** @param pool the pool */
  public PgScheduleStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * Creates the sync schedule of a mapping if it has none; an existing schedule keeps its settings (operators
   * may have changed them).
   *
   * @param mapping mapping name
   * @param intervalMs interval
   * @param inactivityTimeoutMs on-hold timeout, 0 for never
   * @return nothing
   */
  public Future<Void> ensure(String mapping, long intervalMs, long inactivityTimeoutMs) {
    return pool.preparedQuery("INSERT INTO schedule (mapping, kind, interval_ms, inactivity_timeout_ms) "
            + "VALUES ($1, 'SYNC', $2, $3) ON CONFLICT (mapping, kind) DO NOTHING")
        .execute(Tuple.of(mapping, intervalMs, inactivityTimeoutMs)).mapEmpty();
  }

  /**
   * Creates the schedule of a job of another kind (a ledger job, under its own name) if it has none.
   *
   * @param name the job's name (the schedule's mapping column)
   * @param kind its job kind, e.g. {@code LEDGER}
   * @param intervalMs interval
   * @param inactivityTimeoutMs on-hold timeout, 0 for never
   * @return nothing
   */
  public Future<Void> ensure(String name, String kind, long intervalMs, long inactivityTimeoutMs) {
    return pool.preparedQuery("INSERT INTO schedule (mapping, kind, interval_ms, inactivity_timeout_ms) "
            + "VALUES ($1, $2, $3, $4) ON CONFLICT (mapping, kind) DO NOTHING")
        .execute(Tuple.of(name, kind, intervalMs, inactivityTimeoutMs)).mapEmpty();
  }

  /**
   * Enables or disables a schedule, or changes its interval. Enabling makes it active and due now.
   *
   * @param name the schedule's mapping column
   * @param kind its job kind
   * @param enabled true, false, or null to leave the state
   * @param intervalMs a new interval, or null
   * @return the schedule as {@link #list()} shows it, or null when there is none
   */
  public Future<JsonObject> change(String name, String kind, Boolean enabled, Long intervalMs) {
    return pool.preparedQuery("UPDATE schedule SET "
            + "state = CASE WHEN $3::boolean IS NULL THEN state WHEN $3 THEN "
            + "  CASE WHEN state = 'disabled' THEN 'active' ELSE state END ELSE 'disabled' END, "
            + "next_run_at = CASE WHEN $3::boolean AND state = 'disabled' THEN now() ELSE next_run_at END, "
            + "last_activity_at = CASE WHEN $3::boolean AND state = 'disabled' THEN now() ELSE last_activity_at END, "
            + "held_at = CASE WHEN $3::boolean IS NOT NULL AND NOT $3 THEN NULL ELSE held_at END, "
            + "interval_ms = COALESCE($4, interval_ms) WHERE mapping = $1 AND kind = $2 RETURNING id")
        .execute(Tuple.of(name, kind, enabled, intervalMs))
        .compose(rows -> rows.rowCount() == 0 ? Future.succeededFuture((JsonObject) null)
            : list().map(all -> {
              for (Object o : all) {
                JsonObject j = (JsonObject) o;
                if (name.equals(j.getString("mapping")) && kind.equals(j.getString("kind"))) {
                  return j;
                }
              }
              return null;
            }));
  }

  /**
   * Sets the interval of a mapping's schedules (its PATCH {@code scheduleSeconds}); state and next run stay.
   *
   * @param mapping mapping name (the schedule's mapping column)
   * @param intervalMs the interval
   * @return done
   */
  public Future<Void> interval(String mapping, long intervalMs) {
    return pool.preparedQuery("UPDATE schedule SET interval_ms = $2 WHERE mapping = $1")
        .execute(Tuple.of(mapping, intervalMs)).mapEmpty();
  }

  /**
   * @param kind a job kind
   * @return the state of each schedule of that kind by its mapping column, upper case ({@code ACTIVE},
   *     {@code PAUSED} …)
   */
  public Future<java.util.Map<String, String>> states(String kind) {
    return pool.preparedQuery("SELECT mapping, state FROM schedule WHERE kind = $1").execute(Tuple.of(kind))
        .map(rows -> {
          java.util.Map<String, String> out = new java.util.HashMap<>();
          rows.forEach(r -> out.put(r.getString("mapping"), r.getString("state").toUpperCase(java.util.Locale.ROOT)));
          return out;
        });
  }

  /**
   * Creates a mapping's sync schedule disabled, or disables the one it has (the setup guide's "choose what to
   * synchronize": a mapping left out gets no scheduled runs).
   *
   * @param mapping mapping name
   * @param intervalMs interval, should the schedule be created
   * @param inactivityTimeoutMs on-hold timeout, should it be created
   * @return nothing
   */
  public Future<Void> disable(String mapping, long intervalMs, long inactivityTimeoutMs) {
    return disable(mapping, "SYNC", intervalMs, inactivityTimeoutMs);
  }

  /**
   * Disables the schedule of a job of any kind, creating it disabled when it does not exist yet (the setup guide
   * chooses before the engine first creates them).
   *
   * @param name the schedule's mapping column (a mapping, or a ledger job's name)
   * @param kind its job kind
   * @param intervalMs interval, for a schedule created here
   * @param inactivityTimeoutMs on-hold timeout, for a schedule created here
   * @return nothing
   */
  public Future<Void> disable(String name, String kind, long intervalMs, long inactivityTimeoutMs) {
    return pool.preparedQuery("INSERT INTO schedule (mapping, kind, interval_ms, inactivity_timeout_ms, state) "
            + "VALUES ($1, $2, $3, $4, 'disabled') ON CONFLICT (mapping, kind) DO UPDATE SET state = 'disabled'")
        .execute(Tuple.of(name, kind, intervalMs, inactivityTimeoutMs)).mapEmpty();
  }

  /**
   * Enables a disabled sync schedule again (active, due now).
   *
   * @param mapping mapping name
   * @return nothing
   */
  public Future<Void> enable(String mapping) {
    return enable(mapping, "SYNC");
  }

  /**
   * Enables a disabled schedule of any kind again (active, due now).
   *
   * @param name the schedule's mapping column
   * @param kind its job kind
   * @return nothing
   */
  public Future<Void> enable(String name, String kind) {
    return pool.preparedQuery("UPDATE schedule SET state = 'active', held_at = NULL, next_run_at = now() "
            + "WHERE mapping = $1 AND kind = $2 AND state = 'disabled'").execute(Tuple.of(name, kind)).mapEmpty();
  }

  /**
   * Enqueues a job for every due, active schedule that has no job queued or running.
   *
   * @param maxAttempts attempts for the jobs created
   * @return the ids of the jobs created
   */
  public Future<List<Long>> tick(int maxAttempts) {
    return pool.preparedQuery(TICK).execute(Tuple.of(maxAttempts)).map(rows -> {
      List<Long> ids = new ArrayList<>();
      rows.forEach(r -> ids.add(r.getLong(0)));
      return ids;
    });
  }

  /**
   * Wakes a mapping's schedules: active, due now, inactivity clock restarted.
   *
   * @param mapping the mapping
   * @return how many schedules were woken (0 when the mapping has none)
   */
  public Future<Integer> wake(String mapping) {
    return pool.preparedQuery("UPDATE schedule SET state = 'active', held_at = NULL, paused_reason = NULL, "
            + "paused_by = NULL, paused_at = NULL, last_activity_at = now(), next_run_at = now() "
            + "WHERE mapping = $1 AND state <> 'disabled'")
        .execute(Tuple.of(mapping)).map(r -> r.rowCount());
  }

  /**
   * Wakes a mapping's schedules because its data changed (an ERP notification, a change found by polling): like
   * {@link #wake}, but a paused schedule stays paused, since only a person resumes it.
   *
   * @param mapping the mapping
   * @return how many schedules were woken
   */
  public Future<Integer> wakeOnChange(String mapping) {
    return pool.preparedQuery("UPDATE schedule SET state = 'active', held_at = NULL, last_activity_at = now(), "
            + "next_run_at = now() WHERE mapping = $1 AND state IN ('active', 'on_hold')")
        .execute(Tuple.of(mapping)).map(r -> r.rowCount());
  }

  /**
   * @param mapping the mapping
   * @return whether one of its schedules is paused
   */
  public Future<Boolean> paused(String mapping) {
    return pool.preparedQuery("SELECT 1 FROM schedule WHERE mapping = $1 AND state = 'paused' LIMIT 1")
        .execute(Tuple.of(mapping)).map(r -> r.rowCount() > 0);
  }

  /**
   * Pauses a mapping's schedules with the reason: no runs are scheduled until an operator wakes them
   * ({@link #wake}). A disabled schedule stays disabled.
   *
   * @param mapping the mapping
   * @param reason why, and what to do
   * @return how many schedules were paused
   */
  public Future<Integer> pause(String mapping, String reason) {
    return pause(mapping, reason, "error tolerance");
  }

  /**
   * Pauses a mapping's schedules with the reason and who paused them; every node's tick then skips them until they
   * are woken. A disabled schedule stays disabled; one paused already takes the new reason.
   *
   * @param mapping the mapping
   * @param reason why
   * @param by who: an operator's name, or what in the engine
   * @return how many schedules were paused
   */
  public Future<Integer> pause(String mapping, String reason, String by) {
    return pool.preparedQuery("UPDATE schedule SET state = 'paused', paused_reason = $2, paused_by = $3, "
            + "paused_at = now(), held_at = now() WHERE mapping = $1 AND state <> 'disabled'")
        .execute(Tuple.of(mapping, reason, by)).map(r -> r.rowCount());
  }

  /** @return every schedule as the admin API shows it */
  public Future<JsonArray> list() {
    return pool.query("SELECT id, mapping, kind, direction, interval_ms, inactivity_timeout_ms, state, next_run_at, "
        + "last_activity_at, held_at, paused_reason, paused_by, paused_at FROM schedule ORDER BY mapping, kind").execute().map(rows -> {
          JsonArray out = new JsonArray();
          rows.forEach(r -> out.add(new JsonObject()
              .put("id", r.getLong("id"))
              .put("mapping", r.getString("mapping"))
              .put("kind", r.getString("kind"))
              .put("direction", r.getString("direction"))
              .put("intervalMs", r.getLong("interval_ms"))
              .put("inactivityTimeoutMs", r.getLong("inactivity_timeout_ms"))
              .put("state", r.getString("state").toUpperCase(java.util.Locale.ROOT))
              .put("nextRunAt", String.valueOf(r.getOffsetDateTime("next_run_at").toInstant()))
              .put("lastActivityAt", String.valueOf(r.getOffsetDateTime("last_activity_at").toInstant()))
              .put("heldAt", r.getOffsetDateTime("held_at") == null ? null
                  : r.getOffsetDateTime("held_at").toInstant().toString())
              .put("pausedReason", r.getString("paused_reason"))
              .put("pausedBy", r.getString("paused_by"))
              .put("pausedAt", r.getOffsetDateTime("paused_at") == null ? null
                  : r.getOffsetDateTime("paused_at").toInstant().toString())));
          return out;
        });
  }
}
