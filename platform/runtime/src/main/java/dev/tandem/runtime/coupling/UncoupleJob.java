package dev.tandem.runtime.coupling;

import dev.tandem.api.JobOutcome;
import dev.tandem.api.JobRequest;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.store.MappingSettings;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** An {@code UNCOUPLE} job: removes selected couplings ({@code ids}), or all of the mapping ({@code all}). */
final class UncoupleJob extends CouplingJob {

  UncoupleJob(CouplingIo io, JobRequest req, MappingSettings s, MappingDefinition def,
      Function<String, MappingDefinition> mappings) {
    super(io, req, s, def, mappings);
  }

  @Override
  Future<JobOutcome> run() {
    JsonArray ids = p.getJsonArray("ids");
    if (ids != null) {
      List<Long> all = new ArrayList<>();
      ids.forEach(i -> all.add(((Number) i).longValue()));
      long[] n = {0};
      Future<Void> chain = Future.succeededFuture();
      for (int from = 0; from < all.size(); from += CHUNK) {
        List<Long> chunk = all.subList(from, Math.min(all.size(), from + CHUNK));
        chain = chain.compose(v -> io.couplings().uncouple(eff.name(), chunk).map(k -> {
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
    return io.couplings().uncoupleSome(eff.name(), 5000)
        .compose(n -> n < 5000 ? Future.succeededFuture(sofar + n) : uncoupleAll(sofar + n));
  }

}
