package dev.tandem.sim.erp;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.ODataFilter;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.ODataQueryException;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.erp.ErpServices.Service;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading a page of a web service as Business Central answers it: the properties a query names checked, OR across
 * fields refused, rows in key order with a skip token after the last key (index seeks for key ranges, lists of keys
 * and ledger entry numbers), another {@code $orderby} by offset, {@code $count}, FlowFields calculated per row, and the
 * read's server time charged by the cost model.
 */
final class ErpReads {

  private final ErpSimulator sim;

  ErpReads(ErpSimulator sim) {
    this.sim = sim;
  }

  static int flowFields(Service s, ODataQuery q) {
    List<String> ff = ErpLedger.FLOW_FIELDS.getOrDefault(s.name(), List.of());
    return q == null || q.select().isEmpty() ? ff.size() : (int) ff.stream().filter(q.select()::contains).count();
  }

  /**
   * A page of a service: the query checked as BC checks it, rows in key order continuing after the last key, or
   * in another order by offset; FlowFields calculated; the read's cost charged.
   */
  SimResponse list(Service s, SimRequest r) {
    ODataQuery q = sim.query(r);
    checkProperties(s.name(), s.fields().keySet(), q, r.query().get("$orderby"));
    if (q.filter() != null) {
      refuseOrAcrossFields(q.filter().root());
    }
    int pageSize = ODataQuery.maxPageSize(r.header("Prefer"), sim.options().maxPageSize(), sim.options().maxPageSize());
    String token = r.query().get("$skiptoken");
    return sim.store().read(() -> {
      EntityStore.Table t = sim.store().table(s.name());
      List<Map<String, Object>> page;
      String next = null;
      int limit = q.top() >= 0 ? q.top() : Integer.MAX_VALUE;
      if (q.orderBy() == null || keyOrder(s, r.query().get("$orderby"))) {
        // No order, or the primary key's: the rows are kept in key order, so a page continues after the last key.
        String after = token == null ? lowerBound(s, q.filter() == null ? null : q.filter().root()) : decodeToken(token);
        int already = token == null ? 0 : Integer.parseInt(r.query().getOrDefault("$skiptaken", "0"));
        int want = Math.min(pageSize, limit - already);
        page = want <= 0 ? List.of() : sim.useIndexes ? ErpIndexedRead.keyOrdered(t, q.filter(), after, want + 1) : null;
        if (page == null && want > 0 && sim.useIndexes) {
          page = ErpIndexedRead.keyRanges(s, t, q.filter(), after, want + 1);
        }
        if (page == null && want > 0 && sim.useIndexes) {
          page = byKeys(s, t, q.filter(), after, want + 1);
        }
        if (page == null) {
          page = t.scan(after, q.filter() == null ? null : q.filter()::test, want + 1);
        }
        if (page.size() > want) {
          page = page.subList(0, want);
          if (already + want < limit) {
            next = nextLink(r, encodeToken((String) page.get(page.size() - 1).get("$key")), already + want);
          }
        }
      } else {
        int offset = token == null ? 0 : Integer.parseInt(decodeToken(token).substring(2));
        Iterable<Map<String, Object>> ordered = sim.useIndexes
            ? ErpIndexedRead.ordered(t, q.filter(), r.query().get("$orderby")) : null;
        if (ordered != null) {
          // The same page as the sort below: the matching rows from offset up to the page's end, and whether more.
          int stop = Math.min(limit, offset + pageSize);
          List<Map<String, Object>> rows = new ArrayList<>();
          boolean more = false;
          int seen = 0;
          for (Map<String, Object> row : ordered) {
            if (q.filter() == null || q.filter().test(row)) {
              if (seen >= stop) {
                more = true;
                break;
              }
              if (seen >= offset) {
                rows.add(row);
              }
              seen++;
            }
          }
          page = rows;
          if (more && stop < limit) {
            next = nextLink(r, encodeToken("o:" + stop), stop);
          }
        } else {
          List<Map<String, Object>> all = t.all(q.filter() == null ? null : q.filter()::test, q.orderBy());
          int end = Math.min(all.size(), Math.min(limit, offset + pageSize));
          page = offset >= end ? List.of() : all.subList(offset, end);
          if (end < Math.min(all.size(), limit)) {
            next = nextLink(r, encodeToken("o:" + end), end);
          }
        }
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", sim.serviceRoot() + "/$metadata#Company('" + sim.options().company() + "')/" + s.name());
      if (q.count()) {
        body.put("@odata.count", ErpRangeCount.count(s, t, q.filter(), sim.useIndexes));
      }
      List<Map<String, Object>> value = new ArrayList<>(page.size());
      for (Map<String, Object> row : page) {
        Map<String, Object> shown = ErpLedger.calculated(s, row);
        value.add(q.select().isEmpty() ? ErpRows.present(shown) : q.project(shown, List.of("@odata.etag")));
      }
      body.put("value", value);
      if (next != null) {
        body.put("@odata.nextLink", next);
      }
      sim.charge(sim.protection().costs().readCost(value.size(), flowFields(s, q)));
      return SimResponse.json(200, body);
    });
  }

  /**
   * Business Central refuses a query that names a property the page does not have, in {@code $select},
   * {@code $filter} or {@code $orderby}: "Could not find a property named 'X' on type 'Microsoft.NAV.Customer'."
   */
  static void checkProperties(String type, java.util.Set<String> known, ODataQuery q, String orderBy) {
    List<String> named = new ArrayList<>(q.select());
    if (q.filter() != null) {
      named.addAll(q.filter().root().fields());
    }
    if (orderBy != null) {
      for (String part : orderBy.split(",")) {
        String f = part.trim().split("\\s+")[0];
        if (!f.isEmpty()) {
          named.add(f);
        }
      }
    }
    for (String f : named) {
      if (!known.contains(f)) {
        throw new ODataQueryException("Could not find a property named '" + f + "' on type 'Microsoft.NAV." + type
            + "'.");
      }
    }
  }

  /**
   * Where a key-ordered scan may start: a ledger read "Entry_No gt n" (the incremental read of posted entries)
   * starts after entry n instead of at the first entry, as the primary key's index seek does in BC.
   */
  private static String lowerBound(Service s, ODataFilter.Node n) {
    if (n instanceof ODataFilter.And a) {
      String l = lowerBound(s, a.left());
      return l != null ? l : lowerBound(s, a.right());
    }
    if (s.keys().size() == 1 && s.fields().get(s.keys().get(0)).type() == ErpServices.Type.INTEGER
        && n instanceof ODataFilter.Compare c && c.field().equals(s.keys().get(0)) && c.fieldOnLeft()
        && c.literal() instanceof Number v && (c.op().equals("gt") || c.op().equals("ge"))) {
      long from = c.op().equals("gt") ? v.longValue() : v.longValue() - 1;
      return from < 0 ? null : ErpKeys.of(s, Map.of(s.keys().get(0), from));
    }
    return null;
  }

  /**
   * A read by key ({@code No eq 'A' or No eq 'B' …}, or {@code No in ('A','B',…)}) served by looking each key up
   * instead of scanning every row with the whole filter: the rows the scan finds (each looked-up row still passes the
   * filter, so case and type compare as in the scan), in key order after {@code after}, at most {@code limit}. This
   * saves the simulator CPU only; the cost charged is per row returned, as for the scan.
   *
   * @return the rows, or null when the filter is not an {@code or} of {@code eq}s on the single key
   */
  private static List<Map<String, Object>> byKeys(Service s, EntityStore.Table t, ODataFilter filter, String after,
      int limit) {
    if (filter == null || s.keys().size() != 1) {
      return null;
    }
    ErpServices.Type type = s.fields().get(s.keys().get(0)).type();
    if (type != ErpServices.Type.CODE && type != ErpServices.Type.TEXT) {
      return null;
    }
    List<Object> values = new ArrayList<>();
    if (!keyValues(s.keys().get(0), filter.root(), values)) {
      return null;
    }
    java.util.TreeMap<String, Map<String, Object>> found = new java.util.TreeMap<>();
    for (Object v : values) {
      String key = ErpKeys.of(s, Map.of(s.keys().get(0), v));
      if (after != null && key.compareTo(after) <= 0) {
        continue;
      }
      Map<String, Object> row = t.get(key);
      if (row != null && filter.test(row)) {
        found.put(key, row);
      }
    }
    List<Map<String, Object>> out = new ArrayList<>(Math.min(limit, found.size()));
    for (Map<String, Object> row : found.values()) {
      if (out.size() >= limit) {
        break;
      }
      out.add(row);
    }
    return out;
  }

  private static boolean keyValues(String key, ODataFilter.Node n, List<Object> into) {
    if (n instanceof ODataFilter.Or o) {
      return keyValues(key, o.left(), into) && keyValues(key, o.right(), into);
    }
    if (n instanceof ODataFilter.Compare c && c.field().equals(key) && c.op().equals("eq")
        && c.literal() instanceof String) {
      into.add(c.literal());
      return true;
    }
    return false;
  }

  /** @return whether {@code $orderby} asks for the order the rows are kept in: the single key field, ascending */
  private static boolean keyOrder(Service s, String orderBy) {
    if (orderBy == null || s.keys().size() != 1) {
      return false;
    }
    String o = orderBy.trim();
    String key = s.keys().get(0);
    return o.equals(key) || o.equalsIgnoreCase(key + " asc");
  }

  private String nextLink(SimRequest r, String token, int taken) {
    StringBuilder sb = new StringBuilder(sim.baseUrl()).append(r.path().replace(" ", "%20").replace("'", "%27"))
        .append('?');
    for (Map.Entry<String, String> e : r.query().entrySet()) {
      if (!e.getKey().equals("$skiptoken") && !e.getKey().equals("$skiptaken")) {
        sb.append(enc(e.getKey())).append('=').append(enc(e.getValue())).append('&');
      }
    }
    return sb.append("$skiptoken=").append(enc(token)).append("&$skiptaken=").append(taken).toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%24", "$");
  }

  private static String encodeToken(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String decodeToken(String s) {
    try {
      return new String(Base64.getUrlDecoder().decode(s), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ODataQueryException("The skip token '" + s + "' is not valid.");
    }
  }

  /** Business Central refuses OR between terms on different fields. */
  private static void refuseOrAcrossFields(ODataFilter.Node n) {
    if (n instanceof ODataFilter.Or o && o.fields().size() > 1) {
      throw new ODataQueryException("The 'OR' operator is not supported on distinct fields on an OData filter.");
    }
    if (n instanceof ODataFilter.Or o) {
      refuseOrAcrossFields(o.left());
      refuseOrAcrossFields(o.right());
    } else if (n instanceof ODataFilter.And a) {
      refuseOrAcrossFields(a.left());
      refuseOrAcrossFields(a.right());
    } else if (n instanceof ODataFilter.Not x) {
      refuseOrAcrossFields(x.inner());
    }
  }
}
