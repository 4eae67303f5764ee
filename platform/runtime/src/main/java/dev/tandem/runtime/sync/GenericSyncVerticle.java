package dev.tandem.runtime.sync;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobKind;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.config.TandemConfig;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgRecordErrorStore;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.function.Function;

/**
 * The runtime's own sync verticle for a mapping whose plugin contributes none: consumes the mapping's sync jobs
 * and runs them with the generic engine: ERP to CRM, CRM to ERP, or both in that order, with the mapping's current
 * overrides and conflict policy. Its clients live on its own context.
 */
public final class GenericSyncVerticle extends VerticleBase {

  private final MappingDefinition def;
  private final Function<String, MappingDefinition> mappings;
  private final Pool pool;
  private final Connections connections;
  private final EndpointMetrics metrics;
  private final SyncMetrics syncMetrics;
  private final PgMappingSettingsStore settings;
  private final PgRecordErrorStore errors;
  private final PgScheduleStore schedules;
  private long erpDeletionScanMs = TandemConfig.ScheduleSettings.DEFAULT_ERP_DELETION_SCAN_MS;
  private dev.tandem.runtime.store.JobLeases leases = new dev.tandem.runtime.store.JobLeases();
  private ODataErpClient erp;
  private DataverseClient crm;
  private java.util.function.Supplier<dev.tandem.api.SyncTask> taskFactory;
  private JsonObject pluginSettings = new JsonObject();
  private String pluginId = "tandem";
  private dev.tandem.api.SyncTask task;
  private boolean taskStarted;

  /**
   * @param def the mapping
   * @param mappings finds the other enabled mappings (lookups)
   * @param pool PostgreSQL
   * @param connections both endpoints
   * @param metrics endpoint metrics
   * @param syncMetrics engine metrics
   */
  public GenericSyncVerticle(MappingDefinition def, Function<String, MappingDefinition> mappings, Pool pool,
      Connections connections, EndpointMetrics metrics, SyncMetrics syncMetrics) {
    this.def = def;
    this.mappings = mappings;
    this.pool = pool;
    this.connections = connections;
    this.metrics = metrics;
    this.syncMetrics = syncMetrics;
    this.settings = new PgMappingSettingsStore(pool);
    this.errors = new PgRecordErrorStore(pool);
    this.schedules = new PgScheduleStore(pool);
  }

  /**
   * @param everyMs how often runs read every ERP key to find ERP deletions (0: every run)
   * @return this
   */
  public GenericSyncVerticle erpDeletionScanMs(long everyMs) {
    this.erpDeletionScanMs = everyMs;
    return this;
  }

  /**
   * @param leases the node's job leases: every page a run writes and commits is fenced by its job's lease
   * @return this
   */
  public GenericSyncVerticle leases(dev.tandem.runtime.store.JobLeases leases) {
    this.leases = leases;
    return this;
  }

  /** @return 429s this verticle's clients met so far: a job reports the difference over its run */
  private long throttled() {
    return erp.throttledCount() + crm.throttledCount();
  }

