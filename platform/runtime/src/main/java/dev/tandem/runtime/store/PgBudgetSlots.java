package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

/**
 * Concurrency slots of one endpoint user, leased to nodes: a slot belongs to at most one node at a time (the row
 * is the lock), so the nodes together never hold more than there are. Each node renews what it holds, gives back
 * what is above its fair part, and takes free or expired slots up to that part.
 */
public final class PgBudgetSlots {

  private final Pool pool;

  /** @param pool the node's pool */
  public PgBudgetSlots(Pool pool) {
    this.pool = pool;
  }

  /**
   * One heartbeat of a node: renews its slots, then gives back or takes slots to reach
   * {@code ceil(total / live nodes)}, never giving back a slot in use.
   *
   * @param endpoint the endpoint (e.g. the Web API root)
   * @param user the user (e.g. the OAuth client id)
   * @param node this node's id
   * @param total slots there are (the endpoint's concurrency limit per user)
   * @param lowerTo called before slots are given back, with the node's fair part: the node stops starting
   *     requests above it and answers how many it has in flight (slots it may not give back)
   * @param leaseMs how long the slots stay this node's without a renewal
   * @return how many slots the node holds now; it may run that many requests until the lease runs out
   */
  public Future<Integer> heartbeat(String endpoint, String user, String node, int total,
      java.util.function.IntUnaryOperator lowerTo, long leaseMs) {
    return pool.withTransaction(tx -> tx.preparedQuery("INSERT INTO endpoint_budget_slot (endpoint, app_user, slot) "
            + "SELECT $1, $2, g FROM generate_series(0, $3 - 1) g ON CONFLICT DO NOTHING")
        .execute(Tuple.of(endpoint, user, total))
        // Serializes the heartbeats of one endpoint user, so two nodes never count each other wrongly.
        .compose(v -> tx.preparedQuery("SELECT pg_advisory_xact_lock(hashtext($1 || ' as ' || $2))")
            .execute(Tuple.of(endpoint, user)))
        .compose(v -> tx.preparedQuery("UPDATE endpoint_budget_slot SET expires_at = now() + $4 * interval "
                + "'1 millisecond' WHERE endpoint = $1 AND app_user = $2 AND node_id = $3 AND expires_at > now()")
            .execute(Tuple.of(endpoint, user, node, leaseMs)))
        .compose(renewed -> tx.preparedQuery("INSERT INTO endpoint_budget_node (endpoint, app_user, node_id, "
                + "seen_until) VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond') ON CONFLICT (endpoint, "
                + "app_user, node_id) DO UPDATE SET seen_until = EXCLUDED.seen_until")
            .execute(Tuple.of(endpoint, user, node, leaseMs)))
        .compose(seen -> tx.preparedQuery("DELETE FROM endpoint_budget_node WHERE endpoint = $1 AND app_user = $2 "
                + "AND seen_until < now() - interval '1 hour'").execute(Tuple.of(endpoint, user)))
        // Live nodes: seen within a lease, or still holding slots.
        .compose(gone -> tx.preparedQuery("SELECT (SELECT count(*) FROM (SELECT node_id FROM endpoint_budget_node "
                + "WHERE endpoint = $1 AND app_user = $2 AND node_id <> $3 AND seen_until > now() UNION "
                + "SELECT node_id FROM endpoint_budget_slot WHERE endpoint = $1 AND app_user = $2 AND node_id <> $3 "
                + "AND expires_at > now()) o), (SELECT count(*) FROM endpoint_budget_slot WHERE endpoint = $1 "
                + "AND app_user = $2 AND node_id = $3 AND expires_at > now())")
            .execute(Tuple.of(endpoint, user, node)))
        .compose(rows -> {
          Row r = rows.iterator().next();
          long others = r.getLong(0);
          int mine = r.getLong(1).intValue();
          int fair = (int) Math.ceil(total / (double) (others + 1));
          if (mine > fair) {
            int inUse = lowerTo.applyAsInt(fair);
            int giveBack = Math.min(mine - fair, Math.max(0, mine - inUse));
            return tx.preparedQuery("UPDATE endpoint_budget_slot SET node_id = NULL, expires_at = '-infinity' "
                    + "WHERE (endpoint, app_user, slot) IN (SELECT endpoint, app_user, slot FROM endpoint_budget_slot "
                    + "WHERE endpoint = $1 AND app_user = $2 AND node_id = $3 AND expires_at > now() "
                    + "ORDER BY slot DESC LIMIT $4)")
                .execute(Tuple.of(endpoint, user, node, giveBack)).map(x -> mine - x.rowCount());
          }
          if (mine < fair) {
            return tx.preparedQuery("UPDATE endpoint_budget_slot SET node_id = $3, expires_at = now() + $5 * "
                    + "interval '1 millisecond' WHERE (endpoint, app_user, slot) IN (SELECT endpoint, app_user, slot "
                    + "FROM endpoint_budget_slot WHERE endpoint = $1 AND app_user = $2 AND expires_at <= now() "
                    + "ORDER BY slot LIMIT $4)")
                .execute(Tuple.of(endpoint, user, node, fair - mine, leaseMs)).map(x -> mine + x.rowCount());
          }
          return Future.succeededFuture(mine);
        }));
  }

  /**
   * Gives back every slot of a node (it stops).
   *
   * @param node the node
   * @return nothing
   */
  public Future<Void> release(String node) {
    return pool.withTransaction(tx -> tx.preparedQuery("UPDATE endpoint_budget_slot SET node_id = NULL, "
        + "expires_at = '-infinity' WHERE node_id = $1").execute(Tuple.of(node))
        .compose(v -> tx.preparedQuery("DELETE FROM endpoint_budget_node WHERE node_id = $1").execute(Tuple.of(node)))
        .mapEmpty());
  }
}
