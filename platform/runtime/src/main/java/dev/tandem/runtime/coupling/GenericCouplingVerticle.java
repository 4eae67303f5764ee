package dev.tandem.runtime.coupling;

import dev.tandem.api.Addresses;
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
import dev.tandem.runtime.store.PgJobRecordStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.function.Function;

/**
 * The runtime's own coupling verticle for a mapping whose plugin contributes none. It consumes the mapping's
 * coupling jobs and runs each as its own class: {@link MatchJob} ({@code MATCH}, match-based coupling),
 * {@link CoupleJob} ({@code COUPLE}, counterparts created through the sync engine) and {@link UncoupleJob}
 * ({@code UNCOUPLE}); what they share is {@link CouplingJob}.
 * Per-record results go to {@code job_record} (GET /api/v1/jobs/{id}/records). A job that runs again forgets its
 * earlier results and starts over; coupling is idempotent, so nothing is coupled twice.
 */
public final class GenericCouplingVerticle extends VerticleBase {

  /** Pairs per coupling statement and results per insert. */
  static final int CHUNK = 1000;

  private final MappingDefinition def;
  private final Function<String, MappingDefinition> mappings;
  private final Pool pool;
  private final Connections connections;
  private final EndpointMetrics metrics;
  private final PgMappingSettingsStore settings;
  private final PgCouplingStore couplings;
  private final PgJobRecordStore records;
  private ODataErpClient erp;
  private DataverseClient crm;

  /**
   * @param def the mapping
   * @param mappings finds the other enabled mappings (lookups)
   * @param pool PostgreSQL
   * @param connections both endpoints
   * @param metrics endpoint metrics
   */
  public GenericCouplingVerticle(MappingDefinition def, Function<String, MappingDefinition> mappings, Pool pool,
      Connections connections, EndpointMetrics metrics) {
    this.def = def;
    this.mappings = mappings;
    this.pool = pool;
    this.connections = connections;
    this.metrics = metrics;
    this.settings = new PgMappingSettingsStore(pool);
    this.couplings = new PgCouplingStore(pool);
    this.records = new PgJobRecordStore(pool);
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    crm = new DataverseClient(vertx, connections.crm(), metrics);
    return vertx.eventBus().<JsonObject>consumer(Addresses.coupling(def.name()), msg -> {
      JobRequest req = JobRequest.fromJson(msg.body());
      long throttledBefore = erp.throttledCount() + crm.throttledCount();
      CouplingIo io = new CouplingIo(pool, couplings, records, erp, crm);
      settings.get(def.name()).compose(s -> {
        // Each job checks its options (the side) before anything is cleared or read.
        CouplingJob job = switch (req.kind()) {
          case MATCH -> new MatchJob(io, req, s, def, mappings);
          case COUPLE -> new CoupleJob(io, req, s, def, mappings);
          case UNCOUPLE -> new UncoupleJob(io, req, s, def, mappings);
          default -> throw TandemException.permanent(Stage.DISPATCH, "the coupling verticle of "
              + def.name() + " does not run " + req.kind() + " jobs");
        };
        // MATCH and COUPLE record per-record results: a job that runs again starts over.
        return job instanceof UncoupleJob ? job.run() : records.clear(req.jobId()).compose(v -> job.run());
      }).onSuccess(o -> msg.reply(o.withThrottled(erp.throttledCount() + crm.throttledCount() - throttledBefore)
          .toJson())).onFailure(e -> JobFailure.fail(msg, e));
    }).completion();
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
