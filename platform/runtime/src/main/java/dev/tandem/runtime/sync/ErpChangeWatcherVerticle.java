package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.jobs.DispatcherVerticle;
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
 * asking for a row modified after the mapping's watermark.
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

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    schedules = new PgScheduleStore(pool);
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
        MappingDefinition def = mappings.apply(s.getString("mapping"));
        if (!"ON_HOLD".equals(s.getString("state")) || def == null || def.direction() == Direction.FROM_CRM) {
          continue;
        }
        chain = chain.compose(v -> changedSinceWatermark(def)).compose(changed -> {
          if (!changed) {
            return Future.succeededFuture();
          }
          LOG.log(Level.INFO, "ERP side of " + def.name() + " changed: waking its schedule");
          return schedules.wake(def.name()).onSuccess(n -> vertx.eventBus().send(DispatcherVerticle.WAKE, null))
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

  private Future<Boolean> changedSinceWatermark(MappingDefinition def) {
    return watermarks.get(pool, def.name(), PgWatermarkStore.Side.ERP).compose(wm -> {
      String changed = wm == null ? null : ODataErpClient.modifiedSince(def.erpModifiedOn(), wm.toInstant());
      String filter = def.erpFilter() == null ? changed
          : changed == null ? def.erpFilter() : "(" + def.erpFilter() + ") and " + changed;
      return erp.any(def.erpEntitySet(), filter, def.erpKey());
    });
  }
}
