package dev.tandem.runtime.fullsync;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.api.Direction;
import dev.tandem.api.JobKind;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.MappingDependency;
import dev.tandem.runtime.config.TandemConfig.Connections;
import dev.tandem.runtime.connectors.EndpointMetrics;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.PgFullSyncStore.Line;
import dev.tandem.runtime.store.PgFullSyncStore.Progress;
import dev.tandem.runtime.store.PgFullSyncStore.Run;
import dev.tandem.runtime.plugins.MappingGraph;
import dev.tandem.runtime.plugins.MappingStatus;
import dev.tandem.runtime.store.NewJob;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgFullSyncStore;
import dev.tandem.runtime.store.PgMappingSettingsStore;
import dev.tandem.runtime.store.PgScheduleStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.lang.System.Logger.Level;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The full synchronization review and its runs, on every node. {@code start} creates a run whose lines are the
 * enabled mappings, each with its recommended direction; every tick, the node that gets the running run's row lock
 * advances it: a waiting line whose dependencies all succeeded (or were skipped) is launched as FULL_SYNC jobs —
 * a large ERP-to-CRM line cut into key ranges that any node may claim — a line whose dependency failed is held,
 * a running line ends when its jobs have, and the run ends when no line waits or runs. All of it is state in
 * PostgreSQL, so a run carries on after any node dies, and each job resumes from its own checkpoint.
 */
public final class FullSyncCoordinatorVerticle extends VerticleBase {

  /** A line of ERP-to-CRM with at least this many rows is cut into the run's key ranges. */
  static final long SPLIT_THRESHOLD = 10_000;
  /** How the reason of a line skipped because its records must be coupled first begins. */
  static final String COUPLE_FIRST = FullSyncRecommendation.COUPLE_FIRST;
  private static final System.Logger LOG = System.getLogger(FullSyncCoordinatorVerticle.class.getName());

  private final Pool pool;
  private final Connections connections;
  private final Supplier<Map<String, MappingStatus>> mappings;
  private final Function<NewJob, Future<Long>> enqueue;
  private final EndpointMetrics endpointMetrics;
  private final MeterRegistry registry;
  private final long tickMs;
  private final int defaultParts;
  private final PgFullSyncStore store;
  private final PgMappingSettingsStore settings;
  private final PgCouplingStore couplings;
  private final PgScheduleStore schedules;
  private final PgWatermarkStore watermarks = new PgWatermarkStore();
  private final Map<String, AtomicLong> ratios = new ConcurrentHashMap<>();
  private ODataErpClient erp;
  private DataverseClient crm;
  private boolean ticking;

  /**
   * @param pool PostgreSQL
   * @param connections both endpoints
   * @param mappings the plugins' mappings
   * @param enqueue enqueues a job on this node
   * @param endpointMetrics connector metrics
   * @param registry where {@code tandem_full_sync_progress_ratio} goes
   * @param tickMs how often the run is advanced
   * @param defaultParts key ranges per large ERP-to-CRM line when start does not say
   */
  public FullSyncCoordinatorVerticle(Pool pool, Connections connections, Supplier<Map<String, MappingStatus>> mappings,
      Function<NewJob, Future<Long>> enqueue, EndpointMetrics endpointMetrics, MeterRegistry registry, long tickMs,
      int defaultParts) {
    this.pool = pool;
    this.connections = connections;
    this.mappings = mappings;
    this.enqueue = enqueue;
    this.endpointMetrics = endpointMetrics;
    this.registry = registry;
    this.tickMs = tickMs;
    this.defaultParts = defaultParts;
    this.store = new PgFullSyncStore(pool);
    this.settings = new PgMappingSettingsStore(pool);
    this.couplings = new PgCouplingStore(pool);
    this.schedules = new PgScheduleStore(pool);
  }

  @Override
  public Future<?> start() {
    erp = new ODataErpClient(vertx, connections.erp(), endpointMetrics);
    crm = new DataverseClient(vertx, connections.crm(), endpointMetrics);
    vertx.setPeriodic(tickMs, id -> tick());
    return FullSyncBusApi.register(vertx, this::review, this::start);
  }

  @Override
  public Future<?> stop() {
    erp.close();
    crm.close();
    return Future.succeededFuture();
  }

