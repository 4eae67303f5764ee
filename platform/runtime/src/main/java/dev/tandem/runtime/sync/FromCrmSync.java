package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient.Write;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgCouplingStore.Outcome;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One CRM-to-ERP run of a mapping: the CRM rows changed since the watermark by anyone but the integration user
 * (so Tandem's own writes never come back), in pages ordered by modifiedon; couplings and lookups loaded per page;
 * the coupled ERP rows read in bulk for their values and ETags; only changed fields written, every update with
 * If-Match, in JSON {@code $batch} requests; couplings (with the ERP's post-write modified-on) and the watermark
 * committed in one transaction per page.
 */
public final class FromCrmSync {

  private static final int READ_CHUNK = 50;

  private final Pool pool;
  private final PgCouplingStore couplings;
  private final PgWatermarkStore watermarks;
  private final ODataErpClient erp;
  private final DataverseClient crm;
  private final MappingDefinition def;
  private final RecordMapper mapper;
  private final long jobId;
  private final int skipAfter;
  private final MappingSettings.ConflictPolicy policy;
  private JobOutcome counts = JobOutcome.EMPTY;
  /** Records this run has dealt with: one retried first is not handled again when the changed rows come by. */
  private final java.util.Set<String> handled = new java.util.HashSet<>();

  /**
   * @param pool PostgreSQL
   * @param couplings coupling store
   * @param watermarks watermark store
   * @param erp ERP client
   * @param crm CRM client
   * @param def the mapping
   * @param mapper its record mapper
   * @param jobId the job
   * @param skipAfter identical errors in a row before a record is skipped
   * @param policy what a bidirectional conflict leads to
   */
  public FromCrmSync(Pool pool, PgCouplingStore couplings, PgWatermarkStore watermarks, ODataErpClient erp,
      DataverseClient crm, MappingDefinition def, RecordMapper mapper, long jobId, int skipAfter,
      MappingSettings.ConflictPolicy policy) {
    this.pool = pool;
    this.couplings = couplings;
    this.watermarks = watermarks;
    this.erp = erp;
    this.crm = crm;
    this.def = def;
    this.mapper = mapper;
    this.jobId = jobId;
    this.skipAfter = skipAfter;
    this.policy = policy;
  }

  /**
   * @param jobStart watermarks never pass it
   * @return the counts
   */
  public Future<JobOutcome> run(OffsetDateTime jobStart) {
    Future<JsonObject> me = crm.whoAmI();
    Future<OffsetDateTime> wm = watermarks.get(pool, def.name(), Side.CRM);
    return Future.all(me, wm).compose(v -> retryFailed(0L, jobStart)).compose(v -> {
      List<String> terms = new ArrayList<>();
      if (def.crmFilter() != null && !def.crmFilter().isBlank()) {
        terms.add("(" + def.crmFilter() + ")");
      }
      if (wm.result() != null) {
        terms.add(def.crmModifiedOn() + " gt " + wm.result().minusSeconds(1).toInstant());
      }
      terms.add("_modifiedby_value ne " + me.result().getString("UserId"));
      String query = def.crmEntitySet() + "?$filter=" + encode(String.join(" and ", terms)) + "&$orderby="
          + encode(def.crmModifiedOn());
      return crm.query(query).compose(page -> pages(page, jobStart));
    }).map(v -> counts);
  }

  /** Records that failed last time (and are not skipped) go first, read again by id, without moving the watermark. */
  private Future<Void> retryFailed(long afterId, OffsetDateTime jobStart) {
    return couplings.retryable(def.name(), Direction.FROM_CRM, afterId, 200).compose(failed -> {
      if (failed.isEmpty()) {
        return Future.succeededFuture();
      }
      List<JsonObject> rows = new ArrayList<>();
      List<Future<?>> reads = new ArrayList<>();
      for (int from = 0; from < failed.size(); from += READ_CHUNK) {
        List<String> terms = new ArrayList<>();
        failed.subList(from, Math.min(failed.size(), from + READ_CHUNK))
            .forEach(c -> terms.add(def.crmKey() + " eq " + c.crmId()));
        reads.add(crm.query(def.crmEntitySet() + "?$filter=" + encode(String.join(" or ", terms)))
            .onSuccess(p -> rows.addAll(p.rows())));
      }
      long last = failed.get(failed.size() - 1).id();
      return Future.all(reads).compose(v -> process(rows, jobStart, false))
          .compose(v -> failed.size() < 200 ? Future.succeededFuture() : retryFailed(last, jobStart));
    });
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private Future<Void> pages(Page page, OffsetDateTime jobStart) {
    return process(page.rows(), jobStart, true).compose(v -> page.hasNext()
        ? crm.follow(page.nextLink()).compose(next -> pages(next, jobStart))
        : Future.succeededFuture());
  }

  private Future<Void> process(List<JsonObject> rows, OffsetDateTime jobStart, boolean advance) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> keys = new ArrayList<>(rows.size());
    rows.forEach(r -> keys.add(r.getString(def.crmKey())));
    Map<String, Map<String, Coupling>> lookups = new HashMap<>();
    List<Future<?>> loads = new ArrayList<>();
    mapper.references(Direction.FROM_CRM, rows).forEach((mapping, ids) -> loads.add(couplings.bySourceIds(pool, mapping,
        Direction.FROM_CRM, ids).onSuccess(found -> lookups.put(mapping, found))));
    Future<Map<String, Coupling>> own = couplings.bySourceIds(pool, def.name(), Direction.FROM_CRM, keys);
    loads.add(own);
    return Future.all(loads).compose(v -> decide(rows, own.result(), lookups, jobStart, advance));
  }

  private Future<Void> decide(List<JsonObject> rows, Map<String, Coupling> coupled,
      Map<String, Map<String, Coupling>> lookups, OffsetDateTime jobStart, boolean advance) {
    RecordMapper.Lookups resolve = (mapping, flow, key) -> {
      Coupling c = lookups.getOrDefault(mapping, Map.of()).get(key);
      return c == null ? null : c.erpId();
    };
    List<Outcome> outcomes = new ArrayList<>();
    Map<String, JsonObject> sources = new LinkedHashMap<>();
    Map<String, Map<String, Object>> desired = new LinkedHashMap<>();
    long unchanged = 0;
    long skipped = 0;
    long failed = 0;
    OffsetDateTime highest = null;
    for (JsonObject row : rows) {
      String key = row.getString(def.crmKey());
      OffsetDateTime modified = OffsetDateTime.parse(row.getString(def.crmModifiedOn()));
      highest = highest == null || modified.isAfter(highest) ? modified : highest;
      if (!handled.add(key)) {
        continue;
      }
      Coupling c = coupled.get(key);
      if (c != null && c.skipped()) {
        skipped++;
        continue;
      }
      if (c != null && c.coupled() && c.crmModifiedOn() != null && !modified.isAfter(c.crmModifiedOn())
          && !"failed".equals(c.lastResultFromCrm())) {
        unchanged++;
        continue;
      }
      RecordMapper.Mapped m = mapper.map(Direction.FROM_CRM, row, resolve);
      if (m.error() != null) {
        failed++;
        outcomes.add(new Outcome(c == null ? null : c.erpId(), key, null, modified, "failed", "["
            + m.error().stage() + "] " + m.error().getMessage()));
        continue;
      }
      sources.put(key, row);
      desired.put(key, m.values());
    }
    counts = counts.plus(new JobOutcome(0, 0, 0, unchanged, skipped, failed, 0, 0, null));
    OffsetDateTime checkpoint = highest == null || highest.isAfter(jobStart) ? jobStart : highest;
    return currentErpRows(desired.keySet(), coupled)
        .compose(current -> write(desired, sources, coupled, current, outcomes))
        .compose(v -> pool.withTransaction(tx -> couplings.record(tx, def.name(), Direction.FROM_CRM, jobId,
                skipAfter, outcomes)
            .compose(n -> advance ? watermarks.advance(tx, def.name(), Side.CRM, checkpoint)
                : Future.<Void>succeededFuture())));
  }

  /** Whether the ERP row changed since it was last synchronized (the integration's own writes are recorded). */
  private boolean erpChangedSinceSync(Coupling c, JsonObject erpRow) {
    if (def.direction() != Direction.BIDIRECTIONAL || c.erpModifiedOn() == null) {
      return false;
    }
    String modifiedOn = erpRow.getString(def.erpModifiedOn());
    return modifiedOn != null && OffsetDateTime.parse(modifiedOn).isAfter(c.erpModifiedOn());
  }

  /** The coupled ERP rows, read in chunks with {@code key eq 'a' or key eq 'b'} (one field, which the ERP allows). */
  private Future<Map<String, JsonObject>> currentErpRows(Set<String> crmKeys, Map<String, Coupling> coupled) {
    List<String> ids = new ArrayList<>();
    for (String k : crmKeys) {
      Coupling c = coupled.get(k);
      if (c != null && c.coupled()) {
        ids.add(c.erpId());
      }
    }
    Map<String, JsonObject> out = new HashMap<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += READ_CHUNK) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + READ_CHUNK));
      reads.add(erp.read(def.erpEntitySet(), ODataErpClient.anyOf(def.erpKey(), chunk), null, null)
          .onSuccess(page -> page.rows().forEach(r -> out.put(String.valueOf(r.getValue(def.erpKey())), r))));
    }
    return Future.all(reads).map(v -> out);
  }

  private Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes) {
    List<Write> writes = new ArrayList<>();
    List<String> writeKeys = new ArrayList<>();
    long unchanged = 0;
    long conflicts = 0;
    for (Map.Entry<String, Map<String, Object>> e : desired.entrySet()) {
      String crmKey = e.getKey();
      Coupling c = coupled.get(crmKey);
      JsonObject erpRow = c != null && c.coupled() ? current.get(c.erpId()) : null;
      OffsetDateTime crmModified = OffsetDateTime.parse(sources.get(crmKey).getString(def.crmModifiedOn()));
      Map<String, Object> changes = RecordMapper.changes(Direction.FROM_CRM, e.getValue(), erpRow);
      if (changes.isEmpty()) {
        unchanged++;
        outcomes.add(new Outcome(c == null ? null : c.erpId(), crmKey, null, crmModified, "unchanged", null));
        continue;
      }
      if (erpRow != null && erpChangedSinceSync(c, erpRow)) {
        List<String> both = Conflicts.bidirectional(def, Direction.FROM_CRM, changes);
        if (!both.isEmpty() && policy == MappingSettings.ConflictPolicy.NONE) {
          conflicts++;
          outcomes.add(new Outcome(c.erpId(), crmKey, null, null, "conflict",
              Conflicts.message(def, c.erpId(), crmKey, both)));
          continue;
        }
        if (!both.isEmpty() && policy == MappingSettings.ConflictPolicy.ERP_WINS) {
          unchanged++;
          outcomes.add(new Outcome(c.erpId(), crmKey, null, crmModified, "unchanged", null));
          continue;
        }
      }
      writes.add(erpRow == null
          ? new Write("POST", def.erpEntitySet(), null, null, new JsonObject(changes))
          : new Write("PATCH", def.erpEntitySet(), ODataErpClient.literal(c.erpId()),
              erpRow.getString("@odata.etag"), new JsonObject(changes)));
      writeKeys.add(crmKey);
    }
    counts = counts.plus(new JobOutcome(0, 0, 0, unchanged, 0, conflicts, 0, 0, null));
    if (writes.isEmpty()) {
      return Future.succeededFuture();
    }
    return erp.batch(writes).map(results -> {
      long inserted = 0;
      long modified = 0;
      long failed = 0;
      long coupledNew = 0;
      for (WriteResult r : results) {
        String crmKey = writeKeys.get(r.index());
        OffsetDateTime crmModified = OffsetDateTime.parse(sources.get(crmKey).getString(def.crmModifiedOn()));
        boolean insert = writes.get(r.index()).method().equals("POST");
        if (r.ok()) {
          String erpKey = String.valueOf(r.body().getValue(def.erpKey()));
          OffsetDateTime erpModified = OffsetDateTime.parse(r.body().getString(def.erpModifiedOn()));
          inserted += insert ? 1 : 0;
          modified += insert ? 0 : 1;
          coupledNew += insert ? 1 : 0;
          outcomes.add(new Outcome(erpKey, crmKey, erpModified, crmModified, insert ? "inserted" : "modified", null));
        } else {
          failed++;
          outcomes.add(new Outcome(null, crmKey, null, crmModified, "failed", "[" + r.error().stage() + "] CRM "
              + def.crmEntitySet() + " " + crmKey + ": " + r.error().getMessage()));
        }
      }
      counts = counts.plus(new JobOutcome(inserted, modified, 0, 0, 0, failed, coupledNew, 0, null));
      return null;
    });
  }
}
