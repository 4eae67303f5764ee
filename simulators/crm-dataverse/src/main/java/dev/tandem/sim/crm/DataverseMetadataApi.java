package dev.tandem.sim.crm;

import dev.tandem.sim.core.Json;
import dev.tandem.sim.core.ODataQuery;
import dev.tandem.sim.core.SimRequest;
import dev.tandem.sim.core.SimResponse;
import dev.tandem.sim.crm.DataverseEntities.Entity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code EntityDefinitions} part of the Web API over {@link DataverseMetadata}: GET of the definitions (with
 * {@code $select} and {@code $filter}), of one table by {@code LogicalName='…'}, of its {@code Attributes} and its
 * {@code Keys}; POST of a new key to {@code …/Keys}; PUT of a table definition to turn change tracking on. Sources:
 * Microsoft, "Query table definitions using the Web API", "Create and update table definitions using the Web API"
 * (updates are PUT of the whole definition; PATCH is not supported for metadata), "Use change tracking to synchronize
 * data with external systems".
 */
final class DataverseMetadataApi {

  private static final Pattern ONE = Pattern.compile(
      "^EntityDefinitions\\((?:LogicalName='([^']*)'|([0-9a-fA-F-]{36}))\\)(/Attributes|/Keys)?$");

  private DataverseMetadataApi() {}

  static boolean handles(String rest) {
    return rest.equals("EntityDefinitions") || rest.startsWith("EntityDefinitions(");
  }