  // ---- the review ----------------------------------------------------------------------------------------------

  /** The enabled mappings with their effective definitions, in dependency order (dependencies first). */
  private Future<List<MappingDefinition>> effective() {
    List<MappingStatus> enabled = new ArrayList<>();
    mappings.get().values().forEach(m -> {
      if (m.enabled()) {
        enabled.add(m);
      }
    });
    return settings.all().map(all -> {
      Map<String, MappingDefinition> byName = new LinkedHashMap<>();
      for (MappingStatus m : enabled) {
        var s = all.get(m.name());
        byName.put(m.name(), s == null ? m.definition() : s.applyTo(m.definition()));
      }
      return MappingGraph.inDependencyOrder(byName.values());
    });
  }

  /** Counts of both sides (the CRM's stop at 5000) and of couplings, per mapping. */
  record Sides(long erp, long crm, long coupled) {}

  private Future<Map<String, Sides>> sides(List<MappingDefinition> defs) {
    Map<String, Future<Long>> erpCounts = new HashMap<>();
    Map<String, Future<Long>> crmCounts = new HashMap<>();
    List<Future<?>> all = new ArrayList<>();
    for (MappingDefinition d : defs) {
      Future<Long> e = erp.count(d.erpEntitySet(), d.erpFilter(), d.erpKey());
      Future<Long> c = d.isOptionSet()
          ? crm.options(d.optionSetEntity(), d.optionSetAttribute()).map(o -> (long) o.size())
          : crm.count(d.crmEntitySet(), d.crmKey(), d.crmFilter());
      erpCounts.put(d.name(), e);
      crmCounts.put(d.name(), c);
      all.add(e);
      all.add(c);
    }
    Future<Map<String, Long>> coupled = couplings.coupledCounts();
    all.add(coupled);
    return Future.join(all).transform(ignored -> {
      Map<String, Sides> out = new HashMap<>();
      for (MappingDefinition d : defs) {
        Future<Long> e = erpCounts.get(d.name());
        Future<Long> c = crmCounts.get(d.name());
        if (e.failed()) {
          return Future.failedFuture(new IllegalStateException("counting ERP " + d.erpEntitySet() + " for mapping "
              + d.name() + " failed: " + e.cause().getMessage(), e.cause()));
        }
        if (c.failed()) {
          return Future.failedFuture(new IllegalStateException("counting CRM " + d.crmEntitySet() + " for mapping "
              + d.name() + " failed: " + c.cause().getMessage(), c.cause()));
        }
        out.put(d.name(), new Sides(e.result(), c.result(),
            coupled.succeeded() ? coupled.result().getOrDefault(d.name(), 0L) : 0L));
      }
      return Future.succeededFuture(out);
    });
  }

  /** The newest run with its lines and their jobs' progress. */
  record State(Run run, List<Line> lines, Map<String, Progress> progress) {}

  private Future<State> state() {
    return store.latest().compose(run -> run.isEmpty()
        ? Future.succeededFuture(new State(null, List.of(), Map.of()))
        : store.lines(pool, run.get().id()).compose(lines -> store.progress(pool, run.get().id())
            .map(p -> new State(run.get(), lines, p))));
  }

  private Future<JsonObject> review(boolean withCounts) {
    return effective().compose(defs -> {
      Future<Map<String, Sides>> counts = withCounts ? sides(defs) : Future.succeededFuture(Map.of());
      return counts.compose(sides -> state().compose(st -> schedules().map(sched -> {
        updateRatios(st.lines(), st.progress());
        return FullSyncReviewJson.render(defs, sides, st, sched);
      })));
    });
  }

  private Future<Map<String, String>> schedules() {
    return schedules.states("SYNC");
  }

  private void updateRatios(List<Line> lines, Map<String, Progress> progress) {
    for (Line l : lines) {
      Progress p = progress.get(l.mapping());
      double ratio = switch (l.status()) {
        case "succeeded", "partial", "skipped" -> 1.0;
        default -> l.estimated() == null || l.estimated() == 0 || p == null ? 0.0
            : Math.min(1.0, p.done() / (double) l.estimated());
      };
      ratios.computeIfAbsent(l.mapping(), m -> {
        AtomicLong v = new AtomicLong();
        Gauge.builder("tandem.full.sync.progress.ratio", v, x -> Double.longBitsToDouble(x.get()))
            .description("Share of a mapping's rows the running (or last) full synchronization has handled")
            .tag("mapping", m).register(registry);
        return v;
      }).set(Double.doubleToLongBits(ratio));
    }
  }

