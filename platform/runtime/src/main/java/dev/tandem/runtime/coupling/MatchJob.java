package dev.tandem.runtime.coupling;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgJobRecordStore.Result;
import dev.tandem.runtime.sync.ReferenceGuard;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A {@code MATCH} job: match-based coupling. The uncoupled candidates of the other side are paged in and indexed in
 * memory ({@link MatchIndex}), the job's side is paged through and matched, the dependency guard checks the
 * references on the way ({@link ReferenceGuard}); then the unique matches are coupled in chunks of one statement
 * each. Options: {@code side}, {@code caseSensitive} (field names), {@code createIfNoMatch}, {@code syncAfter},
 * {@code allowMissingReferences}.
 */
final class MatchJob extends CouplingJob {

  MatchJob(CouplingIo io, JobRequest req, MappingSettings s, MappingDefinition def,
      Function<String, MappingDefinition> mappings) {
    super(io, req, s, def, mappings);
  }

  @Override
  Future<JobOutcome> run() {
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
    ReferenceGuard guard = new ReferenceGuard(io.pool(), io.couplings(), eff, mapper, flow());
    long[] alreadyCoupled = {0};
    Direction candidateFlow = erpSide ? Direction.FROM_CRM : Direction.TO_CRM;
    // 1. The other side's uncoupled rows, indexed by their match values.
    Future<Void> indexed = eachPage(!erpSide, index.candidateFields(), rows -> {
      List<String> keys = keys(!erpSide, rows);
      return io.couplings().bySourceIds(io.pool(), eff.name(), candidateFlow, keys).map(found -> {
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
      return io.couplings().bySourceIds(io.pool(), eff.name(), flow(), keys).compose(found -> {
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
      chain = chain.compose(v -> io.pool().withTransaction(tx -> {
        List<String> erpIds = new ArrayList<>();
        List<String> crmIds = new ArrayList<>();
        for (MatchIndex.Result r : chunk) {
          if (r.kind() == MatchIndex.Kind.MATCHED) {
            erpIds.add(erpSide ? r.sourceKey() : r.targetKey());
            crmIds.add(erpSide ? r.targetKey() : r.sourceKey());
          }
        }
        return io.couplings().coupleMany(tx, eff.name(), req.jobId(), erpIds, crmIds).compose(coupled -> {
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
          return io.records().add(tx, req.jobId(), eff.name(), out);
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
    return eff.direction() == Direction.FROM_CRM ? runSelected(false, new ArrayList<>(done.coupledCrm))
        : runSelected(true, new ArrayList<>(done.coupledErp));
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
