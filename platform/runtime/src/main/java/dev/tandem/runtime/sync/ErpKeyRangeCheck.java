package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.connectors.Page;
import dev.tandem.runtime.connectors.erp.ODataErpClient;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import dev.tandem.runtime.store.PgKeyRangeStore;
import dev.tandem.runtime.store.PgKeyRangeStore.KeyRange;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Finds coupled ERP records deleted in the ERP without reading every ERP key: the coupled keys are cut into ranges
 * (from PostgreSQL), and each check compares counts the ERP's OData service really offers — {@code $count} with
 * the mapping's filter, over the whole set and, when that or the coupled total moved, over halves of the ranges
 * down to the ranges whose count moved ({@link ErpKeyRangeDescent}: key bounds as {@code $filter}, about
 * 2·log₂(ranges) counts per moved range) — with the coupled counts and with what the last check saw. Only a range whose counts
 * moved is read again, key only, and compared with its couplings; every key missing there is read by key before it
 * counts as deleted. One more range per check, the one verified longest ago, is read whatever its counts (a
 * deletion and a creation in one range leave its counts as they were): every range is verified within as many
 * checks as there are ranges.
 */
final class ErpKeyRangeCheck {

  /** Couplings per range when the ranges are cut. */
  static final int ROWS_PER_RANGE = 5000;

  private final int rowsPerRange;
  private final Pool pool;
  private final PgKeyRangeStore ranges = new PgKeyRangeStore();
  private final PgCouplingStore couplings;
  private final ODataErpClient erp;
  private final MappingDefinition def;
  private final AtomicInteger requests = new AtomicInteger();
  private int reread;
  private long elapsedMs;
  private int total;

  ErpKeyRangeCheck(Pool pool, PgCouplingStore couplings, ODataErpClient erp, MappingDefinition def) {
    this(pool, couplings, erp, def, ROWS_PER_RANGE);
  }

  /** @param rowsPerRange couplings per range when the ranges are cut (tests cut small ranges) */
  ErpKeyRangeCheck(Pool pool, PgCouplingStore couplings, ODataErpClient erp, MappingDefinition def,
      int rowsPerRange) {
    this.rowsPerRange = rowsPerRange;
    this.pool = pool;
    this.couplings = couplings;
    this.erp = erp;
    this.def = def;
  }

  /** @return the couplings whose ERP record is gone */
  Future<List<Coupling>> run() {
    long t0 = System.nanoTime();
    return check().onComplete(ar -> elapsedMs = (System.nanoTime() - t0) / 1_000_000);
  }

  private Future<List<Coupling>> check() {
    return ranges.ranges(pool, def.name()).compose(known -> known.isEmpty() ? cut() : Future.succeededFuture(known))
        .compose(all -> {
          total = all.size();
          Future<Long> erpTotal = count(null);
          Future<Long> coupledTotal = couplings.countCoupled(def.name());
          Future<Long[]> before = ranges.totals(pool, def.name());
          return Future.all(erpTotal, coupledTotal, before).compose(v -> {
            Long[] last = before.result();
            boolean moved = last[0] == null || last[1] == null || last[0].longValue() != erpTotal.result()
                || last[1].longValue() != coupledTotal.result();
            Future<List<KeyRange>> counted = moved ? countMoved(all, erpTotal.result()) : Future.succeededFuture(all);
            return counted.compose(now -> readDirty(all, now, moved))
                .compose(gone -> ranges.totals(pool, def.name(), erpTotal.result(), coupledTotal.result()).map(gone));
          });
        });
  }

  /** @return the ERP requests this check made */
  int requests() {
    return requests.get();
  }

  /** @return a line for the job's message: the ERP requests this check made and the ranges it read */
  String summary() {
    return "ERP deletion check: " + requests.get() + " ERP requests, " + reread + " of " + total + " key ranges read"
        + " in " + elapsedMs + " ms";
  }