  // ---- start ----------------------------------------------------------------------------------------------------

  private Future<JsonObject> start(JsonObject body) {
    int parts;
    long splitAt;
    try {
      parts = body.getInteger("parts", defaultParts);
      splitAt = body.getLong("splitAtRows", SPLIT_THRESHOLD);
    } catch (ClassCastException e) {
      return Future.failedFuture(new IllegalArgumentException("parts and splitAtRows must be whole numbers"));
    }
    if (parts < 1 || parts > 64) {
      return Future.failedFuture(new IllegalArgumentException("parts must be 1 to 64, got " + parts));
    }
    if (splitAt < 1) {
      return Future.failedFuture(new IllegalArgumentException("splitAtRows must be positive, got " + splitAt));
    }
    JsonArray only = body.getJsonArray("mappings");
    return effective().compose(all -> {
      List<MappingDefinition> defs = new ArrayList<>();
      Set<String> names = new java.util.HashSet<>();
      all.forEach(d -> names.add(d.name()));
      if (only != null) {
        for (Object o : only) {
          if (!names.contains(String.valueOf(o))) {
            return Future.failedFuture(new IllegalArgumentException("mapping " + o
                + " is not an enabled mapping of any started plugin"));
          }
        }
      }
      for (MappingDefinition d : all) {
        if (only == null || only.contains(d.name())) {
          defs.add(d);
        }
      }
      if (defs.isEmpty()) {
        return Future.failedFuture(new IllegalArgumentException("no enabled mapping to synchronize"));
      }
      return sides(defs).compose(sides -> {
        Set<String> inRun = new java.util.HashSet<>();
        defs.forEach(d -> inRun.add(d.name()));
        List<Line> lines = new ArrayList<>();
        for (MappingDefinition d : defs) {
          Sides s = sides.get(d.name());
          JsonObject rec = FullSyncRecommendation.recommend(d, s.erp(), s.crm(), s.coupled());
          List<String> deps = d.dependencies().stream().map(MappingDependency::mapping).filter(inRun::contains)
              .toList();
          boolean run = "FULL_SYNC".equals(rec.getString("recommendation"));
          lines.add(new Line(d.name(), rec.getString("direction"), deps, run ? "waiting" : "skipped",
              run ? null : rec.getString("reason"), run
                  ? ("TO_CRM".equals(rec.getString("direction")) ? s.erp() : s.crm()) : null, null, null));
        }
        return store.create(parts, splitAt, lines).map(id -> {
          vertx.setTimer(1, t -> tick());
          return new JsonObject().put("runId", id).put("parts", parts).put("splitAtRows", splitAt)
              .put("lines", new JsonArray(lines.stream().map(l -> new JsonObject().put("mapping", l.mapping())
                  .put("direction", l.direction()).put("status", l.status().toUpperCase(java.util.Locale.ROOT))
                  .put("reason", l.reason())).toList()));
        });
      });
    });
  }

  // ---- advancing a run ------------------------------------------------------------------------------------------

  private void tick() {
    if (ticking) {
      return;
    }
    ticking = true;
    pool.withTransaction(tx -> store.lockRunning(tx).compose(run -> run.isEmpty() ? Future.succeededFuture()
            : advance(tx, run.get())))
        .onFailure(e -> LOG.log(Level.WARNING, "advancing the full synchronization failed; retrying: "
            + e.getMessage()))
        .onComplete(ar -> ticking = false);
  }

