package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.JobOutcome;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.WriteResult;
import dev.tandem.runtime.connectors.crm.BatchOperation;
import dev.tandem.runtime.connectors.crm.DataverseClient;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgWatermarkStore;
import dev.tandem.runtime.sync.MappingSettings.DeletionPolicy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds coupled records deleted on one side and applies the mapping's deletion policy. CRM deletions come from
 * change tracking (a delta link kept per mapping; the first run only starts tracking); ERP deletions are coupled
 * ERP keys no longer present (one key-only read of the ERP entity set per run). RESTORE leaves the recreation to
 * the run that follows in the same job (the record is retried first); DELETE_COUNTERPART deletes in batches.
 */
final class DeletionSync {

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

  DeletionSync(Pool pool, PgCouplingStore couplings, PgWatermarkStore watermarks, ODataErpClient erp,
      DataverseClient crm, MappingDefinition def, DeletionPolicy policy, long jobId, long erpScanEveryMs) {
    this.erpScanEveryMs = erpScanEveryMs;
    this.pool = pool;
    this.couplings = couplings;
    this.watermarks = watermarks;
    this.erp = erp;
    this.crm = crm;
    this.def = def;
    this.policy = policy;
    this.jobId = jobId;
  }

  /** @return deleted and uncoupled counts */
  Future<JobOutcome> run() {
    return crmDeletions().compose(onCrm -> erpDeletions().compose(onErp -> apply(onCrm, true)
        .compose(a -> apply(onErp, false).map(a::plus))));
  }

  /** Couplings whose CRM record change tracking reports deleted since the last run. */
  private Future<List<Coupling>> crmDeletions() {
    return watermarks.deltaLink(pool, def.name()).compose(link -> {
      Set<String> deleted = new HashSet<>();
      Future<Page> first = link == null ? crm.trackChanges(def.crmEntitySet(), def.crmKey()) : crm.follow(link);
      return first.compose(p -> drain(p, deleted, link != null)).compose(next -> watermarks.deltaLink(pool, def.name(),
          next)).compose(v -> couplings.bySourceIds(pool, def.name(), Direction.FROM_CRM, deleted))
          .map(found -> List.copyOf(found.values()));
    });
  }

  private Future<String> drain(Page page, Set<String> deleted, boolean collect) {
    if (collect) {
      for (JsonObject row : page.rows()) {
        if ("deleted".equals(row.getString("reason")) && row.getString("id") != null) {
          deleted.add(row.getString("id").toLowerCase(java.util.Locale.ROOT));
        }
      }
    }
    return page.hasNext() ? crm.follow(page.nextLink()).compose(p -> drain(p, deleted, collect))
        : Future.succeededFuture(page.deltaLink());
  }

  /** Coupled ERP keys that the ERP no longer has. */
  private Future<List<Coupling>> erpDeletions() {
    // Reading every ERP key costs a request per page of keys: once per interval, not on every run.
    return watermarks.claimKeyScan(pool, def.name(), erpScanEveryMs).compose(scan -> {
      if (!scan) {
        return Future.succeededFuture(List.of());
      }
      KeyHashes present = new KeyHashes();
      return erp.read(def.erpEntitySet(), null, List.of(def.erpKey()), null).compose(p -> keys(p, present))
          .compose(v -> {
            present.seal();
            return missing(present, 0, new ArrayList<>());
          });
    });
  }

  private Future<Void> keys(Page page, KeyHashes present) {
    page.rows().forEach(r -> present.add(String.valueOf(r.getValue(def.erpKey()))));
    return page.hasNext() ? erp.follow(page.nextLink()).compose(p -> keys(p, present)) : Future.succeededFuture();
  }

  private Future<List<Coupling>> missing(KeyHashes present, long afterId, List<Coupling> out) {
    return couplings.list(def.name(), null, null, null, afterId, PAGE).compose(page -> {
      for (Coupling c : page) {
        if (c.erpId() != null && c.crmId() != null && !present.contains(c.erpId())) {
          out.add(c);
        }
      }
      return page.size() < PAGE ? Future.succeededFuture(out)
          : missing(present, page.get(page.size() - 1).id(), out);
    });
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
        return deleteCounterparts(gone, deletedOnCrm).compose(deleted -> couplings.uncouple(def.name(), ids(gone))
            .map(n -> new JobOutcome(0, 0, deleted, 0, 0, 0, 0, n, null)));
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

  private Future<JobOutcome> note(List<Coupling> gone, boolean deletedOnCrm, String what) {
    Future<Void> chain = Future.succeededFuture();
    for (Coupling c : gone) {
      String message = "[READ] " + (deletedOnCrm ? "CRM " + def.crmEntitySet() + " " + c.crmId() : "ERP "
          + def.erpEntitySet() + " " + c.erpId()) + " (coupled with " + (deletedOnCrm ? "ERP " + c.erpId()
          : "CRM " + c.crmId()) + ") was deleted; " + what;
      chain = chain.compose(v -> couplings.noteDeletion(c, jobId, deletedOnCrm ? Direction.FROM_CRM : Direction.TO_CRM,
          message));
    }
    return chain.map(new JobOutcome(0, 0, 0, 0, 0, gone.size(), 0, 0, null));
  }

  private Future<Long> deleteCounterparts(List<Coupling> gone, boolean deletedOnCrm) {
    if (deletedOnCrm) {
      List<ODataErpClient.Write> writes = new ArrayList<>();
      gone.forEach(c -> writes.add(new ODataErpClient.Write("DELETE", def.erpEntitySet(),
          ODataErpClient.literal(c.erpId()), "*", null)));
      return erp.batch(writes).map(DeletionSync::succeeded);
    }
    List<BatchOperation> ops = new ArrayList<>();
    gone.forEach(c -> ops.add(new BatchOperation("DELETE", def.crmEntitySet() + "(" + c.crmId() + ")", Map.of(), null)));
    return crm.batch(ops).map(DeletionSync::succeeded);
  }

  private static long succeeded(List<WriteResult> results) {
    return results.stream().filter(r -> r.ok() || r.status() == 404).count();
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