  static SimResponse handle(DataverseSimulator sim, SimRequest r, String rest) {
    DataverseMetadata md = sim.metadata();
    if (rest.equals("EntityDefinitions")) {
      if (!r.method().equals("GET")) {
        return DataverseSimulator.error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not allowed "
            + "here.");
      }
      List<Map<String, Object>> all = new ArrayList<>();
      for (Entity e : DataverseEntities.BY_SET.values()) {
        all.add(definition(md, e));
      }
      return collection(sim, r, "EntityDefinitions", all);
    }
    Matcher m = ONE.matcher(rest);
    if (!m.matches()) {
      return DataverseSimulator.error(404, "0x80060888", "Resource not found for the segment '" + rest + "'.");
    }
    Entity e = m.group(1) != null ? DataverseMetadata.byLogical(m.group(1)) : byMetadataId(m.group(2));
    if (e == null) {
      return DataverseSimulator.error(404, "0x80040217", "Could not find an entity with the "
          + (m.group(1) != null ? "name " + m.group(1) : "id " + m.group(2)) + ".");
    }
    String part = m.group(3);
    if (part == null) {
      return switch (r.method()) {
        case "GET" -> one(sim, r, "EntityDefinitions/$entity", definition(md, e));
        case "PUT" -> update(md, e, r);
        default -> DataverseSimulator.error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not "
            + "allowed on a table definition: table definitions are updated with PUT of the whole definition.");
      };
    }
    if (part.equals("/Attributes")) {
      return r.method().equals("GET")
          ? collection(sim, r, "EntityDefinitions('" + e.logical() + "')/Attributes", DataverseMetadata.attributes(e))
          : DataverseSimulator.error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not allowed here.");
    }
    return switch (r.method()) {
      case "GET" -> {
        List<Map<String, Object>> keys = new ArrayList<>();
        md.keys(e.logical()).forEach(k -> keys.add(key(e, k)));
        yield collection(sim, r, "EntityDefinitions('" + e.logical() + "')/Keys", keys);
      }
      case "POST" -> createKey(sim, md, e, r);
      default -> DataverseSimulator.error(405, "0x8006088a", "The HTTP method '" + r.method() + "' is not allowed "
          + "here.");
    };
  }

  private static Entity byMetadataId(String id) {
    for (Entity e : DataverseEntities.BY_SET.values()) {
      if (metadataId(e).equalsIgnoreCase(id)) {
        return e;
      }
    }
    return null;
  }

  static String metadataId(Entity e) {
    return java.util.UUID.nameUUIDFromBytes(("entity:" + e.logical()).getBytes()).toString();
  }

  static Map<String, Object> definition(DataverseMetadata md, Entity e) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("MetadataId", metadataId(e));
    d.put("LogicalName", e.logical());
    d.put("SchemaName", e.logical());
    d.put("EntitySetName", e.set());
    d.put("PrimaryIdAttribute", e.key());
    d.put("IsCustomEntity", e.logical().contains("_"));
    d.put("ChangeTrackingEnabled", md.changeTrackingEnabled(e.logical()));
    return d;
  }

  private static Map<String, Object> key(Entity e, DataverseMetadata.Key k) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("MetadataId", k.metadataId());
    out.put("LogicalName", k.logicalName());
    out.put("SchemaName", k.schemaName());
    out.put("EntityLogicalName", e.logical());
    out.put("KeyAttributes", k.attributes());
    out.put("EntityKeyIndexStatus", k.status().name());
    return out;
  }

  /** PUT of the definition: the only change the simulator models is turning change tracking on. */
  private static SimResponse update(DataverseMetadata md, Entity e, SimRequest r) {
    Map<String, Object> body = Json.object(r.bodyText());
    Object ct = body.get("ChangeTrackingEnabled");
    if (ct != null && !(ct instanceof Boolean)) {
      return DataverseSimulator.error(400, "0x80048d19", "ChangeTrackingEnabled must be a boolean.");
    }
    if (Boolean.FALSE.equals(ct) && md.changeTrackingEnabled(e.logical())) {
      return DataverseSimulator.error(400, "0x80048d19", "Change tracking cannot be disabled once it is enabled "
          + "for entity " + e.logical() + ".");
    }
    if (Boolean.TRUE.equals(ct)) {
      md.enableChangeTracking(e.logical());
    }
    return SimResponse.empty(204);
  }

  private static SimResponse createKey(DataverseSimulator sim, DataverseMetadata md, Entity e, SimRequest r) {
    Map<String, Object> body = Json.object(r.bodyText());
    List<String> attributes = new ArrayList<>();
    if (body.get("KeyAttributes") instanceof List<?> l) {
      l.forEach(a -> attributes.add(String.valueOf(a)));
    }
    try {
      DataverseMetadata.Key k = md.createKey(e.logical(), (String) body.get("SchemaName"), attributes);
      return SimResponse.empty(204).with("OData-EntityId", sim.apiUrl() + "/EntityDefinitions(LogicalName='"
          + e.logical() + "')/Keys(" + k.metadataId() + ")");
    } catch (IllegalArgumentException | ClassCastException ex) {
      return DataverseSimulator.error(400, "0x80048d19", ex.getMessage());
    }
  }

  private static SimResponse collection(DataverseSimulator sim, SimRequest r, String context,
      List<Map<String, Object>> rows) {
    ODataQuery q = ODataQuery.parse(r.query(), false);
    List<Map<String, Object>> value = new ArrayList<>();
    for (Map<String, Object> row : rows) {
      if (q.filter() == null || q.filter().test(row)) {
        value.add(select(q, row));
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("@odata.context", sim.apiUrl() + "/$metadata#" + context);
    body.put("value", value);
    return SimResponse.json(200, body);
  }

  private static SimResponse one(DataverseSimulator sim, SimRequest r, String context, Map<String, Object> row) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("@odata.context", sim.apiUrl() + "/$metadata#" + context);
    body.putAll(select(ODataQuery.parse(r.query(), false), row));
    return SimResponse.json(200, body);
  }

  private static Map<String, Object> select(ODataQuery q, Map<String, Object> row) {
    if (q.select().isEmpty()) {
      return row;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("MetadataId", row.get("MetadataId"));
    for (String s : q.select()) {
      if (!row.containsKey(s)) {
        throw new DataverseSimulator.DvError(DataverseSimulator.error(400, "0x80060888", "Could not find a "
            + "property named '" + s + "' on type 'Microsoft.Dynamics.CRM.EntityMetadata'."));
      }
      out.put(s, row.get(s));
    }
    return out;
  }
}
