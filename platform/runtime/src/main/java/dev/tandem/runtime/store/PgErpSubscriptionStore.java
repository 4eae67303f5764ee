package dev.tandem.runtime.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/** Business Central webhook subscriptions per mapping (table {@code erp_subscription}). */
public final class PgErpSubscriptionStore {

  /**
   * A subscription.
   *
   * @param mapping the mapping it wakes
   * @param subscriptionId BC's id
   * @param resource the API page subscribed to
   * @param clientState the secret BC sends with every notification
   * @param etag its ETag (renewal needs it)
   * @param expiresAt when BC drops it unless renewed
   */
  public record Subscription(String mapping, String subscriptionId, String resource, String clientState, String etag,
      OffsetDateTime expiresAt) {}

  private final Pool pool;

  /** @param pool PostgreSQL */
  public PgErpSubscriptionStore(Pool pool) {
    this.pool = pool;
  }

  /** @return every subscription */
  public Future<List<Subscription>> all() {
    return pool.query("SELECT mapping, subscription_id, resource, client_state, etag, expires_at "
        + "FROM erp_subscription ORDER BY mapping").execute().map(rows -> {
          List<Subscription> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new Subscription(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4),
                r.getOffsetDateTime(5)));
          }
          return out;
        });
  }

  /**
   * @param mapping a mapping
   * @return its subscription, or null
   */
  public Future<Subscription> get(String mapping) {
    return pool.preparedQuery("SELECT mapping, subscription_id, resource, client_state, etag, expires_at "
        + "FROM erp_subscription WHERE mapping = $1").execute(Tuple.of(mapping)).map(rows -> {
          for (Row r : rows) {
            return new Subscription(r.getString(0), r.getString(1), r.getString(2), r.getString(3), r.getString(4),
                r.getOffsetDateTime(5));
          }
          return null;
        });
  }

  /**
   * Claims a mapping's subscription for creating or renewing it: granted when no other node holds an unexpired
   * claim (one statement, so of two nodes asking at once exactly one gets it).
   *
   * @param mapping a mapping
   * @param node this node
   * @param leaseMs how long the claim holds unless released
   * @return whether this node holds the claim now
   */
  public Future<Boolean> claim(String mapping, String node, long leaseMs) {
    return pool.preparedQuery("INSERT INTO erp_subscription_claim (mapping, node, claimed_until) "
            + "VALUES ($1, $2, now() + $3 * interval '1 millisecond') ON CONFLICT (mapping) DO UPDATE SET "
            + "node = EXCLUDED.node, claimed_until = EXCLUDED.claimed_until "
            + "WHERE erp_subscription_claim.claimed_until < now() OR erp_subscription_claim.node = EXCLUDED.node "
            + "RETURNING node").execute(Tuple.of(mapping, node, leaseMs)).map(rows -> rows.rowCount() == 1);
  }

  /**
   * @param mapping a mapping
   * @param node this node
   * @return nothing (a claim another node took over after this one's expired stays)
   */
  public Future<Void> release(String mapping, String node) {
    return pool.preparedQuery("DELETE FROM erp_subscription_claim WHERE mapping = $1 AND node = $2")
        .execute(Tuple.of(mapping, node)).mapEmpty();
  }

  /**
   * Stores a mapping's subscription (a new one, or the same renewed).
   *
   * @param s the subscription
   * @return nothing
   */
  public Future<Void> put(Subscription s) {
    return pool.preparedQuery("INSERT INTO erp_subscription (mapping, subscription_id, resource, client_state, etag, "
            + "expires_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mapping) DO UPDATE SET "
            + "subscription_id = EXCLUDED.subscription_id, resource = EXCLUDED.resource, "
            + "client_state = EXCLUDED.client_state, etag = EXCLUDED.etag, expires_at = EXCLUDED.expires_at, "
            + "renewed_at = now()")
        .execute(Tuple.of(s.mapping(), s.subscriptionId(), s.resource(), s.clientState(), s.etag(), s.expiresAt()))
        .mapEmpty();
  }

  /**
   * @param mapping a mapping
   * @return nothing
   */
  public Future<Void> remove(String mapping) {
    return pool.preparedQuery("DELETE FROM erp_subscription WHERE mapping = $1").execute(Tuple.of(mapping))
        .mapEmpty();
  }

  /**
   * @param mapping a mapping
   * @return whether an incremental run of it is queued already (a notification then needs no new one)
   */
  public Future<Boolean> syncQueued(String mapping) {
    return pool.preparedQuery("SELECT 1 FROM job WHERE mapping = $1 AND kind = 'SYNC' AND status = 'queued' "
            + "AND NOT (parameters ? 'records') LIMIT 1").execute(Tuple.of(mapping)).map(rows -> rows.rowCount() > 0);
  }

  /**
   * Notes that a notification of a subscription arrived.
   *
   * @param subscriptionId BC's id
   * @return nothing
   */
  public Future<Void> notified(String subscriptionId) {
    return pool.preparedQuery("UPDATE erp_subscription SET notified_at = now() WHERE subscription_id = $1")
        .execute(Tuple.of(subscriptionId)).mapEmpty();
  }
}
