package dev.tandem.runtime.sync;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.lang.System.Logger.Level;
import java.util.function.Function;

/**
 * Wakes on-hold schedules when the ERP side of their mapping changed, as the reference system's job queue does
 * for ERP-side changes: every interval, one {@code $top=1} query per on-hold mapping that reads from the ERP,
 * asking for a row modified after the mapping's watermark; and one per on-hold ledger job, asking for a ledger
 * entry after its stored entry number. A stock posting changes no Item's SystemModifiedAt, so it wakes the Item
 * Availability job, not ITEM-PRODUCT.
 */
public final class ErpChangeWatcherVerticle extends VerticleBase {

  private static final System.Logger LOG = System.getLogger(ErpChangeWatcherVerticle.class.getName());

  private final Pool pool;
  private final Connections connections;
  private final Function<String, MappingDefinition> mappings;
  private final long intervalMs;
  private final EndpointMetrics metrics;
  private ODataErpClient erp;
  private PgScheduleStore schedules;
  private final PgWatermarkStore watermarks = new PgWatermarkStore();
  private Function<String, dev.tandem.api.LedgerJobDefinition> ledgerJobs = name -> null;
  private dev.tandem.runtime.store.PgLedgerStore ledger;
  private boolean checking;

  /**
   * @param pool PostgreSQL
   * @param connections endpoints
   * @param mappings enabled mappings by name
   * @param intervalMs how often to look
   * @param metrics endpoint metrics
   */
  public ErpChangeWatcherVerticle(Pool pool, Connections connections, Function<String, MappingDefinition> mappings,
      long intervalMs, EndpointMetrics metrics) {
    this.pool = pool;
    this.connections = connections;
    this.mappings = mappings;
    this.intervalMs = intervalMs;
    this.metrics = metrics;
  }

  /**
   * @param jobs the running ledger jobs by name: their on-hold schedules wake when the ledger has entries after
   *     the job's stored position (a stock posting wakes the Item Availability job)
   * @return this
   */
  public ErpChangeWatcherVerticle ledgerJobs(Function<String, dev.tandem.api.LedgerJobDefinition> jobs) {
    this.ledgerJobs = jobs;
    return this;
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    schedules = new PgScheduleStore(pool);
    ledger = new dev.tandem.runtime.store.PgLedgerStore(pool);
    vertx.setPeriodic(intervalMs, id -> check());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    erp.close();
    return Future.succeededFuture();
  }

  /** Looks at every on-hold schedule once. */
  void check() {
    if (checking) {
      return;
    }
    checking = true;
    schedules.list().compose(all -> {
      Future<Void> chain = Future.succeededFuture();
      for (Object o : all) {
        JsonObject s = (JsonObject) o;
        if ("LEDGER".equals(s.getString("kind"))) {
          dev.tandem.api.LedgerJobDefinition job = ledgerJobs.apply(s.getString("mapping"));
          if ("ON_HOLD".equals(s.getString("state")) && job != null) {
            chain = chain.compose(v -> newEntries(job)).compose(changed -> !changed ? Future.succeededFuture()
                : wake(job.name(), "new " + job.ledger() + " or newly coupled records"));
          }
          continue;
        }
        MappingDefinition def = mappings.apply(s.getString("mapping"));
        if (!"ON_HOLD".equals(s.getString("state")) || def == null || def.direction() == Direction.FROM_CRM) {
          continue;
        }
        chain = chain.compose(v -> changedSinceWatermark(def)).compose(changed -> {
          if (!changed) {
            return Future.succeededFuture();
          }
          LOG.log(Level.INFO, "ERP side of " + def.name() + " changed: waking its schedule");
          return schedules.wakeOnChange(def.name())
              .onSuccess(n -> vertx.eventBus().send(Addresses.DISPATCHER_WAKE, null))
              .mapEmpty();
        });
      }
      return chain;
    }).onComplete(ar -> {
      checking = false;
      if (ar.failed()) {
        LOG.log(Level.DEBUG, "checking the ERP for changes failed: " + ar.cause());
      }
    });
  }

  private Future<Void> wake(String name, String why) {
    LOG.log(Level.INFO, why + " for " + name + ": waking its schedule");
    return schedules.wakeOnChange(name).onSuccess(n -> vertx.eventBus().send(Addresses.DISPATCHER_WAKE, null))
        .mapEmpty();
  }

  /**
   * @return whether the job has work: records newly coupled that still need their figure, a ledger entry after
   *     its stored position (one {@code $top=1} query), a refresh due, or a followed document changed since its stamp
   */
  private Future<Boolean> newEntries(dev.tandem.api.LedgerJobDefinition job) {
    Future<Boolean> any = ledger.pending(job.name(), "", 1).compose(pending -> !pending.isEmpty()
        ? Future.succeededFuture(true)
        : ledger.position(job.name()).compose(p -> erp.any(job.ledger(),
            p == null ? null : job.entryNo() + " gt " + p, job.entryNo())));
    if (job.refreshEvery() != null) {
      any = any.compose(yes -> yes ? Future.succeededFuture(true) : ledger.refreshDue(job.name(), job.refreshEvery()));
    }
    // The documents it follows besides the ledger (one $top=1 query each, after the stored stamp).
    for (dev.tandem.api.LedgerJobDefinition.Feed f : job.feeds()) {
      any = any.compose(yes -> yes ? Future.succeededFuture(true)
          : ledger.feedPosition(job.name(), f.service()).compose(p -> erp.any(f.service(),
              p == null ? null : ODataErpClient.modifiedSince("SystemModifiedAt", p), "SystemModifiedAt")));
    }
    return any;
  }

  private Future<Boolean> changedSinceWatermark(MappingDefinition def) {
    return watermarks.get(pool, def.name(), PgWatermarkStore.Side.ERP).compose(wm -> {
      String changed = wm == null ? null : ODataErpClient.modifiedSince(def.erpModifiedOn(), wm.toInstant());
      String filter = def.erpFilter() == null ? changed
          : changed == null ? def.erpFilter() : "(" + def.erpFilter() + ") and " + changed;
      return erp.any(def.erpEntitySet(), filter, def.erpKey());
    });
  }
}
