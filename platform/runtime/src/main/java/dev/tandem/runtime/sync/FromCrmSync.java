package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.KeysetPaging;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient.Write;
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
  /** Every application user Tandem writes as (connections.crm.moreClients). */
  private List<String> integrationUsers = List.of();

  /**
   * @param io the stores, the clients and the mapping
   * @param mapper its record mapper
   * @param jobId the job
   * @param skipAfter identical errors in a row before a record is skipped
   * @param policy what a bidirectional conflict leads to
   */
  public FromCrmSync(SyncIo io, RecordMapper mapper, long jobId, int skipAfter, MappingSettings.ConflictPolicy policy) {
    super(io, mapper, jobId, skipAfter, policy, Direction.FROM_CRM);
  }

  /**
   * @param jobStart the job's start
   * @return the counts
   */
  public Future<JobOutcome> run(OffsetDateTime jobStart) {
    Future<List<String>> me = crm.integrationUserIds().onSuccess(ids -> integrationUsers = ids);
    Future<PgWatermarkStore.ReadStart> wm = watermarks.readStart(pool, def.name(), Side.CRM);
    return Future.all(me, wm).compose(v -> checkCrmColumns())
        .compose(v -> settlePendingCreates(pool, couplings, watermarks, erp, crm, def, mapper, jobId, skipAfter, policy,
            jobStart))
        .compose(settled -> {
          count(settled);
          return retryFailed(0L, jobStart);
        })
        .compose(v -> crm.query(changedSince(wm.result(), me.result())).compose(page -> pages(page, jobStart)))
        .map(v -> counts());
  }

  /**
   * Settles the creates of unknown outcome of a mapping (a lost answer, a node that died before the coupling was
   * written), whether or not their CRM records are read again: each is looked for in the ERP and coupled, or
   * created when it is not there. Runs before anything else reads rows of the mapping.
   *
   * @return the counts of what it did
   */
  static Future<JobOutcome> settlePendingCreates(Pool pool, PgCouplingStore couplings, PgWatermarkStore watermarks,
      ODataErpClient erp, DataverseClient crm, MappingDefinition def, RecordMapper mapper, long jobId, int skipAfter,
      MappingSettings.ConflictPolicy policy, OffsetDateTime jobStart) {
    if (def.direction() == Direction.TO_CRM) {
      return Future.succeededFuture(JobOutcome.EMPTY);
    }
    return couplings.pendingSources(def.name(), Direction.FROM_CRM, 1000).compose(ids -> ids.isEmpty()
        ? Future.succeededFuture(JobOutcome.EMPTY)
        : new FromCrmSync(new SyncIo(pool, couplings, watermarks, erp, crm, def), mapper, jobId, skipAfter, policy)
            .runSelected(ids, jobStart));
  }

  /**
   * Full synchronization CRM to ERP: every CRM row the mapping's filter passes (but the integration user's own),
   * whether or not it changed, in key order, a page at a time after the last key read ({@link #keysetQuery});
   * after a crash the next attempt resumes after the last key committed. The mapping's watermark does not move.
   *
   * @param place the checkpoint of earlier attempts and where this one saves its own
   * @param jobStart the job's start
   * @return this attempt's counts (add {@link FullSyncCheckpoint#base()} for the job's)
   */
  public Future<JobOutcome> runFull(FullSyncCheckpoint place, OffsetDateTime jobStart) {
    keyset = true;
    keyOrdered();
    return crm.integrationUserIds().onSuccess(ids -> integrationUsers = ids)
        .compose(me -> crm.query(keysetQuery(place.lastKey())))
        .compose(page -> pages(page, jobStart, (tx, rows, highest, n) -> place.save(tx,
            sourceKey(rows.get(rows.size() - 1)), highest, n)))
        .map(v -> counts());
  }

  /** Whether this run reads by key ranges of its own ({@link #keysetQuery}) instead of the CRM's next links. */
  private boolean keyset;

  /**
   * A full synchronization's read: the rows after a key, in key order. Each page is its own query after the
   * previous page's last key, not the CRM's next link: a page link that counts rows of a sort (offset paging) skips
   * rows once rows before it move, and the run itself moves them, as writing back what the ERP assigned changes
   * {@code modifiedon}. In key order nothing the run or anyone else updates moves, and a page after a key holds
   * exactly the rows after it, whatever was created or deleted before it.
   *
   * @param afterKey the last key read, or null from the start
   */
  private String keysetQuery(String afterKey) {
    List<String> terms = new ArrayList<>();
    if (def.crmFilter() != null && !def.crmFilter().isBlank()) {
      terms.add("(" + def.crmFilter() + ")");
    }
    if (afterKey != null) {
      terms.add(def.crmKey() + " gt " + ODataLiterals.guid(afterKey));
    }
    return def.crmEntitySet() + (terms.isEmpty() ? "?" : "?$filter=" + encode(String.join(" and ", terms)) + "&")
        + "$orderby=" + encode(def.crmKey() + " asc");
  }

  @Override
  Future<Page> after(Page page) {
    if (incremental && !keyset) {
      return !page.hasNext() || page.rows().isEmpty() ? Future.succeededFuture()
          : crm.query(incrementalAfter(page.rows().get(page.rows().size() - 1)));
    }
    if (!keyset) {
      return super.after(page);
    }
    // The CRM says whether more rows follow; they are read after this page's last key.
    return !page.hasNext() || page.rows().isEmpty() ? Future.succeededFuture()
        : crm.query(keysetQuery(sourceKey(page.rows().get(page.rows().size() - 1))));
  }

  /** An incremental read: from the watermark (or floor), without the full synchronization's own writes. */
  private String changedSince(PgWatermarkStore.ReadStart start, List<String> me) {
    OffsetDateTime from = readFrom(start);
    String own = null;
    if (start.ownWritesUntil() != null && !me.isEmpty() && (from == null || from.isBefore(start.ownWritesUntil()))) {
      // Up to the end of a full synchronization ERP to CRM, a row last modified by one of Tandem's application
      // users is one it wrote there (its version is on the coupling): only people's changes are read back.
      List<String> notOurs = new ArrayList<>();
      me.forEach(u -> notOurs.add("_modifiedby_value ne " + ODataLiterals.guid(u)));
      own = "(" + def.crmModifiedOn() + " gt " + ODataLiterals.dateTime(start.ownWritesUntil()) + " or ("
          + String.join(" and ", notOurs) + "))";
    }
    incrementalFrom = from;
    incrementalOwn = own;
    incremental = true;
    return query(from, own);
  }

  /** An incremental run's read ({@link #changedSince(PgWatermarkStore.ReadStart, List)}), for its later pages. */
  private boolean incremental;
  private OffsetDateTime incrementalFrom;
  private String incrementalOwn;

  /**
   * The page after a page of an incremental read: the same read after the page's last row in its order
   * ({@code modifiedon}, then the key), not the CRM's next link. A next link that counts rows of the sort (offset
   * paging) skips as many rows as moved behind it meanwhile, and this run moves rows itself: writing back what the
   * ERP assigned to a created record changes its {@code modifiedon}. The rows skipped so would lie below the
   * watermark the later pages set, and be lost. After the last row nothing moves back: a row changed meanwhile
   * comes again at the end (and is handled once).
   */
  private String incrementalAfter(JsonObject last) {
    String after = paging().after(last);
    return query(incrementalFrom, incrementalOwn == null ? after : incrementalOwn + " and " + after);
  }

  /** The incremental read's order and the condition of each page after the first ({@link KeysetPaging}). */
  private KeysetPaging paging() {
    return new KeysetPaging(def.crmModifiedOn(), def.crmKey());
  }

  /** The read from a point (the overlap already taken off), with one more condition or none. */
  private String query(OffsetDateTime from, String extra) {
    List<String> terms = new ArrayList<>();
    if (def.crmFilter() != null && !def.crmFilter().isBlank()) {
      terms.add("(" + def.crmFilter() + ")");
    }
    if (from != null) {
      terms.add(def.crmModifiedOn() + " gt " + ODataLiterals.dateTime(from));
    }
    if (extra != null) {
      terms.add(extra);
    }
    // Tandem's own writes are recognized by the version recorded on the coupling (SyncRun#unchangedSinceSync),
    // not by the user who wrote: a person working under the integration account, or a plug-in touching a record
    // after Tandem's write, is still a change. modifiedon has whole seconds: the primary key makes the order
    // unique, so server-driven paging neither repeats nor skips rows that share a stamp.
    return def.crmEntitySet() + (terms.isEmpty() ? "?" : "?$filter=" + encode(String.join(" and ", terms)) + "&")
        + "$orderby=" + encode(paging().orderBy());
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
  boolean ownUncoupled(JsonObject row, Coupling c) {
    // An account Tandem created whose coupling was removed since (deletion policy REMOVE_COUPLING, an operator's
    // uncoupling) is not a new record for the ERP. A row with a coupling (coupled, or pending such as a restore) is
    // never judged by its modifier.
    return c == null && integrationUsers.stream().anyMatch(u -> u.equalsIgnoreCase(row.getString("_modifiedby_value")));
  }

  @Override
  String syncedSourceVersion(Coupling c) {
    return c.crmVersion();
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
    List<String> creates = new ArrayList<>();
    for (String crmKey : desired.keySet()) {
      Coupling c = coupled.get(crmKey);
      if (c == null || !c.coupled() || !current.containsKey(c.erpId())) {
        creates.add(crmKey);
      }
    }
    if (creates.isEmpty()) {
      return writeAll(desired, sources, coupled, current, outcomes, Map.of(), 0);
    }
    return couplings.pendingCreates(pool, def.name(), Direction.FROM_CRM, creates)
        .compose(pending -> reconcile(pending, desired))
        .compose(found -> writeAll(desired, sources, coupled, current, outcomes, found, 0));
  }

  /** How far before a create's first attempt the reconciling read looks: covers the ERP's clock being behind. */
  static final java.time.Duration RECONCILE_SKEW = java.time.Duration.ofMinutes(15);

  /**
   * Finds out whether creates of unknown outcome took effect: one read of the ERP rows modified since the earliest
   * attempt (less {@link #RECONCILE_SKEW}), not coupled in this mapping, that hold every value the create sent.
   * Each such row is given to at most one CRM record.
   *
   * @return the ERP row found per CRM key
   */
  private Future<Map<String, JsonObject>> reconcile(Map<String, OffsetDateTime> pending,
      Map<String, Map<String, Object>> desired) {
    if (pending.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    OffsetDateTime since = java.util.Collections.min(pending.values()).minus(RECONCILE_SKEW);
    List<JsonObject> candidates = new ArrayList<>();
    String filter = def.erpModifiedOn() + " ge " + ODataLiterals.dateTime(since);
    return readAll(erp.read(def.erpEntitySet(), filter, null, def.erpKey()), candidates)
        .compose(v -> {
          List<String> keys = new ArrayList<>();
          candidates.forEach(r -> keys.add(String.valueOf(r.getValue(def.erpKey()))));
          return couplings.bySourceIds(pool, def.name(), Direction.TO_CRM, keys);
        })
        .map(taken -> {
          Map<String, JsonObject> found = new HashMap<>();
          Set<String> used = new java.util.HashSet<>(taken.keySet());
          Map<String, Map<String, List<JsonObject>>> byField = new HashMap<>();
          for (String crmKey : pending.keySet()) {
            Map<String, Object> want = desired.get(crmKey);
            for (JsonObject row : candidatesFor(want, candidates, byField)) {
              String erpKey = String.valueOf(row.getValue(def.erpKey()));
              if (!used.contains(erpKey) && RecordMapper.changes(Direction.FROM_CRM, want, row).isEmpty()) {
                used.add(erpKey);
                found.put(crmKey, row);
                break;
              }
            }
          }
          return found;
        });
  }

  /**
   * The candidates that can hold every value of {@code want}, in their order: those whose value of one field equals
   * the wanted text, found through an index per field built on first use. A text value that is not empty, not a
   * number and not 36 characters long (a GUID, compared without case) is the same value ({@link RecordMapper#same})
   * only as that exact text, so no candidate left out could match. Without such a field, every candidate. (Each
   * pending create compared with every ERP row modified since the earliest attempt made the reconciliation after
   * a retried page of 5,000 creates quadratic: seconds of event loop per page, half the node's CPU under load.)
   */
  private static List<JsonObject> candidatesFor(Map<String, Object> want, List<JsonObject> candidates,
      Map<String, Map<String, List<JsonObject>>> byField) {
    if (want == null) {
      return candidates;
    }
    for (Map.Entry<String, Object> e : want.entrySet()) {
      if (e.getKey().endsWith("@odata.bind") || !(e.getValue() instanceof String text) || !exactText(text)) {
        continue;
      }
      Map<String, List<JsonObject>> index = byField.computeIfAbsent(e.getKey(), field -> {
        Map<String, List<JsonObject>> m = new HashMap<>();
        for (JsonObject row : candidates) {
          if (row.getValue(field) instanceof String v) {
            m.computeIfAbsent(v, x -> new ArrayList<>()).add(row);
          }
        }
        return m;
      });
      return index.getOrDefault(text, List.of());
    }
    return candidates;
  }

  /** @return whether {@link RecordMapper#same} holds for this text only with the identical text */
  private static boolean exactText(String text) {
    if (text.isEmpty() || text.length() == 36) {
      return false;
    }
    try {
      new java.math.BigDecimal(text);
      return false;
    } catch (NumberFormatException notANumber) {
      return true;
    }
  }

  private Future<Void> readAll(Future<Page> page, List<JsonObject> into) {
    return page.compose(p -> {
      into.addAll(p.rows());
      return p.hasNext() ? readAll(erp.follow(p.nextLink()), into) : Future.succeededFuture();
    });
  }

  /**
   * How often one run re-reads and re-decides a record whose update the ERP refused with 409
   * Request_EntityChanged before it counts as failed: a posting that lands between the read and the write changes
   * the ETag (it covers FlowFields) without changing the record, and another may land again meanwhile.
   */
  static final int ENTITY_CHANGED_ROUNDS = 3;

  /**
   * @param round how many times these records were re-read after a 409 Request_EntityChanged in this run
   */
  private Future<Void> writeAll(Map<String, Map<String, Object>> desired, Map<String, JsonObject> sources,
      Map<String, Coupling> coupled, Map<String, JsonObject> current, List<Outcome> outcomes,
      Map<String, JsonObject> reconciled, int round) {
    List<Write> writes = new ArrayList<>();
    long found = 0;
    List<JsonObject> created = new ArrayList<>();
    List<String> createdFor = new ArrayList<>();
    List<String> writeKeys = new ArrayList<>();
    long unchanged = 0;
    long conflicts = 0;
    for (Map.Entry<String, Map<String, Object>> e : desired.entrySet()) {
      String crmKey = e.getKey();
      Coupling c = coupled.get(crmKey);
      JsonObject erpRow = c != null && c.coupled() ? current.get(c.erpId()) : null;
      OffsetDateTime crmModified = OffsetDateTime.parse(sources.get(crmKey).getString(def.crmModifiedOn()));
      JsonObject earlier = reconciled.get(crmKey);
      if (erpRow == null && earlier != null) {
        // An earlier attempt created it, but its answer was lost: couple what it created.
        found++;
        String erpKey = String.valueOf(earlier.getValue(def.erpKey()));
        outcomes.add(new Outcome(erpKey, crmKey, OffsetDateTime.parse(earlier.getString(def.erpModifiedOn())),
            crmModified, "inserted", null, Conflicts.snapshot(def, earlier, sources.get(crmKey)),
            earlier.getString("@odata.etag"), null));
        created.add(earlier);
        createdFor.add(crmKey);
        continue;
      }
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
    count(outcomes, new JobOutcome(found, 0, 0, unchanged, 0, conflicts, found, 0, null));
    if (writes.isEmpty()) {
      return writeBack(created, createdFor, sources, outcomes);
    }
    List<String> creating = new ArrayList<>();
    for (int i = 0; i < writes.size(); i++) {
      if (writes.get(i).method().equals("POST")) {
        creating.add(writeKeys.get(i));
      }
    }
    // The intent to create is committed before the request: if the answer is lost or this node dies before the
    // coupling is written, the next attempt finds it and reconciles instead of creating the record again.
    return couplings.beginCreates(def.name(), Direction.FROM_CRM, jobId, creating)
        .compose(x -> erp.batch(writes)).compose(results -> {
      List<String> refused = new ArrayList<>();
      List<String> entityChanged = new ArrayList<>();
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
          if (insert) {
            created.add(r.body());
            createdFor.add(crmKey);
          }
          if (merged.contains(erpKey)) {
            // Half merged: the ERP's own changes are still to go to the CRM, so its modified-on stays as it was.
            outcomes.add(new Outcome(erpKey, crmKey, null, crmModified, "modified", null));
          } else {
            outcomes.add(new Outcome(erpKey, crmKey, erpModified, crmModified, insert ? "inserted" : "modified", null,
                Conflicts.snapshot(def, r.body(), sources.get(crmKey)), r.body().getString("@odata.etag"), null));
          }
        } else if (!insert && round < ENTITY_CHANGED_ROUNDS && entityChanged(r)) {
          // The ERP row's ETag moved since it was read: re-read it and decide again below (a change of FlowFields
          // only is written with the new ETag; a real change of the record goes through the conflict rules).
          entityChanged.add(crmKey);
        } else {
          failed++;
          if (insert && r.status() != 0) {
            refused.add(crmKey); // the ERP answered: nothing was created
          }
          outcomes.add(new Outcome(null, crmKey, null, crmModified, "failed", RecordFailure.text(r.error().stage(), "CRM "
              + def.crmEntitySet() + " " + crmKey + ": " + r.error().getMessage())));
        }
      }
      count(outcomes, new JobOutcome(inserted, modified, 0, 0, 0, failed, coupledNew, 0, null));
      return couplings.endCreates(pool, def.name(), Direction.FROM_CRM, refused)
          .compose(x -> writeBack(created, createdFor, sources, outcomes))
          .compose(x -> entityChanged.isEmpty() ? Future.succeededFuture()
              : redecide(entityChanged, desired, sources, coupled, outcomes, round + 1));
    });
  }

  /** @return whether the ERP refused a write because the row's ETag no longer matches (409 Request_EntityChanged) */
  private static boolean entityChanged(WriteResult r) {
    if (r.status() != 409 || r.body() == null) {
      return false;
    }
    JsonObject error = r.body().getJsonObject("error");
    return error != null && "Request_EntityChanged".equals(error.getString("code"));
  }

  /**
   * Re-reads the ERP rows of records whose update met 409 Request_EntityChanged and runs the decision again on the
   * fresh rows: unchanged if the CRM's values are there already, a conflict if the record itself changed since the
   * last synchronization (and the policy says so), else the update with the fresh ETag. A row deleted meanwhile
   * fails its record; the deletion sync handles it.
   */
  private Future<Void> redecide(List<String> crmKeys, Map<String, Map<String, Object>> desired,
      Map<String, JsonObject> sources, Map<String, Coupling> coupled, List<Outcome> outcomes, int round) {
    List<String> erpKeys = new ArrayList<>(crmKeys.size());
    crmKeys.forEach(k -> erpKeys.add(coupled.get(k).erpId()));
    return erpRowsByKeys(erpKeys).compose(rows -> {
      Map<String, JsonObject> fresh = new HashMap<>();
      rows.forEach(r -> fresh.put(String.valueOf(r.getValue(def.erpKey())), r));
      Map<String, Map<String, Object>> again = new java.util.LinkedHashMap<>();
      long gone = 0;
      for (String crmKey : crmKeys) {
        Coupling c = coupled.get(crmKey);
        if (fresh.containsKey(c.erpId())) {
          again.put(crmKey, desired.get(crmKey));
        } else {
          gone++;
          outcomes.add(new Outcome(null, crmKey, null,
              OffsetDateTime.parse(sources.get(crmKey).getString(def.crmModifiedOn())), "failed", "[" + Stage.WRITE
                  + "] ERP " + def.erpEntitySet() + " " + c.erpId() + " was deleted while CRM " + crmKey
                  + " was being written to it"));
        }
      }
      count(outcomes, new JobOutcome(0, 0, 0, 0, 0, gone, 0, 0, null));
      return again.isEmpty() ? Future.succeededFuture()
          : writeAll(again, sources, coupled, fresh, outcomes, Map.of(), round);
    });
  }

  /**
   * After creating ERP records, writes what the ERP assigned (the number, and every other ERP-to-CRM field) back to
   * their CRM records in the same job, with the ETag read: the coupling then records both sides as synchronized.
   * When that write fails (or the CRM record changed meanwhile), the ERP side is left unsynchronized, so the next
   * ERP-to-CRM run writes it.
   */
  private Future<Void> writeBack(List<JsonObject> created, List<String> createdFor, Map<String, JsonObject> sources,
      List<Outcome> outcomes) {
    if (created.isEmpty() || mapper.fields(Direction.TO_CRM).isEmpty()
        && def.options().stream().noneMatch(o -> o.direction() == Direction.TO_CRM)) {
      return Future.succeededFuture();
    }
    Map<String, Map<String, Coupling>> lookups = new HashMap<>();
    List<Future<?>> loads = new ArrayList<>();
    mapper.references(Direction.TO_CRM, created).forEach((mapping, ids) -> loads.add(couplings.bySourceIds(pool,
        mapping, Direction.TO_CRM, ids).onSuccess(found -> lookups.put(mapping, found))));
    return Future.all(loads).<Void>compose(v -> {
      Map<String, Integer> outcomeOf = new HashMap<>();
      for (int i = 0; i < outcomes.size(); i++) {
        outcomeOf.put(outcomes.get(i).crmId(), i);
      }
      RecordMapper.Lookups resolve = (mapping, f, key) -> {
        Coupling c = lookups.getOrDefault(mapping, Map.of()).get(key);
        return c == null ? null : c.crmId();
      };
      List<BatchOperation> ops = new ArrayList<>();
      List<Integer> opOutcome = new ArrayList<>();
      List<JsonObject> opErpRow = new ArrayList<>();
      for (int i = 0; i < created.size(); i++) {
        String crmKey = createdFor.get(i);
        Integer at = outcomeOf.get(crmKey);
        JsonObject crmRow = sources.get(crmKey);
        if (at == null || crmRow == null) {
          continue;
        }
        RecordMapper.Mapped m = mapper.map(Direction.TO_CRM, created.get(i), resolve);
        if (m.error() != null) {
          outcomes.set(at, erpUnsynced(outcomes.get(at)));
          continue;
        }
        Map<String, Object> changes = RecordMapper.changes(Direction.TO_CRM, m.values(), crmRow);
        if (changes.isEmpty()) {
          continue;
        }
        String etag = crmRow.getString("@odata.etag");
        ops.add(new BatchOperation("PATCH", def.crmEntitySet() + "(" + ODataLiterals.guid(crmKey) + ")", etag == null
            ? Map.of("Prefer", "return=representation")
            : Map.of("Prefer", "return=representation", "If-Match", etag), new JsonObject(changes)));
        opOutcome.add(at);
        opErpRow.add(created.get(i));
      }
      if (ops.isEmpty()) {
        return Future.<Void>succeededFuture();
      }
      return crm.batch(ops).<Void>map(results -> {
        for (WriteResult r : results) {
          int at = opOutcome.get(r.index());
          Outcome o = outcomes.get(at);
          if (r.ok() && r.body() != null) {
            String modified = r.body().getString(def.crmModifiedOn());
            // The version Tandem wrote: the next CRM-to-ERP run knows it as its own.
            outcomes.set(at, new Outcome(o.erpId(), o.crmId(), o.erpModifiedOn(), modified == null ? o.crmModifiedOn()
                : OffsetDateTime.parse(modified), o.result(), o.error(),
                Conflicts.snapshot(def, opErpRow.get(r.index()), r.body()), o.erpVersion(),
                r.body().getString("@odata.etag")));
          } else {
            outcomes.set(at, erpUnsynced(o));
          }
        }
        return null;
      }).recover(e -> {
        // The records are created and coupled either way; what the ERP assigned goes to the CRM in the next
        // ERP-to-CRM run.
        for (int at : opOutcome) {
          outcomes.set(at, erpUnsynced(outcomes.get(at)));
        }
        return Future.succeededFuture();
      });
    });
  }

  /** The outcome with the ERP side not recorded as synchronized, so the ERP-to-CRM run takes it. */
  private static Outcome erpUnsynced(Outcome o) {
    return new Outcome(o.erpId(), o.crmId(), null, o.crmModifiedOn(), o.result(), o.error(), o.synced(), null,
        o.crmVersion());
  }

  /**
   * @return the ERP keys of records merged under policy MERGE in this run: the CRM's changes went to the ERP, and
   *     the ERP's own changes are still to go to the CRM (synchronize them as selected records, ERP to CRM)
   */
  public List<String> merged() {
    return List.copyOf(merged);
  }

  private boolean erpChangedSinceSync(Coupling c, JsonObject erpRow) {
    if (def.direction() != Direction.BIDIRECTIONAL) {
      return false;
    }
    String version = erpRow.getString("@odata.etag");
    String stamp = erpRow.getString(def.erpModifiedOn());
    if (c.erpVersion() != null && version != null) {
      // The ETag covers FlowFields too (Business Central's default): a posting moves it but not SystemModifiedAt,
      // and the record's own fields did not change. Only a modification of the record counts as a change.
      if (!version.equals(c.erpVersion()) && c.erpModifiedOn() != null && stamp != null
          && !OffsetDateTime.parse(stamp).isAfter(c.erpModifiedOn())) {
        return false;
      }
      return !version.equals(c.erpVersion());
    }
    if (c.erpModifiedOn() == null) {
      return false;
    }
    String modifiedOn = erpRow.getString(def.erpModifiedOn());
    return modifiedOn != null && OffsetDateTime.parse(modifiedOn).isAfter(c.erpModifiedOn());
  }
}