  private Future<Void> advance(SqlConnection tx, Run run) {
    return store.lines(tx, run.id()).compose(lines -> store.progress(tx, run.id()).compose(progress -> {
      updateRatios(lines, progress);
      Map<String, Line> byMapping = new HashMap<>();
      lines.forEach(l -> byMapping.put(l.mapping(), l));
      Future<Void> chain = Future.succeededFuture();
      Map<String, String> now = new HashMap<>();
      lines.forEach(l -> now.put(l.mapping(), l.status()));
      for (Line l : lines) {
        switch (l.status()) {
          case "running" -> {
            Progress p = progress.get(l.mapping());
            if (p != null && p.succeeded() + p.failed() == p.jobs() && p.failed() == 0 && p.tracking() == 0) {
              // Every range is done: one more job of the line starts change tracking past Tandem's own writes.
              chain = chain.compose(v -> track(tx, run, l));
            } else if (p != null && p.succeeded() + p.failed() == p.jobs()) {
              boolean ok = p.failed() == 0;
              // Jobs that ended well but failed records are no plain success: the line says how many.
              long failedRecords = p.counts().getLong("failed", 0L);
              long handled = p.done();
              String status = !ok ? "failed" : failedRecords > 0 ? "partial" : "succeeded";
              String reason = !ok ? p.firstError() : failedRecords == 0 ? null : failedRecords + " of " + handled
                  + " records failed: see GET /api/v1/errors?mapping=" + l.mapping() + " (incremental runs retry them "
                  + "first)";
              now.put(l.mapping(), status);
              chain = chain.compose(v -> store.setLine(tx, run.id(), l.mapping(), status, reason, null))
                  .compose(v -> ok ? settle(tx, l) : Future.succeededFuture());
            }
          }
          case "waiting" -> {
            String blocked = null;
            boolean ready = true;
            for (String dep : l.dependencies()) {
              String st = now.getOrDefault(dep, "succeeded");
              Line d = byMapping.get(dep);
              boolean coupleFirst = st.equals("skipped") && d != null && d.reason() != null
                  && d.reason().startsWith(COUPLE_FIRST);
              if (st.equals("failed") || st.equals("held")) {
                blocked = "dependency " + dep + " " + (st.equals("failed") ? "failed" : "is held")
                    + (d != null && d.reason() != null ? ": " + d.reason() : "");
              } else if (coupleFirst) {
                // Its records are not coupled, so every reference to them would fail: wait for the coupling.
                blocked = "dependency " + dep + " was skipped: " + d.reason() + "; couple " + dep
                    + " (POST /api/v1/mappings/" + dep + "/couple-by-match), then start a full synchronization of "
                    + "this mapping";
              } else if (!st.equals("succeeded") && !st.equals("partial") && !st.equals("skipped")) {
                ready = false;
              }
            }
            if (blocked != null) {
              now.put(l.mapping(), "held");
              String why = blocked;
              chain = chain.compose(v -> store.setLine(tx, run.id(), l.mapping(), "held", why, null));
            } else if (ready) {
              now.put(l.mapping(), "running");
              chain = chain.compose(v -> launch(tx, run, l));
            }
          }
          default -> { }
        }
      }
      return chain.compose(v -> {
        if (now.values().stream().anyMatch(s -> s.equals("waiting") || s.equals("running"))) {
          return Future.succeededFuture();
        }
        long bad = now.values().stream().filter(s -> s.equals("failed") || s.equals("held")).count();
        long partial = now.values().stream().filter(s -> s.equals("partial")).count();
        long ok = now.values().stream().filter(s -> s.equals("succeeded")).count();
        String message = ok + " mappings synchronized, " + (now.size() - ok - bad - partial) + " skipped"
            + (partial > 0 ? ", " + partial + " with failed records" : "")
            + (bad > 0 ? ", " + bad + " failed or held" : "");
        LOG.log(Level.INFO, "full synchronization " + run.id() + " ended: " + message);
        return store.finish(tx, run.id(), bad + partial > 0 ? "failed" : "succeeded", message);
      });
    }));
  }

  /**
   * A line whose every range is done: the mapping's watermark moves to the source side's newest modified-on as
   * read when the line started — the endpoint's own clock, so a skew between it and PostgreSQL loses nothing —
   * and incremental runs go on from there (less the overlap) instead of reading everything again.
   */
  private Future<Void> settle(SqlConnection tx, Line l) {
    if (l.sourceMark() == null) {
      return Future.succeededFuture();
    }
    // Reads start at the mark without the overlap behind it: the full synchronization read every row before it.
    return watermarks.afterFullSync(tx, l.mapping(), "TO_CRM".equals(l.direction()) ? Side.ERP : Side.CRM,
        l.sourceMark());
  }

