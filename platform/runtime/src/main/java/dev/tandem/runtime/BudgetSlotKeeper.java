package dev.tandem.runtime;

import dev.tandem.runtime.connectors.EndpointBudget;
import dev.tandem.runtime.store.PgBudgetSlots;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Splits each endpoint user's concurrency over the nodes sharing it, through leased slots in PostgreSQL
 * ({@link PgBudgetSlots}): every few seconds the node renews its slots and takes or gives back slots to reach its
 * fair part, and its {@link EndpointBudget} may run as many requests as it holds. A node starts with none. If it
 * cannot renew for a while, it stops starting requests early enough that the ones in flight end (the request
 * timeout) before its lease runs out and other nodes take the slots: the nodes together never run more requests
 * than the endpoint allows per user, even when one dies.
 */
final class BudgetSlotKeeper {

  private static final Logger LOG = Logger.getLogger(BudgetSlotKeeper.class.getName());

  private final Vertx vertx;
  private final PgBudgetSlots slots;
  private final String node;
  private final List<EndpointBudget> budgets;
  private final long everyMs;
  private final long requestTimeoutMs;
  private final List<Long> lastRenewed = new ArrayList<>();
  private long timer = -1;

  /**
   * @param vertx the node's Vert.x
   * @param slots the slot store
   * @param node this node's id
   * @param budgets the node's budgets to split
   * @param everyMs heartbeat interval
   * @param requestTimeoutMs the longest a request may run
   */
  BudgetSlotKeeper(Vertx vertx, PgBudgetSlots slots, String node, List<EndpointBudget> budgets, long everyMs,
      long requestTimeoutMs) {
    this.vertx = vertx;
    this.slots = slots;
    this.node = node;
    this.budgets = budgets;
    this.everyMs = everyMs;
    this.requestTimeoutMs = requestTimeoutMs;

    budgets.forEach(b -> {
      b.share(0);
      lastRenewed.add(0L);
    });
  }

  /**
   * Heartbeats every {@code everyMs} from now on.
   *
   * @return completes after the first heartbeat that got through (the node's requests can start), or after five
   *     failed tries (the node's CRM requests then wait for a later heartbeat)
   */
  Future<Void> start() {
    timer = vertx.setPeriodic(everyMs, id -> beat());
    return firstBeat(5);
  }

  private Future<Void> firstBeat(int tries) {
    return beat().compose(ok -> {
      if (ok || tries <= 1) {
        return Future.succeededFuture();
      }
      io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
      vertx.setTimer(Math.max(1, everyMs / 5), id -> firstBeat(tries - 1).onComplete(p));
      return p.future();
    });
  }

  /** @return true when every budget's heartbeat got through */
  private Future<Boolean> beat() {
    List<Future<Integer>> all = new ArrayList<>();
    long started = System.currentTimeMillis();
    for (int i = 0; i < budgets.size(); i++) {
      EndpointBudget b = budgets.get(i);
      int index = i;
      all.add(slots.heartbeat(b.endpoint(), b.user(), node, b.limits().concurrency(), fair -> {
        b.share(Math.min(b.share(), fair));
        return b.inFlight();
      }, leaseMs(b))
          .onSuccess(held -> {
            // The lease runs from the renewal, which came after this heartbeat started.
            lastRenewed.set(index, started);
            b.share(held);
            // Unless a later heartbeat renews it, stop starting requests while those in flight can still end
            // inside the lease (a slow heartbeat is as bad as a failed one).
            vertx.setTimer(Math.max(1, started + SAFE_BEATS * everyMs - System.currentTimeMillis()), id -> {
              if (lastRenewed.get(index) == started) {
                b.share(0);
              }
            });
          })
          .onFailure(e -> LOG.log(Level.WARNING, "cannot renew the request slots of " + b.user() + " at "
              + b.endpoint() + ": " + e.getMessage())));
    }
    return Future.join(all).map(true).recover(e -> Future.succeededFuture(false));
  }

  /** Beats after its last renewal a node stops starting requests unless a newer renewal got through. */
  static final int SAFE_BEATS = 2;

  /**
   * How long slots stay a node's without renewal: until a request started just before the node stopped starting
   * them has ended — twice the longest request of the node lately (or in flight now), at least 5 s, at most the
   * request timeout — plus two beats' margin. A node running short requests hands a dead node's slots over within
   * seconds; one running long batches keeps them as long as those may run.
   */
  long leaseMs(EndpointBudget b) {
    long longest = Math.min(requestTimeoutMs, Math.max(5_000, 2 * b.longestRecentMs()));
    return (SAFE_BEATS + 2) * everyMs + longest;
  }

  /** @return stops and gives the slots back */
  Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    budgets.forEach(b -> b.share(0));
    return slots.release(node).recover(e -> Future.succeededFuture());
  }
}
