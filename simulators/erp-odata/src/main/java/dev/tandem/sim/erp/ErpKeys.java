package dev.tandem.sim.erp;

import dev.tandem.sim.core.ODataQueryException;
import dev.tandem.sim.erp.ErpServices.Service;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Keys in URLs ({@code Customer('10000')}, {@code SalesOrderLine(Document_Type='Order',Document_No='1001',Line_No=10000)}) and in the store. */
final class ErpKeys {

  private ErpKeys() {}

  /** @return the store key of a row: its key fields joined */
  static String of(Service s, Map<String, Object> row) {
    List<String> parts = new ArrayList<>(s.keys().size());
    for (String k : s.keys()) {
      Object v = row.get(k);
      parts.add(v == null ? "" : normalize(s, k, String.valueOf(v)));
    }
    return String.join("\u0001", parts);
  }

  private static String normalize(Service s, String field, String v) {
    ErpServices.Field f = s.fields().get(field);
    if (f.type() == ErpServices.Type.CODE) {
      return v.toUpperCase(Locale.ROOT);
    }
    if (f.type() == ErpServices.Type.INTEGER || f.type() == ErpServices.Type.DECIMAL) {
      // Pad numbers so line numbers sort numerically.
      return String.format(Locale.ROOT, "%015d", new java.math.BigDecimal(v).longValue());
    }
    return v;
  }

  /**
   * @param s the service
   * @param segment what is between the parentheses
   * @return the store key
   */
  static String parse(Service s, String segment) {
    Map<String, Object> values = new LinkedHashMap<>();
    List<String> parts = split(segment);
    if (parts.size() == 1 && !parts.get(0).contains("=")) {
      if (s.keys().size() != 1) {
        throw new ODataQueryException("The key of " + s.name() + " has " + s.keys().size() + " fields: "
            + String.join(", ", s.keys()));
      }
      values.put(s.keys().get(0), literal(parts.get(0)));
    } else {
      for (String p : parts) {
        int eq = p.indexOf('=');
        if (eq < 0) {
          throw new ODataQueryException("Bad key segment '" + segment + "'.");
        }
        values.put(p.substring(0, eq).trim(), literal(p.substring(eq + 1).trim()));
      }
      for (String k : s.keys()) {
        if (!values.containsKey(k)) {
          throw new ODataQueryException("The key segment '" + segment + "' lacks " + k + ".");
        }
      }
    }
    return of(s, values);
  }

  private static List<String> split(String segment) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '\'') {
        quoted = !quoted;
      }
      if (c == ',' && !quoted) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  private static Object literal(String s) {
    String t = s.trim();
    if (t.startsWith("'") && t.endsWith("'") && t.length() >= 2) {
      return t.substring(1, t.length() - 1).replace("''", "'");
    }
    return t;
  }
}