  /**
   * @param factory creates the plugin's {@link dev.tandem.api.SyncTask} for this mapping (null: the generic one)
   * @param plugin the plugin's id
   * @param settings the plugin's settings
   * @return this
   */
  public GenericSyncVerticle task(java.util.function.Supplier<dev.tandem.api.SyncTask> factory, String plugin,
      JsonObject settings) {
    this.taskFactory = factory;
    this.pluginId = plugin;
    this.pluginSettings = settings == null ? new JsonObject() : settings;
    return this;
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), metrics);
    crm = new DataverseClient(vertx, connections.crm(), metrics);
    dev.tandem.api.SyncTask own = taskFactory == null ? null : taskFactory.get();
    task = own == null ? new GenericSyncTask() : own;
    return vertx.eventBus().<JsonObject>consumer(Addresses.sync(def.name()), msg -> {
      JobRequest req = JobRequest.fromJson(msg.body());
      long throttledBefore = throttled();
      settings.get(def.name()).compose(s -> runTask(req, s).compose(o -> tolerate(req, o, s)))
          .onSuccess(outcome -> msg.reply(outcome.withThrottled(throttled() - throttledBefore).toJson()))
          .onFailure(e -> JobFailure.fail(msg, e));
    }).completion();
  }

  /**
   * The error tolerance: a job in which more of the records failed than the mapping tolerates ends as failed,
   * permanently, and pauses the mapping's schedule with the reason, instead of "succeeding" with its records in
   * the error log (they stay there, as the pages wrote them). Records waiting for a reference (stage LOOKUP) do
   * not count: they go through once the mapping they wait for has run.
   */
  private Future<JobOutcome> tolerate(JobRequest req, JobOutcome o, MappingSettings s) {
    if (o.failed() < s.failedRecordsTolerated()) {
      return Future.succeededFuture(o);
    }
    return errors.openByStage(req.jobId()).compose(byStage -> {
      long waiting = byStage.getOrDefault(Stage.LOOKUP, 0L);
      long failed = Math.max(0, o.failed() - waiting);
      long processed = o.inserted() + o.modified() + o.deleted() + o.unchanged() + o.failed();
      if (!s.beyondTolerance(failed, processed)) {
        return Future.succeededFuture(o);
      }
      String reason = def.name() + ": " + failed + " of " + processed + " records failed in job " + req.jobId()
          + ", more than the tolerated share of " + s.failedShareTolerated() + " (maxFailedShare); its schedule is "
          + "paused. See GET /api/v1/errors?mapping=" + def.name() + ", fix the cause, then wake the schedule "
          + "(POST /api/v1/schedules/" + def.name() + "/wake)";
      return schedules.pause(def.name(), reason).compose(n -> Future.<JobOutcome>failedFuture(
          TandemException.permanent(Stage.WRITE, reason + " [" + counts(o) + "]")));
    });
  }

  /**
   * One job through the mapping's task: the generic engine's own runs directly; a plugin's task with a
   * {@link TaskSyncContext}, whose engine is this verticle's {@link #run}.
   */
  private Future<JobOutcome> runTask(JobRequest req, MappingSettings s) {
    if (task instanceof GenericSyncTask) {
      return run(req, s);
    }
    MappingDefinition eff = s.applyTo(def);
    dev.tandem.api.SyncEngine engine = new dev.tandem.api.SyncEngine() {
      @Override
      public Future<JobOutcome> run() {
        return GenericSyncVerticle.this.run(req, s);
      }

      @Override
      public Future<JobOutcome> run(Direction flow) {
        return GenericSyncVerticle.this.run(new JobRequest(req.jobId(), req.kind(), req.mapping(), flow,
            req.attempt(), req.parameters(), req.checkpoint()), s);
      }
    };
    TaskSyncContext ctx = new TaskSyncContext(vertx, req, eff, s.disabledFields(), mappings,
        new dev.tandem.runtime.connectors.erp.ODataErpConnector(erp),
        new dev.tandem.runtime.connectors.crm.DataverseCrmConnector(crm, false), pool, leases.of(req.jobId()), engine,
        pluginSettings, System.getLogger("dev.tandem.plugin." + pluginId));
    Direction dir = ctx.direction();
    long t0 = System.nanoTime();
    Future<Void> started = taskStarted ? Future.succeededFuture() : task.start(ctx).onSuccess(v -> taskStarted = true);
    return started.compose(v -> task.run(ctx)).recover(e -> Future.failedFuture(e instanceof TandemException
            ? e : TandemException.permanent(Stage.WRITE, def.name() + ": the plugin's sync task failed: " + e)))
        .map(o -> {
          syncMetrics.records(def.name(), dir == Direction.BIDIRECTIONAL ? Direction.FROM_CRM : dir, o);
          syncMetrics.duration(def.name(), java.time.Duration.ofNanos(System.nanoTime() - t0));
          return o.message() != null ? o : o.withMessage(def.name() + " (its plugin's task) " + dir + ": " + counts(o));
        });
  }

  /** One job: the mapping as the operator set it up, run in the direction asked for. */
  private Future<JobOutcome> run(JobRequest req, MappingSettings s) {
    // The effective mapping: the plugin's definition with the operator's overrides.
    MappingDefinition eff = s.applyTo(def);
    if (req.direction() != null && eff.direction() != Direction.BIDIRECTIONAL
        && req.direction() != eff.direction()) {
      return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + def.name()
          + " synchronizes " + eff.direction() + "; a " + req.direction() + " run was asked for"));
    }
    RecordMapper mapper = new RecordMapper(eff, s.disabledFields(), mappings);
    PgCouplingStore couplings = new PgCouplingStore(pool);
    PgWatermarkStore watermarks = new PgWatermarkStore();
    OffsetDateTime start = OffsetDateTime.now(ZoneOffset.UTC);
    long t0 = System.nanoTime();
    Direction only = req.direction() != null ? req.direction() : eff.direction();
    if (req.kind() == JobKind.FULL_SYNC) {
      return fullSync(req, eff, mapper, couplings, watermarks, s, start, t0);
    }
    io.vertx.core.json.JsonArray records = req.parameters().getJsonArray("records");
    if (records != null) {
      // "Synchronize now" on selected records: those only, in one direction, whether or not they changed.
      if (only == Direction.BIDIRECTIONAL) {
        return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + def.name()
            + " is bidirectional: say which direction the selected records go (TO_CRM or FROM_CRM)"));
      }
      List<String> keys = new java.util.ArrayList<>();
      records.forEach(k -> keys.add(String.valueOf(k)));
      long t1 = System.nanoTime();
      return (only == Direction.TO_CRM ? toCrm(couplings, watermarks, eff, mapper, req.jobId(), s)
              .runSelected(keys, start)
          : fromCrm(couplings, watermarks, eff, mapper, req.jobId(), s).runSelected(keys, start))
          .map(o -> {
            syncMetrics.records(def.name(), only, o);
            syncMetrics.duration(def.name(), java.time.Duration.ofNanos(System.nanoTime() - t1));
            return o.withMessage(def.name() + " " + keys.size() + " selected records "
                + (only == Direction.TO_CRM ? "to CRM: " : "from CRM: ") + counts(o));
          });
    }
    // Deletions first (a restore is then done by the runs, which retry it first); then, for a bidirectional
    // mapping, ERP to CRM before CRM to ERP, as the reference system does.
    DeletionSync deletionRun = new DeletionSync(io(couplings, watermarks, eff), s.deletions(),
        req.jobId(), erpDeletionScanMs).limits(s);
    Future<JobOutcome> deletions = deletionRun.run();
    ToCrmSync toRun = toCrm(couplings, watermarks, eff, mapper, req.jobId(), s);
    FromCrmSync fromRun = fromCrm(couplings, watermarks, eff, mapper, req.jobId(), s);
    Future<JobOutcome> toCrm = deletions.compose(d -> (only == Direction.FROM_CRM
        ? Future.succeededFuture(JobOutcome.EMPTY) : toRun.run(start))
        .map(t -> t.plus(new JobOutcome(0, 0, d.deleted(), 0, 0, d.failed(), 0, d.uncoupled(), null))));
    return toCrm.compose(a -> (only == Direction.TO_CRM ? Future.succeededFuture(JobOutcome.EMPTY)
            : mergedRun(fromRun, () -> toCrm(couplings, watermarks, eff, mapper, req.jobId(), s), start))
        .map(b -> {
          syncMetrics.records(def.name(), Direction.TO_CRM, a);
          syncMetrics.records(def.name(), Direction.FROM_CRM, b);
          syncMetrics.duration(def.name(), java.time.Duration.ofNanos(System.nanoTime() - t0));
          String check = deletionRun.erpCheckSummary();
          return a.plus(b).withMessage(withMissing(summary(eff, only, a, b), toRun, fromRun)
              + (check == null ? "" : "; " + check));
        }));
  }

  /**
   * A full synchronization, in one direction (the job's, else the mapping's; a bidirectional mapping needs one),
   * over the key range in the job's parameters ({@code from} inclusive, {@code to} exclusive, ERP to CRM only),
   * resuming from the job's checkpoint.
   */
  private Future<JobOutcome> fullSync(JobRequest req, MappingDefinition eff, RecordMapper mapper,
      PgCouplingStore couplings, PgWatermarkStore watermarks, MappingSettings s, OffsetDateTime start, long t0) {
    Direction dir = req.direction() != null ? req.direction() : eff.direction();
    if (dir == Direction.BIDIRECTIONAL) {
      return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + def.name()
          + " is bidirectional: a full synchronization needs a direction (TO_CRM or FROM_CRM)"));
    }
    if (req.parameters().getBoolean("track", false)) {
      return startTracking(req, eff, couplings, watermarks, s, dir)
          .compose(o -> dir == Direction.FROM_CRM && req.parameters().getBoolean("otherSide", false)
              ? ownErpWrites(req, eff, mapper, couplings, watermarks, s, start)
                  .map(w -> o.plus(w).withMessage(o.message() + "; " + w.message()))
              : Future.succeededFuture(o));
    }
    FullSyncCheckpoint place = new FullSyncCheckpoint(vertx, req.jobId(), def.name(), dir, req.checkpoint());
    String from = req.parameters().getString("from");
    String to = req.parameters().getString("to");
    ToCrmSync toRun = dir == Direction.TO_CRM ? toCrm(couplings, watermarks, eff, mapper, req.jobId(), s) : null;
    FromCrmSync fromRun = dir == Direction.FROM_CRM ? fromCrm(couplings, watermarks, eff, mapper, req.jobId(), s)
        : null;
    SyncRun used = toRun != null ? toRun : fromRun;
    Future<JobOutcome> run = toRun != null ? toRun.runFull(from, to, place, start) : fromRun.runFull(place, start);
    return run.map(attempt -> {
      syncMetrics.records(def.name(), dir, attempt);
      syncMetrics.duration(def.name(), java.time.Duration.ofNanos(System.nanoTime() - t0));
      JobOutcome o = place.base().plus(attempt);
      String range = from == null && to == null ? "" : " keys " + (from == null ? "" : from) + ".."
          + (to == null ? "" : to);
      return o.withMessage(withMissing(def.name() + " full synchronization "
          + (dir == Direction.TO_CRM ? "to CRM" : "from CRM") + range + ": " + counts(o), used));
    });
  }

  /**
   * A full synchronization's last job, once its ranges are done: CRM change tracking and the ERP key-range counts
   * start past what it wrote ({@link DeletionSync#startTracking}); after ERP to CRM on a bidirectional mapping, the
   * CRM-to-ERP runs read from the CRM's newest stamp when the full synchronization started, without the rows
   * Tandem's application users wrote up to the CRM's newest stamp now.
   */
  private Future<JobOutcome> startTracking(JobRequest req, MappingDefinition eff, PgCouplingStore couplings,
      PgWatermarkStore watermarks, MappingSettings s, Direction dir) {
    String other = req.parameters().getString("otherMark");
    Future<Void> own = !req.parameters().getBoolean("otherSide", false) || dir != Direction.TO_CRM
        || eff.direction() != Direction.BIDIRECTIONAL
        ? Future.succeededFuture()
        : crm.query(CrmQuery.newest(eff.crmEntitySet(), eff.crmModifiedOn()).toString())
            .compose(p -> {
              // No mark: the CRM had no rows when the line started; its runs read from the start, without ours.
              OffsetDateTime from = other == null ? null : OffsetDateTime.parse(other);
              String newest = p.rows().isEmpty() ? null : p.rows().get(0).getString(eff.crmModifiedOn());
              return newest == null ? Future.<Void>succeededFuture()
                  : watermarks.ownCrmWrites(pool, def.name(), from, OffsetDateTime.parse(newest));
            });
    DeletionSync deletions = new DeletionSync(io(couplings, watermarks, eff), s.deletions(), req.jobId(),
        erpDeletionScanMs).limits(s);
    return own.compose(v -> deletions.startTracking()).map(o -> o.withMessage(def.name()
        + " change tracking started after the full synchronization: " + o.deleted() + " deleted, " + o.uncoupled()
        + " uncoupled, " + o.failed() + " failed; " + deletions.erpCheckSummary()));
  }

  /**
   * After a full synchronization CRM to ERP of a bidirectional mapping: the ERP-to-CRM runs skip what it wrote in
   * the ERP ({@link ErpOwnWrites}), and the people's ERP changes among those rows go to the CRM now.
   */
  private Future<JobOutcome> ownErpWrites(JobRequest req, MappingDefinition eff, RecordMapper mapper,
      PgCouplingStore couplings, PgWatermarkStore watermarks, MappingSettings s, OffsetDateTime start) {
    String other = req.parameters().getString("otherMark");
    ErpOwnWrites own = new ErpOwnWrites(pool, couplings, watermarks, erp, eff, s.overlap());
    return own.run(other == null ? null : OffsetDateTime.parse(other)).compose(changed -> changed.isEmpty()
        ? Future.succeededFuture(JobOutcome.EMPTY)
        : toCrm(couplings, watermarks, eff, mapper, req.jobId(), s).runSelected(changed, start))
        .map(o -> o.withMessage(own.summary()));
  }

  /**
   * The CRM-to-ERP run, then, for the records it merged under policy MERGE, the ERP's own changes to the CRM as
   * selected records, so a merge completes within the job.
   */
  private static Future<JobOutcome> mergedRun(FromCrmSync fromCrm, java.util.function.Supplier<ToCrmSync> toCrm,
      OffsetDateTime start) {
    return fromCrm.run(start).compose(b -> fromCrm.merged().isEmpty() ? Future.succeededFuture(b)
        : toCrm.get().runSelected(fromCrm.merged(), start).map(b::plus));
  }

  private ToCrmSync toCrm(PgCouplingStore couplings, PgWatermarkStore watermarks, MappingDefinition eff,
      RecordMapper mapper, long jobId, MappingSettings s) {
    ToCrmSync run = new ToCrmSync(io(couplings, watermarks, eff), mapper, jobId, s.skipAfter(), s.policy());
    run.onlyCoupled(s.onlyCoupled()).overlap(s.overlap());
    run.fenced(leases.of(jobId));
    return run;
  }

  private FromCrmSync fromCrm(PgCouplingStore couplings, PgWatermarkStore watermarks, MappingDefinition eff,
      RecordMapper mapper, long jobId, MappingSettings s) {
    FromCrmSync run = new FromCrmSync(io(couplings, watermarks, eff), mapper, jobId, s.skipAfter(),
        s.policy());
    run.onlyCoupled(s.onlyCoupled()).overlap(s.overlap());
    run.fenced(leases.of(jobId));
    return run;
  }

  /** The job's message, with the dependency guard's one-line summary of uncoupled references, if any. */
  private static String withMissing(String message, SyncRun... runs) {
    StringBuilder sb = new StringBuilder(message);
    for (SyncRun r : runs) {
      if (r.missingReferences() != null) {
        sb.append("; ").append(r.missingReferences());
      }
    }
    return sb.toString();
  }

  private static String summary(MappingDefinition def, Direction only, JobOutcome toCrm, JobOutcome fromCrm) {
    StringBuilder sb = new StringBuilder(def.name());
    if (only != Direction.FROM_CRM) {
      sb.append(" to CRM: ").append(counts(toCrm));
    }
    if (only != Direction.TO_CRM) {
      sb.append(only == Direction.BIDIRECTIONAL ? "; from CRM: " : " from CRM: ").append(counts(fromCrm));
    }
    return sb.toString();
  }

  private static String counts(JobOutcome o) {
    return o.inserted() + " inserted, " + o.modified() + " modified, " + o.unchanged() + " unchanged, "
        + o.failed() + " failed, " + o.skipped() + " skipped";
  }

  @Override
  public Future<?> stop() {
    if (task != null && !(task instanceof GenericSyncTask)) {
      task.stop();
    }
    if (erp != null) {
      erp.close();
    }
    if (crm != null) {
      crm.close();
    }
    return Future.succeededFuture();
  }

  /** @return the stores and this verticle's clients, for a run of the mapping as it is in effect */
  private SyncIo io(PgCouplingStore couplings, PgWatermarkStore watermarks, MappingDefinition eff) {
    return new SyncIo(pool, couplings, watermarks, erp, crm, eff);
  }
}
