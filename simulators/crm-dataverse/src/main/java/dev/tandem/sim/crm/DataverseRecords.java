package dev.tandem.sim.crm;

import static dev.tandem.sim.crm.DataverseSimulator.error;

import dev.tandem.sim.core.EntityStore;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import dev.tandem.sim.crm.DataverseEntities.Lookup;
import dev.tandem.sim.crm.DataverseSimulator.DvError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;

/**
 * One row at a time, as the Dataverse Web API reads and writes it: the columns a query names checked against the
 * table and its metadata; retrieve with If-None-Match; create, update, upsert (by id or alternate key, with If-Match
 * and If-None-Match) and delete; a body's columns, lengths, option values and lookup binds validated; required
 * columns, state and status, computed and money columns; and the rules products and sales orders add.
 */
final class DataverseRecords {

  private final DataverseSimulator sim;

  DataverseRecords(DataverseSimulator sim) {
    this.sim = sim;
  }

  /** Columns every row carries besides the table's own. */
  private static final java.util.Set<String> SYSTEM_COLUMNS = java.util.Set.of("createdon", "modifiedon",
      "versionnumber", "_createdby_value", "_modifiedby_value");

  /**
   * Refuses a query that names a column the table does not have, as Dataverse does ({@code $select},
   * {@code $filter}, {@code $orderby}): 400 0x80060888 "Could not find a property named …".
   */
  void checkColumns(Entity e, ODataQuery q, Map<String, String> query) {
    List<String> named = new ArrayList<>(q.select());
    if (q.filter() != null) {
      named.addAll(q.filter().root().fields());
    }
    String orderBy = query.get("$orderby");
    if (orderBy != null) {
      for (String part : orderBy.split(",")) {
        String col = part.trim().split("\\s+")[0];
        if (!col.isEmpty()) {
          named.add(col);
        }
      }
    }
    for (String col : named) {
      if (!known(e, col) || !sim.metadata().hasColumn(e.logical(), col)) {
        throw new DvError(error(400, "0x80060888", "Could not find a property named '" + col + "' on type "
            + "'Microsoft.Dynamics.CRM." + e.logical() + "'."));
      }
    }
  }

  private static boolean known(Entity e, String col) {
    if (col.equals(e.key()) || e.columns().containsKey(col) || SYSTEM_COLUMNS.contains(col)
        || e.hasState() && (col.equals("statecode") || col.equals("statuscode"))
        || (col.equals("fullname") && (e.set().equals("contacts") || e.set().equals("systemusers")))
        || DataverseMoney.isComputed(e, col)) {
      return true;
    }
    if (e.lookups().containsKey(col)) {
      return true;
    }
    for (Lookup l : e.lookups().values()) {
      if (l.valueColumn().equals(col)) {
        return true;
      }
    }
    return false;
  }

