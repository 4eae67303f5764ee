package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import dev.tandem.runtime.store.Coupling;
import dev.tandem.runtime.store.PgCouplingStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The dependency guard: collects, page by page, the references a mapping's records hold through lookups into
 * other mappings (a customer's salesperson through SALESPEOPLE) that are not coupled there, with one coupling query
 * per page and lookup mapping. Its {@link #message()} names the missing references and the mapping to couple first,
 * instead of each record failing later on its own.
 */
public final class ReferenceGuard {

  private final PgCouplingStore couplings;
  private final Pool pool;
  private final MappingDefinition def;
  private final Direction flow;
  private final List<FieldMapping> lookups = new ArrayList<>();
  private final Map<String, Set<String>> missing = new LinkedHashMap<>();
  private final Map<String, Long> referring = new LinkedHashMap<>();

  /**
   * @param pool PostgreSQL
   * @param couplings the coupling store
   * @param def the mapping
   * @param mapper its record mapper (which lookups are enabled and installed)
   * @param flow TO_CRM when the rows are ERP rows, FROM_CRM when they are CRM rows
   */
  public ReferenceGuard(Pool pool, PgCouplingStore couplings, MappingDefinition def, RecordMapper mapper,
      Direction flow) {
    this.pool = pool;
    this.couplings = couplings;
    this.def = def;
    this.flow = flow;
    for (FieldMapping f : mapper.fields(flow)) {
      // A lookup that clears itself when it finds no coupling never fails a record.
      if (f.lookupMapping() != null && !f.isConstant() && !f.clearOnFailedLookup()) {
        lookups.add(f);
      }
    }
  }

  /** @return the fields the rows must carry for the guard (ERP fields, or CRM lookup value columns) */
  public List<String> fields() {
    return lookups.stream().map(this::column).distinct().toList();
  }

  private String column(FieldMapping f) {
    return flow == Direction.TO_CRM ? f.erpField() : RecordMapper.valueColumn(f.crmField());
  }

  /**
   * Checks a page of rows.
   *
   * @param rows the rows
   * @return completes when the page's references are checked
   */
  public Future<Void> check(List<JsonObject> rows) {
    List<Future<?>> checks = new ArrayList<>();
    for (FieldMapping f : lookups) {
      Set<String> refs = new HashSet<>();
      for (JsonObject row : rows) {
        Object v = row.getValue(column(f));
        if (v != null && !"".equals(v)) {
          refs.add(String.valueOf(v));
        }
      }
      checks.add(couplings.bySourceIds(pool, f.lookupMapping(), flow, refs).onSuccess(found -> note(f, rows, refs,
          found)));
    }
    return Future.all(checks).mapEmpty();
  }

  /**
   * Notes the missing references of rows whose lookups' couplings were loaded already (a sync run's page).
   *
   * @param rows the rows
   * @param loaded per lookup mapping, the couplings of the references the rows hold
   */
  public void observe(List<JsonObject> rows, Map<String, Map<String, Coupling>> loaded) {
    for (FieldMapping f : lookups) {
      Set<String> refs = new HashSet<>();
      for (JsonObject row : rows) {
        Object v = row.getValue(column(f));
        if (v != null && !"".equals(v)) {
          refs.add(String.valueOf(v));
        }
      }
      note(f, rows, refs, loaded.getOrDefault(f.lookupMapping(), Map.of()));
    }
  }

  private void note(FieldMapping f, List<JsonObject> rows, Set<String> refs, Map<String, Coupling> found) {
    Set<String> absent = new HashSet<>();
    for (String r : refs) {
      Coupling c = found.get(r);
      if (c == null || !c.coupled()) {
        absent.add(r);
      }
    }
    if (absent.isEmpty()) {
      return;
    }
    String k = f.lookupMapping() + "\u0000" + (flow == Direction.TO_CRM ? f.erpField() : f.crmField());
    missing.computeIfAbsent(k, x -> new TreeSet<>()).addAll(absent);
    long n = rows.stream().filter(row -> absent.contains(String.valueOf(row.getValue(column(f))))).count();
    referring.merge(k, n, Long::sum);
  }

  /** @return true when a reference is missing */
  public boolean anyMissing() {
    return !missing.isEmpty();
  }

  /**
   * @return e.g. {@code [LOOKUP] CUSTOMER: 37 records refer through Salesperson_Code to 4 records that are not
   *     coupled in SALESPEOPLE: AB, CD, EF, GH: couple SALESPEOPLE first}; null when nothing is missing
   */
  public String message() {
    if (missing.isEmpty()) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    missing.forEach((k, values) -> {
      String mapping = k.substring(0, k.indexOf('\u0000'));
      String field = k.substring(k.indexOf('\u0000') + 1);
      List<String> list = new ArrayList<>(values);
      String names = list.size() <= 20 ? String.join(", ", list)
          : String.join(", ", list.subList(0, 20)) + " and " + (list.size() - 20) + " more";
      parts.add(referring.get(k) + " " + (flow == Direction.TO_CRM ? "ERP " + def.erpEntitySet()
          : "CRM " + def.crmEntitySet()) + " records refer through " + field + " to " + values.size()
          + " records that are not coupled in " + mapping + ": " + names + ": couple " + mapping + " first");
    });
    return "[LOOKUP] " + def.name() + ": " + String.join("; ", parts);
  }
}
