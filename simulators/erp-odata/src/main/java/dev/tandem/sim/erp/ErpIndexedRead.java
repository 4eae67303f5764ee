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
