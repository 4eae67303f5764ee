package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgCouplingStore.Outcome;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One ERP-to-CRM run of a mapping. Reads the ERP rows changed since the watermark (minus a second of overlap), in
 * pages ordered by modified-on; per page it loads the couplings and the lookups' couplings in one query each,
 * reads the coupled CRM rows in bulk, writes only changed fields in one {@code $batch} of upserts, and commits the
 * couplings and the watermark in one transaction. New CRM rows get an id derived from the mapping and the ERP key,
 * so a page re-run after a crash updates what it created instead of duplicating it.
 */
public final class ToCrmSync {

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
  private String integrationUser;
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
  public ToCrmSync(Pool pool, PgCouplingStore couplings, PgWatermarkStore watermarks, ODataErpClient erp,
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
   * @param jobStart watermarks never pass it: rows changed while the job ran are read again next time
   * @return the counts
   */
  public Future<JobOutcome> run(OffsetDateTime jobStart) {
    Future<Void> me = def.direction() == Direction.BIDIRECTIONAL
        ? crm.whoAmI().map(w -> {
          integrationUser = w.getString("UserId");
          return null;
        })
        : Future.succeededFuture();
    return me.compose(x -> retryFailed(0L, jobStart)).compose(x -> watermarks.get(pool, def.name(), Side.ERP))
        .compose(wm -> {
      String changed = wm == null ? null
          : ODataErpClient.modifiedSince(def.erpModifiedOn(), wm.minusSeconds(1).toInstant());
      String filter = and(def.erpFilter(), changed);
      return erp.read(def.erpEntitySet(), filter, null, def.erpModifiedOn())
          .compose(page -> pages(page, jobStart));
    }).map(v -> counts);
  }

  /**
   * Records that failed last time (and are not skipped) go first, whether or not they changed since: their
   * rows are read again by key, a page of couplings at a time, without moving the watermark.
   */
  private Future<Void> retryFailed(long afterId, OffsetDateTime jobStart) {
    return couplings.retryable(def.name(), Direction.TO_CRM, afterId, 200).compose(failed -> {
      if (failed.isEmpty()) {
        return Future.succeededFuture();
      }
      List<String> keys = new ArrayList<>();
      failed.forEach(c -> keys.add(c.erpId()));
      List<JsonObject> rows = new ArrayList<>();
      List<Future<?>> reads = new ArrayList<>();
      for (int from = 0; from < keys.size(); from += READ_CHUNK) {
        reads.add(erp.read(def.erpEntitySet(), ODataErpClient.anyOf(def.erpKey(),
            keys.subList(from, Math.min(keys.size(), from + READ_CHUNK))), null, null)
            .onSuccess(p -> rows.addAll(p.rows())));
      }
      long last = failed.get(failed.size() - 1).id();
      return Future.all(reads).compose(v -> process(rows, jobStart, false))
          .compose(v -> failed.size() < 200 ? Future.succeededFuture() : retryFailed(last, jobStart));
    });
  }

  private static String and(String a, String b) {
    if (a == null || a.isBlank()) {
      return b;
    }
    return b == null ? a : "(" + a + ") and " + b;
  }

  private Future<Void> pages(Page page, OffsetDateTime jobStart) {
    return process(page.rows(), jobStart, true).compose(v -> page.hasNext()
        ? erp.follow(page.nextLink()).compose(next -> pages(next, jobStart))
        : Future.succeededFuture());
  }

  private Future<Void> process(List<JsonObject> rows, OffsetDateTime jobStart, boolean advance) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> keys = new ArrayList<>(rows.size());
    rows.forEach(r -> keys.add(String.valueOf(r.getValue(def.erpKey()))));
    Map<String, Set<String>> refs = mapper.references(Direction.TO_CRM, rows);
    Map<String, Map<String, Coupling>> lookups = new HashMap<>();
    List<Future<?>> loads = new ArrayList<>();
    refs.forEach((mapping, ids) -> loads.add(couplings.bySourceIds(pool, mapping, Direction.TO_CRM, ids)
        .onSuccess(found -> lookups.put(mapping, found))));
    Future<Map<String, Coupling>> own = couplings.bySourceIds(pool, def.name(), Direction.TO_CRM, keys);
    loads.add(own);
    return Future.all(loads).compose(v -> decide(rows, own.result(), lookups, jobStart, advance));
  }

