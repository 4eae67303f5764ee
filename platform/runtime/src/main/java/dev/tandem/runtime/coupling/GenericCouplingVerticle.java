package dev.tandem.runtime.coupling;

import dev.tandem.api.Addresses;
import dev.tandem.api.Direction;
import dev.tandem.api.JobFailure;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgJobRecordStore;
import dev.tandem.runtime.store.PgJobRecordStore.Result;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.sync.FromCrmSync;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.sync.RecordMapper;
import dev.tandem.runtime.sync.ReferenceGuard;
import dev.tandem.runtime.sync.ToCrmSync;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The runtime's own coupling verticle for a mapping whose plugin contributes none. It consumes the mapping's
 * coupling jobs:
 * <ul>
 *   <li>{@code MATCH}: match-based coupling. The uncoupled candidates of one side are paged in and indexed in
 *   memory ({@link MatchIndex}), the other side is paged through and matched, the dependency guard checks the
 *   references on the way ({@link ReferenceGuard}); then the unique matches are coupled in chunks of one statement
 *   each. Options: {@code side} (ERP, the default, or CRM: whose records are matched), {@code caseSensitive}
 *   (field names), {@code createIfNoMatch}, {@code syncAfter}, {@code allowMissingReferences}.</li>
 *   <li>{@code COUPLE}: creates the counterparts of selected or of all uncoupled records of a side, through the
 *   sync engine's "synchronize selected records" run.</li>
 *   <li>{@code UNCOUPLE}: removes selected couplings, or all of the mapping.</li>
 * </ul>
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
      settings.get(def.name()).compose(s -> {
        Job job = new Job(req, s.applyTo(def), s);
        return switch (req.kind()) {
          case MATCH -> records.clear(req.jobId()).compose(v -> job.match());
          case COUPLE -> records.clear(req.jobId()).compose(v -> job.createCounterparts());
          case UNCOUPLE -> job.uncouple();
          default -> Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "the coupling verticle of "
              + def.name() + " does not run " + req.kind() + " jobs"));
        };
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

  /** One job: its options, the effective mapping, and what it found. */
  private final class Job {
    private final JobRequest req;
    private final MappingDefinition eff;
    private final MappingSettings s;
    private final JsonObject p;
    private final boolean erpSide;
    private final RecordMapper mapper;

    Job(JobRequest req, MappingDefinition eff, MappingSettings s) {
      this.req = req;
      this.eff = eff;
      this.s = s;
      this.p = req.parameters();
      String side = p.getString("side", "ERP").toUpperCase(Locale.ROOT);
      if (!side.equals("ERP") && !side.equals("CRM")) {
        throw TandemException.permanent(Stage.DISPATCH, "side '" + side + "' is ERP or CRM");
      }
      this.erpSide = side.equals("ERP");
      this.mapper = new RecordMapper(eff, s.disabledFields(), mappings);
    }

    /** The flow whose source is the job's side: TO_CRM for ERP records, FROM_CRM for CRM records. */
    private Direction flow() {
      return erpSide ? Direction.TO_CRM : Direction.FROM_CRM;
    }

    private String sideName(boolean erp) {
      return erp ? "ERP " + eff.erpEntitySet() : "CRM " + eff.crmEntitySet();
    }

    Future<JobOutcome> match() {
      if (eff.matchFields().isEmpty()) {
        return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + eff.name()
            + " has no match fields: couple its records by hand or create their counterparts"));
      }
      Set<String> exact = new HashSet<>();
      JsonArray cs = p.getJsonArray("caseSensitive");
      if (cs != null) {
        cs.forEach(f -> exact.add(String.valueOf(f)));
      }
      MatchIndex index = new MatchIndex(eff.matchFields(), erpSide, sideName(!erpSide) + " records",
          exact);
      ReferenceGuard guard = new ReferenceGuard(pool, couplings, eff, mapper, flow());
      long[] alreadyCoupled = {0};
      Direction candidateFlow = erpSide ? Direction.FROM_CRM : Direction.TO_CRM;
      // 1. The other side's uncoupled rows, indexed by their match values.
      Future<Void> indexed = eachPage(!erpSide, index.candidateFields(), rows -> {
        List<String> keys = keys(!erpSide, rows);
        return couplings.bySourceIds(pool, eff.name(), candidateFlow, keys).map(found -> {
          for (int i = 0; i < rows.size(); i++) {
            // A pending coupling holds its id too: not a candidate.
            if (!found.containsKey(keys.get(i))) {
              index.addCandidate(keys.get(i), rows.get(i));
            }
          }
          return null;
        });
      });
      // 2. This side's rows, matched; the guard checks their references on the way.
      List<String> select = new ArrayList<>(index.drivingFields());
      select.addAll(guard.fields());
      Future<Void> matched = indexed.compose(v -> eachPage(erpSide, select, rows -> {
        List<String> keys = keys(erpSide, rows);
        return couplings.bySourceIds(pool, eff.name(), flow(), keys).compose(found -> {
          for (int i = 0; i < rows.size(); i++) {
            if (found.containsKey(keys.get(i))) {
              alreadyCoupled[0]++;
            } else {
              index.match(keys.get(i), rows.get(i));
            }
          }
          return guard.check(rows);
        });
      }));
      return matched.compose(v -> {
        if (guard.anyMissing() && !p.getBoolean("allowMissingReferences", false)) {
          return Future.failedFuture(TandemException.permanent(Stage.LOOKUP, guard.message()
              + " (nothing was coupled; to couple anyway, run it with allowMissingReferences)"));
        }
        return couple(index.resolve());
      }).compose(done -> afterCoupling(done, alreadyCoupled[0], index.candidates(),
          guard.anyMissing() ? guard.message() : null));
    }

    /** Couples the matches chunk by chunk, each chunk's couplings and results in one transaction. */
    private Future<Done> couple(List<MatchIndex.Result> results) {
      Done done = new Done();
      Future<Void> chain = Future.succeededFuture();
      for (int from = 0; from < results.size(); from += CHUNK) {
        List<MatchIndex.Result> chunk = results.subList(from, Math.min(results.size(), from + CHUNK));
        chain = chain.compose(v -> pool.withTransaction(tx -> {
          List<String> erpIds = new ArrayList<>();
          List<String> crmIds = new ArrayList<>();
          for (MatchIndex.Result r : chunk) {
            if (r.kind() == MatchIndex.Kind.MATCHED) {
              erpIds.add(erpSide ? r.sourceKey() : r.targetKey());
              crmIds.add(erpSide ? r.targetKey() : r.sourceKey());
            }
          }
          return couplings.coupleMany(tx, eff.name(), req.jobId(), erpIds, crmIds).compose(coupled -> {
            List<Result> out = new ArrayList<>(chunk.size());
            for (MatchIndex.Result r : chunk) {
              String erpId = erpSide ? r.sourceKey() : r.targetKey();
              String crmId = erpSide ? r.targetKey() : r.sourceKey();
              if (r.kind() == MatchIndex.Kind.MATCHED && coupled.contains(erpId)) {
                done.coupledErp.add(erpId);
                done.coupledCrm.add(crmId);
                out.add(new Result(erpId, crmId, "coupled", null));
              } else if (r.kind() == MatchIndex.Kind.MATCHED) {
                done.taken++;
                out.add(new Result(erpId, crmId, "taken", "matches " + (erpSide ? "CRM " + crmId : "ERP " + erpId)
                    + ", which was coupled by someone else while the job ran"));
              } else {
                if (r.kind() == MatchIndex.Kind.NO_MATCH) {
                  done.noMatch.add(r.sourceKey());
                } else {
                  done.ambiguous++;
                }
                out.add(new Result(erpSide ? r.sourceKey() : null, erpSide ? null : r.sourceKey(),
                    r.kind() == MatchIndex.Kind.NO_MATCH ? "no_match" : "ambiguous", r.reason(), r.candidates()));
              }
            }
            return records.add(tx, req.jobId(), eff.name(), out);
          });
        }));
      }
      return chain.map(v -> done);
    }

    private Future<JobOutcome> afterCoupling(Done done, long alreadyCoupled, int candidates, String warning) {
      Future<JobOutcome> created = Future.succeededFuture(JobOutcome.EMPTY);
      boolean create = p.getBoolean("createIfNoMatch", false) && !done.noMatch.isEmpty();
      if (create) {
        // The no-match rows were recorded as such; created ones are recorded again as created.
        created = createFor(new ArrayList<>(done.noMatch));
      }
      return created.compose(c -> {
        Future<JobOutcome> synced = Future.succeededFuture(JobOutcome.EMPTY);
        if (p.getBoolean("syncAfter", false) && !done.coupledErp.isEmpty()) {
          synced = syncNow(done);
        }
        return synced.map(sy -> {
          long notCoupled = done.ambiguous + done.taken + done.noMatch.size() - (create ? c.coupled() : 0);
          JobOutcome o = new JobOutcome(c.inserted() + sy.inserted(), c.modified() + sy.modified(), 0,
              alreadyCoupled + sy.unchanged(), notCoupled, c.failed() + sy.failed(), done.coupledErp.size()
              + c.coupled(), 0, null);
          StringBuilder m = new StringBuilder(eff.name()).append(" match ").append(sideName(erpSide))
              .append(" against ").append(candidates).append(" uncoupled ").append(sideName(!erpSide))
              .append(" records: ").append(done.coupledErp.size()).append(" coupled, ")
              .append(done.noMatch.size()).append(" without a match, ").append(done.ambiguous).append(" ambiguous, ")
              .append(done.taken).append(" taken meanwhile, ").append(alreadyCoupled).append(" coupled already");
          if (create) {
            m.append("; counterparts created: ").append(c.coupled()).append(", failed: ").append(c.failed());
          }
          if (p.getBoolean("syncAfter", false)) {
            m.append("; synchronized: ").append(sy.inserted()).append(" inserted, ").append(sy.modified())
                .append(" modified, ").append(sy.unchanged()).append(" unchanged, ").append(sy.failed())
                .append(" failed");
          }
          if (warning != null) {
            m.append("; WARNING ").append(warning);
          }
          m.append("; per record: GET /api/v1/jobs/").append(req.jobId()).append("/records");
          return o.withMessage(m.toString());
        });
      });
    }

    /** Synchronizes the newly coupled records now, in the mapping's direction (ERP to CRM when both). */
    private Future<JobOutcome> syncNow(Done done) {
      OffsetDateTime start = OffsetDateTime.now(ZoneOffset.UTC);
      PgWatermarkStore wm = new PgWatermarkStore();
      if (eff.direction() == Direction.FROM_CRM) {
        return new FromCrmSync(pool, couplings, wm, erp, crm, eff, mapper, req.jobId(), s.skipAfter(), s.policy())
            .runSelected(new ArrayList<>(done.coupledCrm), start);
      }
      return new ToCrmSync(pool, couplings, wm, erp, crm, eff, mapper, req.jobId(), s.skipAfter(), s.policy())
          .runSelected(new ArrayList<>(done.coupledErp), start);
    }

    Future<JobOutcome> createCounterparts() {
      JsonArray given = p.getJsonArray("records");
      ReferenceGuard guard = new ReferenceGuard(pool, couplings, eff, mapper, flow());
      List<String> keys = new ArrayList<>();
      List<Result> taken = new ArrayList<>();
      Future<Void> collected;
      if (given != null) {
        List<String> asked = new ArrayList<>();
        given.forEach(k -> asked.add(erpSide ? String.valueOf(k) : String.valueOf(k).toLowerCase(Locale.ROOT)));
        collected = couplings.bySourceIds(pool, eff.name(), flow(), asked).map(found -> {
          for (String k : asked) {
            Coupling c = found.get(k);
            if (c != null && c.coupled()) {
              taken.add(new Result(c.erpId(), c.crmId(), "taken", "coupled already (coupling " + c.id() + ")"));
            } else {
              keys.add(k);
            }
          }
          return null;
        });
      } else {
        collected = eachPage(erpSide, guard.fields(), rows -> {
          List<String> page = keys(erpSide, rows);
          return couplings.bySourceIds(pool, eff.name(), flow(), page).compose(found -> {
            List<JsonObject> uncoupled = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
              Coupling c = found.get(page.get(i));
              if (c == null || !c.coupled()) {
                keys.add(page.get(i));
                uncoupled.add(rows.get(i));
              }
            }
            return guard.check(uncoupled);
          });
        });
      }
      return collected.compose(v -> {
        if (guard.anyMissing() && !p.getBoolean("allowMissingReferences", false)) {
          return Future.failedFuture(TandemException.permanent(Stage.LOOKUP, guard.message()
              + " (nothing was created; to create anyway, run it with allowMissingReferences)"));
        }
        return records.add(pool, req.jobId(), eff.name(), taken).compose(x -> createFor(keys));
      }).map(o -> o.plus(new JobOutcome(0, 0, 0, taken.size(), 0, 0, 0, 0, null)).withMessage(eff.name()
          + " counterparts of " + keys.size() + " uncoupled " + sideName(erpSide) + " records: " + o.coupled()
          + " created and coupled, " + o.failed() + " failed" + (taken.isEmpty() ? "" : ", " + taken.size()
          + " coupled already") + (guard.anyMissing() ? "; WARNING " + guard.message() : "")
          + "; per record: GET /api/v1/jobs/" + req.jobId() + "/records"));
    }

    /** Creates the counterparts of uncoupled records of the job's side with the sync engine, and records each. */
    private Future<JobOutcome> createFor(List<String> keys) {
      if (keys.isEmpty()) {
        return Future.succeededFuture(JobOutcome.EMPTY);
      }
      if (!eff.direction().includes(flow())) {
        return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "mapping " + eff.name()
            + " synchronizes " + eff.direction() + ": it does not create " + (erpSide ? "CRM" : "ERP")
            + " records from " + sideName(erpSide) + " records"));
      }
      OffsetDateTime start = OffsetDateTime.now(ZoneOffset.UTC);
      PgWatermarkStore wm = new PgWatermarkStore();
      Future<JobOutcome> run = erpSide
          ? new ToCrmSync(pool, couplings, wm, erp, crm, eff, mapper, req.jobId(), s.skipAfter(), s.policy())
              .runSelected(keys, start)
          : new FromCrmSync(pool, couplings, wm, erp, crm, eff, mapper, req.jobId(), s.skipAfter(), s.policy())
              .runSelected(keys, start);
      return run.compose(o -> {
        Future<Void> chain = Future.succeededFuture();
        for (int from = 0; from < keys.size(); from += CHUNK) {
          List<String> chunk = keys.subList(from, Math.min(keys.size(), from + CHUNK));
          chain = chain.compose(v -> couplings.bySourceIds(pool, eff.name(), flow(), chunk).compose(found -> {
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
            return records.add(pool, req.jobId(), eff.name(), out);
          }));
        }
        return chain.map(v -> o);
      });
    }

    Future<JobOutcome> uncouple() {
      JsonArray ids = p.getJsonArray("ids");
      if (ids != null) {
        List<Long> all = new ArrayList<>();
        ids.forEach(i -> all.add(((Number) i).longValue()));
        long[] n = {0};
        Future<Void> chain = Future.succeededFuture();
        for (int from = 0; from < all.size(); from += CHUNK) {
          List<Long> chunk = all.subList(from, Math.min(all.size(), from + CHUNK));
          chain = chain.compose(v -> couplings.uncouple(eff.name(), chunk).map(k -> {
            n[0] += k;
            return null;
          }));
        }
        return chain.map(v -> new JobOutcome(0, 0, 0, 0, all.size() - n[0], 0, 0, n[0], eff.name() + ": "
            + n[0] + " of " + all.size() + " couplings removed" + (all.size() > n[0] ? " (the others did not exist)"
            : "")));
      }
      if (!p.getBoolean("all", false)) {
        return Future.failedFuture(TandemException.permanent(Stage.DISPATCH, "an UNCOUPLE job needs ids or all"));
      }
      return uncoupleAll(0).map(n -> new JobOutcome(0, 0, 0, 0, 0, 0, 0, n, eff.name() + ": all " + n
          + " couplings removed"));
    }

    private Future<Long> uncoupleAll(long sofar) {
      return couplings.uncoupleSome(eff.name(), 5000)
          .compose(n -> n < 5000 ? Future.succeededFuture(sofar + n) : uncoupleAll(sofar + n));
    }

    private List<String> keys(boolean erp, List<JsonObject> rows) {
      List<String> out = new ArrayList<>(rows.size());
      for (JsonObject r : rows) {
        out.add(erp ? String.valueOf(r.getValue(eff.erpKey()))
            : r.getString(eff.crmKey()).toLowerCase(Locale.ROOT));
      }
      return out;
    }

    /** Pages through one side within the mapping's filter, selecting the key and the given fields. */
    private Future<Void> eachPage(boolean erp, List<String> fields, Function<List<JsonObject>, Future<Void>> page) {
      Set<String> select = new LinkedHashSet<>();
      select.add(erp ? eff.erpKey() : eff.crmKey());
      select.addAll(fields);
      Future<Page> first;
      if (erp) {
        first = GenericCouplingVerticle.this.erp.read(eff.erpEntitySet(), eff.erpFilter(), List.copyOf(select), null);
      } else {
        // Lookup value columns (_x_value) are read whole: not every endpoint selects them.
        boolean selectable = select.stream().noneMatch(f -> f.startsWith("_"));
        StringBuilder q = new StringBuilder(eff.crmEntitySet());
        char sep = '?';
        if (selectable) {
          q.append(sep).append("$select=").append(encode(String.join(",", select)));
          sep = '&';
        }
        if (eff.crmFilter() != null && !eff.crmFilter().isBlank()) {
          q.append(sep).append("$filter=").append(encode(eff.crmFilter()));
        }
        first = crm.query(q.toString());
      }
      return first.compose(pg -> pages(erp, pg, page));
    }

    private Future<Void> pages(boolean erp, Page pg, Function<List<JsonObject>, Future<Void>> page) {
      return page.apply(pg.rows()).compose(v -> !pg.hasNext() ? Future.<Void>succeededFuture()
          : (erp ? GenericCouplingVerticle.this.erp.follow(pg.nextLink()) : crm.follow(pg.nextLink()))
              .compose(next -> pages(erp, next, page)));
    }
  }

  private static String encode(String s) {
    return dev.tandem.runtime.connectors.ODataLiterals.query(s);
  }

  /** What the coupling step did. */
  private static final class Done {
    final List<String> coupledErp = new ArrayList<>();
    final List<String> coupledCrm = new ArrayList<>();
    final List<String> noMatch = new ArrayList<>();
    long ambiguous;
    long taken;
  }
}
