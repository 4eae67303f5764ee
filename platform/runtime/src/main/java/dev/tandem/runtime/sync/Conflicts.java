package dev.tandem.runtime.sync;

import dev.tandem.api.Direction;
import dev.tandem.api.FieldMapping;
import dev.tandem.api.MappingDefinition;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bidirectional conflicts: both sides of a coupled record changed since the last synchronization and a
 * bidirectional field differs. Changes to one-way fields are never conflicts.
 *
 * <p>For policy MERGE each coupling records both sides' bidirectional field values as of its last
 * synchronization ({@link #snapshot}); comparing each side with them tells which fields that side changed.
 */
final class Conflicts {

  private Conflicts() {}

  /**
   * @param def the effective mapping
   * @param flow the direction being written
   * @param changes the destination fields that would change
   * @return the destination names of the bidirectional fields among them
   */
  static List<String> bidirectional(MappingDefinition def, Direction flow, Map<String, Object> changes) {
    List<String> out = new ArrayList<>();
    for (String field : changes.keySet()) {
      String name = field.endsWith("@odata.bind") ? field.substring(0, field.length() - "@odata.bind".length()) : field;
      for (FieldMapping f : def.fields()) {
        String dest = flow == Direction.TO_CRM ? f.crmField() : f.erpField();
        if (name.equals(dest) && f.direction() == Direction.BIDIRECTIONAL) {
          out.add(field);
        }
      }
    }
    return out;
  }

  static String message(MappingDefinition def, String erpKey, String crmKey, List<String> fields) {
    return "[WRITE] conflict: ERP " + def.erpEntitySet() + " " + erpKey + " and CRM " + def.crmEntitySet() + " " + crmKey
        + " both changed since the last synchronization and differ in " + String.join(", ", fields)
        + "; mapping " + def.name() + " has conflict policy NONE: set ERP_WINS, CRM_WINS or MERGE "
        + "(PATCH /api/v1/mappings/" + def.name() + ") or make the two sides agree";
  }

  /** The message of a conflict that MERGE cannot resolve: both sides changed the same fields, or it cannot tell. */
  static String unmergeable(MappingDefinition def, String erpKey, String crmKey, Set<String> overlap) {
    String why = overlap == null
        ? "no field values were recorded at their last synchronization, so which side changed what is unknown"
        : "both changed " + String.join(", ", overlap);
    return "[WRITE] conflict: ERP " + def.erpEntitySet() + " " + erpKey + " and CRM " + def.crmEntitySet() + " "
        + crmKey + " both changed since the last synchronization and " + why + "; conflict policy MERGE merges "
        + "changes to different fields only: make the two sides agree, or set ERP_WINS or CRM_WINS "
        + "(PATCH /api/v1/mappings/" + def.name() + ")";
  }

  /** The fields MERGE compares: enabled bidirectional fields with a field on each side. */
  private static List<FieldMapping> compared(MappingDefinition def) {
    List<FieldMapping> out = new ArrayList<>();
    for (FieldMapping f : def.fields()) {
      if (f.direction() == Direction.BIDIRECTIONAL && f.enabled() && f.erpField() != null && f.crmField() != null
          && !f.isConstant()) {
        out.add(f);
      }
    }
    return out;
  }

  private static String crmColumn(FieldMapping f) {
    return f.lookupMapping() != null ? RecordMapper.valueColumn(f.crmField()) : f.crmField();
  }

  /**
   * @param def the effective mapping
   * @param erpRow the ERP record as it now agrees with the CRM record
   * @param crmRow the CRM record as it now agrees with the ERP record
   * @return both sides' bidirectional values, or null when the mapping has none or a row is missing
   */
  static JsonObject snapshot(MappingDefinition def, JsonObject erpRow, JsonObject crmRow) {
    List<FieldMapping> fields = compared(def);
    if (def.direction() != Direction.BIDIRECTIONAL || fields.isEmpty() || erpRow == null || crmRow == null) {
      return null;
    }
    JsonObject erp = new JsonObject();
    JsonObject crm = new JsonObject();
    for (FieldMapping f : fields) {
      erp.put(f.erpField(), erpRow.getValue(f.erpField()));
      crm.put(crmColumn(f), crmRow.getValue(crmColumn(f)));
    }
    return new JsonObject().put("erp", erp).put("crm", crm);
  }

  /**
   * Which fields each side changed since the snapshot, by ERP field name.
   *
   * @param erp the ERP side's changed fields
   * @param crm the CRM side's changed fields
   */
  record Changed(Set<String> erp, Set<String> crm) {
    /** @return the fields both sides changed */
    Set<String> overlap() {
      Set<String> both = new LinkedHashSet<>(erp);
      both.retainAll(crm);
      return both;
    }
  }

  /**
   * @param def the effective mapping
   * @param snapshot the coupling's recorded values, or null
   * @param erpRow the ERP record now
   * @param crmRow the CRM record now
   * @return what each side changed, or null without a snapshot
   */
  static Changed changed(MappingDefinition def, JsonObject snapshot, JsonObject erpRow, JsonObject crmRow) {
    if (snapshot == null || snapshot.getJsonObject("erp") == null || snapshot.getJsonObject("crm") == null) {
      return null;
    }
    Set<String> erp = new LinkedHashSet<>();
    Set<String> crm = new LinkedHashSet<>();
    for (FieldMapping f : compared(def)) {
      // A field added to the mapping after the snapshot was taken counts as unchanged on both sides.
      if (snapshot.getJsonObject("erp").containsKey(f.erpField())
          && !RecordMapper.same(erpRow.getValue(f.erpField()), snapshot.getJsonObject("erp").getValue(f.erpField()))) {
        erp.add(f.erpField());
      }
      if (snapshot.getJsonObject("crm").containsKey(crmColumn(f))
          && !RecordMapper.same(crmRow.getValue(crmColumn(f)), snapshot.getJsonObject("crm").getValue(crmColumn(f)))) {
        crm.add(f.erpField());
      }
    }
    return new Changed(erp, crm);
  }

  /**
   * @param def the effective mapping
   * @param flow the direction being written
   * @param destinationField a field of {@code changes} (CRM binds end in {@code @odata.bind})
   * @return the ERP field name of the bidirectional field it writes, or null for a one-way field
   */
  static String erpFieldOf(MappingDefinition def, Direction flow, String destinationField) {
    String name = destinationField.endsWith("@odata.bind")
        ? destinationField.substring(0, destinationField.length() - "@odata.bind".length()) : destinationField;
    for (FieldMapping f : compared(def)) {
      if (name.equals(flow == Direction.TO_CRM ? f.crmField() : f.erpField())) {
        return f.erpField();
      }
    }
    return null;
  }
}
