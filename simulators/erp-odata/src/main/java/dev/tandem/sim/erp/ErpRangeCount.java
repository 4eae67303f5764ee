package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.ODataFilter;
import dev.tandem.sim.erp.ErpServices.Service;
import java.util.Locale;

/**
 * {@code $count} of a page web service. Business Central counts in SQL Server, where a {@code $filter} that bounds
 * the primary key ({@code No ge 'C10000' and No lt 'C20000'}) is a range seek on the clustered index: the cost
 * grows with the rows in the range, not with the table. The simulator visits only that key range too, and applies
 * the whole filter to the rows in it; any other filter visits every row.
 */
final class ErpRangeCount {

  private ErpRangeCount() {}

  /**
   * @param indexed whether a filter on the key alone is counted by rank in the sorted keys (reads no row)
   * @return how many rows of the table pass the filter
   */
  static int count(Service s, EntityStore.Table t, ODataFilter filter, boolean indexed) {
    if (filter == null) {
      return t.size();
    }
    String[] exact = indexed ? ErpIndexedRead.keyBounds(s, filter.root()) : null;
    if (exact != null && exact[4] == null) {
      return t.countKeys(exact[0], !"".equals(exact[1]), exact[2], !"".equals(exact[3]));
    }
    if (exact != null) {
      int n = t.countKeys(exact[4], exact[5], exact[0], !"".equals(exact[1]), exact[2], !"".equals(exact[3]));
      if (n >= 0) {
        return n;
      }
    }
    String[] b = s.keys().size() == 1 ? bounds(s, s.keys().get(0), filter.root(), new String[2]) : null;
    return b == null ? t.all(filter::test, null).size() : t.countRange(b[0], b[1], filter::test);
  }

  /**
   * The key bounds of a conjunction (both inclusive: a superset of the rows it passes), or null when a part of it
   * that bounds the key cannot be read as store keys.
   */
  private static String[] bounds(Service s, String key, ODataFilter.Node n, String[] out) {
    if (n instanceof ODataFilter.And a) {
      return bounds(s, key, a.left(), out) == null ? null : bounds(s, key, a.right(), out);
    }
    if (!(n instanceof ODataFilter.Compare c) || !c.field().equals(key)) {
      return out; // another condition: it narrows the rows within the range, never widens it
    }
    if (!(c.literal() instanceof String lit) || !storedAsIs(s, key, lit)) {
      return null;
    }
    String op = c.fieldOnLeft() ? c.op() : flip(c.op());
    switch (op) {
      case "ge", "gt" -> out[0] = out[0] == null || lit.compareTo(out[0]) > 0 ? lit : out[0];
      case "le", "lt" -> out[1] = out[1] == null || lit.compareTo(out[1]) < 0 ? lit : out[1];
      case "eq" -> {
        out[0] = out[0] == null || lit.compareTo(out[0]) > 0 ? lit : out[0];
        out[1] = out[1] == null || lit.compareTo(out[1]) < 0 ? lit : out[1];
      }
      default -> { }
    }
    return out;
  }

  /** @return whether the literal is what the store keeps as the key (codes are kept in capitals) */
  static boolean storedAsIs(Service s, String key, String lit) {
    ErpServices.Field f = s.fields().get(key);
    return f != null && (f.type() == ErpServices.Type.TEXT
        || f.type() == ErpServices.Type.CODE && lit.equals(lit.toUpperCase(Locale.ROOT)));
  }

  private static String flip(String op) {
    return switch (op) {
      case "gt" -> "lt";
      case "ge" -> "le";
      case "lt" -> "gt";
      case "le" -> "ge";
      default -> op;
    };
  }
}