  /** Cuts the coupled keys into ranges (no ERP request); their counts are unknown until counted. */
  private Future<List<KeyRange>> cut() {
    return ranges.boundaries(pool, def.name(), rowsPerRange).compose(b -> {
      List<KeyRange> out = new ArrayList<>(b.size() + 1);
      for (int i = 0; i <= b.size(); i++) {
        out.add(new KeyRange(i, i == 0 ? null : b.get(i - 1), i == b.size() ? null : b.get(i), null, null, null));
      }
      return pool.withTransaction(tx -> ranges.replace(tx, def.name(), out)).map(out);
    });
  }

  /**
   * The ranges with this check's counts: the coupled ones from PostgreSQL, the ERP's by halving down to the ranges
   * whose count moved ({@link ErpKeyRangeDescent}); every range counted when some range was never counted.
   */
  private Future<List<KeyRange>> countMoved(List<KeyRange> all, long erpTotal) {
    if (all.stream().anyMatch(r -> r.erpCount() == null)) {
      return countEach(all);
    }
    Future<List<Long>> erpCounts = new ErpKeyRangeDescent(all, (lower, upper) -> {
      requests.incrementAndGet();
      return erp.count(def.erpEntitySet(), and(def.erpFilter(), bounds(lower, upper)), def.erpKey());
    }).run(erpTotal);
    Future<List<Long>> coupled = ranges.coupledCounts(pool, def.name(), all);
    return Future.all(erpCounts, coupled).map(v -> {
      List<KeyRange> out = new ArrayList<>(all.size());
      for (int i = 0; i < all.size(); i++) {
        KeyRange r = all.get(i);
        out.add(new KeyRange(r.no(), r.lower(), r.upper(), erpCounts.result().get(i), coupled.result().get(i),
            r.verifiedAt()));
      }
      return out;
    });
  }

  /** Counts every range on both sides; the ranges with this check's counts. */
  private Future<List<KeyRange>> countEach(List<KeyRange> all) {
    List<Future<Long>> erpCounts = new ArrayList<>(all.size());
    all.forEach(r -> erpCounts.add(count(r)));
    Future<List<Long>> coupled = ranges.coupledCounts(pool, def.name(), all);
    return Future.all(Future.all(erpCounts), coupled).map(v -> {
      List<KeyRange> out = new ArrayList<>(all.size());
      for (int i = 0; i < all.size(); i++) {
        KeyRange r = all.get(i);
        out.add(new KeyRange(r.no(), r.lower(), r.upper(), erpCounts.get(i).result(), coupled.result().get(i),
            r.verifiedAt()));
      }
      return out;
    });
  }

