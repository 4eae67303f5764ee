package dev.tandem.runtime.sync;

import dev.tandem.runtime.store.PgKeyRangeStore.KeyRange;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The ERP counts of the key ranges whose count moved, found by halving instead of one {@code $count} per range:
 * adjacent ranges form a binary tree, a node's key bounds are those of its first and last range, and a node is
 * counted only when its parent's count differs from the sum of what its ranges held at the last check. A node whose
 * count equals that sum is not descended (its ranges keep their counts); a leaf that differs gets its new count.
 * With k moved ranges of n the counts cost about 2·k·log₂(n) requests instead of n. A deletion and a creation within
 * one node leave its count as it was, as within one range: the rolling re-read of the range verified longest ago
 * is what finds those.
 */
final class ErpKeyRangeDescent {

  private final List<KeyRange> ranges;
  private final BiFunction<String, String, Future<Long>> count;
  private final Long[] counts;

  /**
   * @param ranges the ranges in key order, each with the ERP count of the last check
   * @param count the ERP's count within key bounds (lower inclusive, upper exclusive; null: open), one request
   */
  ErpKeyRangeDescent(List<KeyRange> ranges, BiFunction<String, String, Future<Long>> count) {
    this.ranges = ranges;
    this.count = count;
    this.counts = new Long[ranges.size()];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = ranges.get(i).erpCount();
    }
  }

  /**
   * @param total the ERP's count over every range (counted already)
   * @return every range's ERP count now: counted where its node moved, else the last check's
   */
  Future<List<Long>> run(long total) {
    return descend(0, ranges.size(), total).map(v -> List.of(counts));
  }

  /** Ranges [from, to) hold {@code now} ERP rows. */
  private Future<Void> descend(int from, int to, long now) {
    if (now == sum(from, to)) {
      return Future.succeededFuture();
    }
    if (to - from == 1) {
      counts[from] = now;
      return Future.succeededFuture();
    }
    int mid = (from + to) >>> 1;
    // Both halves counted (at once): a half derived as the parent's count less the other would carry a change
    // made between the two counts into the wrong half.
    Future<Long> left = count.apply(ranges.get(from).lower(), ranges.get(mid - 1).upper());
    Future<Long> right = count.apply(ranges.get(mid).lower(), ranges.get(to - 1).upper());
    return Future.all(left, right).compose(v -> {
      List<Future<Void>> both = new ArrayList<>(2);
      both.add(descend(from, mid, left.result()));
      both.add(descend(mid, to, right.result()));
      return Future.all(both).mapEmpty();
    });
  }

  private long sum(int from, int to) {
    long s = 0;
    for (int i = from; i < to; i++) {
      s += counts[i];
    }
    return s;
  }
}
