package dev.tandem.runtime.sync;

import dev.tandem.api.ChildMapping;
import dev.tandem.api.CouplingWriter;
import dev.tandem.api.CrmConnector;
import dev.tandem.api.Direction;
import dev.tandem.api.ErpConnector;
import dev.tandem.api.FieldMapper;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingState;
import dev.tandem.api.RecordErrors;
import dev.tandem.api.SyncEngine;
import dev.tandem.api.TaskContext;
import dev.tandem.runtime.store.JobLease;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgTaskStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/** The {@link TaskContext} of one job a {@link dev.tandem.api.SyncTask} runs on a {@link GenericSyncVerticle}. */
final class TaskSyncContext implements TaskContext {

  private final Vertx vertx;
  private final JobRequest job;
  private final MappingDefinition eff;
  private final Set<String> disabledFields;
  private final Function<String, MappingDefinition> mappings;
  private final ErpConnector erp;
  private final CrmConnector crm;
  private final Pool pool;
  private final JobLease lease;
  private final SyncEngine engine;
  private final JsonObject settings;
  private final System.Logger logger;
  private final PgTaskStore store;

  TaskSyncContext(Vertx vertx, JobRequest job, MappingDefinition eff, Set<String> disabledFields,
      Function<String, MappingDefinition> mappings, ErpConnector erp, CrmConnector crm, Pool pool, JobLease lease,
      SyncEngine engine, JsonObject settings, System.Logger logger) {
    this.vertx = vertx;
    this.job = job;
    this.eff = eff;
    this.disabledFields = disabledFields;
    this.mappings = mappings;
    this.erp = erp;
    this.crm = crm;
    this.pool = pool;
    this.lease = lease;
    this.engine = engine;
    this.settings = settings;
    this.logger = logger;
    Map<String, List<String>> keys = new HashMap<>();
    Map<String, String> parents = new HashMap<>();
    keys.put(eff.name(), eff.erpKeyFields());
    for (ChildMapping c : eff.children()) {
      keys.put(c.lines().name(), c.lines().erpKeyFields());
      parents.put(c.lines().name(), eff.name());
    }
    this.store = new PgTaskStore(pool, eff.name(), job.jobId(), lease, m -> {
      List<String> k = keys.get(m);
      if (k != null) {
        return k;
      }
      MappingDefinition other = mappings.apply(m);
      return other == null ? List.of("key") : other.erpKeyFields();
    }, parents);
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public JobRequest job() {
    return job;
  }

  @Override
  public MappingDefinition mapping() {
    return eff;
  }

  @Override
  public Direction direction() {
    return job.direction() != null ? job.direction() : eff.direction();
  }

  @Override
  public ErpConnector erp() {
    return erp;
  }

  @Override
  public CrmConnector crm() {
    return crm;
  }

  @Override
  public CouplingWriter couplings() {
    return store.couplings();
  }

  @Override
  public MappingState state() {
    return store.state(job.checkpoint());
  }

  @Override
  public RecordErrors errors() {
    return store.errors();
  }

  @Override
  public FieldMapper mapper(MappingDefinition mapping) {
    boolean own = mapping.name().equals(eff.name());
    if (!own && eff.children().stream().noneMatch(c -> c.lines().name().equals(mapping.name()))) {
      throw new IllegalArgumentException("mapping " + mapping.name() + " is neither " + eff.name()
          + " nor one of its lines");
    }
    return new RecordFieldMapper(new RecordMapper(mapping, own ? disabledFields : Set.of(), mappings),
        new PgCouplingStore(pool), pool);
  }

  @Override
  public SyncEngine engine() {
    return engine;
  }

  @Override
  public boolean cancelled() {
    return lease.lostReason() != null;
  }

  @Override
  public void progress(JobOutcome soFar, String message) {
    JsonObject event = new JsonObject().put("id", job.jobId()).put("kind", job.kind().name())
        .put("mapping", job.mapping()).put("counts", soFar.toJson());
    if (message != null) {
      event.put("message", message);
    }
    // Beside the dispatcher's life-cycle events on tandem.events.jobs, not among them: a job's status is theirs.
    vertx.eventBus().publish(dev.tandem.api.Addresses.PROGRESS_EVENTS, event);
  }

  @Override
  public JsonObject settings() {
    return settings.copy();
  }

  @Override
  public Optional<MappingDefinition> other(String mapping) {
    return Optional.ofNullable(mappings.apply(mapping));
  }

  @Override
  public System.Logger logger() {
    return logger;
  }
}
