package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.ODataLiterals;
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
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One CRM-to-ERP run of a mapping: the CRM rows changed since the watermark by anyone but the integration user
 * (so Tandem's own writes never come back), in pages ordered by modifiedon; the coupled ERP rows read in bulk
 * for their values and ETags; only changed fields written, every update with If-Match, in JSON {@code $batch}
 * requests; the ERP's post-write modified-on stored on the coupling.
 */
public final class FromCrmSync extends SyncRun {

  private final Set<String> merged = new java.util.LinkedHashSet<>();

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
    super(pool, couplings, watermarks, erp, crm, def, mapper, jobId, skipAfter, policy, Direction.FROM_CRM);
  }

  /**
   * @param jobStart the job's start
   * @return the counts
   */
  public Future<JobOutcome> run(OffsetDateTime jobStart) {
    Future<JsonObject> me = crm.whoAmI();
    Future<OffsetDateTime> wm = watermarks.get(pool, def.name(), Side.CRM);
    return Future.all(me, wm).compose(v -> retryFailed(0L, jobStart))
        .compose(v -> crm.query(changedSince(wm.result(), me.result())).compose(page -> pages(page, jobStart)))
        .map(v -> counts());
  }

  /**
   * Full synchronization CRM to ERP: every CRM row the mapping's filter passes (but the integration user's own),
   * whether or not it changed, in modified-on order; after a crash the next attempt resumes from the highest
   * modified-on committed (less the mapping's overlap; records handled already are unchanged). The
   * mapping's watermark does not move.
   *
   * @param place the checkpoint of earlier attempts and where this one saves its own
   * @param jobStart the job's start
   * @return this attempt's counts (add {@link FullSyncCheckpoint#base()} for the job's)
   */
  public Future<JobOutcome> runFull(FullSyncCheckpoint place, OffsetDateTime jobStart) {
    return crm.whoAmI().compose(me -> crm.query(changedSince(place.highest(), me)))
        .compose(page -> pages(page, jobStart, (tx, rows, highest) -> place.save(tx, null, highest, counts())))
        .map(v -> counts());
  }

  private String changedSince(OffsetDateTime since, JsonObject me) {
    List<String> terms = new ArrayList<>();
    if (def.crmFilter() != null && !def.crmFilter().isBlank()) {
      terms.add("(" + def.crmFilter() + ")");
    }
    if (since != null) {
      terms.add(def.crmModifiedOn() + " gt " + ODataLiterals.dateTime(readFrom(since)));
    }
    terms.add("_modifiedby_value ne " + ODataLiterals.guid(me.getString("UserId")));
    return def.crmEntitySet() + "?$filter=" + encode(String.join(" and ", terms)) + "&$orderby="
        + encode(def.crmModifiedOn());
  }

  private static String encode(String s) {
    return ODataLiterals.query(s);
  }

  @Override
  String sourceKey(JsonObject row) {
    return row.getString(def.crmKey());
  }

  @Override
  OffsetDateTime sourceModified(JsonObject row) {
    return OffsetDateTime.parse(row.getString(def.crmModifiedOn()));
  }

  @Override
  OffsetDateTime syncedSourceModified(Coupling c) {
    return c.crmModifiedOn();
  }

  @Override
  String lastResult(Coupling c) {
    return c.lastResultFromCrm();
  }

  @Override
  String counterpart(Coupling c) {
    return c.erpId();
  }

  @Override
  String sourceKeyOf(Coupling c) {
    return c.crmId();
  }

  /**
   * @param crmIds the CRM records to synchronize now
   * @param jobStart the job's start
   * @return the counts
   */
  public Future<JobOutcome> runSelected(List<String> crmIds, OffsetDateTime jobStart) {
    return selected(crmIds, jobStart).map(v -> counts());
  }

  @Override
  Outcome outcome(String sourceKey, String counterpartKey, OffsetDateTime sourceModified, String result, String error) {
    return new Outcome(counterpartKey, sourceKey, null, sourceModified, result, error);
  }

  @Override
  Side side() {
    return Side.CRM;
  }

  @Override
  Future<Page> next(String link) {
    return crm.follow(link);
  }

  @Override
  Future<List<JsonObject>> readSourceRows(List<String> keys) {
    return crmRowsByIds(keys);
  }

  @Override
  Future<Map<String, JsonObject>> counterparts(Set<String> crmKeys, Map<String, Coupling> coupled) {
    return erpRowsByKeys(coupledCounterparts(crmKeys, coupled)).map(rows -> {
      Map<String, JsonObject> out = new HashMap<>();
      rows.forEach(r -> out.put(String.valueOf(r.getValue(def.erpKey())), r));
      return out;
    });
  }

  @Override
  Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
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
        outcomes.add(new Outcome(c == null ? null : c.erpId(), crmKey, null, crmModified, "unchanged", null,
            Conflicts.snapshot(def, erpRow, sources.get(crmKey))));
        continue;
      }
      if (erpRow != null && erpChangedSinceSync(c, erpRow)) {
        List<String> both = Conflicts.bidirectional(def, Direction.FROM_CRM, changes);
        if (!both.isEmpty() && policy == MappingSettings.ConflictPolicy.MERGE) {
          Conflicts.Changed changed = Conflicts.changed(def, c.synced(), erpRow, sources.get(crmKey));
          if (changed == null || !changed.overlap().isEmpty()) {
            conflicts++;
            outcomes.add(new Outcome(c.erpId(), crmKey, null, null, "conflict",
                Conflicts.unmergeable(def, c.erpId(), crmKey, changed == null ? null : changed.overlap())));
            continue;
          }
          // Only the CRM's changes go to the ERP; the ERP's own stay, and go to the CRM after this run.
          changes.keySet().removeIf(f -> {
            String erpField = Conflicts.erpFieldOf(def, Direction.FROM_CRM, f);
            return erpField != null && !changed.crm().contains(erpField);
          });
          merged.add(c.erpId());
          if (changes.isEmpty()) {
            unchanged++;
            outcomes.add(new Outcome(c.erpId(), crmKey, null, crmModified, "unchanged", null));
            continue;
          }
        }
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
    count(new JobOutcome(0, 0, 0, unchanged, 0, conflicts, 0, 0, null));
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
          if (merged.contains(erpKey)) {
            // Half merged: the ERP's own changes are still to go to the CRM, so its modified-on stays as it was.
            outcomes.add(new Outcome(erpKey, crmKey, null, crmModified, "modified", null));
          } else {
            outcomes.add(new Outcome(erpKey, crmKey, erpModified, crmModified, insert ? "inserted" : "modified", null,
                Conflicts.snapshot(def, r.body(), sources.get(crmKey))));
          }
        } else {
          failed++;
          outcomes.add(new Outcome(null, crmKey, null, crmModified, "failed", "[" + r.error().stage() + "] CRM "
              + def.crmEntitySet() + " " + crmKey + ": " + r.error().getMessage()));
        }
      }
      count(new JobOutcome(inserted, modified, 0, 0, 0, failed, coupledNew, 0, null));
      return null;
    });
  }

  /**
   * @return the ERP keys of records merged under policy MERGE in this run: the CRM's changes went to the ERP, and
   *     the ERP's own changes are still to go to the CRM (synchronize them as selected records, ERP to CRM)
   */
  public List<String> merged() {
    return List.copyOf(merged);
  }

  private boolean erpChangedSinceSync(Coupling c, JsonObject erpRow) {
    if (def.direction() != Direction.BIDIRECTIONAL || c.erpModifiedOn() == null) {
      return false;
    }
    String modifiedOn = erpRow.getString(def.erpModifiedOn());
    return modifiedOn != null && OffsetDateTime.parse(modifiedOn).isAfter(c.erpModifiedOn());
  }
}