  private Future<Void> decide(List<JsonObject> rows, Map<String, Coupling> coupled,
      Map<String, Map<String, Coupling>> lookups, OffsetDateTime jobStart, boolean advance) {
    RecordMapper.Lookups resolve = (mapping, flow, key) -> {
      Coupling c = lookups.getOrDefault(mapping, Map.of()).get(key);
      return c == null ? null : c.crmId();
    };
    List<Outcome> outcomes = new ArrayList<>();
    Map<String, JsonObject> sourceByKey = new LinkedHashMap<>();
    Map<String, Map<String, Object>> desired = new LinkedHashMap<>();
    long unchanged = 0;
    long skipped = 0;
    long failed = 0;
    OffsetDateTime highest = null;
    for (JsonObject row : rows) {
      String key = String.valueOf(row.getValue(def.erpKey()));
      OffsetDateTime modified = OffsetDateTime.parse(row.getString(def.erpModifiedOn()));
      highest = highest == null || modified.isAfter(highest) ? modified : highest;
      if (!handled.add(key)) {
        continue;
      }
      Coupling c = coupled.get(key);
      if (c != null && c.skipped()) {
        skipped++;
        continue;
      }
      if (c != null && c.coupled() && c.erpModifiedOn() != null && !modified.isAfter(c.erpModifiedOn())
          && !"failed".equals(c.lastResultToCrm())) {
        unchanged++;
        continue;
      }
      RecordMapper.Mapped m = mapper.map(Direction.TO_CRM, row, resolve);
      if (m.error() != null) {
        failed++;
        outcomes.add(new Outcome(key, c == null ? null : c.crmId(), modified, null, "failed", "["
            + m.error().stage() + "] " + m.error().getMessage()));
        continue;
      }
      sourceByKey.put(key, row);
      desired.put(key, m.values());
    }
    counts = counts.plus(new JobOutcome(0, 0, 0, unchanged, skipped, failed, 0, 0, null));
    OffsetDateTime checkpoint = highest == null || highest.isAfter(jobStart) ? jobStart : highest;
    return currentCrmRows(desired.keySet(), coupled)
        .compose(current -> write(desired, sourceByKey, coupled, current, outcomes))
        .compose(v -> pool.withTransaction(tx -> couplings.record(tx, def.name(), Direction.TO_CRM, jobId, skipAfter,
                outcomes)
            .compose(n -> advance ? watermarks.advance(tx, def.name(), Side.ERP, checkpoint)
                : Future.<Void>succeededFuture())));
  }