  SimResponse get(Entity e, String key, String segment, SimRequest r) {
    ODataQuery q = ODataQuery.parse(r.query(), true);
    checkColumns(e, q, r.query());
    sim.charge(DataverseCosts.Op.RETRIEVE, null);
    return sim.store().read(() -> {
      Map<String, Object> row = key == null ? null : sim.store().table(e.set()).get(key);
      if (row == null) {
        return notFound(e, key == null ? segment : key);
      }
      String etag = DataverseSimulator.etag(row);
      if (etag.equals(r.header("If-None-Match"))) {
        return SimResponse.empty(304).with("ETag", etag);
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("@odata.context", sim.apiUrl() + "/$metadata#" + e.set() + "/$entity");
      out.putAll(present(e, row, q));
      return SimResponse.json(200, out).with("ETag", etag).with("OData-Version", "4.0");
    });
  }

  SimResponse create(Entity e, Map<String, Object> body, SimRequest r, String user) {
    sim.charge(DataverseCosts.Op.CREATE, r);
    Map<String, Object> row = sim.store().write(() -> insert(e, body, user, null));
    String location = sim.apiUrl() + "/" + e.set() + "(" + row.get(e.key()) + ")";
    if (ODataQuery.prefers(r.header("Prefer"), "return=representation")) {
      return SimResponse.json(201, present(e, row, ODataQuery.parse(r.query(), true)))
          .with("OData-EntityId", location).with("ETag", DataverseSimulator.etag(row)).with("Preference-Applied", "return=representation");
    }
    return SimResponse.empty(204).with("OData-EntityId", location);
  }

  /** Inserts a row; call inside write(). */
  Map<String, Object> insert(Entity e, Map<String, Object> body, String user, String key) {
    Map<String, Object> row = new LinkedHashMap<>();
    Object given = body.get(e.key());
    String id = key != null ? key : given != null ? String.valueOf(given).toLowerCase(Locale.ROOT)
        : UUID.randomUUID().toString();
    row.put(e.key(), id);
    DataverseMoney.refuseWrites(e, body, true);
    DataverseProducts.beforeCreate(sim, e, body);
    DataverseSalesOrders.beforeCreate(e, body);
    apply(e, row, body);
    for (String req : e.required()) {
      Lookup lookup = e.lookups().get(req);
      if (row.get(lookup == null ? req : lookup.valueColumn()) == null) {
        throw new DvError(error(400, "0x80040203", "Attribute '" + req + "' cannot be NULL: it is required on "
            + e.logical() + "."));
      }
    }
    if (sim.store().table(e.set()).get(id) != null) {
      throw new DvError(error(412, "0x80040237", "A record with matching key values already exists."));
    }
    if (e.hasState()) {
      // "By default, a product record is in the Draft state when you create it"; other rows start in state 0
      // with its default status, unless the body names a valid pair.
      DataverseOptionSets.stateAndStatus(e, e.set().equals("products") ? DataverseProducts.DRAFT_STATE : 0, null,
          body, row);
    }
    DataverseSalesOrders.beforePut(sim, e, null, row, body);
    String now = sim.stamp(row, user);
    row.put("createdon", now);
    row.put("_createdby_value", user);
    computed(e, row);
    DataverseMoney.compute(sim, e, row);
    putRow(e, row);
    DataverseProducts.afterCreate(sim, e, row, user);
    DataverseSalesOrders.afterPut(sim, e, row, user);
    return sim.serverLogic().after(sim, e, row, "create", user);
  }

  /** Inserts a row the server itself creates (no validation of the client's rules); call inside write(). */
  Map<String, Object> insertInternal(Entity e, Map<String, Object> columns, String user) {
    Map<String, Object> row = new LinkedHashMap<>(columns);
    if (e.hasState()) {
      row.putIfAbsent("statecode", 0);
      row.putIfAbsent("statuscode", 1);
    }
    row.put("createdon", sim.stamp(row, user));
    row.put("_createdby_value", user);
    putRow(e, row);
    return row;
  }

  private void putRow(Entity e, Map<String, Object> row) {
    try {
      sim.store().table(e.set()).put(row);
    } catch (EntityStore.DuplicateKeyException dup) {
      throw new DvError(error(412, "0x80060892", "A record that has the attribute values " + dup.field() + " '"
          + dup.value() + "' already exists. The entity key " + e.logical() + "_" + dup.field()
          + " requires that this set of attributes contains unique values."));
    }
  }

  SimResponse upsert(Entity e, String key, String segment, Map<String, Object> body, SimRequest r, String user) {
    String ifMatch = r.header("If-Match");
    String ifNoneMatch = r.header("If-None-Match");
    boolean byAlternateKey = !DataverseSimulator.GUID.matcher(segment.trim()).matches();
    // If-Match: * is a plain update; otherwise Dataverse looks the row up first (an upsert, which costs more).
    sim.charge("*".equals(ifMatch) ? DataverseCosts.Op.UPDATE : DataverseCosts.Op.UPSERT, r);
    Object[] created = {false};
    Map<String, Object> row = sim.store().write(() -> {
      Map<String, Object> current = key == null ? null : sim.store().table(e.set()).get(key);
      if (current == null) {
        if (ifMatch != null) {
          throw new DvError(notFound(e, key == null ? segment : key));
        }
        Map<String, Object> fields = new LinkedHashMap<>(body);
        if (byAlternateKey) {
          String s = segment.trim();
          int eq = s.indexOf('=');
          String v = s.substring(eq + 1).trim();
          fields.putIfAbsent(s.substring(0, eq).trim(), v.startsWith("'") ? v.substring(1, v.length() - 1)
              .replace("''", "'") : v);
        }
        created[0] = true;
        return insert(e, fields, user, byAlternateKey ? null : key);
      }
      if ("*".equals(ifNoneMatch)) {
        throw new DvError(error(412, "0x80040237", "A record with matching key values already exists."));
      }
      if (ifMatch != null && !ifMatch.equals("*") && !ifMatch.equals(DataverseSimulator.etag(current))) {
        throw new DvError(error(412, "0x80060882", "The version of the existing record doesn't match the RowVersion "
            + "property provided."));
      }
      return update(e, current, body, user);
    });
    String location = sim.apiUrl() + "/" + e.set() + "(" + row.get(e.key()) + ")";
    if (ODataQuery.prefers(r.header("Prefer"), "return=representation")) {
      return SimResponse.json((boolean) created[0] ? 201 : 200, present(e, row, ODataQuery.parse(r.query(), true)))
          .with("OData-EntityId", location).with("ETag", DataverseSimulator.etag(row));
    }
    return SimResponse.empty(204).with("OData-EntityId", location);
  }

  /** Applies changes to an existing row; call inside write(). */
  Map<String, Object> update(Entity e, Map<String, Object> current, Map<String, Object> body, String user) {
    DataverseMoney.refuseWrites(e, body, false);
    DataverseProducts.beforeUpdate(sim, e, current, body);
    DataverseSalesOrders.beforeUpdate(sim, e, current, body);
    Map<String, Object> row = new LinkedHashMap<>(current);
    apply(e, row, body);
    if (e.hasState() && (body.containsKey("statecode") || body.containsKey("statuscode"))) {
      DataverseOptionSets.stateAndStatus(e, current.get("statecode") instanceof Number n ? n.intValue() : 0,
          current.get("statuscode") instanceof Number n ? Integer.valueOf(n.intValue()) : null, body, row);
    }
    DataverseSalesOrders.beforePut(sim, e, current, row, body);
    sim.stamp(row, user);
    computed(e, row);
    DataverseMoney.compute(sim, e, row);
    putRow(e, row);
    DataverseSalesOrders.afterPut(sim, e, row, user);
    return sim.serverLogic().after(sim, e, row, "update", user);
  }

  SimResponse delete(Entity e, String key, String segment, SimRequest r, String user) {
    sim.charge(DataverseCosts.Op.DELETE, null);
    return sim.store().write(() -> {
      Map<String, Object> current = key == null ? null : sim.store().table(e.set()).get(key);
      if (current == null) {
        return notFound(e, key == null ? segment : key);
      }
      String ifMatch = r.header("If-Match");
      if (ifMatch != null && !ifMatch.equals("*") && !ifMatch.equals(DataverseSimulator.etag(current))) {
        return error(412, "0x80060882", "The version of the existing record doesn't match the RowVersion property "
            + "provided.");
      }
      DataverseSalesOrders.beforeDelete(sim, e, current);
      sim.store().table(e.set()).delete(key);
      DataverseSalesOrders.afterPut(sim, e, current, user);
      return SimResponse.empty(204);
    });
  }

  /**
   * Writes columns the server computes (totals, states its actions set) on an existing row, without the client's
   * rules; call inside write().
   */
  Map<String, Object> systemUpdate(Entity e, Map<String, Object> current, Map<String, Object> columns, String user) {
    Map<String, Object> row = new LinkedHashMap<>(current);
    row.putAll(columns);
    sim.stamp(row, user);
    // The server's own writes (an order's totals) refresh the base values like any update.
    DataverseMoney.compute(sim, e, row);
    putRow(e, row);
    return row;
  }

  /** Validates and applies a body: known columns, lengths, lookups bound to existing rows. */
  private void apply(Entity e, Map<String, Object> row, Map<String, Object> body) {
    for (Map.Entry<String, Object> kv : body.entrySet()) {
      String name = kv.getKey();
      Object value = kv.getValue();
      if (name.equals("@odata.type") || name.equals("@odata.id") || name.equals(e.key())) {
        continue;
      }
      if (name.endsWith("@odata.bind")) {
        String nav = name.substring(0, name.length() - "@odata.bind".length());
        Lookup l = e.lookups().get(nav);
        // A polymorphic lookup (other than the owner) is bound only through its typed navigation properties
        // (parentcustomerid_account, customerid_contact): the untyped name is not a navigation property at all.
        if (l == null || nav.equals(l.navigation()) && l.targets().size() > 1 && !nav.equals("ownerid")) {
          throw new DvError(error(400, "0x80048d19", "An undeclared property '" + nav + "' which only has property "
              + "annotations in the payload but no property value was found in the payload. In OData, only declared "
              + "navigation properties and declared named streams can be represented as properties without values."));
        }
        row.put(l.valueColumn(), value == null ? null : bind(e, l, nav, String.valueOf(value)));
        continue;
      }
      if (name.startsWith("_") && name.endsWith("_value")) {
        throw new DvError(error(400, "0x80048d19", "The property '" + name + "' is read-only: set lookups with "
            + "'<navigation>@odata.bind'."));
      }
      Integer max = sim.metadata().hasColumn(e.logical(), name) ? e.columns().get(name) : null;
      if (max == null && !(e.hasState() && (name.equals("statecode") || name.equals("statuscode")))) {
        throw new DvError(error(400, "0x80060888", "Could not find a property named '" + name + "' on type "
            + "'Microsoft.Dynamics.CRM." + e.logical() + "'."));
      }
      sim.optionSets().checkValue(e, name, value);
      if (max != null && max > 0 && value instanceof String s && s.length() > max) {
        throw new DvError(error(400, "0x80044331", "The length of the '" + name + "' attribute of the '" + e.logical()
            + "' entity exceeded the maximum allowed length of '" + max + "'."));
      }
      row.put(name, value);
    }
  }

  private String bind(Entity e, Lookup l, String nav, String ref) {
    String r = ref;
    int api = r.indexOf(DataverseSimulator.API);
    if (api >= 0) {
      r = r.substring(api + DataverseSimulator.API.length());
    }
    r = r.startsWith("/") ? r.substring(1) : r;
    Matcher m = DataverseSimulator.RECORD.matcher(r);
    if (!m.matches()) {
      throw new DvError(error(400, "0x80048d19", "The value '" + ref + "' of " + nav + "@odata.bind is not an "
          + "entity reference like /accounts(<id>)."));
    }
    String targetSet = m.group(1);
    boolean typed = !nav.equals(l.navigation());
    if (!l.targets().contains(targetSet) || typed && !nav.equals(l.navigation() + "_" + sim.entity(targetSet).logical())) {
      throw new DvError(error(400, "0x80048d19", nav + " of " + e.logical() + " cannot point to " + targetSet
          + "; it points to " + l.targets()));
    }
    Entity target = sim.entity(targetSet);
    String key = sim.resolveKey(target, m.group(2));
    if (key == null || sim.store().table(targetSet).get(key) == null) {
      throw new DvError(error(404, "0x80040217", target.logical() + " With Id = " + (key == null ? m.group(2) : key)
          + " Does Not Exist"));
    }
    return key;
  }

  private static void computed(Entity e, Map<String, Object> row) {
    if (e.set().equals("contacts") || e.set().equals("systemusers")) {
      String full = ((row.get("firstname") == null ? "" : row.get("firstname") + " ")
          + (row.get("lastname") == null ? "" : row.get("lastname"))).trim();
      row.put("fullname", full);
    }
  }



  /** The row as the DataverseSimulator.API returns it: annotations, then the selected columns. */
  Map<String, Object> present(Entity e, Map<String, Object> row, ODataQuery q) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("@odata.etag", DataverseSimulator.etag(row));
    if (q == null || q.select().isEmpty()) {
      out.putAll(row);
    } else {
      out.put(e.key(), row.get(e.key()));
      for (String s : q.select()) {
        Lookup l = e.lookups().get(s);
        String col = l != null ? l.valueColumn() : s;
        out.put(col, row.get(col));
      }
    }
    return out;
  }

  SimResponse notFound(Entity e, String key) {
    return error(404, "0x80040217", e.logical() + " With Id = " + key + " Does Not Exist");
  }
}
