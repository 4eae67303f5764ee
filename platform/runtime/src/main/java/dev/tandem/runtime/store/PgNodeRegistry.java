package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/**
 * The nodes sharing one schema, in PostgreSQL: each node registers when it starts, beats while it runs and signs
 * off when it stops. A node that has not beaten for a while is dead; its jobs are taken over by the others once
 * their leases expire (the leases, not the heartbeats, decide that).
 */
public final class PgNodeRegistry {

  private final Pool pool;

  /** @param pool the PostgreSQL pool */
  public PgNodeRegistry(Pool pool) {
    this.pool = pool;
  }

  /**
   * Registers a starting node (again, under the same id, after a restart) and forgets nodes gone for a week.
   *
   * @param id the node
   * @param version its Tandem version
   * @return done
   */
  public Future<Void> register(String id, String version) {
    return pool.preparedQuery("WITH gone AS (DELETE FROM node WHERE last_seen < now() - interval '7 days' AND id <> $1) "
            + "INSERT INTO node (id, version, started_at, last_seen, stopped_at) VALUES ($1, $2, now(), now(), NULL) "
            + "ON CONFLICT (id) DO UPDATE SET version = $2, started_at = now(), last_seen = now(), stopped_at = NULL")
        .execute(Tuple.of(id, version)).mapEmpty();
  }

  /**
   * @param id the node
   * @return done
   */
  public Future<Void> beat(String id) {
    return pool.preparedQuery("UPDATE node SET last_seen = now(), stopped_at = NULL WHERE id = $1")
        .execute(Tuple.of(id)).mapEmpty();
  }

  /**
   * @param id a node stopping in order
   * @return done
   */
  public Future<Void> stopped(String id) {
    return pool.preparedQuery("UPDATE node SET last_seen = now(), stopped_at = now() WHERE id = $1")
        .execute(Tuple.of(id)).mapEmpty();
  }

  /**
   * @param deadAfterMs a node not seen for this long is dead
   * @return the nodes, live ones first: id, version, state (alive, dead, stopped), startedAt, lastSeen,
   *     stoppedAt, jobsRunning (jobs it holds a lease on)
   */
  public Future<JsonArray> list(long deadAfterMs) {
    return pool.preparedQuery("SELECT n.id, n.version, n.started_at, n.last_seen, n.stopped_at, "
            + "CASE WHEN n.stopped_at IS NOT NULL THEN 'stopped' "
            + "  WHEN n.last_seen > now() - $1 * interval '1 millisecond' THEN 'alive' ELSE 'dead' END AS state, "
            + "(SELECT count(*) FROM job j WHERE j.status = 'running' AND j.lease_owner = n.id) AS running "
            + "FROM node n ORDER BY (n.stopped_at IS NULL AND n.last_seen > now() - $1 * interval '1 millisecond') DESC, n.id")
        .execute(Tuple.of(deadAfterMs)).map(rows -> {
          JsonArray out = new JsonArray();
          rows.forEach(r -> out.add(new JsonObject()
              .put("id", r.getString("id"))
              .put("version", r.getString("version"))
              .put("state", r.getString("state"))
              .put("startedAt", str(r.getOffsetDateTime("started_at")))
              .put("lastSeen", str(r.getOffsetDateTime("last_seen")))
              .put("stoppedAt", str(r.getOffsetDateTime("stopped_at")))
              .put("jobsRunning", r.getLong("running"))));
          return out;
        });
  }

  /**
   * @param deadAfterMs a node not seen for this long is dead
   * @return how many nodes are alive
   */
  public Future<Long> alive(long deadAfterMs) {
    return pool.preparedQuery("SELECT count(*) FROM node WHERE stopped_at IS NULL "
            + "AND last_seen > now() - $1 * interval '1 millisecond'")
        .execute(Tuple.of(deadAfterMs)).map(rows -> rows.iterator().next().getLong(0));
  }

  /**
   * @param schema the Tandem schema
   * @return the channel on which the job table announces enqueued jobs (as V12's trigger computes it)
   */
  public static String jobChannel(String schema) {
    try {
      byte[] md5 = java.security.MessageDigest.getInstance("MD5")
          .digest(schema.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return "tandem_jobs_" + java.util.HexFormat.of().formatHex(md5).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toInstant().toString();
  }
}