  /** The coupled counterparts of the rows to write, read in chunks of ids (one request per chunk). */
  private Future<Map<String, JsonObject>> currentCrmRows(Set<String> keys, Map<String, Coupling> coupled) {
    List<String> ids = new ArrayList<>();
    for (String k : keys) {
      Coupling c = coupled.get(k);
      if (c != null && c.coupled()) {
        ids.add(c.crmId());
      }
    }
    Map<String, JsonObject> out = new HashMap<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += READ_CHUNK) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + READ_CHUNK));
      List<String> terms = new ArrayList<>();
      chunk.forEach(id -> terms.add(def.crmKey() + " eq " + id));
      reads.add(crm.query(def.crmEntitySet() + "?$filter=" + java.net.URLEncoder.encode(String.join(" or ", terms),
              StandardCharsets.UTF_8).replace("+", "%20"))
          .onSuccess(page -> page.rows().forEach(r -> out.put(r.getString(def.crmKey()).toLowerCase(), r))));
    }
    return Future.all(reads).map(v -> out);
  }

  private Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes) {
    List<BatchOperation> ops = new ArrayList<>();
    List<String> opKeys = new ArrayList<>();
    List<String> opIds = new ArrayList<>();
    List<Boolean> opInsert = new ArrayList<>();
    long unchanged = 0;
    long conflicts = 0;
    for (Map.Entry<String, Map<String, Object>> e : desired.entrySet()) {
      String key = e.getKey();
      Coupling c = coupled.get(key);
      boolean exists = c != null && c.coupled() && current.containsKey(c.crmId().toLowerCase());
      String crmId = c != null && c.coupled() ? c.crmId() : deterministicId(key);
      Map<String, Object> changes = RecordMapper.changes(Direction.TO_CRM, e.getValue(),
          exists ? current.get(c.crmId().toLowerCase()) : null);
      OffsetDateTime modified = OffsetDateTime.parse(sources.get(key).getString(def.erpModifiedOn()));
      if (changes.isEmpty()) {
        unchanged++;
        outcomes.add(new Outcome(key, crmId, modified, null, "unchanged", null));
        continue;
      }
      if (exists && crmChangedSinceSync(c, current.get(c.crmId().toLowerCase()))) {
        List<String> both = Conflicts.bidirectional(def, Direction.TO_CRM, changes);
        if (!both.isEmpty() && policy == MappingSettings.ConflictPolicy.NONE) {
          conflicts++;
          // The ERP side's modified-on is kept as it was, so the CRM-to-ERP run sees the conflict too.
          outcomes.add(new Outcome(key, crmId, null, null, "conflict", Conflicts.message(def, key, crmId, both)));
          continue;
        }
        if (!both.isEmpty() && policy == MappingSettings.ConflictPolicy.CRM_WINS) {
          unchanged++;
          // Recorded as synchronized on the ERP side: the CRM-to-ERP run then takes the CRM's values.
          outcomes.add(new Outcome(key, crmId, modified, null, "unchanged", null));
          continue;
        }
      }
      ops.add(new BatchOperation("PATCH", def.crmEntitySet() + "(" + crmId + ")",
          Map.of("Prefer", "return=representation"), new JsonObject(changes)));
      opKeys.add(key);
      opIds.add(crmId);
      opInsert.add(!exists);
    }
    counts = counts.plus(new JobOutcome(0, 0, 0, unchanged, 0, conflicts, 0, 0, null));
    if (ops.isEmpty()) {
      return Future.succeededFuture();
    }
    return crm.batch(ops).map(results -> {
      long inserted = 0;
      long modified = 0;
      long failed = 0;
      long coupledNew = 0;
      for (WriteResult r : results) {
        String key = opKeys.get(r.index());
        OffsetDateTime erpModified = OffsetDateTime.parse(sources.get(key).getString(def.erpModifiedOn()));
        if (r.ok()) {
          boolean insert = opInsert.get(r.index());
          inserted += insert ? 1 : 0;
          modified += insert ? 0 : 1;
          Coupling c = coupled.get(key);
          coupledNew += c == null || !c.coupled() ? 1 : 0;
          String crmModified = r.body() == null ? null : r.body().getString(def.crmModifiedOn());
          outcomes.add(new Outcome(key, opIds.get(r.index()), erpModified,
              crmModified == null ? null : OffsetDateTime.parse(crmModified), insert ? "inserted" : "modified", null));
        } else {
          failed++;
          TandemException err = r.error();
          outcomes.add(new Outcome(key, null, erpModified, null, "failed", "[" + err.stage() + "] "
              + "ERP " + def.erpEntitySet() + " " + key + ": " + err.getMessage()));
        }
      }
      counts = counts.plus(new JobOutcome(inserted, modified, 0, 0, 0, failed, coupledNew, 0, null));
      return null;
    });
  }

  /** Whether someone other than the integration user changed the CRM row since it was last synchronized. */
  private boolean crmChangedSinceSync(Coupling c, JsonObject crmRow) {
    if (def.direction() != Direction.BIDIRECTIONAL || c.crmModifiedOn() == null) {
      return false;
    }
    String modifiedOn = crmRow.getString(def.crmModifiedOn());
    return modifiedOn != null && OffsetDateTime.parse(modifiedOn).isAfter(c.crmModifiedOn())
        && !String.valueOf(crmRow.getString("_modifiedby_value")).equalsIgnoreCase(String.valueOf(integrationUser));
  }

  /** The CRM id of the counterpart created for an ERP key: the same on every attempt, so retries never duplicate. */
  String deterministicId(String erpKey) {
    return UUID.nameUUIDFromBytes(("tandem:" + def.name() + ":" + erpKey).getBytes(StandardCharsets.UTF_8)).toString();
  }
}