  /**
   * Reads the ranges whose counts moved (or, never counted before, disagree) and the one verified longest ago;
   * stores the counts and verification times.
   */
  private Future<List<Coupling>> readDirty(List<KeyRange> before, List<KeyRange> now, boolean counted) {
    List<Integer> dirty = new ArrayList<>();
    int oldest = -1;
    for (int i = 0; i < now.size(); i++) {
      KeyRange b = before.get(i);
      KeyRange n = now.get(i);
      boolean changed = counted && (b.erpCount() == null || b.coupledCount() == null
          ? !n.erpCount().equals(n.coupledCount())
          : !b.erpCount().equals(n.erpCount()) || !b.coupledCount().equals(n.coupledCount()));
      if (changed) {
        dirty.add(i);
      } else if (oldest < 0 || older(n, now.get(oldest))) {
        oldest = i;
      }
    }
    if (oldest >= 0) {
      dirty.add(oldest);
    }
    reread = dirty.size();
    List<Coupling> gone = new ArrayList<>();
    List<KeyRange> updated = new ArrayList<>(now);
    OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC);
    Future<Void> chain = Future.succeededFuture();
    for (int i : dirty) {
      KeyRange r = now.get(i);
      chain = chain.compose(v -> compare(r)).map(found -> {
        gone.addAll(found);
        updated.set(i, new KeyRange(r.no(), r.lower(), r.upper(), r.erpCount(), r.coupledCount(), at));
        return null;
      });
    }
    return chain.compose(v -> ranges.save(pool, def.name(), updated)).map(gone);
  }

  private static boolean older(KeyRange a, KeyRange b) {
    return a.verifiedAt() == null ? b.verifiedAt() != null
        : b.verifiedAt() != null && a.verifiedAt().isBefore(b.verifiedAt());
  }

  /** The range's couplings whose ERP key the ERP no longer has: keys missing in a read, confirmed by key. */
  private Future<List<Coupling>> compare(KeyRange r) {
    Set<String> present = new HashSet<>();
    Future<Void> keys = erp.read(def.erpEntitySet(), bounds(r), List.of(def.erpKey()), def.erpKey())
        .compose(p -> keys(p, present));
    return Future.all(keys, ranges.coupledKeysIn(pool, def.name(), r)).compose(v -> {
      List<String> missing = new ArrayList<>();
      for (String k : v.<List<String>>resultAt(1)) {
        if (!present.contains(k)) {
          missing.add(k);
        }
      }
      return missing.isEmpty() ? Future.succeededFuture(List.<Coupling>of())
          : couplings.bySourceIds(pool, def.name(), Direction.TO_CRM, missing).map(found -> {
            List<Coupling> coupled = new ArrayList<>();
            found.values().forEach(c -> {
              if (c.erpId() != null && c.crmId() != null) {
                coupled.add(c);
              }
            });
            return coupled;
          }).compose(this::confirm);
    });
  }

  private Future<Void> keys(Page page, Set<String> present) {
    requests.incrementAndGet();
    page.rows().forEach(row -> present.add(String.valueOf(row.getValue(def.erpKey()))));
    return page.hasNext() ? erp.follow(page.nextLink()).compose(p -> keys(p, present)) : Future.succeededFuture();
  }

  /** Keys missing from a range read, read by key (the ERP may order keys otherwise than PostgreSQL). */
  private Future<List<Coupling>> confirm(List<Coupling> missing) {
    if (missing.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    Set<String> there = new HashSet<>();
    List<Future<?>> reads = new ArrayList<>();
    for (int from = 0; from < missing.size(); from += SyncRun.READ_CHUNK) {
      List<String> chunk = new ArrayList<>();
      missing.subList(from, Math.min(missing.size(), from + SyncRun.READ_CHUNK)).forEach(c -> chunk.add(c.erpId()));
      requests.incrementAndGet();
      reads.add(erp.read(def.erpEntitySet(), ODataErpClient.anyOf(def.erpKey(), chunk), List.of(def.erpKey()), null)
          .onSuccess(p -> p.rows().forEach(row -> there.add(String.valueOf(row.getValue(def.erpKey()))))));
    }
    return Future.all(reads).map(v -> {
      List<Coupling> gone = new ArrayList<>();
      missing.forEach(c -> {
        if (!there.contains(c.erpId())) {
          gone.add(c);
        }
      });
      return gone;
    });
  }

  /** The ERP's count with the mapping's filter, within a range (null: the whole set): one request. */
  private Future<Long> count(KeyRange r) {
    requests.incrementAndGet();
    String filter = r == null ? def.erpFilter() : and(def.erpFilter(), bounds(r));
    return erp.count(def.erpEntitySet(), filter, def.erpKey());
  }

  private String bounds(KeyRange r) {
    return bounds(r.lower(), r.upper());
  }

  private String bounds(String lower, String upper) {
    String lo = lower == null ? null : def.erpKey() + " ge " + ODataErpClient.literal(lower);
    String hi = upper == null ? null : def.erpKey() + " lt " + ODataErpClient.literal(upper);
    return and(lo, hi);
  }

  private static String and(String a, String b) {
    if (a == null || a.isBlank()) {
      return b;
    }
    return b == null ? a : "(" + a + ") and " + b;
  }
}
