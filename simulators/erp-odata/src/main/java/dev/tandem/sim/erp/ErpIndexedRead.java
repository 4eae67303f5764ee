package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.ODataFilter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads served through the simulator's own indexes instead of a scan of every row: {@code SystemModifiedAt} filters
 * and orderings (the incremental read), and {@code $count} of a key range, alone or with one option value such as
 * {@code Blocked eq ' '} (the deletion check). This saves the simulator CPU only and models nothing: whether BC keeps
 * a key on SystemModifiedAt is not documented (the system-fields page names only SystemId's unique key), and the
 * cost model charges per row returned whatever is visited. The rows, their order, the paging and the charged cost
 * are those of the scan, which stays as the fallback whenever an index cannot answer (another ordering, a value not
 * in the stamp format) and as the reference {@code ErpIndexedReadTest} compares with.
 */
final class ErpIndexedRead {

  /** The indexed field. */
  static final String MODIFIED = "SystemModifiedAt";
  /** The stamp format ({@link ErpSimulator#MILLIS}): its text order is its time order. */
  static final Pattern STAMP = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");

  private ErpIndexedRead() {}

  /**
   * The rows an {@code $orderby} on the indexed field visits, in its order (ties in key order, as the stable sort
   * of the key-ordered rows), starting at the filter's lower bound on the field when it has one.
   *
   * @return the rows (the filter not yet applied), or null when the index cannot give that order
   */
  static Iterable<Map<String, Object>> ordered(EntityStore.Table t, ODataFilter filter, String orderBy) {
    if (orderBy == null || orderBy.contains(",")) {
      return null;
    }
    String[] p = orderBy.trim().split("\\s+");
    if (!p[0].equals(MODIFIED)) {
      return null;
    }
    boolean desc = p.length > 1 && p[1].equalsIgnoreCase("desc");
    return t.ordered(MODIFIED, desc, filter == null ? null : bound(t, filter.root()));
  }

  /**
   * The first rows in key order after a key that pass a filter bounding {@code SystemModifiedAt} from below, found
   * through the index: the same rows as a key-order scan, when only a few rows lie above the bound.
   *
   * @param after exclusive lower key, or null
   * @param limit most rows
   * @return the rows, or null when the filter has no such bound or too many rows lie above it
   */
  static List<Map<String, Object>> keyOrdered(EntityStore.Table t, ODataFilter filter, String after, int limit) {
    String from = filter == null ? null : bound(t, filter.root());
    if (from == null) {
      return null;
    }
    int most = Math.max(1000, t.size() / 8);
    List<Map<String, Object>> hits = new ArrayList<>();
    int visited = 0;
    for (Map<String, Object> row : t.ordered(MODIFIED, false, from)) {
      if (++visited > most) {
        return null;
      }
      if ((after == null || key(row).compareTo(after) > 0) && filter.test(row)) {
        hits.add(row);
      }
    }
    hits.sort(Comparator.comparing(ErpIndexedRead::key));
    return hits.size() > limit ? hits.subList(0, limit) : hits;
  }

  /**
   * The first rows in key order after a key that pass a filter bounding the single primary key ({@code No ge 'A' and
   * No lt 'B'}, {@code No eq 'A' or No eq 'B'}), visiting only the key ranges the filter can pass — a range seek on
   * the clustered primary key in BC's SQL Server, as {@link ErpRangeCount} counts — instead of every row from the
   * table's start (or from the last key of the page before) to its end. The same rows as the scan: a row outside the
   * ranges fails the filter, and the whole filter is applied to every row inside them.
   *
   * @param after exclusive lower key (a next link's), or null
   * @param limit most rows
   * @return the rows, or null when the filter does not bound the key (the caller scans)
   */
  static List<Map<String, Object>> keyRanges(ErpServices.Service s, EntityStore.Table t, ODataFilter filter,
      String after, int limit) {
    if (filter == null || s.keys().size() != 1) {
      return null;
    }
    List<KeyInterval> ranges = intervals(s, s.keys().get(0), filter.root());
    if (ranges == null) {
      return null;
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (KeyInterval r : ranges) {
      if (out.size() >= limit) {
        break;
      }
      String lo = r.lo();
      boolean loInclusive = r.loInclusive();
      if (after != null && (lo == null || after.compareTo(lo) >= 0)) {
        lo = after;
        loInclusive = false;
      }
      if (lo != null && r.hi() != null && lo.equals(r.hi()) && !(loInclusive && r.hiInclusive())) {
        continue;
      }
      out.addAll(t.scanRange(lo, loInclusive, r.hi(), r.hiInclusive(), filter::test, limit - out.size()));
    }
    return out;
  }

  /** A range of primary keys; a null bound is open. */
  record KeyInterval(String lo, boolean loInclusive, String hi, boolean hiInclusive) {

    boolean empty() {
      if (lo == null || hi == null) {
        return false;
      }
      int c = lo.compareTo(hi);
      return c > 0 || c == 0 && !(loInclusive && hiInclusive);
    }
  }

  /**
   * Sorted disjoint key ranges outside which no row passes the node (they may hold rows that fail it), or null when
   * the node does not bound the key (any row may pass).
   */
  static List<KeyInterval> intervals(ErpServices.Service s, String key, ODataFilter.Node n) {
    if (n instanceof ODataFilter.And a) {
      List<KeyInterval> l = intervals(s, key, a.left());
      List<KeyInterval> r = intervals(s, key, a.right());
      if (l == null || r == null) {
        return l == null ? r : l;
      }
      List<KeyInterval> both = new ArrayList<>();
      for (KeyInterval x : l) {
        for (KeyInterval y : r) {
          KeyInterval i = intersect(x, y);
          if (!i.empty()) {
            both.add(i);
          }
        }
      }
      return merge(both);
    }
    if (n instanceof ODataFilter.Or o) {
      List<KeyInterval> l = intervals(s, key, o.left());
      List<KeyInterval> r = intervals(s, key, o.right());
      if (l == null || r == null) {
        return null;
      }
      List<KeyInterval> either = new ArrayList<>(l);
      either.addAll(r);
      return merge(either);
    }
    if (!(n instanceof ODataFilter.Compare c) || !c.field().equals(key) || !(c.literal() instanceof String lit)
        || !ErpRangeCount.storedAsIs(s, key, lit)) {
      return null;
    }
    String op = c.fieldOnLeft() ? c.op() : switch (c.op()) {
      case "gt" -> "lt";
      case "ge" -> "le";
      case "lt" -> "gt";
      case "le" -> "ge";
      default -> c.op();
    };
    KeyInterval i = switch (op) {
      case "eq" -> new KeyInterval(lit, true, lit, true);
      case "ge", "gt" -> new KeyInterval(lit, op.equals("ge"), null, false);
      case "le", "lt" -> new KeyInterval(null, false, lit, op.equals("le"));
      default -> null;
    };
    return i == null ? null : List.of(i);
  }

  private static KeyInterval intersect(KeyInterval x, KeyInterval y) {
    String lo = x.lo();
    boolean loIn = x.loInclusive();
    if (y.lo() != null && (lo == null || y.lo().compareTo(lo) > 0
        || y.lo().equals(lo) && !y.loInclusive())) {
      lo = y.lo();
      loIn = y.loInclusive();
    }
    String hi = x.hi();
    boolean hiIn = x.hiInclusive();
    if (y.hi() != null && (hi == null || y.hi().compareTo(hi) < 0
        || y.hi().equals(hi) && !y.hiInclusive())) {
      hi = y.hi();
      hiIn = y.hiInclusive();
    }
    return new KeyInterval(lo, loIn, hi, hiIn);
  }

  /** Sorts and joins overlapping or touching ranges (a join may cover a key neither holds: a superset is safe). */
  private static List<KeyInterval> merge(List<KeyInterval> in) {
    List<KeyInterval> sorted = new ArrayList<>(in);
    sorted.sort((a, b) -> a.lo() == null ? (b.lo() == null ? 0 : -1) : b.lo() == null ? 1 : a.lo().compareTo(b.lo()));
    List<KeyInterval> out = new ArrayList<>();
    for (KeyInterval i : sorted) {
      KeyInterval last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && (last.hi() == null || i.lo() == null || i.lo().compareTo(last.hi()) <= 0)) {
        boolean longer = last.hi() != null && (i.hi() == null || i.hi().compareTo(last.hi()) > 0);
        boolean same = last.hi() != null && i.hi() != null && i.hi().equals(last.hi());
        String hi = longer ? i.hi() : last.hi();
        boolean hiIn = longer ? i.hiInclusive() : same ? last.hiInclusive() || i.hiInclusive() : last.hiInclusive();
        out.set(out.size() - 1, new KeyInterval(last.lo(), last.loInclusive() || i.lo() != null
            && last.lo() != null && i.lo().equals(last.lo()) && i.loInclusive(), hi, hiIn));
      } else {
        out.add(i);
      }
    }
    return out;
  }

  private static String key(Map<String, Object> row) {
    return String.valueOf(row.get("$key"));
  }

  /**
   * The lowest {@code SystemModifiedAt} text a row passing the conjunction can have (a bound a little low is
   * harmless: the filter is applied to every row visited), or null.
   */
  private static String bound(EntityStore.Table t, ODataFilter.Node n) {
    if (!t.wellFormed(MODIFIED)) {
      return null;
    }
    return lower(n);
  }

  private static String lower(ODataFilter.Node n) {
    if (n instanceof ODataFilter.And a) {
      String l = lower(a.left());
      String r = lower(a.right());
      return l == null ? r : r == null ? l : l.compareTo(r) >= 0 ? l : r;
    }
    if (!(n instanceof ODataFilter.Compare c) || !c.field().equals(MODIFIED) || !(c.literal() instanceof Instant i)) {
      return null;
    }
    String op = c.fieldOnLeft() ? c.op() : switch (c.op()) {
      case "lt" -> "gt";
      case "le" -> "ge";
      default -> c.op();
    };
    if (!op.equals("gt") && !op.equals("ge") && !op.equals("eq")) {
      return null;
    }
    String s = ErpSimulator.MILLIS.format(i.truncatedTo(ChronoUnit.MILLIS));
    return STAMP.matcher(s).matches() ? s : null;
  }

  /**
   * The exact key bounds of a filter that only compares the single key field with text as the store keeps it, and
   * at most one option field (indexed, {@link #indexed}) with one value ({@code Blocked eq ' '}), or null for any
   * other filter.
   *
   * @return {lower, lowerInclusive ("i" or ""), upper, upperInclusive, option field or null, its value}
   */
  static String[] keyBounds(ErpServices.Service s, ODataFilter.Node n) {
    if (s.keys().size() != 1) {
      return null;
    }
    String[] b = new String[6];
    return keyBounds(s, s.keys().get(0), n, b) ? b : null;
  }

  /** @return whether a field gets a sorted index: SystemModifiedAt and the option fields (text values) */
  static boolean indexed(ErpServices.Field f) {
    return f.name().equals(MODIFIED) || f.type() == ErpServices.Type.OPTION;
  }

  private static boolean keyBounds(ErpServices.Service s, String key, ODataFilter.Node n, String[] b) {
    if (n instanceof ODataFilter.And a) {
      return keyBounds(s, key, a.left(), b) && keyBounds(s, key, a.right(), b);
    }
    if (n instanceof ODataFilter.Compare c && !c.field().equals(key) && c.op().equals("eq")
        && c.literal() instanceof String lit && s.fields().get(c.field()) != null
        && s.fields().get(c.field()).type() == ErpServices.Type.OPTION) {
      if (b[4] != null && !(b[4].equals(c.field()) && b[5].equals(lit))) {
        return false;
      }
      b[4] = c.field();
      b[5] = lit;
      return true;
    }
    if (!(n instanceof ODataFilter.Compare c) || !c.field().equals(key) || !(c.literal() instanceof String lit)
        || !ErpRangeCount.storedAsIs(s, key, lit)) {
      return false;
    }
    String op = c.fieldOnLeft() ? c.op() : switch (c.op()) {
      case "gt" -> "lt";
      case "ge" -> "le";
      case "lt" -> "gt";
      case "le" -> "ge";
      default -> c.op();
    };
    switch (op) {
      case "ge", "gt" -> raise(b, lit, op.equals("ge"));
      case "le", "lt" -> lower(b, lit, op.equals("le"));
      case "eq" -> {
        raise(b, lit, true);
        lower(b, lit, true);
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private static void raise(String[] b, String lit, boolean inclusive) {
    int cmp = b[0] == null ? 1 : lit.compareTo(b[0]);
    if (cmp > 0 || cmp == 0 && !inclusive) {
      b[0] = lit;
      b[1] = inclusive ? "i" : "";
    }
  }

  private static void lower(String[] b, String lit, boolean inclusive) {
    int cmp = b[2] == null ? -1 : lit.compareTo(b[2]);
    if (cmp < 0 || cmp == 0 && !inclusive) {
      b[2] = lit;
      b[3] = inclusive ? "i" : "";
    }
  }
}
