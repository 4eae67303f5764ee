package dev.tandem.runtime.coupling;

import dev.tandem.runtime.sync.SyncIo;
import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgJobRecordStore.Result;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.sync.FromCrmSync;
import dev.tandem.runtime.sync.RecordMapper;
import dev.tandem.runtime.sync.ToCrmSync;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * What every coupling job of a mapping shares: its request and options, the effective mapping, the side whose
 * records it handles ({@code side}: ERP, the default, or CRM), the endpoints and stores ({@link CouplingIo}), and
 * the ways it reads and creates records: a side paged within the mapping's filter, and the sync engine's
 * "synchronize selected records" run, which creates and couples counterparts and records each result.
 */
abstract class CouplingJob {

  /** Pairs per coupling statement and results per insert. */
  static final int CHUNK = GenericCouplingVerticle.CHUNK;

  protected final CouplingIo io;
  protected final JobRequest req;
  protected final MappingDefinition eff;
  protected final MappingSettings s;
  protected final JsonObject p;
  protected final boolean erpSide;
  protected final RecordMapper mapper;

  /**
   * @param io the endpoints and stores
   * @param req the job
   * @param s the mapping's stored settings
   * @param def the mapping as its plugin declares it (the settings are applied to it)
   * @param mappings finds the other enabled mappings (lookups)
   */
  CouplingJob(CouplingIo io, JobRequest req, MappingSettings s, MappingDefinition def,
      Function<String, MappingDefinition> mappings) {
    this.io = io;
    this.req = req;
    this.eff = s.applyTo(def);
    this.s = s;
    this.p = req.parameters();
    String side = p.getString("side", "ERP").toUpperCase(Locale.ROOT);
    if (!side.equals("ERP") && !side.equals("CRM")) {
      throw TandemException.permanent(Stage.DISPATCH, "side '" + side + "' is ERP or CRM");
    }
    this.erpSide = side.equals("ERP");
    this.mapper = new RecordMapper(eff, s.disabledFields(), mappings);
  }

  /** @return the job's outcome */
  abstract Future<JobOutcome> run();

  /** The flow whose source is the job's side: TO_CRM for ERP records, FROM_CRM for CRM records. */
  protected Direction flow() {
    return erpSide ? Direction.TO_CRM : Direction.FROM_CRM;
  }

  protected String sideName(boolean erp) {
    return erp ? "ERP " + eff.erpEntitySet() : "CRM " + eff.crmEntitySet();
  }

  /**
   * The sync engine's run on selected records, the one place a coupling job builds the engine.
   *
   * @param fromErp ERP records to the CRM, or CRM records to the ERP
   * @param keys the records' keys (ERP keys or CRM ids)
   * @return the run's outcome
   */
  protected Future<JobOutcome> runSelected(boolean fromErp, List<String> keys) {
    OffsetDateTime start = OffsetDateTime.now(ZoneOffset.UTC);
    SyncIo run = new SyncIo(io.pool(), io.couplings(), new PgWatermarkStore(), io.erp(), io.crm(), eff);
    return fromErp
        ? new ToCrmSync(run, mapper, req.jobId(), s.skipAfter(),
            s.policy()).runSelected(keys, start)
        : new FromCrmSync(run, mapper, req.jobId(), s.skipAfter(),
            s.policy()).runSelected(keys, start);
  }

  /** Creates the counterparts of uncoupled records of the job's side with the sync engine, and records each. */
  protected Future<JobOutcome> createFor(List<String> keys) {
    if (keys.isEmpty()) {
      return Future.succeededFuture(JobOutcome.EMPTY);
    }
    if (!eff.direction().includes(flow())) {
      return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + eff.name()
          + " synchronizes " + eff.direction() + ": it does not create " + (erpSide ? "CRM" : "ERP")
          + " records from " + sideName(erpSide) + " records"));
    }
    return runSelected(erpSide, keys).compose(o -> {
      Future<Void> chain = Future.succeededFuture();
      for (int from = 0; from < keys.size(); from += CHUNK) {
        List<String> chunk = keys.subList(from, Math.min(keys.size(), from + CHUNK));
        chain = chain.compose(v -> io.couplings().bySourceIds(io.pool(), eff.name(), flow(), chunk).compose(found -> {
          List<Result> out = new ArrayList<>(chunk.size());
          for (String k : chunk) {
            Coupling c = found.get(k);
            if (c != null && c.coupled()) {
              out.add(new Result(c.erpId(), c.crmId(), "created", null));
            } else {
              out.add(new Result(erpSide ? k : null, erpSide ? null : k, "failed", c != null && c.lastError() != null
                  ? c.lastError() : sideName(erpSide) + " " + k + " was not found or not created"));
            }
          }
          return io.records().add(io.pool(), req.jobId(), eff.name(), out);
        }));
      }
      return chain.map(v -> o);
    });
  }

  protected List<String> keys(boolean erp, List<JsonObject> rows) {
    List<String> out = new ArrayList<>(rows.size());
    for (JsonObject r : rows) {
      out.add(erp ? String.valueOf(r.getValue(eff.erpKey()))
          : r.getString(eff.crmKey()).toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /** Pages through one side within the mapping's filter, selecting the key and the given fields. */
  protected Future<Void> eachPage(boolean erp, List<String> fields, Function<List<JsonObject>, Future<Void>> page) {
    Set<String> select = new LinkedHashSet<>();
    select.add(erp ? eff.erpKey() : eff.crmKey());
    select.addAll(fields);
    Future<Page> first;
    if (erp) {
      first = io.erp().read(eff.erpEntitySet(), eff.erpFilter(), List.copyOf(select), null);
    } else {
      // Lookup value columns (_x_value) are read whole: not every endpoint selects them.
      boolean selectable = select.stream().noneMatch(f -> f.startsWith("_"));
      first = io.crm().query(CrmQuery.of(eff.crmEntitySet()).select(selectable ? select : Set.of())
          .filter(eff.crmFilter()).toString());
    }
    return first.compose(pg -> pages(erp, pg, page));
  }

  private Future<Void> pages(boolean erp, Page pg, Function<List<JsonObject>, Future<Void>> page) {
    return page.apply(pg.rows()).compose(v -> !pg.hasNext() ? Future.<Void>succeededFuture()
        : (erp ? io.erp().follow(pg.nextLink()) : io.crm().follow(pg.nextLink()))
            .compose(next -> pages(erp, next, page)));
  }
}
