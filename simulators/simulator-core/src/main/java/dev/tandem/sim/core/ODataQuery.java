package dev.tandem.sim.core;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The query options of a collection request: {@code $filter}, {@code $select}, {@code $orderby}, {@code $top},
 * {@code $count}.
 *
 * @param filter the filter, or null
 * @param select selected fields, or empty for all
 * @param orderBy the ordering, or null for key order
 * @param top {@code $top}, or -1
 * @param count whether {@code $count=true}
 */
public record ODataQuery(ODataFilter filter, List<String> select, Comparator<Map<String, Object>> orderBy, int top,
    boolean count) {

  /**
   * @param query decoded query parameters
   * @param caseInsensitive text comparison without regard to case
   * @return the options
   * @throws ODataQueryException naming the bad option
   */
  public static ODataQuery parse(Map<String, String> query, boolean caseInsensitive) {
    return parse(query, caseInsensitive, false);
  }

  /**
   * @param query the request's query parameters
   * @param caseInsensitive text comparison without regard to case
   * @param inOperator whether {@code $filter} may use {@code field in (…)} ({@link ODataFilter#parse(String,
   *     boolean, boolean)})
   * @return the parsed query
   */
  public static ODataQuery parse(Map<String, String> query, boolean caseInsensitive, boolean inOperator) {
    String f = query.get("$filter");
    ODataFilter filter = f == null || f.isBlank() ? null : ODataFilter.parse(f, caseInsensitive, inOperator);
    List<String> select = new ArrayList<>();
    String s = query.get("$select");
    if (s != null && !s.isBlank()) {
      for (String part : s.split(",")) {
        select.add(part.trim());
      }
    }
    Comparator<Map<String, Object>> order = null;
    String o = query.get("$orderby");
    if (o != null && !o.isBlank()) {
      for (String part : o.split(",")) {
        String[] p = part.trim().split("\\s+");
        String field = p[0];
        boolean desc = p.length > 1 && p[1].equalsIgnoreCase("desc");
        if (p.length > 1 && !p[1].equalsIgnoreCase("asc") && !desc) {
          throw new ODataQueryException("$orderby direction must be asc or desc, got '" + p[1] + "'");
        }
        Comparator<Map<String, Object>> c = (a, b) -> compareValues(a.get(field), b.get(field), caseInsensitive);
        if (desc) {
          c = c.reversed();
        }
        order = order == null ? c : order.thenComparing(c);
      }
    }
    int top = -1;
    String t = query.get("$top");
    if (t != null) {
      try {
        top = Integer.parseInt(t.trim());
      } catch (NumberFormatException e) {
        throw new ODataQueryException("$top must be a whole number, got '" + t + "'");
      }
      if (top < 0) {
        throw new ODataQueryException("$top must not be negative, got " + top);
      }
    }
    String c = query.get("$count");
    if (c != null && !c.equals("true") && !c.equals("false")) {
      throw new ODataQueryException("$count must be true or false, got '" + c + "'");
    }
    return new ODataQuery(filter, select, order, top, "true".equals(c));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compareValues(Object a, Object b, boolean caseInsensitive) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    if (a instanceof Number x && b instanceof Number y) {
      return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString()));
    }
    if (a instanceof String x && b instanceof String y) {
      return caseInsensitive ? x.toLowerCase(Locale.ROOT).compareTo(y.toLowerCase(Locale.ROOT)) : x.compareTo(y);
    }
    if (a instanceof Comparable ca && a.getClass() == b.getClass()) {
      return ca.compareTo(b);
    }
    return String.valueOf(a).compareTo(String.valueOf(b));
  }

  /**
   * @param row a row
   * @param always fields always returned (key, etag annotations), besides the selection
   * @return the row limited to the selection, as a new map
   */
  public Map<String, Object> project(Map<String, Object> row, List<String> always) {
    if (select.isEmpty()) {
      return new LinkedHashMap<>(row);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (String a : always) {
      if (row.containsKey(a)) {
        out.put(a, row.get(a));
      }
    }
    for (String s : select) {
      out.put(s, row.get(s));
    }
    return out;
  }

  /**
   * @param prefer a Prefer header, or null
   * @param fallback the server's default page size
   * @param max the server's maximum
   * @return the page size asked for with {@code odata.maxpagesize}, capped
   */
  public static int maxPageSize(String prefer, int fallback, int max) {
    if (prefer != null) {
      for (String p : prefer.split(",")) {
        String t = p.trim();
        if (t.startsWith("odata.maxpagesize=")) {
          try {
            return Math.max(1, Math.min(max, Integer.parseInt(t.substring(18).trim())));
          } catch (NumberFormatException e) {
            throw new ODataQueryException("odata.maxpagesize must be a number, got '" + t.substring(18) + "'");
          }
        }
      }
    }
    return fallback;
  }

  /**
   * @param prefer a Prefer header, or null
   * @param preference e.g. {@code return=representation}
   * @return whether it is asked for
   */
  public static boolean prefers(String prefer, String preference) {
    if (prefer == null) {
      return false;
    }
    for (String p : prefer.split(",")) {
      if (p.trim().equalsIgnoreCase(preference)) {
        return true;
      }
    }
    return false;
  }
}
