package dev.tandem.runtime.fullsync;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import dev.tandem.runtime.fullsync.FullSyncCoordinatorVerticle.Sides;
import dev.tandem.runtime.fullsync.FullSyncCoordinatorVerticle.State;
import dev.tandem.runtime.store.PgFullSyncStore.Line;
import dev.tandem.runtime.store.PgFullSyncStore.Progress;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The review as the admin API shows it: a line per mapping with its counts, recommendation and both directions. */
final class FullSyncReviewJson {

  private FullSyncReviewJson() {}

  /**
   * @param defs the enabled mappings, in dependency order
   * @param sides the counts of both sides per mapping (none when the review was asked without counts)
   * @param st the newest run, its lines and their progress
   * @param sched each mapping's schedule state
   * @return {@code {run, lines}}
   */
  static JsonObject render(List<MappingDefinition> defs, Map<String, Sides> sides, State st,
      Map<String, String> sched) {
    Map<String, Line> byMapping = new HashMap<>();
    st.lines().forEach(l -> byMapping.put(l.mapping(), l));
    JsonArray out = new JsonArray();
    for (MappingDefinition d : defs) {
      JsonObject line = new JsonObject().put("mapping", d.name())
          .put("direction", d.direction().name())
          .put("dependencies", new JsonArray(d.dependencies().stream().map(MappingDependency::mapping).toList()))
          .put("jobQueueStatus", sched.getOrDefault(d.name(), "NONE"));
      Sides s = sides.get(d.name());
      if (s != null) {
        line.put("erpRows", s.erp()).put("crmRows", s.crm()).put("crmRowsCapped", s.crm() >= 5000)
            .put("coupled", s.coupled())
            .mergeIn(FullSyncRecommendation.recommend(d, s.erp(), s.crm(), s.coupled()));
      }
      Line l = byMapping.get(d.name());
      Progress p = st.progress().get(d.name());
      line.put("toCrm", status(l, p, Direction.TO_CRM));
      line.put("fromCrm", status(l, p, Direction.FROM_CRM));
      if (l != null) {
        line.put("line", new JsonObject().put("status", l.status().toUpperCase(java.util.Locale.ROOT))
            .put("reason", l.reason()).put("dependencies", new JsonArray(l.dependencies())));
      }
      out.add(line);
    }
    return new JsonObject().put("run", st.run() == null ? null : st.run().toJson()).put("lines", out);
  }

  /** One direction's status of a line: NOT_STARTED, IN_PROCESS, SUCCESS or ERROR, with progress. */
  static JsonObject status(Line l, Progress p, Direction dir) {
    if (l == null || !dir.name().equals(l.direction())) {
      return new JsonObject().put("status", "NOT_STARTED");
    }
    String st = switch (l.status()) {
      case "running" -> "IN_PROCESS";
      case "succeeded" -> "SUCCESS";
      case "failed", "held", "partial" -> "ERROR";
      default -> "NOT_STARTED";
    };
    JsonObject o = new JsonObject().put("status", st).put("reason", l.reason());
    long done = p == null ? 0 : p.done();
    Long estimated = l.estimated();
    o.put("done", done).put("estimated", estimated).put("counts", p == null ? new JsonObject() : p.counts())
        .put("jobs", p == null ? 0 : p.jobs());
    if (estimated != null && estimated > 0) {
      o.put("progress", Math.min(1.0, done / (double) estimated));
    }
    if (l.startedAt() != null) {
      OffsetDateTime end = l.finishedAt() != null ? l.finishedAt() : OffsetDateTime.now();
      double seconds = Math.max(0.001, Duration.between(l.startedAt(), end).toMillis() / 1000.0);
      double rate = done / seconds;
      o.put("startedAt", l.startedAt().toInstant().toString()).put("ratePerSecond", Math.round(rate * 10) / 10.0);
      if ("running".equals(l.status()) && estimated != null && rate > 0) {
        o.put("etaSeconds", Math.max(0, Math.round((estimated - done) / rate)));
      }
    }
    if (l.finishedAt() != null) {
      o.put("finishedAt", l.finishedAt().toInstant().toString());
    }
    return o;
  }
}
