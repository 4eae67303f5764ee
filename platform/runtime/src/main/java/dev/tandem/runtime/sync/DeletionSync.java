package dev.tandem.runtime.sync;

import dev.tandem.runtime.connectors.crm.CrmQuery;
import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import dev.tandem.runtime.connectors.ODataLiterals;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.crm.DeltaLinkRejectedException;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.MappingSettings;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.store.PgWatermarkStore.Side;
import dev.tandem.runtime.store.MappingSettings.DeletionPolicy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds coupled records deleted on one side and applies the mapping's deletion policy. CRM deletions come from
 * change tracking (a delta link kept per mapping); when there is no link yet, or the CRM refuses it (a token past
 * the organization's retention, 0x80044352), tracking starts over and the deletions in between are found by a key
 * comparison: coupled CRM ids the CRM no longer has. ERP deletions are coupled ERP keys no longer present, found
 * once per interval by comparing counts per key range and reading only the ranges whose counts moved
 * ({@link ErpKeyRangeCheck}). The new delta link is stored only after the deletions it
 * reported were acted on, so a failure in between reads them again.
 *
 * <p>A deletion the policy leaves alone (NONE), or whose counterpart delete failed, is remembered on its coupling
 * and acted on by a later run once the policy allows it. A mass deletion — at least the mapping's share of its
 * couplings at once, and at least its minimum count — is not applied under REMOVE_COUPLING or DELETE_COUNTERPART:
 * the mapping is held with a message until an operator releases the deletions. RESTORE leaves the recreation to
 * the run that follows in the same job (the record is retried first); DELETE_COUNTERPART deletes in batches.
 */
final class DeletionSync {

  private static final System.Logger LOG = System.getLogger(DeletionSync.class.getName());
  private static final int PAGE = 1000;

  private final Pool pool;
  private final PgCouplingStore couplings;
  private final PgWatermarkStore watermarks;
  private final ODataErpClient erp;
  private final DataverseClient crm;
  private final MappingDefinition def;
  private final DeletionPolicy policy;
  private final long jobId;
  private final long erpScanEveryMs;
  private MappingSettings limits = MappingSettings.NONE;
  private ErpKeyRangeCheck erpCheck;
  private final dev.tandem.runtime.store.PgKeyRangeStore keyRanges = new dev.tandem.runtime.store.PgKeyRangeStore();

  DeletionSync(SyncIo io, DeletionPolicy policy, long jobId, long erpScanEveryMs) {
    this.erpScanEveryMs = erpScanEveryMs;
    this.pool = io.pool();
    this.couplings = io.couplings();
    this.watermarks = io.watermarks();
    this.erp = io.erp();
    this.crm = io.crm();
    this.def = io.def();
    this.policy = policy;
    this.jobId = jobId;
  }

  /**
   * @param settings the mapping's settings, for the mass-deletion limits
   * @return this
   */
  DeletionSync limits(MappingSettings settings) {
    this.limits = settings;
    return this;
  }

  /** @return deleted and uncoupled counts */
  Future<JobOutcome> run() {
    return crmSide().compose(onCrm -> erpSide().map(onCrm::plus));
  }

  /** What a side reported deleted this run, and (CRM) the delta link to store once that is acted on. */
  private record Found(List<Coupling> gone, String link) {}

  private Future<JobOutcome> crmSide() {
    return watermarks.deltaLink(pool, def.name()).compose(this::crmDeletions)
        .compose(found -> act(found.gone(), true)
            .compose(o -> found.link() == null ? Future.succeededFuture(o)
                : watermarks.deltaLink(pool, def.name(), found.link()).map(o)));
  }

  private Future<JobOutcome> erpSide() {
    return erpDeletions().compose(gone -> act(gone, false));
  }

  /**
   * Couplings whose CRM record change tracking reports deleted since the stored link; with no usable link, those
   * whose CRM id the CRM no longer has.
   */
  private Future<Found> crmDeletions(String link) {
    if (link == null) {
      return reconcile();
    }
    Set<String> deleted = new HashSet<>();
    return crm.follow(link).compose(p -> drain(p, deleted))
        .compose(next -> couplings.bySourceIds(pool, def.name(), Direction.FROM_CRM, deleted)
            .map(found -> new Found(List.copyOf(found.values()), next)))
        .recover(e -> {
          if (!(e instanceof DeltaLinkRejectedException)) {
            return Future.failedFuture(e);
          }
          LOG.log(System.Logger.Level.WARNING, "mapping " + def.name() + ": " + e.getMessage()
              + "; change tracking starts over and deletions are found by comparing keys");
          return reconcile();
        });
  }

  /** Starts change tracking: every CRM id is read once, and coupled ids that are not among them are deletions. */
  private Future<Found> reconcile() {
    KeyHashes present = new KeyHashes();
    return crm.trackChanges(def.crmEntitySet(), def.crmKey()).compose(p -> ids(p, present)).compose(next -> {
      present.seal();
      return missing(present, true, 0, new ArrayList<>()).map(gone -> new Found(gone, next));
    });
  }

  private Future<String> ids(Page page, KeyHashes present) {
    page.rows().forEach(r -> {
      String id = r.getString(def.crmKey());
      if (id != null) {
        present.add(id.toLowerCase(java.util.Locale.ROOT));
      }
    });
    return page.hasNext() ? crm.follow(page.nextLink()).compose(p -> ids(p, present))
        : Future.succeededFuture(page.deltaLink());
  }

  private Future<String> drain(Page page, Set<String> deleted) {
    for (JsonObject row : page.rows()) {
      if ("deleted".equals(row.getString("reason")) && row.getString("id") != null) {
        deleted.add(row.getString("id").toLowerCase(java.util.Locale.ROOT));
      }
    }
    return page.hasNext() ? crm.follow(page.nextLink()).compose(p -> drain(p, deleted))
        : Future.succeededFuture(page.deltaLink());
  }

  /**
   * Coupled ERP keys that the ERP no longer has, found by the incremental key-range comparison
   * ({@link ErpKeyRangeCheck}) once per interval, or at once when an ERP notification made the check due.
   */
  private Future<List<Coupling>> erpDeletions() {
    return watermarks.claimKeyScan(pool, def.name(), erpScanEveryMs).compose(scan -> {
      if (!scan) {
        return Future.succeededFuture(List.of());
      }
      erpCheck = new ErpKeyRangeCheck(pool, couplings, erp, def);
      return erpCheck.run();
    });
  }

  /** @return what this run's ERP deletion check cost, or null when none was due */
  String erpCheckSummary() {
    return erpCheck == null ? null : erpCheck.summary();
  }

  /**
   * After a full synchronization: starts CRM change tracking past Tandem's own writes (every CRM id read once, so
   * the next delta holds only later changes; coupled ids missing among them are deletions made during the full
   * synchronization and go to the policy), and takes the first counts of the ERP key ranges, so the next runs
   * neither re-read every CRM id nor every ERP key.
   *
   * @return deleted and uncoupled counts
   */
  Future<JobOutcome> startTracking() {
    return reconcile().compose(found -> act(found.gone(), true)
            .compose(o -> watermarks.deltaLink(pool, def.name(), found.link()).map(o)))
        .compose(onCrm -> watermarks.claimKeyScan(pool, def.name(), 0).compose(x -> {
          erpCheck = new ErpKeyRangeCheck(pool, couplings, erp, def);
          return erpCheck.run();
        }).compose(gone -> act(gone, false)).map(onCrm::plus));
  }

  private Future<List<Coupling>> missing(KeyHashes present, boolean crmSide, long afterId, List<Coupling> out) {
    return keyRanges.couplingsAfter(pool, afterId, PAGE).compose(page -> {
      for (Coupling c : page) {
        if (!def.name().equals(c.mapping())) {
          continue;
        }
        String key = crmSide ? (c.crmId() == null ? null : c.crmId().toLowerCase(java.util.Locale.ROOT)) : c.erpId();
        if (c.erpId() != null && c.crmId() != null && !present.contains(key)) {
          out.add(c);
        }
      }
      return page.size() < PAGE ? Future.succeededFuture(out)
          : missing(present, crmSide, page.get(page.size() - 1).id(), out);
    });
  }

  /**
   * This run's deletions of one side with the ones remembered from earlier runs (still gone), under the policy;
   * a mass deletion under a destructive policy holds the mapping instead.
   */
  private Future<JobOutcome> act(List<Coupling> found, boolean deletedOnCrm) {
    Future<List<Coupling>> earlier = policy == DeletionPolicy.NONE ? Future.succeededFuture(List.of())
        : couplings.deletionsPending(def.name(), deletedOnCrm, PAGE).compose(p -> stillGone(p, found, deletedOnCrm));
    return earlier.compose(remembered -> {
      Map<Long, Coupling> gone = new LinkedHashMap<>();
      found.forEach(c -> gone.put(c.id(), c));
      remembered.forEach(c -> gone.putIfAbsent(c.id(), c));
      if (gone.isEmpty()) {
        return Future.succeededFuture(JobOutcome.EMPTY);
      }
      Side side = deletedOnCrm ? Side.CRM : Side.ERP;
      boolean destructive = policy == DeletionPolicy.REMOVE_COUPLING || policy == DeletionPolicy.DELETE_COUNTERPART;
      Future<Boolean> allowed = !destructive ? Future.succeededFuture(true)
          : couplings.countCoupled(def.name()).compose(total -> !limits.massDeletion(gone.size(), total)
              ? Future.succeededFuture(true)
              : watermarks.releasedDeletions(pool, def.name(), side).compose(released -> released >= gone.size()
                  ? Future.succeededFuture(true) : hold(side, gone.size(), total).map(false)));
      return allowed.compose(ok -> apply(List.copyOf(gone.values()), deletedOnCrm))
          .compose(o -> watermarks.deletionsApplied(pool, def.name(), side).map(o));
    });
  }

  /** Holds the mapping: nothing is deleted or uncoupled, the job fails with what to do. */
  private Future<Void> hold(Side side, int deleted, long total) {
    String message = "[READ] mass deletion held: " + deleted + " of mapping " + def.name() + "'s " + total
        + " couplings were reported deleted on the " + side + " side at once (limit: " + Math.round(100
        * (limits.massDeletionShare() == null ? MappingSettings.DEFAULT_MASS_DELETION_SHARE
            : limits.massDeletionShare())) + "%, at least " + (limits.massDeletionMin() == null
        ? MappingSettings.DEFAULT_MASS_DELETION_MIN : limits.massDeletionMin()) + "); deletion policy " + policy
        + " would act on all of them. Check the " + side + " endpoint and the mapping's filter; if the deletions are "
        + "real, release them with POST /api/v1/mappings/" + def.name() + "/deletions/release";
    return watermarks.holdDeletions(pool, def.name(), side, message)
        .compose(v -> Future.failedFuture(TandemException.permanent(Stage.READ, message)));
  }

  /**
   * Remembered deletions whose record is still missing; those this run found again need no read. A record that
   * is back (restored on its side) is forgotten.
   */
  private Future<List<Coupling>> stillGone(List<Coupling> remembered, List<Coupling> found, boolean deletedOnCrm) {
    Set<Long> known = new HashSet<>();
    found.forEach(c -> known.add(c.id()));
    List<Coupling> check = remembered.stream().filter(c -> !known.contains(c.id())).toList();
    if (check.isEmpty()) {
      return Future.succeededFuture(remembered);
    }
    List<String> keys = check.stream().map(c -> deletedOnCrm ? c.crmId() : c.erpId()).toList();
    Future<List<JsonObject>> rows = deletedOnCrm ? crmRows(keys) : erpRows(keys);
    return rows.compose(present -> {
      Set<String> there = new HashSet<>();
      present.forEach(r -> there.add(deletedOnCrm ? r.getString(def.crmKey()).toLowerCase(java.util.Locale.ROOT)
          : String.valueOf(r.getValue(def.erpKey()))));
      List<Coupling> out = new ArrayList<>();
      List<Long> back = new ArrayList<>();
      for (Coupling c : remembered) {
        String key = deletedOnCrm ? c.crmId().toLowerCase(java.util.Locale.ROOT) : c.erpId();
        if (there.contains(key)) {
          back.add(c.id());
        } else {
          out.add(c);
        }
      }
      return couplings.deletionsWithdrawn(back).map(out);
    });
  }

  private Future<List<JsonObject>> crmRows(List<String> ids) {
    List<JsonObject> rows = new ArrayList<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += SyncRun.READ_CHUNK) {
      String filter = ODataLiterals.anyOf(def.crmKey(), ids.subList(from, Math.min(ids.size(),
          from + SyncRun.READ_CHUNK)), true);
      reads.add(crm.query(CrmQuery.of(def.crmEntitySet()).select(List.of(def.crmKey())).filter(filter)
          .toString())
          .onSuccess(p -> rows.addAll(p.rows())));
    }
    return Future.all(reads).map(v -> rows);
  }

  private Future<List<JsonObject>> erpRows(List<String> keys) {
    List<JsonObject> rows = new ArrayList<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < keys.size(); from += SyncRun.READ_CHUNK) {
      reads.add(erp.read(def.erpEntitySet(), ODataErpClient.anyOf(def.erpKey(), keys.subList(from,
          Math.min(keys.size(), from + SyncRun.READ_CHUNK))), List.of(def.erpKey()), null)
          .onSuccess(p -> rows.addAll(p.rows())));
    }
    return Future.all(reads).map(v -> rows);
  }

  private Future<JobOutcome> apply(List<Coupling> gone, boolean deletedOnCrm) {
    if (gone.isEmpty()) {
      return Future.succeededFuture(JobOutcome.EMPTY);
    }
    Direction restoredBy = deletedOnCrm ? Direction.TO_CRM : Direction.FROM_CRM;
    switch (policy) {
      case REMOVE_COUPLING:
        return couplings.uncouple(def.name(), ids(gone))
            .map(n -> new JobOutcome(0, 0, 0, 0, 0, 0, 0, n, null));
      case DELETE_COUNTERPART:
        return deleteCounterparts(gone, deletedOnCrm);
      case RESTORE:
        if (def.direction().includes(restoredBy)) {
          Future<Void> chain = Future.succeededFuture();
          for (Coupling c : gone) {
            chain = chain.compose(v -> couplings.prepareRestore(c.id(), deletedOnCrm));
          }
          return chain.map(JobOutcome.EMPTY);
        }
        return note(gone, deletedOnCrm, "deletion policy RESTORE cannot restore it: mapping " + def.name()
            + " does not synchronize " + restoredBy);
      default:
        return note(gone, deletedOnCrm, "deletion policy NONE leaves the counterpart and the coupling: set RESTORE, "
            + "REMOVE_COUPLING or DELETE_COUNTERPART (PATCH /api/v1/mappings/" + def.name() + ")");
    }
  }

  /** Logs deletions left alone; only those not noted by an earlier run count as this run's failures. */
  private Future<JobOutcome> note(List<Coupling> gone, boolean deletedOnCrm, String what) {
    Future<Integer> chain = Future.succeededFuture(0);
    for (Coupling c : gone) {
      chain = chain.compose(n -> noteOne(c, deletedOnCrm, what).map(fresh -> fresh ? n + 1 : n));
    }
    return chain.map(n -> new JobOutcome(0, 0, 0, 0, 0, n, 0, 0, null));
  }

  private Future<Boolean> noteOne(Coupling c, boolean deletedOnCrm, String what) {
    String message = "[READ] " + (deletedOnCrm ? "CRM " + def.crmEntitySet() + " " + c.crmId() : "ERP "
        + def.erpEntitySet() + " " + c.erpId()) + " (coupled with " + (deletedOnCrm ? "ERP " + c.erpId()
        : "CRM " + c.crmId()) + ") was deleted; " + what;
    return couplings.noteDeletion(c, jobId, deletedOnCrm ? Direction.FROM_CRM : Direction.TO_CRM, message);
  }

  /**
   * Deletes the counterparts in batches; a coupling goes only with its counterpart (deleted, or gone already). A
   * counterpart delete that fails keeps its coupling, is logged, and is tried again by the next run.
   */
  private Future<JobOutcome> deleteCounterparts(List<Coupling> gone, boolean deletedOnCrm) {
    Future<List<WriteResult>> results;
    if (deletedOnCrm) {
      List<ODataErpClient.Write> writes = new ArrayList<>();
      gone.forEach(c -> writes.add(new ODataErpClient.Write("DELETE", def.erpEntitySet(),
          ODataLiterals.string(c.erpId()), "*", null)));
      results = erp.batch(writes);
    } else {
      List<BatchOperation> ops = new ArrayList<>();
      gone.forEach(c -> ops.add(new BatchOperation("DELETE", def.crmEntitySet() + "(" + ODataLiterals.guid(c.crmId())
          + ")", Map.of(), null)));
      results = crm.batch(ops);
    }
    return results.compose(rs -> {
      List<Long> done = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      long failed = 0;
      for (WriteResult r : rs) {
        Coupling c = gone.get(r.index());
        if (r.ok() || r.status() == 404) {
          done.add(c.id());
        } else {
          failed++;
          String why = "deletion policy DELETE_COUNTERPART could not delete " + (deletedOnCrm ? "ERP "
              + def.erpEntitySet() + " " + c.erpId() : "CRM " + def.crmEntitySet() + " " + c.crmId()) + ": "
              + (r.error() == null ? "status " + r.status() : r.error().getMessage())
              + "; the coupling stays and the next run tries again";
          chain = chain.compose(v -> noteOne(c, deletedOnCrm, why).mapEmpty());
        }
      }
      long deleted = done.size();
      long failures = failed;
      return chain.compose(v -> couplings.uncouple(def.name(), done))
          .map(n -> new JobOutcome(0, 0, deleted, 0, 0, failures, 0, n, null));
    });
  }

  private static List<Long> ids(List<Coupling> cs) {
    List<Long> out = new ArrayList<>(cs.size());
    cs.forEach(c -> out.add(c.id()));
    return out;
  }

  /**
   * The ERP's keys as sorted 64-bit hashes: 8 bytes a key instead of a string in a hash set, so a scan of a million
   * keys stays within a few megabytes. A collision (odds about n²/2⁶⁵) could only hide a deletion, never invent one.
   */
  static final class KeyHashes {
    private long[] hashes = new long[1024];
    private int size;

    void add(String key) {
      if (size == hashes.length) {
        hashes = java.util.Arrays.copyOf(hashes, size * 2);
      }
      hashes[size++] = hash(key);
    }

    void seal() {
      java.util.Arrays.sort(hashes, 0, size);
    }

    boolean contains(String key) {
      return java.util.Arrays.binarySearch(hashes, 0, size, hash(key)) >= 0;
    }

    /** FNV-1a over the key's UTF-16 units, 64 bits. */
    static long hash(String key) {
      long h = 0xcbf29ce484222325L;
      for (int i = 0; i < key.length(); i++) {
        h ^= key.charAt(i);
        h *= 0x100000001b3L;
      }
      return h;
    }
  }
}
