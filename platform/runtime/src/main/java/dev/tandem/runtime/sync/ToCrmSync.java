package dev.tandem.runtime.sync;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgCouplingStore.Outcome;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import dev.tandem.runtime.store.RecordFailure;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One ERP-to-CRM run of a mapping: the ERP rows changed since the watermark (less the mapping's overlap), in
 * pages ordered by modified-on, written to the CRM as one {@code $batch} of upserts per page with only the changed
 * fields. New CRM rows get an id derived from the mapping and the ERP key, so a page re-run after a crash updates
 * what it created instead of duplicating it. The CRM's post-write modified-on is stored, so the CRM-to-ERP run and
 * conflict detection know the integration's own writes.
 */
public final class ToCrmSync extends SyncRun {

  private List<String> integrationUsers = List.of();

  /**
   * @param io the stores, the clients and the mapping
   * @param mapper its record mapper
   * @param jobId the job
   * @param skipAfter identical errors in a row before a record is skipped
   * @param policy what a bidirectional conflict leads to
   */
  public ToCrmSync(SyncIo io, RecordMapper mapper, long jobId, int skipAfter, MappingSettings.ConflictPolicy policy) {
    super(io, mapper, jobId, skipAfter, policy, Direction.TO_CRM);
  }

  /**
   * @param jobStart the job's start
   * @return the counts
   */
  public Future<JobOutcome> run(OffsetDateTime jobStart) {
    Future<Void> me = def.direction() == Direction.BIDIRECTIONAL
        ? crm.integrationUserIds().map(ids -> {
          integrationUsers = ids;
          return null;
        })
        : Future.succeededFuture();
    return me.compose(x -> checkCrmColumns()).compose(x -> settlePendingCreates(jobStart)).compose(x -> retryFailed(0L, jobStart))
        .compose(x -> watermarks.readStart(pool, def.name(), Side.ERP))
        .compose(wm -> {
          String changed = wm.modifiedOn() == null ? null
              : ODataErpClient.modifiedSince(def.erpModifiedOn(), readFrom(wm).toInstant());
          return erp.read(def.erpEntitySet(), and(def.erpFilter(), and(changed, notOwn(wm))), null,
                  def.erpModifiedOn())
              .compose(page -> pages(page, jobStart));
        }).map(v -> counts());
  }

  /**
   * After a full synchronization CRM to ERP: the rows it wrote (stamped after the ERP's newest stamp when it began,
   * up to what its last job compared with the couplings) are not read back; its last job synchronized the people's
   * changes among them ({@link ErpOwnWrites}).
   *
   * @return the condition, or null when the read starts after them
   */
  private String notOwn(PgWatermarkStore.ReadStart wm) {
    OffsetDateTime from = wm.modifiedOn() == null ? null : readFrom(wm);
    if (wm.ownWritesUntil() == null || (from != null && !from.isBefore(wm.ownWritesUntil()))) {
      return null;
    }
    String after = def.erpModifiedOn() + " gt " + ODataLiterals.dateTime(wm.ownWritesUntil());
    return wm.ownWritesFrom() == null ? after
        : "(" + def.erpModifiedOn() + " le " + ODataLiterals.dateTime(wm.ownWritesFrom()) + " or " + after + ")";
  }

  /**
   * Full synchronization ERP to CRM: every ERP row the mapping's filter passes within a key range, read in key
   * order, whether or not it changed; after a crash the next attempt resumes after the last committed key. The
   * mapping's watermark does not move (the full-sync coordinator moves it when every range is done).
   *
   * @param from the first key of the range (inclusive), or null
   * @param to the end of the range (exclusive), or null
   * @param place the checkpoint of earlier attempts and where this one saves its own
   * @param jobStart the job's start
   * @return this attempt's counts (add {@link FullSyncCheckpoint#base()} for the job's)
   */
  public Future<JobOutcome> runFull(String from, String to, FullSyncCheckpoint place, OffsetDateTime jobStart) {
    Future<Void> me = def.direction() == Direction.BIDIRECTIONAL
        ? crm.integrationUserIds().map(ids -> {
          integrationUsers = ids;
          return null;
        })
        : Future.succeededFuture();
    String key = def.erpKey();
    String lower = place.lastKey() != null ? key + " gt " + ODataErpClient.literal(place.lastKey())
        : from != null ? key + " ge " + ODataErpClient.literal(from) : null;
    String upper = to == null ? null : key + " lt " + ODataErpClient.literal(to);
    String filter = and(def.erpFilter(), and(lower, upper));
    keyOrdered();
    return me.compose(v -> settlePendingCreates(jobStart)).compose(v -> erp.read(def.erpEntitySet(), filter, null, key))
        .compose(page -> pages(page, jobStart, (tx, rows, highest, n) -> place.save(tx,
            sourceKey(rows.get(rows.size() - 1)), null, n)))
        .map(v -> counts());
  }

  /**
   * @param erpKeys the ERP records to synchronize now
   * @param jobStart the job's start
   * @return the counts
   */
  public Future<JobOutcome> runSelected(List<String> erpKeys, OffsetDateTime jobStart) {
    Future<Void> me = def.direction() == Direction.BIDIRECTIONAL
        ? crm.integrationUserIds().map(ids -> {
          integrationUsers = ids;
          return null;
        })
        : Future.succeededFuture();
    return me.compose(v -> settlePendingCreates(jobStart)).compose(v -> selected(erpKeys, jobStart))
        .map(v -> counts());
  }

  /**
   * Before reading ERP rows, the CRM-to-ERP creates of unknown outcome are settled (found and coupled, or made):
   * otherwise an ERP record created by a request whose answer was lost would look new here and be copied to the
   * CRM as a second account.
   */
  private Future<Void> settlePendingCreates(OffsetDateTime jobStart) {
    if (def.direction() == Direction.TO_CRM) {
      return Future.succeededFuture();
    }
    return FromCrmSync.settlePendingCreates(pool, couplings, watermarks, erp, crm, def, mapper, jobId, skipAfter,
        policy, jobStart).map(c -> {
          count(c);
          return null;
        });
  }

  private static String and(String a, String b) {
    if (a == null || a.isBlank()) {
      return b;
    }
    return b == null ? a : "(" + a + ") and " + b;
  }

  @Override
  String sourceKey(JsonObject row) {
    return String.valueOf(row.getValue(def.erpKey()));
  }

  @Override
  OffsetDateTime sourceModified(JsonObject row) {
    return OffsetDateTime.parse(row.getString(def.erpModifiedOn()));
  }

  @Override
  OffsetDateTime syncedSourceModified(Coupling c) {
    return c.erpModifiedOn();
  }

  @Override
  String syncedSourceVersion(Coupling c) {
    return c.erpVersion();
  }

  @Override
  String lastResult(Coupling c) {
    return c.lastResultToCrm();
  }

  @Override
  String counterpart(Coupling c) {
    return c.crmId();
  }

  @Override
  String sourceKeyOf(Coupling c) {
    return c.erpId();
  }

  @Override
  Outcome outcome(String sourceKey, String counterpartKey, OffsetDateTime sourceModified, String result, String error) {
    return new Outcome(sourceKey, counterpartKey, sourceModified, null, result, error);
  }

  @Override
  Side side() {
    return Side.ERP;
  }

  @Override
  Future<Page> next(String link) {
    return erp.follow(link);
  }

  @Override
  Future<List<JsonObject>> readSourceRows(List<String> keys) {
    return erpRowsByKeys(keys);
  }

  @Override
  Future<Map<String, JsonObject>> counterparts(Set<String> keys, Map<String, Coupling> coupled) {
    return crmRowsByIds(coupledCounterparts(keys, coupled)).map(rows -> {
      Map<String, JsonObject> out = new HashMap<>();
      rows.forEach(r -> out.put(r.getString(def.crmKey()).toLowerCase(java.util.Locale.ROOT), r));
      return out;
    });
  }

  @Override
  Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes) {
    return write(desired, sources, coupled, current, outcomes, 0);
  }

  /** Rounds of re-reading a CRM row whose update was refused with 412 (changed since it was read). */
  private static final int STALE_ROUNDS = 3;

  private Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes, int round) {
    return keyFallbacks(desired, coupled, current)
        .compose(fallback -> write(desired, sources, coupled, current, outcomes, round, fallback));
  }

  /** Values per request when rows are looked up by their alternate key's value. */
  private static final int FALLBACK_CHUNK = 50;

  /**
   * The uncoupled rows that cannot be upserted by the mapping's alternate key: its index is not Active (or the key
   * does not exist), or the value has a character Dataverse cannot take in a key segment. They are looked up by
   * the key's value instead, one query per chunk; the answer maps each such ERP key to the CRM id that holds its
   * value, or to null when none does (then it is written by its derived id, which a retry reuses: exactly one row).
   */
  private Future<Map<String, String>> keyFallbacks(Map<String, Map<String, Object>> desired,
      Map<String, Coupling> coupled, Map<String, JsonObject> current) {
    String column = def.crmAlternateKey();
    if (column == null) {
      return Future.succeededFuture(Map.of());
    }
    Map<String, String> candidates = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Object>> e : desired.entrySet()) {
      Coupling c = coupled.get(e.getKey());
      boolean exists = c != null && c.coupled() && current.containsKey(c.crmId().toLowerCase());
      Object v = e.getValue().get(column);
      if (!exists && v != null && !"".equals(v)) {
        candidates.put(e.getKey(), String.valueOf(v));
      }
    }
    if (candidates.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return crm.metadata().keyActive(def.crmEntitySet(), column).compose(active -> {
      Map<String, String> fallback = new java.util.LinkedHashMap<>();
      candidates.forEach((k, v) -> {
        if (!active || !ODataLiterals.addressableByKey(v)) {
          fallback.put(k, v);
        }
      });
      if (fallback.isEmpty()) {
        return Future.succeededFuture(Map.of());
      }
      List<String> values = new ArrayList<>(new java.util.LinkedHashSet<>(fallback.values()));
      Map<String, String> idByValue = new HashMap<>();
      Future<Void> reads = Future.succeededFuture();
      for (int from = 0; from < values.size(); from += FALLBACK_CHUNK) {
        List<String> chunk = values.subList(from, Math.min(values.size(), from + FALLBACK_CHUNK));
        reads = reads.compose(x -> crm.query(CrmQuery.of(def.crmEntitySet()).select(List.of(def.crmKey(), column))
            .filter(ODataLiterals.anyOf(column, chunk, false)).toString())
            .compose(p -> collectIds(p, column, idByValue)));
      }
      return reads.map(x -> {
        Map<String, String> out = new HashMap<>();
        // Dataverse compares text case-insensitively, as its key index does.
        fallback.forEach((k, v) -> out.put(k, idByValue.get(v.toLowerCase(java.util.Locale.ROOT))));
        return out;
      });
    });
  }

  private Future<Void> collectIds(Page page, String column, Map<String, String> ids) {
    for (JsonObject row : page.rows()) {
      Object v = row.getValue(column);
      if (v != null) {
        ids.putIfAbsent(String.valueOf(v).toLowerCase(java.util.Locale.ROOT), row.getString(def.crmKey()));
      }
    }
    return page.hasNext() ? crm.follow(page.nextLink()).compose(p -> collectIds(p, column, ids))
        : Future.succeededFuture();
  }

  private Future<Void> write(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes, int round,
      Map<String, String> fallback) {
    List<BatchOperation> ops = new ArrayList<>();
    List<String> opKeys = new ArrayList<>();
    List<String> opIds = new ArrayList<>();
    List<Boolean> opInsert = new ArrayList<>();
    List<Map<String, Object>> opState = new ArrayList<>();
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
      JsonObject crmRow = exists ? current.get(c.crmId().toLowerCase()) : null;
      if (changes.isEmpty()) {
        unchanged++;
        outcomes.add(new Outcome(key, crmId, modified, null, "unchanged", null,
            Conflicts.snapshot(def, sources.get(key), crmRow)));
        continue;
      }
      if (exists && crmChangedSinceSync(c, crmRow)) {
        List<String> both = Conflicts.bidirectional(def, Direction.TO_CRM, changes);
        if (!both.isEmpty() && policy == MappingSettings.ConflictPolicy.MERGE) {
          Conflicts.Changed changed = Conflicts.changed(def, c.synced(), sources.get(key), crmRow);
          if (changed == null || !changed.overlap().isEmpty()) {
            conflicts++;
            outcomes.add(new Outcome(key, crmId, null, null, "conflict",
                Conflicts.unmergeable(def, key, crmId, changed == null ? null : changed.overlap())));
            continue;
          }
          if (!changed.crm().isEmpty()) {
            // Writing now would make the integration user the CRM record's last modifier and hide the CRM's own
            // changes from the CRM-to-ERP run: that run takes them first (the ERP's modified-on is kept as it
            // was), then the ERP's changes follow (FromCrmSync#merged).
            unchanged++;
            outcomes.add(new Outcome(key, crmId, null, null, "unchanged", null));
            continue;
          }
        }
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
      String target = crmId == null ? null : ODataLiterals.guid(crmId);
      Object alternate = def.crmAlternateKey() == null ? null : e.getValue().get(def.crmAlternateKey());
      boolean insert = !exists;
      if (!exists && fallback.containsKey(key)) {
        // Not addressable by the key (see keyFallbacks): the row found by the key's value is updated by its id;
        // with none, the derived id creates it.
        String found = fallback.get(key);
        if (found != null) {
          crmId = found;
          target = ODataLiterals.guid(found);
          insert = false;
        }
      } else if (!exists && alternate != null && !"".equals(alternate)) {
        // Upsert by alternate key: a CRM row that already has this key is updated and coupled, not duplicated;
        // its id comes back in the response.
        target = alternateKeySegment(def.crmAlternateKey(), alternate);
        crmId = null;
      }
      // An update carries the ETag that was read: a change made in the CRM since then is refused (412), read
      // again and decided by the conflict policy, instead of being overwritten unseen.
      Map<String, String> headers = exists && crmRow.getString("@odata.etag") != null
          ? Map.of("Prefer", "return=representation", "If-Match", crmRow.getString("@odata.etag"))
          : Map.of("Prefer", "return=representation");
      Map<String, Object> state = null;
      if (insert && (changes.containsKey("statecode") || changes.containsKey("statuscode"))) {
        // Dataverse takes no state on create (statecode is not valid for create; a product starts in Draft): the
        // row is created without it and set to it right after (SetState through PATCH).
        changes = new java.util.LinkedHashMap<>(changes);
        state = new java.util.LinkedHashMap<>();
        for (String column : List.of("statecode", "statuscode")) {
          if (changes.containsKey(column)) {
            state.put(column, changes.remove(column));
          }
        }
      }
      opState.add(state);
      ops.add(new BatchOperation("PATCH", def.crmEntitySet() + "(" + target + ")", headers, new JsonObject(changes)));
      opKeys.add(key);
      opIds.add(crmId);
      opInsert.add(insert);
    }
    count(outcomes, new JobOutcome(0, 0, 0, unchanged, 0, conflicts, 0, 0, null));
    if (ops.isEmpty()) {
      return Future.succeededFuture();
    }
    return crm.batch(ops).compose(results -> {
      long inserted = 0;
      long modified = 0;
      long failed = 0;
      long coupledNew = 0;
      Map<String, Map<String, Object>> stale = new java.util.LinkedHashMap<>();
      List<BatchOperation> stateOps = new ArrayList<>();
      List<Integer> stateOutcomes = new ArrayList<>();
      for (WriteResult r : results) {
        String key = opKeys.get(r.index());
        OffsetDateTime erpModified = OffsetDateTime.parse(sources.get(key).getString(def.erpModifiedOn()));
        if (r.status() == 412 && !opInsert.get(r.index()) && round < STALE_ROUNDS && coupled.get(key) != null
            && coupled.get(key).coupled()) {
          stale.put(key, desired.get(key));
          continue;
        }
        if (r.ok()) {
          String crmId = opIds.get(r.index());
          boolean insert = opInsert.get(r.index());
          if (crmId == null) {
            crmId = r.body() == null ? null : r.body().getString(def.crmKey());
            insert = r.status() == 201;
          }
          if (crmId == null) {
            failed++;
            outcomes.add(new Outcome(key, null, erpModified, null, "failed", RecordFailure.text(dev.tandem.api.Stage.WRITE, "ERP "
                + def.erpEntitySet() + " " + key + ": the CRM's upsert by " + def.crmAlternateKey()
                + " returned no " + def.crmKey())));
            continue;
          }
          inserted += insert ? 1 : 0;
          modified += insert ? 0 : 1;
          Coupling c = coupled.get(key);
          coupledNew += c == null || !c.coupled() ? 1 : 0;
          String crmModified = r.body() == null ? null : r.body().getString(def.crmModifiedOn());
          // The version Tandem wrote: the CRM-to-ERP run knows it as its own, whoever the CRM says modified it.
          outcomes.add(new Outcome(key, crmId, erpModified,
              crmModified == null ? null : OffsetDateTime.parse(crmModified), insert ? "inserted" : "modified", null,
              Conflicts.snapshot(def, sources.get(key), r.body()), null,
              r.body() == null ? null : r.body().getString("@odata.etag")));
          if (opState.get(r.index()) != null) {
            stateOps.add(new BatchOperation("PATCH", def.crmEntitySet() + "(" + ODataLiterals.guid(crmId) + ")",
                Map.of("If-Match", "*"), new JsonObject(opState.get(r.index()))));
            stateOutcomes.add(outcomes.size() - 1);
          }
        } else {
          failed++;
          TandemException err = r.error();
          outcomes.add(new Outcome(key, null, erpModified, null, "failed", RecordFailure.text(err.stage(),
              "ERP " + def.erpEntitySet() + " " + key + ": " + err.getMessage())));
        }
      }
      long[] n = {inserted, modified, failed, coupledNew};
      Future<Void> states = stateOps.isEmpty() ? Future.succeededFuture() : crm.batch(stateOps).map(stateResults -> {
        for (WriteResult r : stateResults) {
          if (!r.ok()) {
            // Not coupled: the next run writes the same row again (derived id or key) and sets its state once more.
            int at = stateOutcomes.get(r.index());
            Outcome o = outcomes.get(at);
            n["inserted".equals(o.result()) ? 0 : 1]--;
            n[2]++;
            Coupling before = coupled.get(o.erpId());
            n[3] -= before == null || !before.coupled() ? 1 : 0;
            outcomes.set(at, new Outcome(o.erpId(), null, o.erpModifiedOn(), null, "failed", "["
                + dev.tandem.api.Stage.WRITE + "] ERP " + def.erpEntitySet() + " " + o.erpId() + ": written, but its "
                + "state could not be set: " + r.error().getMessage()));
          }
        }
        return null;
      });
      return states.compose(done -> {
        count(outcomes, new JobOutcome(n[0], n[1], 0, 0, 0, n[2], n[3], 0, null));
        return afterWrite(stale, sources, coupled, outcomes, round);
      });
    });
  }

  private Future<Void> afterWrite(Map<String, Map<String, Object>> stale, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, List<Outcome> outcomes, int round) {
    if (stale.isEmpty()) {
      return Future.succeededFuture();
    }
    // Changed in the CRM between the read and the write: read those rows again and decide once more.
    List<String> ids = new ArrayList<>();
    stale.keySet().forEach(k -> ids.add(coupled.get(k).crmId()));
    return crmRowsByIds(ids).compose(rows -> {
      Map<String, JsonObject> fresh = new HashMap<>();
      rows.forEach(row -> fresh.put(row.getString(def.crmKey()).toLowerCase(java.util.Locale.ROOT), row));
      return write(stale, sources, coupled, fresh, outcomes, round + 1, Map.of());
    });
  }

  private boolean crmChangedSinceSync(Coupling c, JsonObject crmRow) {
    if (def.direction() != Direction.BIDIRECTIONAL) {
      return false;
    }
    String version = crmRow.getString("@odata.etag");
    if (c.crmVersion() != null && version != null) {
      // Any version but the one Tandem last wrote or read is a change, the integration user's account included.
      return !version.equals(c.crmVersion());
    }
    if (c.crmModifiedOn() == null) {
      return false;
    }
    String modifiedOn = crmRow.getString(def.crmModifiedOn());
    return modifiedOn != null && OffsetDateTime.parse(modifiedOn).isAfter(c.crmModifiedOn())
        && integrationUsers.stream().noneMatch(u -> u.equalsIgnoreCase(crmRow.getString("_modifiedby_value")));
  }

  /** @return {@code isocurrencycode='EUR'}: text quoted with quotes doubled, numbers and booleans as they are */
  static String alternateKeySegment(String column, Object value) {
    return ODataLiterals.alternateKey(column, value);
  }

  /** The CRM id of the counterpart created for an ERP key: the same on every attempt. */
  String deterministicId(String erpKey) {
    return UUID.nameUUIDFromBytes(("tandem:" + def.name() + ":" + erpKey).getBytes(StandardCharsets.UTF_8)).toString();
  }
}
