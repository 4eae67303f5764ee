package dev.tandem.runtime.sync;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.function.Function;

/**
 * The runtime's own sync verticle for a mapping whose plugin contributes none: consumes the mapping's sync jobs
 * and runs them with the generic engine. Its clients live on its own context. This release runs one-way
 * mappings (TO_CRM and FROM_CRM); bidirectional ones need conflict detection first, which comes next.
 */
public final class GenericSyncVerticle extends VerticleBase {

  private final MappingDefinition def;
  private final Function<String, MappingDefinition> mappings;
  private final Pool pool;
  private final Connections connections;
  private final EndpointMetrics metrics;
  private final PgMappingSettingsStore settings;
  private ODataErpClient erp;
  private DataverseClient crm;

  /**
   * @param def the mapping
   * @param mappings finds the other enabled mappings (lookups)
   * @param pool PostgreSQL
   * @param connections both endpoints
   * @param metrics endpoint metrics
   */
  public GenericSyncVerticle(MappingDefinition def, Function<String, MappingDefinition> mappings, Pool pool,
      Connections connections, EndpointMetrics metrics) {
    this.def = def;
    this.mappings = mappings;
    this.pool = pool;
    this.connections = connections;
    this.metrics = metrics;
    this.settings = new PgMappingSettingsStore(pool);
  }

  /**
   * @param def a mapping
   * @return whether this release's generic engine can run it
   */
  public static boolean supports(MappingDefinition def) {
    return def.direction() != Direction.BIDIRECTIONAL;
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    crm = new DataverseClient(vertx, connections.crm(), metrics);
    return vertx.eventBus().<JsonObject>consumer(Addresses.sync(def.name()), msg -> {
      JobRequest req = JobRequest.fromJson(msg.body());
      settings.get(def.name()).compose(s -> {
        // The effective mapping: the plugin's definition with the operator's overrides.
        MappingDefinition eff = s.applyTo(def);
        if (eff.direction() == Direction.BIDIRECTIONAL) {
          return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + def.name()
              + " is bidirectional; the generic engine runs one-way mappings in this release: set its direction "
              + "to TO_CRM or FROM_CRM (PATCH /api/v1/mappings/" + def.name() + ")"));
        }
        if (req.direction() != null && req.direction() != eff.direction()) {
          return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + def.name()
              + " synchronizes " + eff.direction() + "; a " + req.direction() + " run was asked for"));
        }
        RecordMapper mapper = new RecordMapper(eff, s.disabledFields(), mappings);
        PgCouplingStore couplings = new PgCouplingStore(pool);
        PgWatermarkStore watermarks = new PgWatermarkStore();
        OffsetDateTime start = OffsetDateTime.now(ZoneOffset.UTC);
        return (eff.direction() == Direction.TO_CRM
            ? new ToCrmSync(pool, couplings, watermarks, erp, crm, eff, mapper, req.jobId(), s.skipAfter()).run(start)
            : new FromCrmSync(pool, couplings, watermarks, erp, crm, eff, mapper, req.jobId(), s.skipAfter())
                .run(start))
            .map(outcome -> outcome.withMessage(summary(eff, outcome)));
      }).onSuccess(outcome -> msg.reply(outcome.toJson())).onFailure(e -> JobFailure.fail(msg, e));
    }).completion();
  }

  private static String summary(MappingDefinition def, dev.tandem.api.JobOutcome o) {
    return def.name() + (def.direction() == Direction.TO_CRM ? " to CRM: " : " from CRM: ") + o.inserted() + " inserted, " + o.modified() + " modified, " + o.unchanged()
        + " unchanged, " + o.failed() + " failed, " + o.skipped() + " skipped";
  }

  @Override
  public Future<?> stop() {
    if (erp != null) {
      erp.close();
    }
    if (crm != null) {
      crm.close();
    }
    return Future.succeededFuture();
  }
}
