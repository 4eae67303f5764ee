package dev.tandem.runtime.coupling;

import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgJobRecordStore.Result;
import dev.tandem.runtime.sync.ReferenceGuard;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * A {@code COUPLE} job: creates the counterparts of selected ({@code records}) or of all uncoupled records of the
 * job's side, through the sync engine's "synchronize selected records" run.
 */
final class CoupleJob extends CouplingJob {

  CoupleJob(CouplingIo io, JobRequest req, MappingSettings s, MappingDefinition def,
      Function<String, MappingDefinition> mappings) {
    super(io, req, s, def, mappings);
  }

  @Override
  Future<JobOutcome> run() {
    JsonArray given = p.getJsonArray("records");
    ReferenceGuard guard = new ReferenceGuard(io.pool(), io.couplings(), eff, mapper, flow());
    List<String> keys = new ArrayList<>();
    List<Result> taken = new ArrayList<>();
    Future<Void> collected;
    if (given != null) {
      List<String> asked = new ArrayList<>();
      given.forEach(k -> asked.add(erpSide ? String.valueOf(k) : String.valueOf(k).toLowerCase(Locale.ROOT)));
      collected = io.couplings().bySourceIds(io.pool(), eff.name(), flow(), asked).map(found -> {
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
        return io.couplings().bySourceIds(io.pool(), eff.name(), flow(), page).compose(found -> {
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
      return io.records().add(io.pool(), req.jobId(), eff.name(), taken).compose(x -> createFor(keys));
    }).map(o -> o.plus(new JobOutcome(0, 0, 0, taken.size(), 0, 0, 0, 0, null)).withMessage(eff.name()
        + " counterparts of " + keys.size() + " uncoupled " + sideName(erpSide) + " records: " + o.coupled()
        + " created and coupled, " + o.failed() + " failed" + (taken.isEmpty() ? "" : ", " + taken.size()
        + " coupled already") + (guard.anyMissing() ? "; WARNING " + guard.message() : "")
        + "; per record: GET /api/v1/jobs/" + req.jobId() + "/records"));
  }

}
