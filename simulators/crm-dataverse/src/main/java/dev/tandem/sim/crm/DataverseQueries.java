package dev.tandem.sim.crm;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.ODataQueryException;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collection reads: query options, paging with {@code odata.maxpagesize} (default and maximum 5000) and
 * {@code $skiptoken} next links (after the last key; with {@code $orderby}, a paging cookie: after the last row's
 * order-by values and key), {@code @odata.count} capped at 5000, and change tracking with delta links that
 * expire ({@link ChangeTracking}).
 */
final class DataverseQueries {

  private static final int MAX_PAGE = 5000;
  private static final java.util.regex.Pattern LOWER_GUID =
      java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private DataverseQueries() {}

  static SimResponse list(DataverseSimulator sim, Entity e, SimRequest r) {
    String delta = r.query().get("$deltatoken");
    boolean track = ODataQuery.prefers(r.header("Prefer"), "odata.track-changes");
    ODataQuery q = ODataQuery.parse(r.query(), true);
    sim.records().checkColumns(e, q, r.query());
    if ((track || delta != null) && (q.filter() != null || q.orderBy() != null || q.top() >= 0
        || r.query().containsKey("$expand"))) {
      throw new ODataQueryException("Change tracking does not support $filter, $orderby, $expand or $top.");
    }
    if ((track || delta != null) && !sim.metadata().changeTrackingEnabled(e.logical())) {
      // ChangeTrackingNotEnabledForEntity (Microsoft, "Web service error codes").
      return DataverseSimulator.error(400, "0x80072491", "Entity " + e.logical() + " isn't enabled for change "
          + "tracking.");
    }
    if (delta != null) {
      long since = Long.parseLong(DataverseSimulator.untoken(delta));
      if (sim.changeTracking().expired(since)) {
        return DataverseSimulator.error(400, ChangeTracking.EXPIRED_CODE, ChangeTracking.EXPIRED_MESSAGE);
      }
      return delta(sim, e, r, q, since);
    }
    int pageSize = ODataQuery.maxPageSize(r.header("Prefer"), MAX_PAGE, MAX_PAGE);
    boolean paged = r.header("Prefer") != null && r.header("Prefer").contains("odata.maxpagesize");
    String skip = r.query().get("$skiptoken");
    EntityStore store = sim.store();
    return store.read(() -> {
      EntityStore.Table t = store.table(e.set());
      String[] state = skip == null ? new String[] {"", String.valueOf(store.sequence()), "0"}
          : DataverseSimulator.untoken(skip).split("\u0001", 4);
      if (state.length < 3) {
        throw new ODataQueryException("The skip token '" + skip + "' is not valid.");
      }
      List<Map<String, Object>> page;
      String nextState = null;
      // $top is ignored when a page size is asked for, as Dataverse does.
      int top = q.top() >= 0 && !paged ? q.top() : Integer.MAX_VALUE;
      if (q.orderBy() == null) {
        int want = Math.min(pageSize, top);
        String after = state[0].isEmpty() ? null : state[0];
        page = sim.useIndexes ? byKeys(e, t, q, after, want + 1) : null;
        if (page == null) {
          page = t.scan(after, q.filter() == null ? null : q.filter()::test, want + 1);
        }
        if (page.size() > want && top == Integer.MAX_VALUE) {
          page = page.subList(0, want);
          nextState = page.get(page.size() - 1).get(e.key()) + "\u0001" + state[1] + "\u00010";
        } else if (page.size() > want) {
          page = page.subList(0, want);
        }
      } else {
        // Paging cookie: the next page starts after the last row's order-by values and primary key, in the order
        // of the page's own request, whatever moved before it meanwhile.
        java.util.Comparator<Map<String, Object>> order = pageOrder(e, r.query().get("$orderby"), q);
        List<Map<String, Object>> all = t.all(q.filter() == null ? null : q.filter()::test, order);
        int returned;
        try {
          returned = Integer.parseInt(state[2]);
        } catch (NumberFormatException x) {
          throw new ODataQueryException("The skip token '" + skip + "' is not valid.");
        }
        int from = state.length > 3 ? firstAfter(all, order, cookie(skip, state[3])) : 0;
        int end = Math.min(all.size(), from + Math.max(0, Math.min(pageSize, top - returned)));
        page = from >= end ? List.of() : all.subList(from, end);
        if (end < all.size() && returned + page.size() < top) {
          nextState = "\u0001" + state[1] + "\u0001" + (returned + page.size()) + "\u0001"
              + cookie(e, r.query().get("$orderby"), page.get(page.size() - 1));
        }
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", sim.apiUrl() + "/$metadata#" + e.set());
      if (q.count()) {
        int n = q.filter() == null ? t.size() : t.all(q.filter()::test, null).size();
        body.put("@odata.count", Math.min(n, MAX_PAGE));
      }
      List<Map<String, Object>> value = new ArrayList<>(page.size());
      for (Map<String, Object> row : page) {
        value.add(sim.records().present(e, row, q));
      }
      body.put("value", value);
      sim.chargeRows(value.size());
      if (nextState != null) {
        body.put("@odata.nextLink", link(sim, e, r, "$skiptoken", DataverseSimulator.token(nextState)));
      } else if (track) {
        sim.changeTracking().issued(Long.parseLong(state[1]));
        body.put("@odata.deltaLink", link(sim, e, r, "$deltatoken", DataverseSimulator.token(state[1])));
      }
      SimResponse resp = SimResponse.json(200, body);
      List<String> applied = new ArrayList<>();
      if (paged) {
        applied.add("odata.maxpagesize=" + pageSize);
      }
      if (track) {
        applied.add("odata.track-changes");
      }
      return applied.isEmpty() ? resp : resp.with("Preference-Applied", String.join(",", applied));
    });
  }

  /**
   * The paging cookie of a page read with {@code $orderby}: the last row's values of the order-by columns and its
   * primary key, as Dataverse's cookie holds the first and last records of the page it returned (Microsoft, "Page
   * results using FetchXml", Paging cookies; the Web API's {@code $skiptoken} carries it). The next page is not
   * counted from the top: it starts after these values ({@link #firstAfter}).
   */
  static String cookie(Entity e, String orderBy, Map<String, Object> last) {
    Map<String, Object> c = new LinkedHashMap<>();
    for (String part : orderBy.split(",")) {
      String field = part.trim().split("\\s+")[0];
      c.put(field, last.get(field));
    }
    c.put(e.key(), last.get(e.key()));
    return Json.write(c);
  }

  private static Map<String, Object> cookie(String skip, String json) {
    try {
      return Json.object(json);
    } catch (IllegalArgumentException x) {
      throw new ODataQueryException("The skip token '" + skip + "' is not valid.");
    }
  }

  /**
   * Where the page after a paging cookie starts in this request's order: the first row that sorts after the
   * cookie's values (its order-by values, then its primary key). Paging is dynamic in Dataverse: the rows of a page
   * are decided when it is asked for (Microsoft, "Paging behaviors and ordering"). A row changed between two page
   * reads moves only itself (behind the cookie, or ahead where a later page takes it); no other row shifts across
   * the page boundary, as it would with an offset. Rows tied on a non-unique ordering are in this request's own
   * order ({@link #pageOrder}), so among those rows still repeat or go missing.
   */
  static int firstAfter(List<Map<String, Object>> sorted, java.util.Comparator<Map<String, Object>> order,
      Map<String, Object> cookie) {
    int lo = 0;
    int hi = sorted.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (order.compare(sorted.get(mid), cookie) > 0) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /**
   * The rows of a filter that names only primary-key values ({@code accountid eq a or accountid eq b}, the way Tandem
   * reads the counterparts of a page), looked up by key — Dataverse answers it with an index seek on the table's
   * primary key — instead of testing every row of the table. The same rows as the key-order scan: in key order,
   * after the page's last key, the whole filter applied. Rows are stored under their id in lower case ({@link
   * DataverseSimulator#insert}) and GUID literals are read in lower case, so the case-insensitive equality the scan
   * applies matches only the row stored under the literal itself.
   *
   * @return the rows, or null when the filter is not of that form (the caller scans)
   */
  static List<Map<String, Object>> byKeys(Entity e, EntityStore.Table t, ODataQuery q, String after, int limit) {
    if (q.filter() == null) {
      return null;
    }
    java.util.TreeSet<String> keys = new java.util.TreeSet<>();
    if (!keyValues(e.key(), q.filter().root(), keys)) {
      return null;
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (String k : after == null ? keys : keys.tailSet(after, false)) {
      if (out.size() >= limit) {
        break;
      }
      Map<String, Object> row = t.get(k);
      if (row != null && q.filter().test(row)) {
        out.add(row);
      }
    }
    return out;
  }

  /** Collects the values of a disjunction of {@code key eq value} terms; false when the node is anything else. */
  private static boolean keyValues(String key, dev.tandem.sim.core.ODataFilter.Node n, java.util.Set<String> out) {
    if (n instanceof dev.tandem.sim.core.ODataFilter.Or o) {
      return keyValues(key, o.left(), out) && keyValues(key, o.right(), out);
    }
    if (n instanceof dev.tandem.sim.core.ODataFilter.Compare c && c.field().equals(key) && c.op().equals("eq")
        && c.literal() instanceof String lit && LOWER_GUID.matcher(lit).matches()) {
      out.add(lit);
      return true;
    }
    return false;
  }

  /**
   * The order of one page's request. Dataverse orders rows with equal values of a non-unique {@code $orderby}
   * arbitrarily, and not the same way from one page to the next: "the same record can appear in more than one
   * page" (Microsoft, "Page results using OData", Ordering and paging). Unless the ordering names the primary key,
   * ties are ordered differently on every request, so rows repeat or go missing across pages, as they do there.
   */
  private static java.util.Comparator<Map<String, Object>> pageOrder(Entity e, String orderBy, ODataQuery q) {
    for (String part : orderBy.split(",")) {
      if (part.trim().split("\\s+")[0].equals(e.key())) {
        return q.orderBy();
      }
    }
    long salt = TIES.incrementAndGet() * 0x9E3779B97F4A7C15L;
    return q.orderBy().thenComparingLong(row -> Long.rotateLeft(String.valueOf(row.get(e.key())).hashCode() * salt,
        17) ^ salt);
  }

  private static final java.util.concurrent.atomic.AtomicLong TIES = new java.util.concurrent.atomic.AtomicLong();

  /**
   * A delta read: the changes and deletions after the token, in change order, at most {@code odata.maxpagesize}
   * (default and maximum 5000) per page. Pages before the last end in a next link carrying the range; the last one
   * in the delta link for the next read. Changes made while the pages are read fall after the range and come in the
   * next delta.
   */
  private static SimResponse delta(DataverseSimulator sim, Entity e, SimRequest r, ODataQuery q, long since) {
    EntityStore store = sim.store();
    int pageSize = ODataQuery.maxPageSize(r.header("Prefer"), MAX_PAGE, MAX_PAGE);
    String skip = r.query().get("$skiptoken");
    return store.read(() -> {
      EntityStore.Table t = store.table(e.set());
      long upto;
      long after;
      if (skip == null) {
        upto = store.sequence();
        after = since;
      } else {
        String[] state = DataverseSimulator.untoken(skip).split("\u0001", -1);
        if (state.length != 2) {
          throw new ODataQueryException("The skip token '" + skip + "' is not valid.");
        }
        upto = Long.parseLong(state[0]);
        after = Long.parseLong(state[1]);
      }
      List<Map.Entry<Long, Object>> changes = t.changes(after, upto, pageSize + 1);
      boolean more = changes.size() > pageSize;
      if (more) {
        changes = changes.subList(0, pageSize);
      }
      List<Map<String, Object>> value = new ArrayList<>();
      for (Map.Entry<Long, Object> c : changes) {
        if (c.getValue() instanceof EntityStore.Deletion d) {
          Map<String, Object> del = new LinkedHashMap<>();
          del.put("@odata.context", sim.apiUrl() + "/$metadata#" + e.set() + "/$deletedEntity");
          del.put("id", d.key());
          del.put("reason", "deleted");
          value.add(del);
        } else {
          value.add(sim.records().present(e, t.get((String) c.getValue()), q));
        }
      }
      sim.chargeRows(value.size());
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("@odata.context", sim.apiUrl() + "/$metadata#" + e.set() + "/$delta");
      body.put("value", value);
      if (more) {
        String next = link(sim, e, r, "$deltatoken", DataverseSimulator.token(String.valueOf(since)))
            + "&$skiptoken=" + DataverseSimulator.token(upto + "\u0001" + changes.get(changes.size() - 1).getKey());
        body.put("@odata.nextLink", next);
      } else {
        sim.changeTracking().issued(upto);
        body.put("@odata.deltaLink", link(sim, e, r, "$deltatoken", DataverseSimulator.token(String.valueOf(upto))));
      }
      return SimResponse.json(200, body);
    });
  }

  private static String link(DataverseSimulator sim, Entity e, SimRequest r, String param, String token) {
    StringBuilder sb = new StringBuilder(sim.apiUrl()).append('/').append(e.set()).append('?');
    for (Map.Entry<String, String> kv : r.query().entrySet()) {
      if (!kv.getKey().equals("$skiptoken") && !kv.getKey().equals("$deltatoken")) {
        sb.append(DataverseSimulator.enc(kv.getKey())).append('=').append(DataverseSimulator.enc(kv.getValue()))
            .append('&');
      }
    }
    return sb.append(param).append('=').append(token).toString();
  }
}