  /**
   * Enqueues a line's last job, once its ranges are done: it starts CRM change tracking and the ERP key-range
   * counts past what the full synchronization wrote, and (ERP to CRM, bidirectional) tells the CRM-to-ERP runs
   * which CRM rows are the full synchronization's own writes, so the first incremental run reads only real changes.
   */
  private Future<Void> track(SqlConnection tx, Run run, Line l) {
    MappingStatus m = mappings.get().get(l.mapping());
    // An ERP-to-CRM line of a bidirectional mapping marked the CRM when it started (null: the CRM had no rows).
    // A CRM-to-ERP line of one marked the ERP: its last job tells the ERP-to-CRM runs which rows it wrote there.
    boolean otherSide = m != null && m.definition().direction() == Direction.BIDIRECTIONAL;
    return store.otherMark(tx, run.id(), l.mapping()).compose(other -> enqueue.apply(new NewJob(JobKind.FULL_SYNC,
        l.mapping(), Direction.valueOf(l.direction()), new JsonObject().put("fullSyncRun", run.id()).put("track", true)
            .put("otherSide", otherSide).put("otherMark", other == null ? null : other.toInstant().toString()), 100, 0,
        null))).mapEmpty();
  }

  /** @return the newest modified-on on the side a line reads, or null when that side has no rows */
  private Future<OffsetDateTime> sourceMark(MappingDefinition d, Direction dir) {
    if (dir == Direction.TO_CRM) {
      return erp.newest(d.erpEntitySet(), d.erpModifiedOn());
    }
    return crm.query(CrmQuery.newest(d.crmEntitySet(), d.crmModifiedOn()).toString())
        .map(p -> p.rows().isEmpty() || p.rows().get(0).getString(d.crmModifiedOn()) == null ? null
            : OffsetDateTime.parse(p.rows().get(0).getString(d.crmModifiedOn())));
  }

  /** Enqueues a line's jobs: key ranges for a large ERP-to-CRM line, else one job. */
  private Future<Void> launch(SqlConnection tx, Run run, Line l) {
    MappingStatus m = mappings.get().get(l.mapping());
    if (m == null || !m.enabled()) {
      return store.setLine(tx, run.id(), l.mapping(), "failed", "mapping " + l.mapping()
          + " is no longer enabled on this node", null);
    }
    Direction dir = Direction.valueOf(l.direction());
    Future<List<String>> bounds = dir == Direction.TO_CRM && run.parts() > 1 && l.estimated() != null
        && l.estimated() >= run.splitAtRows()
        ? settings.get(l.mapping()).compose(s -> new FullSyncKeyRanges(erp).boundaries(s.applyTo(m.definition()),
            l.estimated(), run.parts()))
        : Future.succeededFuture(List.of());
    // Read before any job starts: every change made after it carries a newer stamp by the endpoint's clock. An
    // ERP-to-CRM line of a bidirectional mapping marks the CRM too: changes people make there meanwhile go to the ERP.
    // A CRM-to-ERP line marks the ERP: the rows stamped after it are its own writes or people's changes.
    Future<Void> other = m.definition().direction() == Direction.BIDIRECTIONAL
        ? sourceMark(m.definition(), dir == Direction.TO_CRM ? Direction.FROM_CRM : Direction.TO_CRM)
            .compose(mark -> store.markOther(tx, run.id(), l.mapping(), mark))
        : Future.succeededFuture();
    return other.compose(x -> sourceMark(m.definition(), dir))
        .compose(mark -> store.markLine(tx, run.id(), l.mapping(), mark))
        .compose(x -> bounds).compose(b -> {
      List<Future<Long>> jobs = new ArrayList<>();
      int parts = b.size() + 1;
      for (int i = 0; i < parts; i++) {
        JsonObject params = new JsonObject().put("fullSyncRun", run.id()).put("part", i + 1).put("parts", parts)
            .put("from", i == 0 ? null : b.get(i - 1)).put("to", i == b.size() ? null : b.get(i));
        jobs.add(enqueue.apply(new NewJob(JobKind.FULL_SYNC, l.mapping(), dir, params, 100, 0, null)));
      }
      return Future.all(jobs);
    }).compose(v -> store.setLine(tx, run.id(), l.mapping(), "running", null, null))
        .recover(e -> store.setLine(tx, run.id(), l.mapping(), "failed", "launching failed: " + e.getMessage(), null));
  }


}
