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
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Finds coupled ERP records deleted in the ERP without reading every ERP key: the coupled keys are cut into ranges
 * (from PostgreSQL), and each check compares counts the ERP's OData service really offers — {@code $count} with
 * the mapping's filter, over the whole set and, when that or the coupled total moved, over halves of the ranges
 * down to the ranges whose count moved ({@link ErpKeyRangeDescent}: key bounds as {@code $filter}, about
 * 2·log₂(ranges) counts per moved range) — with the coupled counts and with what the last check saw. The coupled
 * count of every range (one PostgreSQL query of an index range count per range) is taken only when the coupled
 * total the coupling triggers keep (V84) moved since the last check, or a range has none yet; otherwise each range
 * keeps the last check's. Only a range whose counts moved is read again, key only, and compared with its
 * couplings; every key missing there is read by key before it counts as deleted. One more range per check, the one
 * verified longest ago, is read whatever its counts (a deletion and a creation in one range leave its counts as
 * they were, and so do a coupling made in one range and one removed in another): every range is verified within
 * as many checks as there are ranges. The ranges to read are read {@link #READ_PARALLEL} at a time.
 *
 * <p>{@link #summary()} (the job's message, and the log at INFO) gives the check's ERP requests, the ranges it read
 * and where its time went: the totals, the ERP counts of the range tree, the ranges' coupled counts (or that they
 * were kept), the reads of the ranges and the save.
 */
final class ErpKeyRangeCheck {

  private static final System.Logger LOG = System.getLogger(ErpKeyRangeCheck.class.getName());

  /** Couplings per range when the ranges are cut. */
  static final int ROWS_PER_RANGE = 5000;
  /**
   * Ranges read at once: BC processes 5 requests of a user at once, and the check shares the user with the
   * mapping's runs; a range is a few pages of keys, so 4 side by side cut the reads' time about fourfold.
   */
  static final int READ_PARALLEL = 4;

  private final int rowsPerRange;
  private final Pool pool;
  private final PgKeyRangeStore ranges = new PgKeyRangeStore();
  private final PgCouplingStore couplings;
  private final ODataErpClient erp;
  private final MappingDefinition def;
  private final AtomicInteger requests = new AtomicInteger();
  private int reread;
  private int total;
  private long elapsedMs;
  /** Step times in ms, -1 when the step did not run. */
  private long cutMs = -1;
  private long totalsMs = -1;
  private long treeMs = -1;
  private long coupledMs = -1;
  private long readsMs = -1;
  private long saveMs = -1;
  /** Whether the ranges' coupled counts were taken (else kept from the last check). */
  private boolean coupledCounted;

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
    return check().onComplete(ar -> {
      elapsedMs = ms(t0);
      if (ar.succeeded()) {
        LOG.log(System.Logger.Level.INFO, "mapping " + def.name() + ": " + summary() + ", " + ar.result().size()
            + " coupled records gone in the ERP");
      } else {
        LOG.log(System.Logger.Level.WARNING, "mapping " + def.name() + ": " + summary() + ", failed: "
            + ar.cause());
      }
    });
  }

  private Future<List<Coupling>> check() {
    long t0 = System.nanoTime();
    return ranges.ranges(pool, def.name()).compose(known -> known.isEmpty() ? cut() : Future.succeededFuture(known))
        .compose(all -> {
          if (cutMs >= 0) {
            cutMs = ms(t0);
          }
          total = all.size();
          long t1 = System.nanoTime();
          Future<Long> erpTotal = count(null);
          Future<Long> coupledTotal = couplings.countCoupled(def.name());
          Future<Long[]> before = ranges.totals(pool, def.name());
          return Future.all(erpTotal, coupledTotal, before).compose(v -> {
            totalsMs = ms(t1);
            Long[] last = before.result();
            boolean erpMoved = last[0] == null || last[0].longValue() != erpTotal.result();
            boolean coupledMoved = last[1] == null || last[1].longValue() != coupledTotal.result();
            boolean moved = erpMoved || coupledMoved;
            Future<List<KeyRange>> counted = moved ? countMoved(all, erpTotal.result(), coupledMoved)
                : Future.succeededFuture(all);
            return counted.compose(now -> readDirty(all, now, moved)).compose(gone -> {
              long t2 = System.nanoTime();
              return ranges.totals(pool, def.name(), erpTotal.result(), coupledTotal.result()).map(x -> {
                saveMs += ms(t2);
                return gone;
              });
            });
          });
        });
  }

  /** @return the ERP requests this check made */
  int requests() {
    return requests.get();
  }

  /** @return whether this check took every range's coupled count (else it kept the last check's) */
  boolean coupledCounted() {
    return coupledCounted;
  }

  /**
   * @return a line for the job's message: the ERP requests this check made, the ranges it read and its time, with
   *     the time of each step
   */
  String summary() {
    StringBuilder b = new StringBuilder("ERP deletion check: ").append(requests.get()).append(" ERP requests, ")
        .append(reread).append(" of ").append(total).append(" key ranges read in ").append(elapsedMs).append(" ms (");
    if (cutMs >= 0) {
      b.append("ranges cut ").append(cutMs).append(" ms, ");
    }
    b.append("totals ").append(step(totalsMs)).append(", tree ").append(step(treeMs)).append(", coupled counts ")
        .append(coupledMs >= 0 ? coupledMs + " ms" : treeMs >= 0 ? "kept (coupled total unchanged)" : "-")
        .append(", reads ").append(step(readsMs)).append(", save ").append(step(saveMs)).append(')');
    return b.toString();
  }

  private static String step(long ms) {
    return ms < 0 ? "-" : ms + " ms";
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  /** Cuts the coupled keys into ranges (no ERP request); their counts are unknown until counted. */
  private Future<List<KeyRange>> cut() {
    cutMs = 0;
    return ranges.boundaries(pool, def.name(), rowsPerRange).compose(b -> {
      List<KeyRange> out = new ArrayList<>(b.size() + 1);
      for (int i = 0; i <= b.size(); i++) {
        out.add(new KeyRange(i, i == 0 ? null : b.get(i - 1), i == b.size() ? null : b.get(i), null, null, null));
      }
      return pool.withTransaction(tx -> ranges.replace(tx, def.name(), out)).map(out);
    });
  }

  /**
   * The ranges with this check's counts: the ERP's by halving down to the ranges whose count moved
   * ({@link ErpKeyRangeDescent}), the coupled ones from PostgreSQL when the coupled total moved (else the last
   * check's); every range counted when some range was never counted.
   */
  private Future<List<KeyRange>> countMoved(List<KeyRange> all, long erpTotal, boolean coupledMoved) {
    if (all.stream().anyMatch(r -> r.erpCount() == null)) {
      return countEach(all);
    }
    long t0 = System.nanoTime();
    Future<List<Long>> erpCounts = new ErpKeyRangeDescent(all, (lower, upper) -> {
      requests.incrementAndGet();
      return erp.count(def.erpEntitySet(), and(def.erpFilter(), bounds(lower, upper)), def.erpKey());
    }).run(erpTotal).onSuccess(x -> treeMs = ms(t0));
    Future<List<Long>> coupled = coupledMoved || all.stream().anyMatch(r -> r.coupledCount() == null)
        ? coupledCounts(all) : Future.succeededFuture(all.stream().map(KeyRange::coupledCount).toList());
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

  /** Every range's coupled count, from PostgreSQL (one query). */
  private Future<List<Long>> coupledCounts(List<KeyRange> all) {
    long t0 = System.nanoTime();
    coupledCounted = true;
    return ranges.coupledCounts(pool, def.name(), all).onSuccess(x -> coupledMs = ms(t0));
  }

  /** Counts every range on both sides; the ranges with this check's counts. */
  private Future<List<KeyRange>> countEach(List<KeyRange> all) {
    long t0 = System.nanoTime();
    List<Future<Long>> erpCounts = new ArrayList<>(all.size());
    all.forEach(r -> erpCounts.add(count(r)));
    Future<?> erpDone = Future.all(erpCounts).onSuccess(x -> treeMs = ms(t0));
    Future<List<Long>> coupled = coupledCounts(all);
    return Future.all(erpDone, coupled).map(v -> {
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
    List<Coupling> gone = Collections.synchronizedList(new ArrayList<>());
    List<KeyRange> updated = Collections.synchronizedList(new ArrayList<>(now));
    OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC);
    long t0 = System.nanoTime();
    // READ_PARALLEL chains side by side, each taking the next range to read until none is left.
    AtomicInteger next = new AtomicInteger();
    List<Future<Void>> lanes = new ArrayList<>(READ_PARALLEL);
    for (int lane = 0; lane < Math.min(READ_PARALLEL, dirty.size()); lane++) {
      lanes.add(readNext(dirty, next, now, at, gone, updated));
    }
    return Future.all(lanes).compose(v -> {
      readsMs = ms(t0);
      long t1 = System.nanoTime();
      return ranges.save(pool, def.name(), updated).map(x -> {
        saveMs = ms(t1);
        return (List<Coupling>) new ArrayList<>(gone);
      });
    });
  }

  /** Reads the next range of {@code dirty} not taken yet, then the next, until none is left. */
  private Future<Void> readNext(List<Integer> dirty, AtomicInteger next, List<KeyRange> now, OffsetDateTime at,
      List<Coupling> gone, List<KeyRange> updated) {
    int at0 = next.getAndIncrement();
    if (at0 >= dirty.size()) {
      return Future.succeededFuture();
    }
    int i = dirty.get(at0);
    KeyRange r = now.get(i);
    return compare(r).compose(found -> {
      gone.addAll(found);
      updated.set(i, new KeyRange(r.no(), r.lower(), r.upper(), r.erpCount(), r.coupledCount(), at));
      return readNext(dirty, next, now, at, gone, updated);
    });
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
